/**
 * The two live stores are one state machine: random sequences of operations (check, consume,
 * reload, seed, count, forget, release, invalidate; periods rolling over) applied to the
 * in-process store and to the Redis store (Lua through the local Upstash endpoint) give the same
 * answer at every step. fast-check prints the seed and the shrunk sequence on a mismatch.
 * Quantities are quarters (0.25 steps) so the decimal arithmetic of both stores is exercised
 * (issue 19: Redis keeps whole units and a 10^-12 fraction per quantity).
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
import { type Decimal, DECIMAL_SCALE, decimalFromScaled, parseDecimal } from "../../src/domain/decimal.ts";

/** n quarters of a unit (3 → 0.75). */
const Q = (n: number): Decimal => decimalFromScaled(BigInt(n) * DECIMAL_SCALE / 4n);

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
    { ...base, limit: "2.75" },
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
      consume: fc.integer({ min: 0, max: 16 }),
      day,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("reload" as const),
      k,
      variant: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constant(99)),
      day,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("seed" as const),
      k,
      value: fc.integer({ min: 0, max: 48 }),
      day,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("count" as const),
      events: fc.array(fc.record({ k, day, value: fc.integer({ min: 0, max: 24 }) }), {
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
      n: fc.integer({ min: 1, max: 12 }),
      period: fc.constantFrom(0 as const, 1 as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("invalidate" as const), customer: fc.boolean(), k }) },
);

/** Applies one operation; returns what the store answered (comparable across stores). */
async function apply(store: LiveEntitlementStore, op: Op): Promise<unknown> {
  switch (op.op) {
    case "check":
      return await store.check(keys[op.k], Q(op.consume), T0 + op.day * DAY);
    case "reload": {
      const now = T0 + op.day * DAY;
      const r = await store.check(keys[op.k], Q(0), now);
      if (r.status === "stale") {
        await store.put(keys[op.k], r.gen, entitlement(op.variant, now >= T0 + 30 * DAY ? 1 : 0), now);
      }
      return r;
    }
    case "seed": {
      const r = await store.check(keys[op.k], Q(0), T0 + op.day * DAY);
      return r.status === "cold" ? [r, await store.seed(keys[op.k], r.snapshot, Q(op.value))] : r;
    }
    case "count":
      await store.count(
        scope,
        op.events.map((e) => ({
          customer_id: keys[e.k].customerId,
          feature: keys[e.k].feature,
          value: Q(e.value),
          timestamp: new Date(T0 + e.day * DAY),
        })),
      );
      return null;
    case "forget":
      await store.forget([keys[op.k]]);
      return null;
    case "release":
      await store.release(keys[op.k], Q(op.n), T0 + op.period * 30 * DAY);
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
        const event = (units: number) => ({
          customer_id: key.customerId,
          feature: key.feature,
          value: Q(units * 4),
          timestamp: new Date(now),
        });
        const cold = async () => {
          const r = await store.check(key, Q(0), now);
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
        assert.equal(await store.seed(key, snapshot, Q(28)), Q(36));
        // (b) The libSQL read says 10; an event (3) stored after the read and counted before the
        // seed is only in the delta → 13, exact.
        await store.forget([key]);
        snapshot = await cold();
        await store.count(scope, [event(3)]);
        assert.equal(await store.seed(key, snapshot, Q(40)), Q(52));
        // (c) An event counted after the seed lands on the counter itself.
        await store.count(scope, [event(4)]);
        const after = await store.check(key, Q(0), now);
        assert.deepEqual([after.status, after.status === "ok" && after.used], ["ok", Q(68)]);
        // (d) A counter dropped while a rebuild is in flight: that rebuild's seed is refused.
        await store.forget([key]);
        snapshot = await cold();
        await store.forget([key]);
        assert.equal(await store.seed(key, snapshot, Q(4)), null);
        // (e) max: any event between snapshot and seed makes the seed refuse to cache (answer from the read).
        const peak = keys[1];
        const r = await store.check(peak, Q(0), now);
        if (r.status === "stale") await store.put(peak, r.gen, entitlement(5, 0), now);
        const coldPeak = await store.check(peak, Q(0), now);
        assert.equal(coldPeak.status, "cold");
        await store.count(scope, [{
          customer_id: peak.customerId,
          feature: peak.feature,
          value: Q(28),
          timestamp: new Date(now),
        }]);
        assert.equal(
          await store.seed(peak, coldPeak.status === "cold" ? coldPeak.snapshot : assert.fail(), Q(24)),
          null,
        );
      } finally {
        await stop();
      }
    },
  );
}

for (const c of storeCases) {
  Deno.test(
    `live stores (${c.name}): counters far past 2^53 / 10^12 units keep every one of 12 decimal places`,
    { ignore: c.ignore, sanitizeResources: false, sanitizeOps: false },
    async () => {
      const [store, stop] = await c.make();
      try {
        const key: LiveKey = { scope, customerId: "cus_big", feature: "calls" };
        const now = T0 + DAY;
        const r = await store.check(key, Q(0), now);
        assert.equal(r.status, "stale");
        const big = { ...entitlement(0, 0) };
        big.feature = { ...big.feature!, limit: "9000000000000.000000000001" };
        await store.put(key, r.status === "stale" ? r.gen : "", big, now);
        const cold = await store.check(key, Q(0), now);
        assert.equal(cold.status, "cold");
        // seeded at 8 999 999 999 999.999999999999 (a scaled 10^-12 count of 9 × 10^24: past 2^53 and 2^63)
        const seeded = await store.seed(
          key,
          cold.status === "cold" ? cold.snapshot : assert.fail(),
          parseDecimal("8999999999999.999999999999"),
        );
        assert.equal(seeded, parseDecimal("8999999999999.999999999999"));
        // + 0.000000000002 = 9 000 000 000 000.000000000001 = the limit exactly: allowed (carry into the whole part)
        const ok = await store.check(key, parseDecimal("0.000000000002"), now);
        assert.deepEqual([ok.status, ok.status === "ok" && ok.consumed], [
          "ok",
          parseDecimal("0.000000000002"),
        ]);
        // one more 10^-12 would pass it: denied, counter unchanged
        const denied = await store.check(key, parseDecimal("0.000000000001"), now);
        assert.deepEqual(
          [denied.status, denied.status === "denied" && denied.used],
          ["denied", parseDecimal("9000000000000.000000000001")],
        );
        // release 0.5 borrows from the whole part: 8 999 999 999 999.500000000001
        await store.release(key, parseDecimal("0.5"), T0);
        const after = await store.check(key, Q(0), now);
        assert.equal(after.status === "ok" && after.used, parseDecimal("8999999999999.500000000001"));
      } finally {
        await stop();
      }
    },
  );
}
