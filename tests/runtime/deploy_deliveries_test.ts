/**
 * Deno Deploy entry: a webhook delivery starts right after the commit that produced it, not at
 * the next `Deno.cron` minute.
 *
 * @module
 */
import assert from "node:assert/strict";
import { http, provision, type Target } from "../contract/contract.ts";
import { spawnDeno, TEST_ENCRYPTION_KEY } from "../process.ts";

const MAIN = new URL("../../src/runtime/deno_deploy/main.ts", import.meta.url).pathname;
const ADMIN_TOKEN = "deploy-admin-token-0123456789-abcdef";

Deno.test({
  name: "Deno Deploy entry: a webhook delivery leaves right after the commit",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "deploy-deliveries-" });
    const arrivals: { at: number; type: string }[] = [];
    const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
      const body = await request.json();
      arrivals.push({ at: Date.now(), type: body.type });
      return new Response("ok");
    });
    const child = await spawnDeno({
      args: ["-A", "--unstable-kv", "--unstable-cron", MAIN],
      env: {
        PORT: "0",
        DATABASE_URL: `file:${dir}/billing.db`,
        DENO_KV_PATH: `${dir}/kv.sqlite`,
        BILLING_ADMIN_TOKEN: ADMIN_TOKEN,
        BILLING_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
        LOG_LEVEL: "error",
        WEBHOOK_ALLOW_PRIVATE_URLS: "true",
      },
    });
    const target: Target = { url: () => `http://127.0.0.1:${child.port}`, adminToken: ADMIN_TOKEN };
    try {
      const { secret_key: key } = await provision(target);
      const endpoint = await http(target, "POST", "/v1/webhook-endpoints", {
        key,
        body: { url: `http://127.0.0.1:${receiver.addr.port}/hook`, events: ["customer.*"] },
      });
      assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
      const created = await http(target, "POST", "/v1/customers", { key, body: { external_id: "dana" } });
      assert.equal(created.status, 201);
      const committedAt = Date.now();
      const deadline = committedAt + 30_000;
      while (arrivals.length === 0) {
        assert.ok(Date.now() < deadline, "the delivery arrived");
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(arrivals[0].type, "customer.created");
      console.log(
        `Deno Deploy: webhook delivered ${arrivals[0].at - committedAt} ms after the commit's answer`,
      );
    } finally {
      await child.stop();
      await receiver.shutdown();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
