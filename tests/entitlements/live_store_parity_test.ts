/**
 * The two live stores are one state machine: random sequences of operations (check, consume,
 * reload, seed, count, forget, release, invalidate; periods rolling over) applied to the
 * in-process store and to the Redis store (Lua through the local Upstash endpoint) give the same
 * answer at every step. fast-check prints the seed and the shrunk sequence on a mismatch.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type FeatureEntitlement,
  type LiveEntitlementStore,
  type LiveKey,
  MemoryLiveEntitlements,
} from "../../src/entitlements/live_store.ts";
import { RedisLiveEntitlements } from "../../src/entitlements/live_store_redis.ts";
import type { Feature } from "../../src/domain/plan.ts";
import { acquireRedis, testPrefix, upstashFor } from "../redis_helpers.ts";

const redis = await acquireRedis();

const T0 = Date.parse("2026-01-01T00:00:00Z");
const DAY = 86_400_000;
const scope = { tenantId: "tnt_parity", appId: "app_parity" };
const keys: LiveKey[] = [
  { scope, customerId: "cus_a", feature: "calls" },
  { scope, customerId: "cus_a", feature: "peak" },
  { scope, customerId: "cus_b", feature: "calls" },
];

function entitlement(variant: number, period: 0 | 1): FeatureEntitlement {
  const base: Feature = {
    key: "calls",
    name: "Calls",
    type: "metered",
    limit: 10,
    soft_limit: false,
    aggregation: "sum",
    included: 0,
    unique_property: null,
    pricing: null,
  };
  const features: (Feature | null)[] = [
    base,
    { ...base, limit: 5 },
    { ...base, soft_limit: true },
    { ...base, limit: null },
    { ...base, aggregation: "count", limit: 3 },
    { ...base, aggregation: "max", limit: 8 },
    { ...base, type: "boolean", limit: null, aggregation: "count" },
    null,
  ];
  const feature = features[variant % features.length];
  if (variant === 99) return { subscribed: false, feature: null, period_start_ms: null, period_end_ms: null };
  return {
    subscribed: true,
    feature,
    period_start_ms: T0 + period * 30 * DAY,
    period_end_ms: T0 + (period + 1) * 30 * DAY,
  };
}

type Op =
  | { op: "check"; k: number; consume: number; day: number }
  | { op: "reload"; k: number; variant: number; day: number }
  | { op: "seed"; k: number; value: number; day: number }
  | { op: "count"; events: { k: number; day: number; value: number }[] }
  | { op: "forget"; k: number }
  | { op: "release"; k: number; n: number; period: 0 | 1 }
  | { op: "invalidate"; customer: boolean; k: number };

const day = fc.integer({ min: 0, max: 59 });
const k = fc.integer({ min: 0, max: keys.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("check" as const),
      k,
      consume: fc.integer({ min: 0, max: 4 }),
      day,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("reload" as const),
      k,
      variant: fc.oneof(fc.integer({ min: 0, max: 7 }), fc.constant(99)),
      day,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("seed" as const),
      k,
      value: fc.integer({ min: 0, max: 12 }),
      day,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("count" as const),
      events: fc.array(fc.record({ k, day, value: fc.integer({ min: 0, max: 6 }) }), {
        minLength: 1,
        maxLength: 4,
      }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("forget" as const), k }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("release" as const),
      k,
      n: fc.integer({ min: 1, max: 3 }),
      period: fc.constantFrom(0 as const, 1 as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("invalidate" as const), customer: fc.boolean(), k }) },
);

/** Applies one operation; returns what the store answered (comparable across stores). */
async function apply(store: LiveEntitlementStore, op: Op): Promise<unknown> {
  switch (op.op) {
    case "check":
      return await store.check(keys[op.k], op.consume, T0 + op.day * DAY);
    case "reload": {
      const now = T0 + op.day * DAY;
      const r = await store.check(keys[op.k], 0, now);
      if (r.status === "stale") {
        await store.put(keys[op.k], r.gen, entitlement(op.variant, now >= T0 + 30 * DAY ? 1 : 0), now);
      }
      return r;
    }
    case "seed": {
      const r = await store.check(keys[op.k], 0, T0 + op.day * DAY);
      return r.status === "cold" ? [r, await store.seed(keys[op.k], r.snapshot, op.value)] : r;
    }
    case "count":
      await store.count(
        scope,
        op.events.map((e) => ({
          customer_id: keys[e.k].customerId,
          feature: keys[e.k].feature,
          value: e.value,
          timestamp: new Date(T0 + e.day * DAY),
        })),
      );
      return null;
    case "forget":
      await store.forget([keys[op.k]]);
      return null;
    case "release":
      await store.release(keys[op.k], op.n, T0 + op.period * 30 * DAY);
      return null;
    case "invalidate":
      if (op.customer) await store.invalidateCustomer(scope, keys[op.k].customerId);
      else await store.invalidateApp(scope);
      return null;
  }
}

Deno.test(
  "live stores: the in-process store and the Lua scripts on Redis answer every operation sequence alike",
  {
    ignore: redis === null,
    sanitizeResources: false,
    sanitizeOps: false,
  },
  async () => {
    const local = await upstashFor(redis!);
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
          const memory = new MemoryLiveEntitlements();
          const onRedis = new RedisLiveEntitlements({
            url: local.url,
            token: local.token,
            prefix: testPrefix("parity"),
          });
          for (const [i, op] of ops.entries()) {
            const a = await apply(memory, op);
            const b = await apply(onRedis, op);
            assert.deepEqual(b, a, `step ${i} ${JSON.stringify(op)}`);
          }
          assert.equal(onRedis.failures, 0);
        }),
        { numRuns: Number(Deno.env.get("PARITY_RUNS") ?? 60) },
      );
    } finally {
      await local.stop();
    }
  },
);

// ---- the rebuild window: events ingested while a counter is rebuilt are never lost ----

const storeCases: {
  name: string;
  ignore: boolean;
  make(): Promise<[LiveEntitlementStore, () => Promise<void>]>;
}[] = [
  {
    name: "in-process",
    ignore: false,
    make: () => Promise.resolve([new MemoryLiveEntitlements(), () => Promise.resolve()]),
  },
  {
    name: "redis",
    ignore: redis === null,
    async make() {
      const local = await upstashFor(redis!);
      return [
        new RedisLiveEntitlements({ url: local.url, token: local.token, prefix: testPrefix("window") }),
        () => local.stop(),
      ];
    },
  },
];

for (const c of storeCases) {
  Deno.test(
    `live stores (${c.name}): a rebuild racing ingestion counts every event (at worst twice, never zero times)`,
    {
      ignore: c.ignore,
      sanitizeResources: false,
      sanitizeOps: false,
    },
    async () => {
      const [store, stop] = await c.make();
      try {
        const key = keys[0];
        const now = T0 + DAY;
        const event = (value: number) => ({
          customer_id: key.customerId,
          feature: key.feature,
          value,
          timestamp: new Date(now),
        });
        const cold = async () => {
          const r = await store.check(key, 0, now);
          if (r.status === "stale") {
            await store.put(key, r.gen, entitlement(0, 0), now);
            return await cold();
          }
          assert.equal(r.status, "cold");
          return r.status === "cold" ? r.snapshot : assert.fail("not cold");
        };
        // libSQL holds 5 units. (a) An event (2) stored after the snapshot but before the libSQL read:
        // in the read (7) and in the delta (2) → 9, too high by 2, never too low.
        let snapshot = await cold();
        await store.count(scope, [event(2)]);
        assert.equal(await store.seed(key, snapshot, 7), 9);
        // (b) The libSQL read says 10; an event (3) stored after the read and counted before the
        // seed is only in the delta → 13, exact.
        await store.forget([key]);
        snapshot = await cold();
        await store.count(scope, [event(3)]);
        assert.equal(await store.seed(key, snapshot, 10), 13);
        // (c) An event counted after the seed lands on the counter itself.
        await store.count(scope, [event(4)]);
        const after = await store.check(key, 0, now);
        assert.deepEqual([after.status, after.status === "ok" && after.used], ["ok", 17]);
        // (d) A counter dropped while a rebuild is in flight: that rebuild's seed is refused.
        await store.forget([key]);
        snapshot = await cold();
        await store.forget([key]);
        assert.equal(await store.seed(key, snapshot, 1), null);
        // (e) max: any event between snapshot and seed makes the seed refuse to cache (answer from the read).
        const peak = keys[1];
        const r = await store.check(peak, 0, now);
        if (r.status === "stale") await store.put(peak, r.gen, entitlement(5, 0), now);
        const coldPeak = await store.check(peak, 0, now);
        assert.equal(coldPeak.status, "cold");
        await store.count(scope, [{
          customer_id: peak.customerId,
          feature: peak.feature,
          value: 7,
          timestamp: new Date(now),
        }]);
        assert.equal(
          await store.seed(peak, coldPeak.status === "cold" ? coldPeak.snapshot : assert.fail(), 6),
          null,
        );
      } finally {
        await stop();
      }
    },
  );
}
