/**
 * Credit systems (issue 19): a `credit_system` feature is a pool of credits per period; metered
 * features draw `units × credit_cost` from it (the cost picked by dimension match). Consuming
 * checks deduct atomically — 300 parallel consumes never overdraw the pool on the in-process
 * store, on Redis, and without a live store (libSQL write transaction) — events deduct too, the
 * pool refills at the period boundary, and its overage is priced like any metered feature.
 */
import assert from "node:assert/strict";
import { call, tenant, type TestEnv, testEnv } from "../helpers.ts";
import { acquireRedis, type LiveStoreCase, liveStoreCases } from "../redis_helpers.ts";

const redis = await acquireRedis();
const resources = { sanitizeResources: false, sanitizeOps: false };

/** m-large calls cost 5 credits, m-small 1 (the feature's own cost), from a pool of 1000. */
const features = (pool: Record<string, unknown> = {}) => [
  { key: "credits", type: "credit_system", limit: 1000, ...pool },
  {
    key: "calls",
    type: "metered",
    aggregation: "sum",
    credit_system: "credits",
    credit_cost: 1,
    dimensions: ["model"],
    dimension_prices: [{ match: { model: "m-large" }, credit_cost: 5 }],
  },
];

async function setup(env: TestEnv, planFeatures: unknown[]) {
  const { secret_key: key } = await tenant(env);
  const plan = await call(env, "POST", "/v1/plans", {
    key,
    body: { key: "ai", name: "AI", currency: "USD", interval: "month", features: planFeatures },
  });
  assert.equal(plan.status, 201, JSON.stringify(plan.body));
  await call(env, "POST", "/v1/customers", { key, body: { external_id: "c" } });
  const sub = await call(env, "POST", "/v1/subscriptions", {
    key,
    body: { customer_id: "c", plan_id: "ai" },
  });
  assert.equal(sub.status, 201, JSON.stringify(sub.body));
  return { key, plan: plan.body, sub: sub.body };
}

const check = (env: TestEnv, key: string, body: Record<string, unknown>) =>
  call(env, "POST", "/v1/entitlements/check", { key, body: { customer_id: "c", feature: "calls", ...body } });

const poolUsage = async (env: TestEnv, key: string, from: string, to: string) =>
  (await call(env, "GET", `/v1/usage?customer_id=c&feature=credits&from=${from}&to=${to}`, { key })).body
    .value;

Deno.test("credit systems: plan rules name the field (pool must exist, cost required and positive, match keys declared)", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const bad = async (feature: Record<string, unknown>, field: string) => {
      const res = await call(env, "POST", "/v1/plans", {
        key,
        body: {
          key: `p${Math.random()}`.replace(".", ""),
          name: "P",
          currency: "USD",
          interval: "month",
          features: [{ key: "credits", type: "credit_system", limit: 10 }, feature],
        },
      });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.code, "validation_failed");
      assert.ok(
        res.body.fields.some((f: { path: string }) => f.path.endsWith(field)),
        `${field} in ${JSON.stringify(res.body.fields)}`,
      );
    };
    await bad(
      { key: "x", type: "metered", credit_system: "nope", credit_cost: 1 },
      "features.1.credit_system",
    );
    await bad({ key: "x", type: "metered", credit_system: "credits" }, "features.1.credit_cost");
    await bad(
      { key: "x", type: "metered", credit_system: "credits", credit_cost: 0 },
      "features.1.credit_cost",
    );
    await bad({ key: "x", type: "metered", credit_cost: 2 }, "features.1.credit_cost");
    await bad(
      { key: "x", type: "metered", credit_system: "credits", credit_cost: "0.0000000000001" },
      "features.1.credit_cost",
    );
    await bad({
      key: "x",
      type: "metered",
      credit_system: "credits",
      credit_cost: 1,
      dimensions: ["model"],
      dimension_prices: [{ match: { region: "eu" }, credit_cost: 2 }],
    }, "dimension_prices.0.match.region");
  } finally {
    await env.close();
  }
});

const stores: LiveStoreCase[] = liveStoreCases(redis, "pool");

for (const store of stores) {
  Deno.test(
    `credit systems (${store.name}): 300 parallel consumes mixed across m-large (5) and m-small (1) never overdraw 1000 credits; the pool refills at the period boundary`,
    { ignore: store.ignore, ...resources },
    async () => {
      const env = await testEnv();
      const detach = await store.attach(env);
      env.clock.set("2026-01-01T00:00:00Z");
      try {
        const { key } = await setup(env, features());
        env.clock.set("2026-01-10T00:00:00Z");
        // a plain check answers with the pool: 1000 credits, m-large asks room for 5
        const plain = (await check(env, key, { properties: { model: "m-large" } })).body;
        assert.deepEqual(
          [plain.allowed, plain.credit_system, plain.type, plain.used, plain.limit, plain.remaining],
          [true, "credits", "credit_system", 0, 1000, 1000],
        );
        // an event on the feature deducts too: 2 m-large calls = 2 × 5 = 10 credits
        await call(env, "POST", "/v1/events", {
          key,
          body: {
            events: [{
              id: "ev1",
              customer_id: "c",
              feature: "calls",
              value: 2,
              properties: { model: "m-large" },
            }],
          },
        });
        // 300 consumes of 1 call: two of every three m-large (200 × 5 = 1000 credits), one m-small
        // (100 × 1 = 100): 1100 credits asked of the 990 left
        const results = await Promise.all(Array.from({ length: 300 }, (_, i) => {
          const model = i % 3 === 2 ? "m-small" : "m-large";
          return check(env, key, { consume: 1, idempotency_key: `k${i}`, properties: { model } })
            .then((r) => ({ model, body: r.body, status: r.status }));
        }));
        for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
        const allowed = results.filter((r) => r.body.allowed);
        const credits = allowed.reduce((n, r) => n + (r.model === "m-large" ? 5 : 1), 0);
        for (const r of allowed) assert.equal(r.body.consumed, r.model === "m-large" ? 5 : 1);
        // never overdrawn: 10 + the allowed consumptions ≤ 1000
        assert.ok(10 + credits <= 1000, `overdrawn: 10 + ${credits} > 1000`);
        // and the pool was used up: a denial means less than its cost was left at that moment, and
        // every m-small denial means less than 1 credit (0) was left
        const denied = results.filter((r) => !r.body.allowed);
        assert.ok(denied.length > 0, "1100 credits cannot fit in 990");
        for (const r of denied) assert.equal(r.body.reason, "limit_reached");
        if (denied.some((r) => r.model === "m-small")) assert.equal(10 + credits, 1000);
        else assert.ok(10 + credits > 995, `${10 + credits}: an m-large denial leaves less than 5`);
        // the stored events agree: pool usage derived from the calls' events = the counter
        const period = ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"] as const;
        assert.equal(await poolUsage(env, key, ...period), 10 + credits);
        const after = (await check(env, key, { properties: { model: "m-small" } })).body;
        assert.deepEqual([after.used, after.remaining], [10 + credits, 1000 - 10 - credits]);
        // the next period starts with a full pool
        env.clock.set("2026-02-01T00:00:01Z");
        const refilled =
          (await check(env, key, { consume: 3, idempotency_key: "next-1", properties: { model: "m-large" } }))
            .body;
        // 3 m-large calls = 15 credits of a fresh 1000
        assert.deepEqual([refilled.allowed, refilled.consumed, refilled.used, refilled.remaining], [
          true,
          15,
          15,
          985,
        ]);
      } finally {
        await detach();
        await env.close();
      }
    },
  );
}

Deno.test("credit systems: decimal credit costs, a retried consumption draws once, and pool overage is priced like a metered feature", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    // 100 credits included; credits beyond are 2 cents each; no hard limit
    const { key, sub } = await setup(env, [
      {
        key: "credits",
        type: "credit_system",
        included: 100,
        pricing: { model: "per_unit", unit_amount: 2 },
      },
      {
        key: "tokens",
        type: "metered",
        aggregation: "sum",
        credit_system: "credits",
        credit_cost: "0.001",
        dimensions: ["token_type"],
        dimension_prices: [{ match: { token_type: "output" }, credit_cost: "0.004" }],
      },
    ]);
    env.clock.set("2026-01-10T00:00:00Z");
    // 50 000 input tokens × 0.001 = 50 credits; 20 000 output tokens × 0.004 = 80 credits
    await call(env, "POST", "/v1/events", {
      key,
      body: {
        events: [
          {
            id: "i1",
            customer_id: "c",
            feature: "tokens",
            value: 50_000,
            properties: { token_type: "input" },
          },
          {
            id: "o1",
            customer_id: "c",
            feature: "tokens",
            value: 20_000,
            properties: { token_type: "output" },
          },
        ],
      },
    });
    const t = (consume: number | string, id: string) =>
      call(env, "POST", "/v1/entitlements/check", {
        key,
        body: {
          customer_id: "c",
          feature: "tokens",
          consume,
          idempotency_key: id,
          properties: { token_type: "output" },
        },
      });
    // 1250.5 output tokens × 0.004 = 5.002 credits
    const first = (await t("1250.5", "c1")).body;
    assert.deepEqual([first.allowed, first.consumed, first.used], [true, "5.002", "135.002"]);
    const retry = (await t("1250.5", "c1")).body;
    assert.deepEqual([retry.consumed, retry.used], ["5.002", "135.002"]);
    // pool usage 50 + 80 + 5.002 = 135.002 credits; billed beyond 100 included: 35.002 credits
    // × 2 cents = 70.004 → 70 (ADR 0004: the exact quantity, the line rounded once, half-up)
    assert.equal(await poolUsage(env, key, "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"), "135.002");
    // billed by the pool's pricing, tokens (unpriced) have no line
    const preview = await call(env, "POST", "/v1/invoices", { key, body: { subscription_id: sub.id } });
    const line = preview.body.lines.find((l: { feature: string | null }) => l.feature === "credits");
    assert.deepEqual([line.quantity, line.amount], ["35.002", 70]);
    assert.equal(
      preview.body.lines.filter((l: { feature: string | null }) => l.feature === "tokens").length,
      0,
    );
    await call(env, "POST", `/v1/invoices/${preview.body.id}/void`, { key });
    // prepaid credits: a units grant of 30 on the pool covers 30 of the 35.002 billed credits (grants
    // draw whole units) → 5.002 × 2 cents = 10.004 → 10
    const customer = (await call(env, "GET", "/v1/customers/c", { key })).body;
    const grant = await call(env, "POST", `/v1/customers/${customer.id}/credit_grants`, {
      key,
      body: { reference: "prepaid-1", kind: "units", amount: 30, feature: "credits" },
    });
    assert.equal(grant.status, 201, JSON.stringify(grant.body));
    const invoice = await call(env, "POST", "/v1/invoices", { key, body: { subscription_id: sub.id } });
    assert.equal(invoice.body.total, 10, JSON.stringify(invoice.body));
  } finally {
    await env.close();
  }
});
