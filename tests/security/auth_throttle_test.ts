// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * Failed authentication is throttled per client address: wrong secret keys, admin tokens and
 * session tokens count; past the limit the address gets 429 with Retry-After, valid keys included.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ADMIN_TOKEN, call, tenant, testEnv } from "../helpers.ts";
import { loadConfig } from "../../src/config.ts";
import { startServer } from "../../src/runtime/deno/server.ts";
import { FailedAuthThrottle } from "../../src/http/auth_throttle.ts";

const wrongKey = (i: number) => `sk_${i.toString(16).padStart(64, "0")}`;

Deno.test("300 wrong keys from one address: 20 answer 401, the rest 429 with Retry-After; other addresses are unaffected", async () => {
  const env = await testEnv({ app: { clientAddress: (c) => c.req.header("x-test-client") } });
  try {
    const keys = await tenant(env);
    const from = (address: string) => ({ "x-test-client": address });
    const statuses: number[] = [];
    let last: any;
    for (let i = 0; i < 300; i++) {
      last = await call(env, "GET", "/v1/plans", { key: wrongKey(i), headers: from("203.0.113.7") });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses.slice(0, 20), Array(20).fill(401));
    assert.deepEqual(statuses.slice(20), Array(280).fill(429));
    assert.equal(last.body.code, "too_many_failed_attempts");
    const retryAfter = Number(last.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    // while throttled even the right key is refused: a guesser cannot tell a hit
    const valid = await call(env, "GET", "/v1/plans", { key: keys.secret_key, headers: from("203.0.113.7") });
    assert.equal(valid.status, 429);
    assert.equal(
      (await call(env, "GET", "/v1/plans", { key: keys.secret_key, headers: from("198.51.100.1") })).status,
      200,
    );

    // admin tokens count the same way
    const admin: number[] = [];
    for (let i = 0; i < 25; i++) {
      admin.push(
        (await call(env, "POST", "/v1/admin/tenants", {
          key: `wrong-admin-token-${i}-0123456789`,
          headers: from("192.0.2.50"),
          body: { name: "x", app: "y" },
        })).status,
      );
    }
    assert.deepEqual(admin, [...Array(20).fill(401), ...Array(5).fill(429)]);
    const right = await call(env, "POST", "/v1/admin/tenants", {
      key: ADMIN_TOKEN,
      headers: from("192.0.2.50"),
      body: { name: "x", app: "y" },
    });
    assert.equal(right.status, 429);
  } finally {
    await env.close();
  }
});

Deno.test("FailedAuthThrottle: the window ends and the address may try again", () => {
  const throttle = new FailedAuthThrottle({ maxFailures: 3, windowSeconds: 10 });
  const t0 = 1_000_000;
  for (let i = 0; i < 3; i++) throttle.recordFailure("a", t0 + i);
  assert.equal(throttle.retryAfterSeconds("a", t0 + 3), 10);
  assert.equal(throttle.retryAfterSeconds("a", t0 + 9_500), 1);
  assert.equal(throttle.retryAfterSeconds("a", t0 + 10_000), 0);
  assert.equal(throttle.retryAfterSeconds("b", t0), 0);
});

Deno.test("FailedAuthThrottle.anyThrottled: true exactly while some address's full window lasts", () => {
  const throttle = new FailedAuthThrottle({ maxFailures: 3, windowSeconds: 10 });
  assert.equal(throttle.anyThrottled(0), false);
  throttle.recordFailure("a", 1_000);
  throttle.recordFailure("a", 2_000);
  throttle.recordFailure("b", 3_000);
  // failures below the limit throttle nobody
  assert.deepEqual([throttle.anyThrottled(3_000), throttle.retryAfterSeconds("a", 3_000)], [false, 0]);
  throttle.recordFailure("a", 4_000); // a: third failure, window 1 000 … 11 000
  throttle.recordFailure("b", 5_000);
  throttle.recordFailure("b", 6_000); // b: third failure, window 3 000 … 13 000
  for (const at of [6_000, 10_999, 11_000, 12_999, 13_000]) {
    const any = ["a", "b"].some((address) => throttle.retryAfterSeconds(address, at) > 0);
    assert.equal(throttle.anyThrottled(at), any, `at ${at}`);
  }
  assert.deepEqual([throttle.anyThrottled(12_999), throttle.anyThrottled(13_000)], [true, false]);
});

Deno.test("Deno server: failed keys are throttled by the connection's remote address", async () => {
  const dir = await Deno.makeTempDir({ prefix: "billing-throttle-" });
  const server = await startServer(loadConfig({
    PORT: "0",
    DATABASE_URL: `file:${dir}/billing.db`,
    BILLING_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: "silent",
  }));
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      const res = await fetch(`http://127.0.0.1:${server.port}/v1/plans`, {
        headers: { authorization: `Bearer ${wrongKey(i)}`, "x-forwarded-for": `10.0.0.${i}` },
      });
      await res.body?.cancel();
      statuses.push(res.status);
    }
    // a spoofed X-Forwarded-For does not give a fresh budget
    assert.deepEqual(statuses, [...Array(20).fill(401), 429, 429]);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
