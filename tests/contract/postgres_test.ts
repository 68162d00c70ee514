/**
 * The HTTP contract suite (`contract.ts`) against the Deno server on PostgreSQL (a fresh
 * database per run, see `tests/pg_helpers.ts`), over TCP.
 *
 * @module
 */
import { loadConfig } from "../../src/config.ts";
import { startServer } from "../../src/runtime/deno/server.ts";
import { freshPostgresDatabase } from "../pg_helpers.ts";
import { TEST_ENCRYPTION_KEY } from "../process.ts";
import { contractCases, type Target } from "./contract.ts";

const ADMIN_TOKEN = "contract-admin-token-0123456789-abcdef";

Deno.test("contract suite: Deno server (PostgreSQL)", async (t) => {
  const database = await freshPostgresDatabase("contract");
  const server = await startServer(loadConfig({
    PORT: "0",
    DATABASE_URL: database.url,
    BILLING_ADMIN_TOKEN: ADMIN_TOKEN,
    BILLING_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    LOG_LEVEL: Deno.env.get("CONTRACT_LOG_LEVEL") ?? "silent",
    // the webhook case delivers to a receiver on 127.0.0.1
    WEBHOOK_ALLOW_PRIVATE_URLS: "true",
  }));
  const target: Target = { url: () => `http://127.0.0.1:${server.port}`, adminToken: ADMIN_TOKEN };
  try {
    for (const c of contractCases) await t.step(c.name, () => c.run(target));
  } finally {
    await server.stop();
    await database.drop();
  }
});
