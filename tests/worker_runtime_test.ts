/**
 * The Cloudflare Worker in real workerd: the dry-run deploy (bundle size printed), the HTTP
 * contract suite, and the Worker-only behaviour (Durable Object eviction mid-stream, usage queue
 * redelivery, cron trigger). One build and one workerd for the whole file.
 *
 * @module
 */
import assert from "node:assert/strict";
import { contractCases, type Target } from "./contract.ts";
import { buildWorker, startWorker } from "./workerd.ts";

const ADMIN_TOKEN = "worker-admin-token-0123456789";

Deno.test({
  name: "Cloudflare Worker in workerd",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "worker-runtime-" });
    try {
      const build = await buildWorker(`${dir}/dist`);
      console.log(
        `wrangler deploy --dry-run: total upload ${build.uploadKiB} KiB, gzip ${build.gzipKiB} KiB; worker.js ${(build.scriptBytes / 1024).toFixed(1)} KiB`,
      );
      assert.match(build.output, /env\.TENANTS \(TenantObject\)\s+Durable Object/);
      assert.match(build.output, /env\.USAGE_QUEUE \(billing-usage\)\s+Queue/);
      const worker = await startWorker(build, dir, { BILLING_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: "error" });
      const target: Target = { url: worker.url, adminToken: ADMIN_TOKEN };
      try {
        for (const c of contractCases) await t.step(`contract: ${c.name}`, () => c.run(target));
      } finally {
        await worker.dispose();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
