/**
 * Fractional quantities (issue 19): event values with up to 12 decimal places are stored and
 * aggregated exactly (`sum`, `max`, `latest`), answered as numbers when whole and as decimal
 * strings otherwise, billed, and consumed against decimal limits on every live store.
 */
import assert from "node:assert/strict";
import { call, tenant, type TestEnv, testEnv } from "../helpers.ts";
import { acquireRedis, type LiveStoreCase, liveStoreCases } from "../redis_helpers.ts";

const redis = await acquireRedis();
const resources = { sanitizeResources: false, sanitizeOps: false };

async function setup(env: TestEnv, features: unknown[]) {
  const { secret_key: key } = await tenant(env);
  const plan = await call(env, "POST", "/v1/plans", {
    key,
    body: { key: "p", name: "P", currency: "USD", interval: "month", features },
  });
  assert.equal(plan.status, 201, JSON.stringify(plan.body));
  await call(env, "POST", "/v1/customers", { key, body: { external_id: "c" } });
  const sub = await call(env, "POST", "/v1/subscriptions", { key, body: { customer_id: "c", plan_id: "p" } });
  assert.equal(sub.status, 201, JSON.stringify(sub.body));
  return { key, plan: plan.body, sub: sub.body };
}

const usage = async (env: TestEnv, key: string, feature: string) =>
  (await call(
    env,
    "GET",
    `/v1/usage?customer_id=c&feature=${feature}&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z`,
    {
      key,
    },
  )).body.value;

Deno.test("decimal events: 0.25 + 0.5 + 1.125 GB-hours sum to exactly 1.875 and are billed exactly (187.5 cents → 188)", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, sub } = await setup(env, [
      {
        key: "gb_hours",
        type: "metered",
        aggregation: "sum",
        pricing: { model: "per_unit", unit_amount: 100 },
      },
    ]);
    env.clock.set("2026-01-10T00:00:00Z");
    const sent = await call(env, "POST", "/v1/events", {
      key,
      body: {
        events: [
          { id: "g1", customer_id: "c", feature: "gb_hours", value: 0.25 }, // JSON number
          { id: "g2", customer_id: "c", feature: "gb_hours", value: "0.5" }, // decimal string
          { id: "g3", customer_id: "c", feature: "gb_hours", value: "1.125" },
        ],
      },
    });
    assert.deepEqual(sent.body, { accepted: 3, duplicates: 0, rejected: [] });
    // 0.25 + 0.5 + 1.125 = 1.875 exactly (as a string: it is not whole)
    assert.equal(await usage(env, key, "gb_hours"), "1.875");
    // a retry of g2 written "0.50" is the same value: a duplicate, not idempotency_key_reused
    const retry = await call(env, "POST", "/v1/events", {
      key,
      body: { events: [{ id: "g2", customer_id: "c", feature: "gb_hours", value: "0.50" }] },
    });
    assert.deepEqual([retry.body.accepted, retry.body.duplicates], [0, 1]);
    // billed exactly (ADR 0004: the line rounds once, half-up): 1.875 × 100 cents = 187.5 → 188
    // (the quantity shows as the exact decimal "1.875")
    const invoice = await call(env, "POST", "/v1/invoices", { key, body: { subscription_id: sub.id } });
    const line = invoice.body.lines.find((l: { feature: string | null }) => l.feature === "gb_hours");
    assert.deepEqual([line.quantity, line.amount], ["1.875", 188]);
  } finally {
    await env.close();
  }
});

Deno.test("decimal events: a 1000-event batch of 0.001 sums to exactly 1; 9 999 999.5 + 0.5 passes 9.2 million units exactly", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key } = await setup(env, [
      { key: "tokens", type: "metered", aggregation: "sum" },
      { key: "bytes", type: "metered", aggregation: "sum" },
    ]);
    env.clock.set("2026-01-10T00:00:00Z");
    const events = Array.from({ length: 1000 }, (_, i) => ({
      id: `t${i}`,
      customer_id: "c",
      feature: "tokens",
      value: 0.001,
    }));
    assert.equal((await call(env, "POST", "/v1/events", { key, body: { events } })).body.accepted, 1000);
    // 1000 × 0.001 = 1 exactly (a float sum gives 1.0000000000000007); whole → a JSON number
    assert.equal(await usage(env, key, "tokens"), 1);
    // a single column scaled by 10^12 would overflow 64 bits at 9 223 372 units; whole + fraction does not:
    // 9 999 999.5 + 0.5 = 10 000 000, and + 0.000000000001 = 10 000 000.000000000001
    await call(env, "POST", "/v1/events", {
      key,
      body: {
        events: [
          { id: "b1", customer_id: "c", feature: "bytes", value: "9999999.5" },
          { id: "b2", customer_id: "c", feature: "bytes", value: 0.5 },
        ],
      },
    });
    assert.equal(await usage(env, key, "bytes"), 10_000_000);
    await call(env, "POST", "/v1/events", {
      key,
      body: { events: [{ id: "b3", customer_id: "c", feature: "bytes", value: "0.000000000001" }] },
    });
    assert.equal(await usage(env, key, "bytes"), "10000000.000000000001");
  } finally {
    await env.close();
  }
});

Deno.test("decimal events: max and latest keep every decimal place", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key } = await setup(env, [
      { key: "peak_gb", type: "metered", aggregation: "max" },
      { key: "level", type: "metered", aggregation: "latest" },
    ]);
    const at = (day: number) => `2026-01-${String(day).padStart(2, "0")}T00:00:00Z`;
    env.clock.set(at(20));
    await call(env, "POST", "/v1/events", {
      key,
      body: {
        events: [
          { id: "p1", customer_id: "c", feature: "peak_gb", value: 2.5, timestamp: at(2) },
          { id: "p2", customer_id: "c", feature: "peak_gb", value: "10.000000000001", timestamp: at(3) },
          { id: "p3", customer_id: "c", feature: "peak_gb", value: 10, timestamp: at(4) },
          { id: "p4", customer_id: "c", feature: "peak_gb", value: "9.999999999999", timestamp: at(5) },
          { id: "l1", customer_id: "c", feature: "level", value: "7.75", timestamp: at(9) },
          { id: "l2", customer_id: "c", feature: "level", value: "3.000000000007", timestamp: at(11) },
          { id: "l3", customer_id: "c", feature: "level", value: 12, timestamp: at(10) },
        ],
      },
    });
    // max: 10.000000000001 > 10 > 9.999999999999 > 2.5 (the fraction decides between equal whole parts)
    assert.equal(await usage(env, key, "peak_gb"), "10.000000000001");
    // latest by timestamp: l2 (Jan 11), though l3 was sent after it
    assert.equal(await usage(env, key, "level"), "3.000000000007");
  } finally {
    await env.close();
  }
});

const stores: LiveStoreCase[] = liveStoreCases(redis, "dec");

for (const store of stores) {
  Deno.test(
    `decimal consume against a decimal limit (${store.name}): 2.5 GB-hours hold 1.25 + 1.25, not one 10^-12 more`,
    { ignore: store.ignore, ...resources },
    async () => {
      const env = await testEnv();
      const detach = await store.attach(env);
      env.clock.set("2026-01-01T00:00:00Z");
      try {
        const { key } = await setup(env, [{
          key: "gpu_hours",
          type: "metered",
          limit: "2.5",
          aggregation: "sum",
        }]);
        env.clock.set("2026-01-05T00:00:00Z");
        const consume = (n: number | string, idempotency_key: string) =>
          call(env, "POST", "/v1/entitlements/check", {
            key,
            body: { customer_id: "c", feature: "gpu_hours", consume: n, idempotency_key },
          });
        // 0 + 1.25 ≤ 2.5: allowed; used 1.25, remaining 1.25
        const first = (await consume(1.25, "k1")).body;
        assert.deepEqual([first.allowed, first.consumed, first.used, first.limit, first.remaining], [
          true,
          "1.25",
          "1.25",
          "2.5",
          "1.25",
        ]);
        // a report of 0.75 through events, then 1.25 + 0.75 + 0.5 = 2.5 ≤ 2.5: allowed, remaining 0
        await call(env, "POST", "/v1/events", {
          key,
          body: { events: [{ id: "e1", customer_id: "c", feature: "gpu_hours", value: "0.75" }] },
        });
        const second = (await consume("0.5", "k2")).body;
        assert.deepEqual([second.allowed, second.used, second.remaining], [true, "2.5", 0]);
        // retry of k2: consumed once
        const replay = (await consume("0.500", "k2")).body;
        assert.deepEqual([replay.allowed, replay.consumed, replay.used], [true, "0.5", "2.5"]);
        // 2.5 + 0.000000000001 > 2.5: denied, nothing written
        const denied = (await consume("0.000000000001", "k3")).body;
        assert.deepEqual([denied.allowed, denied.consumed, denied.reason], [false, 0, "limit_reached"]);
        // the stored events agree with the counter: 1.25 + 0.75 + 0.5 = 2.5
        assert.equal(await usage(env, key, "gpu_hours"), "2.5");
        // a plain check asks room for one unit: 2.5 used of 2.5 → not allowed
        const plain = (await call(env, "POST", "/v1/entitlements/check", {
          key,
          body: { customer_id: "c", feature: "gpu_hours" },
        })).body;
        assert.deepEqual([plain.allowed, plain.used, plain.remaining], [false, "2.5", 0]);
      } finally {
        await detach();
        await env.close();
      }
    },
  );
}

Deno.test("decimal events grouped by a property (group_by, per-combination rating): sum and max exact per combination", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, sub } = await setup(env, [
      {
        key: "gpu_hours",
        type: "metered",
        aggregation: "sum",
        dimensions: ["gpu"],
        dimension_prices: [
          { match: { gpu: "a100" }, pricing: { model: "per_unit", unit_amount: 300 } },
          { match: { gpu: "t4" }, pricing: { model: "per_unit", unit_amount_decimal: "35.5" } },
        ],
      },
      { key: "peak", type: "metered", aggregation: "max" },
    ]);
    env.clock.set("2026-01-10T00:00:00Z");
    // 500 a100 events of 0.001 h and 500 t4 events of "0.0025" h: a 1000-event batch
    const events = Array.from(
      { length: 1000 },
      (_, i) =>
        i % 2 === 0
          ? { id: `a${i}`, customer_id: "c", feature: "gpu_hours", value: 0.001, properties: { gpu: "a100" } }
          : {
            id: `t${i}`,
            customer_id: "c",
            feature: "gpu_hours",
            value: "0.0025",
            properties: { gpu: "t4" },
          },
    );
    assert.equal((await call(env, "POST", "/v1/events", { key, body: { events } })).body.accepted, 1000);
    const peakEvents = [
      { id: "m1", customer_id: "c", feature: "peak", value: "4.000000000002", properties: { gpu: "a100" } },
      { id: "m2", customer_id: "c", feature: "peak", value: 4, properties: { gpu: "a100" } },
      { id: "m3", customer_id: "c", feature: "peak", value: "0.5", properties: { gpu: "t4" } },
    ];
    assert.equal(
      (await call(env, "POST", "/v1/events", { key, body: { events: peakEvents } })).body.accepted,
      3,
    );
    const grouped = async (feature: string) =>
      (await call(
        env,
        "GET",
        `/v1/usage?customer_id=c&feature=${feature}&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&group_by=gpu`,
        { key },
      )).body.groups;
    // a100: 500 × 0.001 = 0.5 h; t4: 500 × 0.0025 = 1.25 h (first usage first: a100 was sent first)
    assert.deepEqual(await grouped("gpu_hours"), [
      { dimensions: { gpu: "a100" }, value: "0.5" },
      { dimensions: { gpu: "t4" }, value: "1.25" },
    ]);
    // max per combination: 4.000000000002 > 4 on a100 (the fraction decides); 0.5 on t4
    const peaks = await grouped("peak");
    assert.deepEqual(
      peaks.map((g: { dimensions: { gpu: string }; value: unknown }) => [g.dimensions.gpu, g.value]).sort(),
      [["a100", "4.000000000002"], ["t4", "0.5"]],
    );
    // rated per combination, exactly, each line rounded once half-up:
    // a100 0.5 × 300 = 150; t4 1.25 × 35.5 = 44.375 → 44
    const invoice = await call(env, "POST", "/v1/invoices", { key, body: { subscription_id: sub.id } });
    const lines = invoice.body.lines.filter((l: { feature: string | null }) => l.feature === "gpu_hours");
    assert.deepEqual(
      lines.map((l: { quantity: unknown; amount: number }) => [l.quantity, l.amount]),
      [["0.5", 150], ["1.25", 44]],
    );
  } finally {
    await env.close();
  }
});
