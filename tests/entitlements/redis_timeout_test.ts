/**
 * A hard limit is never overshot when Redis answers too late (ADR 0009, "Redis unreachable"), on
 * the Deno server. Timeouts are injected deterministically by a proxy in front of the local
 * Upstash endpoint (`startLateProxy`): Redis still runs each command, its answer arrives after
 * the client gave up, so every outcome is unknown — what a loaded machine produced at random.
 *
 * The reservations another process made in Redis and has not stored yet (its consumption
 * writer's queue, or the Workers usage queue) are simulated by raising the Redis counter
 * directly: libSQL does not know them, so a consumption decided from libSQL would allow them a
 * second time.
 *
 * @module
 */
import assert from "node:assert/strict";
import { RedisLiveEntitlements } from "../../src/entitlements/live_store_redis.ts";
import { call, tenant, type TestEnv, testEnv } from "../helpers.ts";
import { acquireRedis, startLateProxy, testPrefix, upstashFor } from "../redis_helpers.ts";

const redis = await acquireRedis();
const LIMIT = 100;
/** Consumptions sent while Redis answers late (all at once). */
const BURST = 50;

function check(env: TestEnv, key: string, body: Record<string, unknown>) {
  return call(env, "POST", "/v1/entitlements/check", {
    key,
    body: { customer_id: "c1", feature: "calls", ...body },
  });
}

/** Units of `calls` stored in libSQL (what invoices bill). */
async function storedUnits(env: TestEnv): Promise<number> {
  const rs = await env.database.client.execute(
    "select coalesce(sum(value), 0) as n from usage_events where feature = 'calls'",
  );
  return Number(rs.rows[0].n);
}

Deno.test({
  name:
    "entitlements (redis): a consumption whose Redis call times out fails closed (503), never allowed from libSQL past reservations still in flight; a retry with the same key counts once",
  ignore: redis === null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const upstash = await upstashFor(redis!);
    const proxy = startLateProxy(upstash.url, 1500);
    const env = await testEnv();
    const prefix = testPrefix("late");
    const command = (args: unknown[]) =>
      fetch(upstash.url, {
        method: "POST",
        headers: { authorization: `Bearer ${upstash.token}` },
        body: JSON.stringify(args),
      }).then((r) => r.json()).then((b) => b.result);
    try {
      const live = new RedisLiveEntitlements({
        url: proxy.url,
        token: upstash.token,
        prefix,
        timeoutMs: 1000,
        retryAfterMs: 20,
      });
      env.services.live = live;
      const t = await tenant(env);
      const k = t.secret_key;
      const plan = await call(env, "POST", "/v1/plans", {
        key: k,
        body: {
          key: "late",
          name: "Late",
          currency: "USD",
          interval: "month",
          base_amount: 1000,
          features: [{ key: "calls", type: "metered", limit: LIMIT, aggregation: "sum" }],
        },
      });
      assert.equal(plan.status, 201, JSON.stringify(plan.body));
      assert.equal(
        (await call(env, "POST", "/v1/customers", { key: k, body: { external_id: "c1" } })).status,
        201,
      );
      const sub = await call(env, "POST", "/v1/subscriptions", {
        key: k,
        body: { customer_id: "c1", plan_id: plan.body.id },
      });
      assert.equal(sub.status, 201, JSON.stringify(sub.body));

      // 60 units consumed and stored through Redis (after one read built the counter).
      assert.equal((await check(env, k, {})).body.used, 0);
      const first = await Promise.all(
        Array.from({ length: 60 }, (_, i) => check(env, k, { consume: 1, idempotency_key: `a${i}` })),
      );
      assert.ok(
        first.every((r) => r.status === 200 && r.body.allowed),
        JSON.stringify(first.map((r) => r.body)),
      );
      assert.equal(await storedUnits(env), 60);
      // 40 more reserved in Redis by another process and still on their way to the store.
      const [entry] = await command(["KEYS", `${prefix}*:e:*:calls`]) as string[];
      assert.ok(entry, "the counter lives in Redis");
      assert.equal(await command(["HINCRBY", entry, "used", "40"]), LIMIT);

      // Redis answers too late: every consumption is refused with a retryable problem, none is
      // decided from libSQL (which still says 60 of 100 and would allow the 40 a second time).
      proxy.mode = "late";
      const late = await Promise.all(
        Array.from({ length: BURST }, (_, i) => check(env, k, { consume: 1, idempotency_key: `b${i}` })),
      );
      assert.equal(
        late.filter((r) => r.body.allowed).length,
        0,
        "libSQL alone would allow the 40 units reserved in flight a second time (140 of 100)",
      );
      for (const r of late) {
        assert.equal(r.status, 503, JSON.stringify(r.body));
        assert.match(r.contentType, /^application\/problem\+json/);
        assert.equal(r.body.code, "upstream_unavailable");
      }
      assert.ok(proxy.lateCalls > 0, "Redis received calls whose answers came too late");
      assert.equal(await storedUnits(env), 60, "nothing was stored while the counter was unreachable");
      // A retry of a stored consumption consumes nothing: libSQL answers it as a replay.
      const replayed = await check(env, k, { consume: 1, idempotency_key: "a0" });
      assert.deepEqual([replayed.status, replayed.body.allowed, replayed.body.consumed], [200, true, 1]);
      const reused = await check(env, k, { consume: 2, idempotency_key: "a0" });
      assert.deepEqual([reused.status, reused.body.code], [409, "idempotency_key_reused"]);
      // A read still answers, from libSQL.
      const read = await check(env, k, {});
      assert.deepEqual([read.status, read.body.used, read.body.allowed], [200, 60, true]);

      // Redis answers again: the retries (same keys) meet the reservations in flight and are denied.
      proxy.mode = "pass";
      await new Promise((r) => setTimeout(r, 50)); // the circuit closes after retryAfterMs
      const retried = await Promise.all(
        Array.from({ length: BURST }, (_, i) => check(env, k, { consume: 1, idempotency_key: `b${i}` })),
      );
      assert.ok(retried.every((r) => r.status === 200), JSON.stringify(retried.map((r) => r.status)));
      assert.equal(retried.filter((r) => r.body.allowed).length, 0, "the hard limit is never overshot");
      assert.equal(await storedUnits(env), 60);

      // The reservations in flight were refused by their store and given back: 40 free again.
      assert.equal(await command(["HINCRBY", entry, "used", "-40"]), 60);
      // A consumption of 5 times out after Redis reserved it (outcome unknown to the caller)...
      proxy.mode = "late";
      const unknown = await check(env, k, { consume: 5, idempotency_key: "c1" });
      assert.deepEqual([unknown.status, unknown.body.code], [503, "upstream_unavailable"]);
      proxy.mode = "pass";
      await new Promise((r) => setTimeout(r, 50));
      // ...its retry with the same key is stored once, and a second retry is a replay.
      const retry = await check(env, k, { consume: 5, idempotency_key: "c1" });
      assert.deepEqual([retry.status, retry.body.allowed, retry.body.consumed], [200, true, 5]);
      const replay = await check(env, k, { consume: 5, idempotency_key: "c1" });
      assert.deepEqual([replay.status, replay.body.allowed, replay.body.consumed], [200, true, 5]);
      assert.equal(await storedUnits(env), 65, "the key is stored once");
      // The timed-out attempt's reservation is tied to its key: the retry found it and reserved
      // nothing more, so the counter equals the store (it stayed 70, too high, before ADR 0009's
      // reservations).
      assert.equal(Number(await command(["HGET", entry, "used"])), 65);
      assert.equal(live.owed, 0, "nothing owed: no counter is dropped and rebuilt behind reservations");
    } finally {
      await proxy.stop();
      await upstash.stop();
      await env.close();
    }
  },
});
