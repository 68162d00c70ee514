/**
 * Publishable keys are rate-limited per customer without Redis too (the embedded default):
 * `MemoryRateLimiter` (rate-limiter-flexible, fixed window per process).
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import { buildServices } from "../../src/runtime/services.ts";
import { MemoryRateLimiter } from "../../src/http/rate_limit.ts";
import { openDatabase } from "../../src/storage/db.ts";
import { call, sessionHeaders, tenant, testEnv } from "../helpers.ts";

Deno.test("pk_ keys without Redis: the 4th request of a customer in a 3/60 window is 429; other customers and sk_ keys are not limited", async () => {
  const env = await testEnv({
    services: { rateLimiter: new MemoryRateLimiter({ requests: 3, windowSeconds: 60 }) },
  });
  try {
    const keys = await tenant(env);
    await call(env, "POST", "/v1/customers", { key: keys.secret_key, body: { external_id: "a" } });
    await call(env, "POST", "/v1/customers", { key: keys.secret_key, body: { external_id: "b" } });
    const sessions: Record<string, Record<string, string>> = {
      a: await sessionHeaders(env, keys.secret_key, "a"),
      b: await sessionHeaders(env, keys.secret_key, "b"),
    };
    const check = (key: string, customer: string) =>
      call(env, "POST", "/v1/entitlements/check", {
        key,
        headers: key === keys.publishable_key ? sessions[customer] : {},
        body: { customer_id: customer, feature: "x" },
      });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await check(keys.publishable_key, "a"));
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 429]);
    // Every limited answer says where the customer stands (IETF RateLimit draft header names)
    assert.deepEqual(answers.map((r) => r.headers.get("ratelimit-remaining")), ["2", "1", "0", "0"]);
    for (const r of answers) {
      assert.equal(r.headers.get("ratelimit-limit"), "3");
      const reset = Number(r.headers.get("ratelimit-reset"));
      assert.ok(reset >= 1 && reset <= 60, `RateLimit-Reset is seconds into the 60 s window, got ${reset}`);
    }
    assert.equal(answers[3].headers.get("retry-after"), answers[3].headers.get("ratelimit-reset"));
    assert.equal(answers[0].headers.get("retry-after"), null);
    const limited = await check(keys.publishable_key, "a");
    assert.equal(limited.body.code, "rate_limited");
    assert.equal(limited.contentType, "application/problem+json");
    assert.equal((await check(keys.publishable_key, "b")).status, 200, "another customer has its own window");
    const secret = await check(keys.secret_key, "a");
    assert.equal(secret.status, 200, "secret keys are not limited");
    assert.equal(secret.headers.get("ratelimit-limit"), null);
    const events = await call(env, "POST", "/v1/events", {
      key: keys.publishable_key,
      headers: sessions.a,
      body: { events: [{ id: "e1", customer_id: "a", feature: "x" }] },
    });
    assert.equal(events.status, 429, "usage from the same customer shares the window");
  } finally {
    await env.close();
  }
});

Deno.test("buildServices(): without Redis a per-process limiter, none when PUBLISHABLE_RATE_LIMIT=0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "billing-rl-" });
  const database = await openDatabase({ url: `file:${dir}/rl.db` });
  try {
    const on = buildServices(loadConfig({ LOG_LEVEL: "silent" }), database);
    assert.ok(on.rateLimiter instanceof MemoryRateLimiter);
    const off = buildServices(loadConfig({ LOG_LEVEL: "silent", PUBLISHABLE_RATE_LIMIT: "0" }), database);
    assert.equal(off.rateLimiter, undefined);
  } finally {
    database.close();
    await Deno.remove(dir, { recursive: true });
  }
});
