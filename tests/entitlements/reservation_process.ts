/**
 * A second billing process for `reservations_test.ts`: the same database file and the same Redis
 * (key prefix) as the test process, its own services, live store and consumption writer. It sends
 * the consuming checks it is given (all at once, through its own app) and prints one JSON line
 * with each answer. In `hang` mode its database writes never finish, so it reserves in Redis and
 * then waits, until the test kills it with SIGKILL between Redis and the database write.
 *
 * Usage: `reservation_process.ts <config JSON>` (see {@link Config}).
 *
 * @module
 */
import { createApp } from "../../src/http/app.ts";
import { LifecycleDispatcher } from "../../src/lifecycle/dispatcher.ts";
import { MemoryEntitlementCache } from "../../src/entitlements/cache.ts";
import { RedisLiveEntitlements } from "../../src/entitlements/live_store_redis.ts";
import { openDatabase } from "../../src/storage/db.ts";
import { generateEncryptionKey, SecretBox } from "../../src/storage/secret_box.ts";
import { TestClock } from "../helpers.ts";

/** What the test hands this process. */
export interface Config {
  /** libSQL URL of the test's database file. */
  dbUrl: string;
  /** Local Upstash endpoint and its token. */
  redisUrl: string;
  token: string;
  /** The test's key prefix. */
  prefix: string;
  /** The test clock's instant (ISO 8601): both processes bill the same period. */
  now: string;
  /** Secret key of the tenant. */
  key: string;
  /** Idempotency keys to consume 1 unit of `calls` with, for customer `c1`. */
  keys: string[];
  /** `hang`: database writes never finish (the test kills this process). */
  mode: "run" | "hang";
}

const config = JSON.parse(Deno.args[0]) as Config;
const database = await openDatabase({ url: config.dbUrl, migrate: false });
if (config.mode === "hang") {
  database.write = () => new Promise(() => {});
}
const services = {
  database,
  clock: new TestClock(config.now),
  lifecycle: new LifecycleDispatcher(),
  entitlementCache: new MemoryEntitlementCache(),
  log: () => {},
  webhookAllowPrivateUrls: true,
  secrets: await SecretBox.create(generateEncryptionKey()),
  live: new RedisLiveEntitlements({ url: config.redisUrl, token: config.token, prefix: config.prefix }),
};
const app = createApp(services, { adminToken: "unused-admin-token-of-the-second-process" });
if (config.mode === "hang") console.log(JSON.stringify({ ready: true }));
const answers = await Promise.all(config.keys.map(async (key) => {
  const res = await app.request("/v1/entitlements/check", {
    method: "POST",
    headers: { authorization: `Bearer ${config.key}`, "content-type": "application/json" },
    body: JSON.stringify({ customer_id: "c1", feature: "calls", consume: 1, idempotency_key: key }),
  });
  const body = await res.json();
  return { key, status: res.status, allowed: body.allowed === true, consumed: body.consumed ?? 0 };
}));
// Confirmations of stored consumptions are sent after the answers; an orderly exit waits for them.
await services.live.confirmed();
console.log(JSON.stringify({ answers }));
database.close();
