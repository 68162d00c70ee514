/**
 * Live entitlements and atomic check-and-consume, run as one contract suite against both stores:
 * the in-process default and Redis (a real redis-server behind the local Upstash endpoint, through
 * the official `@upstash/redis` client). Plus: fallback to libSQL with Redis stopped mid-test,
 * counters rebuilt after a restart or a partition, tenant isolation, and two server processes
 * sharing Redis and the libSQL file.
 */
import { decimalFromInteger } from "../../src/domain/decimal.ts";
import assert from "node:assert/strict";
import { RedisLiveEntitlements } from "../../src/entitlements/live_store_redis.ts";
import { DatabaseOnlyEntitlements } from "../../src/entitlements/live_store.ts";
import { ADMIN_TOKEN, call, countRows, sessionHeaders, tenant, type TestEnv, testEnv } from "../helpers.ts";
import {
  acquireRedis,
  freePort,
  type LiveStoreCase,
  liveStoreCases,
  redisServerInstalled,
  startRedisServer,
  testPrefix,
  upstashFor,
} from "../redis_helpers.ts";
import { startUpstashLocal } from "../../src/dev/upstash_local.ts";
import { spawnServer } from "../process.ts";

const redis = await acquireRedis();
const canStartRedis = await redisServerInstalled();
if (!canStartRedis && Deno.env.get("CI")) {
  throw new Error("redis-server is not installed; CI must install it (.ci/run)");
}
if (!canStartRedis) {
  console.warn(
    "\n!!! SKIPPING the Redis restart test: redis-server is not installed (apt-get install -y redis-server) !!!\n",
  );
}
const resources = { sanitizeResources: false, sanitizeOps: false };

/** A plan exercising every kind of limit. */
function livePlan(overrides: Record<string, unknown> = {}) {
  return {
    key: "live",
    name: "Live",
    currency: "USD",
    interval: "month",
    base_amount: 1000,
    features: [
      { key: "calls", type: "metered", limit: 100, aggregation: "sum" },
      { key: "tokens", type: "metered", limit: 10, soft_limit: true, aggregation: "sum" },
      { key: "peak", type: "metered", limit: 50, aggregation: "max" },
      { key: "jobs", type: "metered", limit: 3, aggregation: "count" },
      { key: "free", type: "metered", limit: null, aggregation: "sum" },
      { key: "sso", type: "boolean" },
    ],
    ...overrides,
  };
}

/** A tenant with a plan and a subscribed customer `ext`. */
async function subscribed(env: TestEnv, ext = "c1", name?: string) {
  const t = await tenant(env, name);
  const plan = await call(env, "POST", "/v1/plans", { key: t.secret_key, body: livePlan() });
  assert.equal(plan.status, 201, JSON.stringify(plan.body));
  assert.equal(
    (await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: ext } })).status,
    201,
  );
  const sub = await call(env, "POST", "/v1/subscriptions", {
    key: t.secret_key,
    body: { customer_id: ext, plan_id: plan.body.id },
  });
  assert.equal(sub.status, 201, JSON.stringify(sub.body));
  // what a browser holds: the publishable key plus a session for this customer
  const session = await sessionHeaders(env, t.secret_key, ext);
  return { ...t, session, plan_id: plan.body.id as string, sub_id: sub.body.id as string };
}

function check(
  env: TestEnv,
  key: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return call(env, "POST", "/v1/entitlements/check", { key, headers, body: { customer_id: "c1", ...body } });
}

async function eventsOf(env: TestEnv, feature: string): Promise<number> {
  const rs = await env.database.client.execute({
    sql: "select count(*) as n from usage_events where feature = ?",
    args: [feature],
  });
  return Number(rs.rows[0].n);
}

const stores: LiveStoreCase[] = liveStoreCases(
  redis,
  "live",
  "every answer came from Redis, none from the libSQL fallback",
);

for (const store of stores) {
  const opts = { ignore: store.ignore, ...resources };

  Deno.test(
    `live entitlements (${store.name}): 200 parallel consume:1 against a hard limit of 100 allow exactly 100`,
    opts,
    async () => {
      const env = await testEnv();
      const detach = await store.attach(env);
      try {
        const t = await subscribed(env);
        const results = await Promise.all(
          Array.from(
            { length: 200 },
            (_, i) =>
              check(
                env,
                t.publishable_key,
                { feature: "calls", consume: 1, idempotency_key: `k${i}` },
                t.session,
              ),
          ),
        );
        for (const r of results) {
          assert.equal(r.status, 200, JSON.stringify(r.body));
        }
        const allowed = results.filter((r) => r.body.allowed);
        assert.equal(allowed.length, 100);
        assert.ok(allowed.every((r) => r.body.consumed === 1 && r.body.reason === "within_limit"));
        const denied = results.filter((r) => !r.body.allowed);
        assert.ok(
          denied.every((r) =>
            r.body.consumed === 0 && r.body.reason === "limit_reached" && r.body.used === 100
          ),
        );
        // every allowed answer saw a distinct counter value: 1..100
        assert.deepEqual(
          allowed.map((r) => r.body.used).sort((a, b) => a - b),
          Array.from({ length: 100 }, (_, i) => i + 1),
        );
        assert.equal(await eventsOf(env, "calls"), 100);
        const after = await check(env, t.secret_key, { feature: "calls" });
        assert.equal(after.body.used, 100);
        assert.equal(after.body.remaining, 0);
        assert.equal(after.body.allowed, false);
        // the store itself holds the counter (the answers did not come from the libSQL fallback)
        const customer = (await call(env, "GET", "/v1/customers/c1", { key: t.secret_key })).body.id;
        const liveKey = {
          scope: { tenantId: t.tenant_id, appId: t.app_id },
          customerId: customer,
          feature: "calls",
        };
        if (!(env.services.live instanceof DatabaseOnlyEntitlements)) {
          const held = await env.services.live!.check(
            liveKey,
            decimalFromInteger(0),
            env.clock.now().getTime(),
          );
          assert.deepEqual([held.status, held.status === "ok" && held.used], ["ok", decimalFromInteger(100)]);
        }
        // the counter agrees with libSQL: drop it and let it be rebuilt from the stored events
        await env.services.live!.forget([liveKey]);
        assert.equal((await check(env, t.secret_key, { feature: "calls" })).body.used, 100);
      } finally {
        await detach();
        await env.close();
      }
    },
  );

  Deno.test(
    `live entitlements (${store.name}): soft limits consume and flag; unlimited, boolean and unsubscribed answers`,
    opts,
    async () => {
      const env = await testEnv();
      const detach = await store.attach(env);
      try {
        const t = await subscribed(env);
        const k = t.secret_key;
        const first = await check(env, k, { feature: "tokens", consume: 8, idempotency_key: "t1" });
        assert.deepEqual([
          first.body.allowed,
          first.body.consumed,
          first.body.used,
          first.body.remaining,
          first.body.over_soft_limit,
        ], [true, 8, 8, 2, false]);
        const over = await check(env, k, { feature: "tokens", consume: 5, idempotency_key: "t2" });
        assert.deepEqual([
          over.body.allowed,
          over.body.consumed,
          over.body.used,
          over.body.remaining,
          over.body.over_soft_limit,
        ], [true, 5, 13, 0, true]);
        assert.equal(over.body.reason, "soft_limit_exceeded");
        const read = await check(env, k, { feature: "tokens" });
        assert.deepEqual([read.body.used, read.body.consumed, read.body.over_soft_limit], [13, 0, true]);
        const free = await check(env, k, { feature: "free", consume: 1000, idempotency_key: "f1" });
        assert.deepEqual([free.body.allowed, free.body.reason, free.body.used, free.body.limit], [
          true,
          "unlimited",
          1000,
          null,
        ]);
        const sso = await check(env, k, { feature: "sso", consume: 1, idempotency_key: "s1" });
        assert.deepEqual([sso.body.allowed, sso.body.reason, sso.body.consumed], [true, "included", 0]);
        const missing = await check(env, k, { feature: "nope", consume: 1, idempotency_key: "n1" });
        assert.deepEqual([missing.body.allowed, missing.body.reason, missing.body.consumed], [
          false,
          "feature_not_in_plan",
          0,
        ]);
        assert.equal(
          await eventsOf(env, "sso") + await eventsOf(env, "nope"),
          0,
          "nothing consumed, nothing written",
        );
        // a hard-limited count feature consumes one event per check
        for (const i of [1, 2, 3]) {
          assert.equal(
            (await check(env, k, { feature: "jobs", consume: 1, idempotency_key: `j${i}` })).body.allowed,
            true,
          );
        }
        const fourth = await check(env, k, { feature: "jobs", consume: 1, idempotency_key: "j4" });
        assert.deepEqual([fourth.body.allowed, fourth.body.used, fourth.body.consumed], [false, 3, 0]);
        assert.equal(await eventsOf(env, "jobs"), 3);
      } finally {
        await detach();
        await env.close();
      }
    },
  );

  Deno.test(
    `live entitlements (${store.name}): consumption is idempotent by key; bad consumptions are problems that write nothing`,
    opts,
    async () => {
      const env = await testEnv();
      const detach = await store.attach(env);
      try {
        const t = await subscribed(env);
        const k = t.secret_key;
        const a = await check(env, k, { feature: "calls", consume: 60, idempotency_key: "once" });
        const b = await check(env, k, { feature: "calls", consume: 60, idempotency_key: "once" });
        assert.deepEqual([a.body.allowed, a.body.consumed, a.body.used], [true, 60, 60]);
        assert.deepEqual(
          [b.body.allowed, b.body.consumed, b.body.used],
          [true, 60, 60],
          "a retry consumes once",
        );
        assert.equal(await eventsOf(env, "calls"), 1);
        // a retry that no longer fits (used 60 + 60 > 100) is still the original, allowed consumption
        assert.deepEqual(
          (await check(env, k, { feature: "calls", consume: 60, idempotency_key: "once" })).body.consumed,
          60,
        );
        const conflict = await check(env, k, { feature: "calls", consume: 7, idempotency_key: "once" });
        assert.equal(conflict.status, 409);
        assert.equal(conflict.body.code, "idempotency_key_reused");
        assert.equal(
          (await check(env, k, { feature: "calls" })).body.used,
          60,
          "the conflicting retry gave its reservation back",
        );
        const before = await countRows(env, "usage_events");
        const noKey = await check(env, k, { feature: "calls", consume: 1 });
        assert.equal(noKey.status, 400);
        assert.match(noKey.contentType, /problem\+json/);
        assert.ok(noKey.body.fields.some((f: { path: string }) => f.path === "idempotency_key"));
        const maxFeature = await check(env, k, { feature: "peak", consume: 1, idempotency_key: "p1" });
        assert.equal(maxFeature.status, 422);
        assert.equal(maxFeature.body.code, "consume_not_supported");
        const countMany = await check(env, k, { feature: "jobs", consume: 2, idempotency_key: "j2" });
        assert.equal(countMany.body.code, "consume_not_supported");
        const zero = await check(env, k, { feature: "calls", consume: 0, idempotency_key: "z" });
        assert.equal(zero.status, 400);
        assert.equal(await countRows(env, "usage_events"), before);
        assert.equal((await check(env, k, { feature: "calls" })).body.used, 60);
      } finally {
        await detach();
        await env.close();
      }
    },
  );

  Deno.test(
    `live entitlements (${store.name}): ingestion updates counters; max is recomputed from libSQL`,
    opts,
    async () => {
      const env = await testEnv();
      const detach = await store.attach(env);
      try {
        const t = await subscribed(env);
        const k = t.secret_key;
        assert.equal((await check(env, k, { feature: "calls" })).body.used, 0); // warm
        assert.equal((await check(env, k, { feature: "peak" })).body.used, 0);
        const ingest = await call(env, "POST", "/v1/events", {
          key: k,
          body: {
            events: [
              { id: "e1", customer_id: "c1", feature: "calls", value: 30 },
              { id: "e2", customer_id: "c1", feature: "calls", value: 12 },
              { id: "e3", customer_id: "c1", feature: "peak", value: 40 },
              { id: "e4", customer_id: "c1", feature: "peak", value: 7 },
              // last period: not counted in this one
              {
                id: "e5",
                customer_id: "c1",
                feature: "calls",
                value: 1000,
                timestamp: "2025-12-20T00:00:00Z",
              },
            ],
          },
        });
        assert.equal(ingest.body.accepted, 5);
        // duplicates are not counted twice
        await call(env, "POST", "/v1/events", {
          key: k,
          body: { events: [{ id: "e1", customer_id: "c1", feature: "calls", value: 30 }] },
        });
        assert.equal((await check(env, k, { feature: "calls" })).body.used, 42);
        assert.equal((await check(env, k, { feature: "peak" })).body.used, 40);
        const fits = await check(env, k, { feature: "calls", consume: 58, idempotency_key: "c58" });
        assert.deepEqual([fits.body.allowed, fits.body.used], [true, 100]);
        assert.equal(
          (await check(env, k, { feature: "calls", consume: 1, idempotency_key: "c1" })).body.allowed,
          false,
        );
        await call(env, "POST", "/v1/events", {
          key: k,
          body: { events: [{ id: "e6", customer_id: "c1", feature: "peak", value: 55 }] },
        });
        const peak = await check(env, k, { feature: "peak" });
        assert.deepEqual([peak.body.used, peak.body.allowed], [55, false]);
      } finally {
        await detach();
        await env.close();
      }
    },
  );

  Deno.test(
    `live entitlements (${store.name}): plan change, cancellation and period rollover invalidate`,
    opts,
    async () => {
      const env = await testEnv();
      const detach = await store.attach(env);
      try {
        const t = await subscribed(env);
        const k = t.secret_key;
        assert.equal(
          (await check(env, k, { feature: "calls", consume: 90, idempotency_key: "a" })).body.allowed,
          true,
        );
        assert.equal(
          (await check(env, k, { feature: "calls", consume: 20, idempotency_key: "b" })).body.allowed,
          false,
        );
        const features = livePlan().features.map((f) => f.key === "calls" ? { ...f, limit: 200 } : f);
        assert.equal(
          (await call(env, "PATCH", `/v1/plans/${t.plan_id}`, { key: k, body: { features } })).status,
          200,
        );
        const raised = await check(env, k, { feature: "calls", consume: 20, idempotency_key: "b" });
        assert.deepEqual(
          [raised.body.allowed, raised.body.limit, raised.body.used],
          [true, 200, 110],
          "counter kept, limit reloaded",
        );
        // period rollover: February starts from zero
        env.clock.set("2026-02-16T12:00:00Z");
        const feb = await check(env, k, { feature: "calls" });
        assert.deepEqual([feb.body.used, feb.body.resets_at], [0, "2026-03-15T12:00:00.000Z"]);
        assert.equal(
          (await check(env, k, { feature: "calls", consume: 5, idempotency_key: "feb" })).body.used,
          5,
        );
        assert.equal(
          (await call(env, "POST", `/v1/subscriptions/${t.sub_id}/cancel`, {
            key: k,
            body: { at_period_end: false },
          })).status,
          200,
        );
        const canceled = await check(env, k, {
          feature: "calls",
          consume: 1,
          idempotency_key: "after-cancel",
        });
        assert.deepEqual([canceled.body.allowed, canceled.body.reason, canceled.body.consumed], [
          false,
          "no_active_subscription",
          0,
        ]);
      } finally {
        await detach();
        await env.close();
      }
    },
  );

  Deno.test(
    `live entitlements (${store.name}): two tenants with the same customer and feature keys never share counters`,
    opts,
    async () => {
      const env = await testEnv();
      const detach = await store.attach(env);
      try {
        const a = await subscribed(env, "c1");
        const b = await subscribed(env, "c1");
        assert.equal(
          (await check(env, a.secret_key, { feature: "calls", consume: 100, idempotency_key: "same" })).body
            .allowed,
          true,
        );
        const other = await check(env, b.secret_key, {
          feature: "calls",
          consume: 70,
          idempotency_key: "same",
        });
        assert.deepEqual(
          [other.body.allowed, other.body.used],
          [true, 70],
          "tenant b starts from zero, its key is its own",
        );
        assert.equal((await check(env, a.secret_key, { feature: "calls" })).body.used, 100);
        assert.equal((await check(env, b.secret_key, { feature: "calls" })).body.used, 70);
        // invalidating one tenant's plan leaves the other's entries alone and correct
        await call(env, "PATCH", `/v1/plans/${a.plan_id}`, { key: a.secret_key, body: { name: "renamed" } });
        assert.equal((await check(env, b.secret_key, { feature: "calls" })).body.used, 70);
        assert.equal((await check(env, a.secret_key, { feature: "calls" })).body.used, 100);
      } finally {
        await detach();
        await env.close();
      }
    },
  );
}

Deno.test(
  "live entitlements (redis): Redis stopped mid-test → answers from libSQL; restarted → counters rebuilt",
  { ignore: !canStartRedis, ...resources },
  async () => {
    const server = await startRedisServer();
    const upstash = await upstashFor(server);
    const env = await testEnv();
    try {
      env.services.live = new RedisLiveEntitlements({
        url: upstash.url,
        token: upstash.token,
        prefix: testPrefix("fallback"),
        retryAfterMs: 50,
      });
      const t = await subscribed(env);
      const k = t.secret_key;
      assert.equal(
        (await check(env, k, { feature: "calls", consume: 30, idempotency_key: "r1" })).body.used,
        30,
      );
      await server.stop(); // our own redis-server, never the shared one
      const read = await check(env, k, { feature: "calls" });
      assert.deepEqual([read.status, read.body.used, read.body.allowed], [200, 30, true]);
      // consumption fails closed: libSQL does not know what Redis reserved (ADR 0009)
      const burst = await Promise.all(
        Array.from(
          { length: 100 },
          (_, i) => check(env, k, { feature: "calls", consume: 1, idempotency_key: `down${i}` }),
        ),
      );
      assert.ok(
        burst.every((r) => r.status === 503 && r.body.code === "upstream_unavailable"),
        JSON.stringify(burst.map((r) => r.status)),
      );
      assert.equal(await eventsOf(env, "calls"), 1, "nothing was written");
      // a fresh, empty Redis on the same port: counters are rebuilt from the stored events
      const restarted = await startRedisServer(server.port);
      try {
        // Until the endpoint has reconnected and the circuit closed, answers come from libSQL; every
        // answer is right either way. Then the counter is rebuilt in the fresh Redis.
        const redisKeys = () =>
          fetch(upstash.url, {
            method: "POST",
            headers: { authorization: `Bearer ${upstash.token}` },
            body: JSON.stringify(["KEYS", "*fallback*:e:*"]),
          }).then((r) => r.json()).then((b) => (b.result ?? []) as string[]);
        let rebuiltInRedis = false;
        for (let i = 0; i < 60 && !rebuiltInRedis; i++) {
          const read = await check(env, k, { feature: "calls" });
          assert.deepEqual([read.body.used, read.body.allowed], [30, true]);
          rebuiltInRedis = (await redisKeys()).length === 1;
          if (!rebuiltInRedis) await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(rebuiltInRedis, "the counter lives in the restarted Redis again");
        const hget = await fetch(upstash.url, {
          method: "POST",
          headers: { authorization: `Bearer ${upstash.token}` },
          body: JSON.stringify(["HGET", (await redisKeys())[0], "used"]),
        }).then((r) => r.json());
        assert.equal(hget.result, "30", "rebuilt from the 30 stored units");
        // the refused consumptions retried with their keys: the hard limit holds, under concurrency
        const retried = await Promise.all(
          Array.from(
            { length: 100 },
            (_, i) => check(env, k, { feature: "calls", consume: 1, idempotency_key: `down${i}` }),
          ),
        );
        assert.equal(retried.filter((r) => r.body.allowed).length, 70);
        assert.equal(await eventsOf(env, "calls"), 71);
        const denied = await check(env, k, { feature: "calls", consume: 1, idempotency_key: "back" });
        assert.equal(denied.body.allowed, false);
      } finally {
        await restarted.stop();
      }
    } finally {
      await upstash.stop();
      await server.stop();
      await env.close();
    }
  },
);

Deno.test(
  "live entitlements (redis): writes made while Redis was unreachable invalidate its old counters once it is back",
  { ignore: redis === null, ...resources },
  async () => {
    // A partition, not a restart: Redis keeps its (now outdated) data while the endpoint is down.
    const port = freePort();
    const token = `tok_${crypto.randomUUID()}`;
    let upstash = await startUpstashLocal({ port, token, redisUrl: redis!.url });
    const env = await testEnv();
    try {
      const live = new RedisLiveEntitlements({
        url: upstash.url,
        token,
        prefix: testPrefix("partition"),
        retryAfterMs: 50,
      });
      env.services.live = live;
      const t = await subscribed(env);
      const k = t.secret_key;
      assert.equal(
        (await check(env, k, { feature: "calls", consume: 40, idempotency_key: "p1" })).body.used,
        40,
      );
      await upstash.stop();
      const refused = await check(env, k, { feature: "calls", consume: 50, idempotency_key: "p2" });
      assert.deepEqual([refused.status, refused.body.code], [503, "upstream_unavailable"]);
      assert.equal((await check(env, k, { feature: "calls" })).body.used, 40, "read from libSQL");
      await call(env, "POST", "/v1/events", {
        key: k,
        body: { events: [{ id: "p3", customer_id: "c1", feature: "calls", value: 5 }] },
      });
      const features = livePlan().features.map((f) => f.key === "calls" ? { ...f, limit: 46 } : f);
      await call(env, "PATCH", `/v1/plans/${t.plan_id}`, { key: k, body: { features } });
      upstash = await startUpstashLocal({ port, token, redisUrl: redis!.url });
      await new Promise((r) => setTimeout(r, 60));
      const back = await check(env, k, { feature: "calls" });
      assert.deepEqual(
        [back.body.used, back.body.limit],
        [45, 46],
        "owed invalidations and counter drops were delivered first",
      );
      assert.equal(
        (await check(env, k, { feature: "calls", consume: 2, idempotency_key: "p4" })).body.allowed,
        false,
      );
      assert.equal(
        (await check(env, k, { feature: "calls", consume: 1, idempotency_key: "p5" })).body.allowed,
        true,
      );
    } finally {
      await upstash.stop();
      await env.close();
    }
  },
);

// ---- two server processes sharing Redis and the libSQL file ----

function startServer(env: Record<string, string>) {
  return spawnServer({ ...env, LOG_LEVEL: "error", WEBHOOK_WORKER_INTERVAL_MS: "0" }, { echo: true });
}

async function post(
  base: string,
  path: string,
  key: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

Deno.test(
  "live entitlements (redis): two server processes sharing Redis and libSQL allow exactly 100 of 200 parallel consumes",
  { ignore: redis === null, ...resources },
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "billing-live-procs-" });
    const upstash = await upstashFor(redis!);
    const env = {
      DATABASE_URL: `file:${dir}/billing.db`,
      BILLING_ADMIN_TOKEN: ADMIN_TOKEN,
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
      REDIS_KEY_PREFIX: testPrefix("procs"),
    };
    const a = await startServer(env);
    const b = await startServer(env);
    try {
      assert.match(a.output, /live entitlements on Redis/);
      const t =
        (await post(a.base, "/v1/admin/tenants", ADMIN_TOKEN, { name: "procs", app: "production" })).body;
      const plan = await post(a.base, "/v1/plans", t.secret_key, livePlan());
      await post(a.base, "/v1/customers", t.secret_key, { external_id: "c1" });
      assert.equal(
        (await post(b.base, "/v1/subscriptions", t.secret_key, { customer_id: "c1", plan_id: plan.body.id }))
          .status,
        201,
      );
      for (const base of [a.base, b.base]) { // warm both (snapshot in Redis, code paths compiled)
        assert.equal(
          (await post(base, "/v1/entitlements/check", t.secret_key, { customer_id: "c1", feature: "calls" }))
            .body.used,
          0,
        );
      }
      const minted = await post(a.base, "/v1/customer_sessions", t.secret_key, { customer_id: "c1" });
      const session = { "customer-session": minted.body.token };
      const results = await Promise.all(
        Array.from(
          { length: 200 },
          (_, i) =>
            post(i % 2 === 0 ? a.base : b.base, "/v1/entitlements/check", t.publishable_key, {
              customer_id: "c1",
              feature: "calls",
              consume: 1,
              idempotency_key: `proc-${i}`,
            }, session),
        ),
      );
      for (const r of results) {
        assert.equal(r.status, 200, JSON.stringify(r.body));
      }
      assert.equal(results.filter((r) => r.body.allowed).length, 100);
      // which process wins how many is up to scheduling; together they never pass the limit
      const byA = results.filter((r, i) => r.body.allowed && i % 2 === 0).length;
      assert.equal(byA + results.filter((r, i) => r.body.allowed && i % 2 === 1).length, 100);
      for (const base of [a.base, b.base]) {
        const read = await post(base, "/v1/entitlements/check", t.secret_key, {
          customer_id: "c1",
          feature: "calls",
        });
        assert.deepEqual([read.body.used, read.body.allowed], [100, false]);
      }
      const { createClient } = await import("@libsql/client");
      const db = createClient({ url: env.DATABASE_URL });
      const rs = await db.execute(
        "select count(*) as n, sum(value) as s from usage_events where feature = 'calls'",
      );
      db.close();
      assert.deepEqual([Number(rs.rows[0].n), Number(rs.rows[0].s)], [100, 100]);
    } finally {
      await a.stop();
      await b.stop();
      await upstash.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);

// ---- publishable-key rate limit (@upstash/ratelimit through the local Upstash endpoint) ----

Deno.test(
  "rate limit: publishable keys are limited per customer (429 problem, Retry-After, nothing written); secret keys are not",
  { ignore: redis === null, ...resources },
  async () => {
    const { Redis } = await import("@upstash/redis");
    const { UpstashRateLimiter } = await import("../../src/http/rate_limit.ts");
    const local = await upstashFor(redis!);
    const env = await testEnv();
    try {
      const limiterRedis = new Redis({ url: local.url, token: local.token, retry: { retries: 0 } });
      env.services.rateLimiter = new UpstashRateLimiter({
        redis: limiterRedis,
        requests: 5,
        windowSeconds: 60,
        prefix: testPrefix("rl"),
      });
      const t = await subscribed(env);
      await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: "c2" } });
      for (let i = 0; i < 5; i++) {
        assert.equal(
          (await check(env, t.publishable_key, { feature: "calls" }, t.session)).status,
          200,
        );
      }
      const limited = await call(env, "POST", "/v1/entitlements/check", {
        key: t.publishable_key,
        headers: t.session,
        body: { customer_id: "c1", feature: "calls", consume: 1, idempotency_key: "rl1" },
      });
      assert.equal(limited.status, 429);
      assert.match(limited.contentType, /application\/problem\+json/);
      assert.equal(limited.body.code, "rate_limited");
      const raw = await env.app.request("/v1/entitlements/check", {
        method: "POST",
        headers: {
          authorization: `Bearer ${t.publishable_key}`,
          "content-type": "application/json",
          ...t.session,
        },
        body: JSON.stringify({ customer_id: "c1", feature: "calls" }),
      });
      assert.equal(raw.status, 429);
      assert.ok(Number(raw.headers.get("retry-after")) >= 1);
      await raw.body?.cancel();
      const events = await call(env, "POST", "/v1/events", {
        key: t.publishable_key,
        headers: t.session,
        body: { events: [{ id: "rl-e1", customer_id: "c1", feature: "calls", value: 1 }] },
      });
      assert.equal(events.status, 429);
      assert.equal(await eventsOf(env, "calls"), 0, "a limited request writes nothing");
      // another customer of the same app has its own budget; the secret key is never limited
      assert.equal(
        (await call(env, "POST", "/v1/entitlements/check", {
          key: t.publishable_key,
          headers: await sessionHeaders(env, t.secret_key, "c2"),
          body: { customer_id: "c2", feature: "calls" },
        })).status,
        200,
      );
      assert.equal((await check(env, t.secret_key, { feature: "calls" })).status, 200);
    } finally {
      await local.stop();
      await env.close();
    }
  },
);

Deno.test("loadConfig() reads the Redis settings: URL needs its token, prefix and publishable rate limit are validated", async () => {
  const { ConfigError, loadConfig } = await import("../../src/config.ts");
  const embedded = loadConfig({});
  assert.equal(embedded.redis, null, "no URL: in-process live entitlements");
  assert.deepEqual(embedded.publishableRateLimit, { requests: 600, windowSeconds: 60 });
  const withRedis = loadConfig({
    UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8079",
    UPSTASH_REDIS_REST_TOKEN: "t",
    PUBLISHABLE_RATE_LIMIT: "20/10",
  });
  assert.deepEqual(withRedis.redis, { url: "http://127.0.0.1:8079", token: "t", prefix: "billing:" });
  assert.deepEqual(withRedis.publishableRateLimit, { requests: 20, windowSeconds: 10 });
  assert.equal(loadConfig({ PUBLISHABLE_RATE_LIMIT: "0" }).publishableRateLimit, null);
  assert.throws(
    () => loadConfig({ UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8079" }),
    (e) => e instanceof ConfigError && /UPSTASH_REDIS_REST_TOKEN/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ UPSTASH_REDIS_REST_URL: "redis://127.0.0.1:6379", UPSTASH_REDIS_REST_TOKEN: "t" }),
    /UPSTASH_REDIS_REST_URL/,
  );
  assert.throws(() => loadConfig({ PUBLISHABLE_RATE_LIMIT: "lots" }), /PUBLISHABLE_RATE_LIMIT/);
  assert.throws(() => loadConfig({ REDIS_KEY_PREFIX: "has space" }), /REDIS_KEY_PREFIX/);
  assert.equal(embedded.liveEntitlements, "memory");
  const { redisServices } = await import("../../src/runtime/redis.ts");
  assert.deepEqual(redisServices(embedded, () => {}), {});
  const libsql = redisServices(loadConfig({ LIVE_ENTITLEMENTS: "libsql" }), () => {});
  assert.ok(libsql.live instanceof DatabaseOnlyEntitlements);
  assert.ok(redisServices(withRedis, () => {}).live instanceof RedisLiveEntitlements);
  assert.throws(() => loadConfig({ LIVE_ENTITLEMENTS: "sometimes" }), /LIVE_ENTITLEMENTS/);
});

Deno.test(
  "consumption writer: concurrent consumptions share transactions; the same key sent concurrently is stored once",
  resources,
  async () => {
    const env = await testEnv();
    try {
      const t = await subscribed(env);
      const k = t.secret_key;
      const before = env.events.filter((e) => e.type === "usage.ingested").length;
      const results = await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) => check(env, k, { feature: "calls", consume: 1, idempotency_key: `g${i}` }),
        ),
      );
      assert.ok(results.every((r) => r.body.allowed && r.body.consumed === 1));
      const commits = env.events.filter((e) => e.type === "usage.ingested").length - before;
      assert.ok(commits < 50, `50 consumptions took ${commits} transactions`);
      assert.equal(await eventsOf(env, "calls"), 50);
      const twins = await Promise.all(
        [1, 2].map(() => check(env, k, { feature: "calls", consume: 10, idempotency_key: "twin" })),
      );
      assert.deepEqual(twins.map((r) => [r.status, r.body.allowed, r.body.consumed]), [[200, true, 10], [
        200,
        true,
        10,
      ]]);
      assert.equal(await eventsOf(env, "calls"), 51);
      assert.equal(
        (await check(env, k, { feature: "calls" })).body.used,
        60,
        "the twin's reservation was given back",
      );
      const rivals = await Promise.all(
        [3, 4].map((n) => check(env, k, { feature: "calls", consume: n, idempotency_key: "rival" })),
      );
      assert.deepEqual(rivals.map((r) => r.status).sort(), [200, 409]);
      const winner = rivals.find((r) => r.status === 200)!.body.consumed;
      assert.equal((await check(env, k, { feature: "calls" })).body.used, 60 + winner);
    } finally {
      await env.close();
    }
  },
);
