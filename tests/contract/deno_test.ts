/**
 * The HTTP contract suite (`contract.ts`) against the Deno server (`startServer`) on an embedded
 * libSQL file, over TCP.
 *
 * @module
 */
import { loadConfig } from "../../src/config.ts";
import { startServer } from "../../src/runtime/deno/server.ts";
import { contractCases, type Target } from "./contract.ts";

const ADMIN_TOKEN = "contract-admin-token-0123456789-abcdef";

Deno.test("contract suite: Deno server (embedded libSQL)", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "contract-deno-" });
  const server = await startServer(loadConfig({
    PORT: "0",
    DATABASE_URL: `file:${dir}/billing.db`,
    BILLING_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: "silent",
    // the webhook case delivers to a receiver on 127.0.0.1
    WEBHOOK_ALLOW_PRIVATE_URLS: "true",
  }));
  const target: Target = { url: () => `http://127.0.0.1:${server.port}`, adminToken: ADMIN_TOKEN };
  try {
    for (const c of contractCases) await t.step(c.name, () => c.run(target));
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
