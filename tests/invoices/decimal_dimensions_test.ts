// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * Issue 19 (rating side) through the HTTP API: decimal prices in USD, JPY and KWD, a feature priced
 * by two dimensions billed from a 1000-event batch, usage grouped by dimensions, and the
 * validation of the new fields. Expected amounts are derived in comments.
 */
import assert from "node:assert/strict";
import { runBillingCycle } from "../../src/subscriptions/billing_cycle.ts";
import { call, tenant, type TestEnv, testEnv } from "../helpers.ts";

type Json = any;

const combos = [
  // model, token_type, tokens in the period, price in cents per token (= $ per million / 10 000 … × 100)
  { model: "m-large", token_type: "input", total: 3_456_789, price: "0.000015" }, // $0.15 / M
  { model: "m-large", token_type: "output", total: 1_234_567, price: "0.00006" }, // $0.60 / M
  { model: "m-small", token_type: "input", total: 9_876_543, price: "0.000003" }, // $0.03 / M
  { model: "m-small", token_type: "output", total: 2_000_000, price: "0.000012" }, // $0.12 / M
];

async function setup(env: TestEnv, currency: string, features: unknown[]) {
  const { secret_key: key } = await tenant(env);
  const plan = await call(env, "POST", "/v1/plans", {
    key,
    body: { key: "ai", name: "AI", currency, interval: "month", features },
  });
  assert.equal(plan.status, 201, JSON.stringify(plan.body));
  await call(env, "POST", "/v1/customers", { key, body: { external_id: "c1" } });
  const sub = await call(env, "POST", "/v1/subscriptions", {
    key,
    body: { customer_id: "c1", plan_id: plan.body.id },
  });
  assert.equal(sub.status, 201, JSON.stringify(sub.body));
  return { key, plan: plan.body as Json };
}

async function finalInvoice(env: TestEnv, key: string): Promise<Json> {
  env.clock.set("2026-02-01T01:00:00Z"); // period end + the default 1 h grace
  const report = await runBillingCycle(env.services);
  assert.deepEqual([report.invoices_finalized, report.failures.length], [1, 0]);
  const res = await call(env, "GET", "/v1/invoices?limit=10", { key });
  assert.equal(res.body.data.length, 1);
  return res.body.data[0];
}

Deno.test("dimensions: 1000 events over two models × two token types bill one line per combination at decimal prices", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, plan } = await setup(env, "USD", [{
      key: "tokens",
      name: "Tokens",
      type: "metered",
      dimensions: ["model", "token_type"],
      dimension_prices: combos.map((c) => ({
        match: { model: c.model, token_type: c.token_type },
        pricing: { model: "per_unit", unit_amount_decimal: c.price },
      })),
    }]);
    // the plan echoes both fields of each price: unit_amount null (fractional), the exact decimal
    assert.deepEqual(plan.features[0].dimension_prices[0], {
      match: { model: "m-large", token_type: "input" },
      pricing: { model: "per_unit", unit_amount: null, unit_amount_decimal: "0.000015" },
      credit_cost: null,
    });
    env.clock.set("2026-01-20T00:00:00Z");
    // 250 events per combination; the first carries the remainder so the totals are exact.
    // Combination k is used first on day 2 + k, so lines come in the order of the table.
    const events = combos.flatMap((c, k) => {
      const each = Math.floor(c.total / 250);
      return Array.from({ length: 250 }, (_, j) => ({
        id: `e-${k}-${j}`,
        customer_id: "c1",
        feature: "tokens",
        value: j === 0 ? c.total - 249 * each : each,
        timestamp: new Date(Date.UTC(2026, 0, 2 + k, 0, 0, j)).toISOString(),
        properties: { model: c.model, token_type: c.token_type, request: `r${j}` },
      }));
    });
    assert.equal(events.length, 1000);
    const ingest = await call(env, "POST", "/v1/events", { key, body: { events } });
    assert.equal(ingest.status, 200, JSON.stringify(ingest.body));
    assert.equal(ingest.body.accepted, 1000);

    const usage = await call(
      env,
      "GET",
      "/v1/usage?customer_id=c1&feature=tokens&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&group_by=model,token_type",
      { key },
    );
    assert.equal(usage.status, 200, JSON.stringify(usage.body));
    assert.equal(usage.body.group_by, "model,token_type");
    assert.equal(usage.body.value, 3_456_789 + 1_234_567 + 9_876_543 + 2_000_000); // 16 567 899
    assert.deepEqual(
      usage.body.groups,
      combos.map((c) => ({ dimensions: { model: c.model, token_type: c.token_type }, value: c.total })),
    );
    // by one dimension: m-large = 3 456 789 + 1 234 567 = 4 691 356; m-small = 11 876 543
    const byModel = await call(
      env,
      "GET",
      "/v1/usage?customer_id=c1&feature=tokens&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&group_by=model",
      { key },
    );
    assert.deepEqual(byModel.body.groups, [
      { dimensions: { model: "m-large" }, value: 4_691_356 },
      { dimensions: { model: "m-small" }, value: 11_876_543 },
    ]);
    // without group_by the answer keeps its shape (one bucket, no groups)
    const plain = await call(
      env,
      "GET",
      "/v1/usage?customer_id=c1&feature=tokens&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z",
      { key },
    );
    assert.deepEqual([plain.body.group_by, plain.body.value, plain.body.data.length, plain.body.groups], [
      "none",
      16_567_899,
      1,
      null,
    ]);
    const repeated = await call(
      env,
      "GET",
      "/v1/usage?customer_id=c1&feature=tokens&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&group_by=model,model",
      { key },
    );
    assert.equal(repeated.status, 400);

    const inv = await finalInvoice(env, key);
    assert.deepEqual(
      inv.lines.map((l: Json) => [l.dimensions, l.quantity, l.unit_amount, l.unit_amount_decimal, l.amount]),
      [
        // 3 456 789 × 0.000015 = 51.851835 → 52
        [{ model: "m-large", token_type: "input" }, 3_456_789, null, "0.000015", 52],
        // 1 234 567 × 0.00006 = 74.07402 → 74
        [{ model: "m-large", token_type: "output" }, 1_234_567, null, "0.00006", 74],
        // 9 876 543 × 0.000003 = 29.629629 → 30
        [{ model: "m-small", token_type: "input" }, 9_876_543, null, "0.000003", 30],
        // 2 000 000 × 0.000012 = 24 exactly
        [{ model: "m-small", token_type: "output" }, 2_000_000, null, "0.000012", 24],
      ],
    );
    assert.deepEqual([inv.subtotal, inv.total], [180, 180]); // 52 + 74 + 30 + 24
    assert.equal(inv.lines[0].description, "Tokens [model=m-large, token_type=input]");
  } finally {
    await env.close();
  }
});

Deno.test("decimal prices in JPY and KWD are in the minor unit (yen, fils) and round once per line", async () => {
  for (
    const [currency, price, expected] of [
      // 1 234 567 tokens × 0.0021 yen = 2592.5907 → 2593 yen
      ["JPY", "0.0021", 2593],
      // 1 234 567 tokens × 0.0045 fils = 5555.5515 → 5556 fils (5.556 KWD)
      ["KWD", "0.0045", 5556],
    ] as const
  ) {
    const env = await testEnv();
    env.clock.set("2026-01-01T00:00:00Z");
    try {
      const { key } = await setup(env, currency, [{
        key: "tokens",
        type: "metered",
        pricing: { model: "per_unit", unit_amount_decimal: price },
      }]);
      env.clock.set("2026-01-10T00:00:00Z");
      const res = await call(env, "POST", "/v1/events", {
        key,
        body: { events: [{ id: "e1", customer_id: "c1", feature: "tokens", value: 1_234_567 }] },
      });
      assert.equal(res.body.accepted, 1);
      const inv = await finalInvoice(env, key);
      assert.deepEqual(inv.lines.map((l: Json) => [l.unit_amount, l.unit_amount_decimal, l.amount]), [[
        null,
        price,
        expected,
      ]], currency);
      assert.deepEqual([inv.currency, inv.total], [currency, expected]);
    } finally {
      await env.close();
    }
  }
});

Deno.test("graduated decimal tiers and a volume flat_amount_decimal bill through the API; integer lines keep their shape", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, plan } = await setup(env, "USD", [
      {
        key: "calls",
        name: "Calls",
        type: "metered",
        pricing: {
          model: "graduated",
          tiers: [
            { up_to: 1000, unit_amount_decimal: "0.125" },
            { up_to: null, unit_amount_decimal: "0.0625", flat_amount_decimal: "10.5" },
          ],
        },
      },
      {
        key: "storage",
        name: "Storage",
        type: "metered",
        aggregation: "max",
        pricing: {
          model: "volume",
          tiers: [
            { up_to: 100, unit_amount: 3, flat_amount_decimal: "0.5" },
            { up_to: null, unit_amount: 2, flat_amount: 0 },
          ],
        },
      },
      { key: "seats", type: "metered", pricing: { model: "per_unit", unit_amount: 700 } },
    ]);
    assert.deepEqual(plan.features[1].pricing.tiers[0], {
      up_to: 100,
      unit_amount: 3,
      unit_amount_decimal: "3",
      flat_amount: null,
      flat_amount_decimal: "0.5",
    });
    env.clock.set("2026-01-10T00:00:00Z");
    const res = await call(env, "POST", "/v1/events", {
      key,
      body: {
        events: [
          { id: "c", customer_id: "c1", feature: "calls", value: 1501 },
          { id: "s", customer_id: "c1", feature: "storage", value: 41 },
          { id: "u", customer_id: "c1", feature: "seats", value: 3 },
        ],
      },
    });
    assert.equal(res.body.accepted, 3);
    const inv = await finalInvoice(env, key);
    assert.deepEqual(
      inv.lines.map((l: Json) => [l.feature, l.tier, l.quantity, l.unit_amount_decimal, l.amount]),
      [
        ["calls", 1, 1000, "0.125", 125], // 1000 × 0.125 = 125
        ["calls", 2, 501, "0.0625", 42], // 501 × 0.0625 = 31.3125 + 10.5 = 41.8125 → 42
        ["storage", 1, 41, "3", 124], // 41 × 3 + 0.5 = 123.5 → 124 (half-up)
        ["seats", null, 3, "700", 2100], // integer price: 3 × 700, as before
      ],
    );
    assert.equal(inv.total, 125 + 42 + 124 + 2100);
    assert.deepEqual([inv.lines[3].unit_amount, inv.lines[3].dimensions], [700, null]);
  } finally {
    await env.close();
  }
});

Deno.test("plan validation: both fields of a pair, 13 decimal places, undeclared match keys are 400 validation_failed naming the field", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const cases: [unknown, string][] = [
      [
        { model: "per_unit", unit_amount: 1, unit_amount_decimal: "0.5" },
        "features.0.pricing.unit_amount_decimal",
      ],
      [
        { model: "per_unit", unit_amount_decimal: "0.0000000000001" },
        "features.0.pricing.unit_amount_decimal",
      ],
      [{ model: "per_unit", unit_amount_decimal: "1e-5" }, "features.0.pricing.unit_amount_decimal"],
      [{
        model: "volume",
        tiers: [{ up_to: null, unit_amount: 1, flat_amount: 2, flat_amount_decimal: "2" }],
      }, "features.0.pricing.tiers.0.flat_amount_decimal"],
    ];
    for (const [pricing, field] of cases) {
      const res = await call(env, "POST", "/v1/plans", {
        key,
        body: {
          key: "p",
          name: "P",
          currency: "USD",
          interval: "month",
          features: [{ key: "f", type: "metered", pricing }],
        },
      });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.code, "validation_failed");
      assert.ok(res.body.fields.some((f: Json) => f.path === field), `${field}: ${JSON.stringify(res.body)}`);
    }
    const undeclared = await call(env, "POST", "/v1/plans", {
      key,
      body: {
        key: "p",
        name: "P",
        currency: "USD",
        interval: "month",
        features: [{
          key: "f",
          type: "metered",
          dimensions: ["model"],
          dimension_prices: [{ match: { region: "eu" }, pricing: { model: "per_unit", unit_amount: 1 } }],
        }],
      },
    });
    assert.equal(undeclared.status, 400);
    assert.ok(
      undeclared.body.fields.some((f: Json) => f.path === "features.0.dimension_prices.0.match.region"),
    );
    const nothingPersisted = await call(env, "GET", "/v1/plans", { key });
    assert.equal(nothingPersisted.body.data.length, 0);
  } finally {
    await env.close();
  }
});

Deno.test("dimensions with max and latest aggregations: each combination aggregates on its own", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key } = await setup(env, "USD", [
      {
        key: "gpus",
        type: "metered",
        aggregation: "max",
        dimensions: ["gpu"],
        dimension_prices: [
          { match: { gpu: "h100" }, pricing: { model: "per_unit", unit_amount_decimal: "250.5" } },
          { match: {}, pricing: { model: "per_unit", unit_amount: 100 } },
        ],
      },
      {
        key: "seats",
        type: "metered",
        aggregation: "latest",
        dimensions: ["role"],
        dimension_prices: [{ match: { role: "admin" }, pricing: { model: "per_unit", unit_amount: 1000 } }],
        pricing: { model: "per_unit", unit_amount: 300 },
      },
    ]);
    env.clock.set("2026-01-20T00:00:00Z");
    const at = (day: number) => new Date(Date.UTC(2026, 0, day)).toISOString();
    const e = (
      id: string,
      feature: string,
      value: number,
      day: number,
      properties: Record<string, string>,
    ) => ({
      id,
      customer_id: "c1",
      feature,
      value,
      timestamp: at(day),
      properties,
    });
    const res = await call(env, "POST", "/v1/events", {
      key,
      body: {
        events: [
          e("g1", "gpus", 3, 2, { gpu: "a10" }),
          e("g2", "gpus", 8, 3, { gpu: "h100" }),
          e("g3", "gpus", 5, 4, { gpu: "a10" }),
          e("g4", "gpus", 2, 5, { gpu: "h100" }),
          e("s1", "seats", 4, 2, { role: "member" }),
          e("s2", "seats", 2, 3, { role: "admin" }),
          e("s3", "seats", 9, 4, { role: "member" }),
          e("s4", "seats", 6, 5, { role: "member" }), // latest member count
          e("s5", "seats", 1, 6, { role: "admin" }), // latest admin count
        ],
      },
    });
    assert.equal(res.body.accepted, 9);
    const grouped = async (feature: string, by: string) =>
      (await call(
        env,
        "GET",
        `/v1/usage?customer_id=c1&feature=${feature}&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&group_by=${by}`,
        { key },
      )).body.groups;
    assert.deepEqual(await grouped("gpus", "gpu"), [
      { dimensions: { gpu: "a10" }, value: 5 }, // max(3, 5)
      { dimensions: { gpu: "h100" }, value: 8 }, // max(8, 2)
    ]);
    assert.deepEqual(await grouped("seats", "role"), [
      { dimensions: { role: "member" }, value: 6 }, // latest of 4, 9, 6
      { dimensions: { role: "admin" }, value: 1 }, // latest of 2, 1
    ]);
    const inv = await finalInvoice(env, key);
    assert.deepEqual(inv.lines.map((l: Json) => [l.feature, l.dimensions, l.quantity, l.amount]), [
      ["gpus", { gpu: "a10" }, 5, 500], // 5 × 100 (the catch-all entry)
      ["gpus", { gpu: "h100" }, 8, 2004], // 8 × 250.5 = 2004
      ["seats", { role: "member" }, 6, 1800], // no entry matches: the feature's 300 × 6
      ["seats", { role: "admin" }, 1, 1000], // 1 × 1000
    ]);
    assert.equal(inv.total, 500 + 2004 + 1800 + 1000);
  } finally {
    await env.close();
  }
});
