/**
 * Decimal prices and dimension prices (issue 19, rating side) on the pure functions. Every
 * expected amount is derived in the comment next to it: exact product, then one half-up rounding
 * per line (ADR 0004).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Decimal, DECIMAL_SCALE, decimalFromInteger, parseDecimal } from "../../src/domain/decimal.ts";
import { BillingError } from "../../src/domain/errors.ts";
import { computeInvoice, computePeriodInvoice, type PlanSegment } from "../../src/domain/invoice.ts";
import { checkFeatures, type FeatureInput } from "../../src/domain/plan.ts";
import {
  canonicalPricing,
  lineAmount,
  pricingView,
  pricingViolations,
  rate,
  tierLabel,
  toPricing,
} from "../../src/domain/pricing.ts";
import { divide } from "../../src/domain/money.ts";

const d = (s: string) => parseDecimal(s);
const jan = { start: new Date("2026-01-01T00:00:00Z"), end: new Date("2026-02-01T00:00:00Z") };

/** One period at one plan with the given usage per feature and per combination. */
function invoiceOf(
  features: FeatureInput[],
  usage: Record<string, Decimal | number>,
  combinations: Record<string, { values: Record<string, string | null>; quantity: Decimal | number }[]> = {},
) {
  const segment: PlanSegment = {
    plan: { name: "AI", base_amount: 0, features: checkFeatures(features) },
    start: jan.start,
    end: jan.end,
    usage: new Map(Object.entries(usage)),
    dimension_usage: new Map(Object.entries(combinations)),
    proration: "none",
  };
  return computePeriodInvoice({
    period: { ...jan, trial: false },
    full_period: jan,
    segments: [segment],
    coupon: null,
    tax_rate: null,
    monetary_grants: [],
    unit_grants: [],
  });
}

const tokens: FeatureInput = {
  key: "tokens",
  name: "Tokens",
  type: "metered",
  dimensions: ["token_type"],
  dimension_prices: [
    // $0.15 per million input tokens = 15 cents / 1 000 000 = 0.000015 cents per token
    { match: { token_type: "input" }, pricing: { model: "per_unit", unit_amount_decimal: "0.000015" } },
    // $0.60 per million output tokens = 0.00006 cents per token
    { match: { token_type: "output" }, pricing: { model: "per_unit", unit_amount_decimal: "0.00006" } },
  ],
};

Deno.test("issue 19 example: input and output tokens on one feature are two lines, each rounded once half-up", () => {
  const inv = invoiceOf([tokens], { tokens: 3_456_789 + 1_234_567 }, {
    tokens: [
      { values: { token_type: "input" }, quantity: 3_456_789 },
      { values: { token_type: "output" }, quantity: 1_234_567 },
    ],
  });
  // input: 3 456 789 × 0.000015 = 51.851835 cents → 52; output: 1 234 567 × 0.00006 = 74.07402 → 74
  assert.deepEqual(
    inv.lines.map((l) => [l.dimensions, l.quantity, l.unit_amount, l.unit_amount_decimal, l.amount]),
    [
      [{ token_type: "input" }, 3_456_789, null, "0.000015", 52],
      [{ token_type: "output" }, 1_234_567, null, "0.00006", 74],
    ],
  );
  assert.equal(inv.subtotal, 52 + 74);
  assert.equal(inv.total, 126);
  assert.equal(inv.lines[0].description, "Tokens [token_type=input]");
});

Deno.test("rate() per_unit with a sub-cent price rounds the line once, not per unit", () => {
  // per unit 0.000015 would round to 0 every time; the line is 51.851835 → 52
  const [line] = rate(
    toPricing({ model: "per_unit", unit_amount_decimal: "0.000015" }),
    decimalFromInteger(3_456_789),
  );
  assert.equal(line.amount, 52);
  // exactly half a cent rounds up: 100 000 × 0.000005 = 0.5 → 1; 99 999 × 0.000005 = 0.499995 → 0
  assert.equal(lineAmount(decimalFromInteger(100_000), d("0.000005"), d("0")), 1);
  assert.equal(lineAmount(decimalFromInteger(99_999), d("0.000005"), d("0")), 0);
  // 12 decimal places are kept: 10^12 units × 0.000000000001 = 1
  assert.equal(lineAmount(decimalFromInteger(1_000_000_000_000), d("0.000000000001"), d("0")), 1);
});

Deno.test("rate() graduated with decimal tier bounds and prices counts fractional quantities per tier", () => {
  const pricing = toPricing({
    model: "graduated",
    tiers: [
      { up_to: "10.5", unit_amount_decimal: "2.25" },
      { up_to: "100.25", unit_amount_decimal: "1.125", flat_amount_decimal: "0.5" },
      { up_to: null, unit_amount_decimal: "0.5" },
    ],
  });
  const lines = rate(pricing, d("150.75"));
  // tier 1: 10.5 × 2.25 = 23.625 → 24
  // tier 2: (100.25 − 10.5) = 89.75 × 1.125 = 100.96875, + flat 0.5 = 101.46875 → 101
  // tier 3: (150.75 − 100.25) = 50.5 × 0.5 = 25.25 → 25
  assert.deepEqual(lines.map((l) => [l.quantity, l.amount]), [[d("10.5"), 24], [d("89.75"), 101], [
    d("50.5"),
    25,
  ]]);
  assert.deepEqual(lines.map((l) => tierLabel(l.tier!)), [
    "Tier 1 (up to 10.5)",
    "Tier 2 (over 10.5 to 100.25)",
    "Tier 3 (over 100.25)",
  ]);
  // a quantity exactly at a decimal bound stays in the lower tier: 10.5 → one line, 24
  assert.deepEqual(rate(pricing, d("10.5")).map((l) => l.amount), [24]);
  // just above it: 10.500000000001 → tier 2 holds 0.000000000001 × 1.125 + 0.5 = 0.500000000001125 → 1
  assert.deepEqual(rate(pricing, d("10.500000000001")).map((l) => l.amount), [24, 1]);
});

Deno.test("rate() volume with flat_amount_decimal adds the exact flat amount before the one rounding", () => {
  const pricing = toPricing({
    model: "volume",
    tiers: [
      { up_to: 1000, unit_amount_decimal: "0.15", flat_amount_decimal: "99.5" },
      { up_to: null, unit_amount_decimal: "0.1", flat_amount_decimal: "149.75" },
    ],
  });
  // 999 × 0.15 = 149.85 + 99.5 = 249.35 → 249
  assert.equal(rate(pricing, decimalFromInteger(999))[0].amount, 249);
  // 20 × 0.15 = 3 + 99.5 = 102.5 → 103 (half-up)
  assert.equal(rate(pricing, decimalFromInteger(20))[0].amount, 103);
  // 1001 reaches tier 2: 1001 × 0.1 = 100.1 + 149.75 = 249.85 → 250
  const [line] = rate(pricing, decimalFromInteger(1001));
  assert.deepEqual([line.tier?.index, line.flat_amount, line.amount], [2, d("149.75"), 250]);
  // one rounding of the sum, not one per part: 10 × 0.15 = 1.5 and 99.5 would round to 2 + 100 = 102
  // on their own; the line is 1.5 + 99.5 = 101 exactly
  assert.equal(rate(pricing, decimalFromInteger(10))[0].amount, 101);
});

Deno.test("rate() package rounds a fractional quantity up to whole packages", () => {
  const pricing = toPricing({ model: "package", unit_amount_decimal: "12.345", package_size: 10 });
  // 0.5 units → 1 package × 12.345 = 12.345 → 12; 20.000000000001 units → 3 packages = 37.035 → 37
  assert.deepEqual(rate(pricing, d("0.5")).map((l) => [l.quantity, l.amount]), [[decimalFromInteger(1), 12]]);
  assert.deepEqual(rate(pricing, d("20.000000000001")).map((l) => [l.quantity, l.amount]), [[
    decimalFromInteger(3),
    37,
  ]]);
});

Deno.test("JPY and KWD: a decimal price is in the currency's minor unit (yen, fils) and rounds to it", () => {
  // JPY has no minor unit: 0.0021 yen per token × 1 234 567 = 2592.5907 yen → 2593 yen
  assert.equal(lineAmount(decimalFromInteger(1_234_567), d("0.0021"), d("0")), 2593);
  // KWD has 3 decimals, minor unit fils: 0.0045 fils × 1 234 567 = 5555.5515 fils → 5556 fils (5.556 KWD)
  assert.equal(lineAmount(decimalFromInteger(1_234_567), d("0.0045"), d("0")), 5556);
});

Deno.test("pricingViolations() refuses both fields of a pair, naming the field, and bad decimals", () => {
  const both = pricingViolations({ model: "per_unit", unit_amount: 1, unit_amount_decimal: "0.5" }, "p");
  assert.deepEqual(both.map((i) => i.path), ["p.unit_amount_decimal"]);
  const tiers = pricingViolations({
    model: "graduated",
    tiers: [
      { up_to: "1.5", unit_amount: 1, unit_amount_decimal: "1", flat_amount: 1, flat_amount_decimal: "1" },
      { up_to: "1.25", unit_amount_decimal: "0.0000000000001" },
      { up_to: null },
    ],
  }, "p");
  assert.deepEqual(tiers.map((i) => i.path), [
    "p.tiers.0.unit_amount_decimal",
    "p.tiers.0.flat_amount_decimal",
    "p.tiers.1.unit_amount_decimal", // 13 decimal places
    "p.tiers.1.up_to", // 1.25 ≤ 1.5
    "p.tiers.2.unit_amount",
  ]);
});

Deno.test("canonicalPricing() stores whole decimals as integers and echoes both fields in views", () => {
  // "2.0" is the integer 2: stored as unit_amount, like a plan that sent 2
  assert.deepEqual(canonicalPricing({ model: "per_unit", unit_amount_decimal: "2.0" }), {
    model: "per_unit",
    unit_amount: 2,
  });
  assert.deepEqual(canonicalPricing({ model: "per_unit", unit_amount_decimal: "0.0000150" }), {
    model: "per_unit",
    unit_amount_decimal: "0.000015",
  });
  // integer tiers are stored exactly as before decimals existed
  assert.deepEqual(
    canonicalPricing({
      model: "volume",
      tiers: [{ up_to: 10, unit_amount: 5 }, { up_to: null, unit_amount: 4 }],
    }),
    {
      model: "volume",
      tiers: [{ up_to: 10, unit_amount: 5, flat_amount: 0 }, { up_to: null, unit_amount: 4, flat_amount: 0 }],
    },
  );
  // Stripe's echo: unit_amount null when only a fractional decimal is set, the decimal always
  assert.deepEqual(pricingView({ model: "per_unit", unit_amount_decimal: "0.000015" }), {
    model: "per_unit",
    unit_amount: null,
    unit_amount_decimal: "0.000015",
  });
  assert.deepEqual(pricingView({ model: "per_unit", unit_amount: 2 }), {
    model: "per_unit",
    unit_amount: 2,
    unit_amount_decimal: "2",
  });
});

Deno.test("dimensions: two models × two token types give one line per combination, first match wins", () => {
  const feature: FeatureInput = {
    key: "tokens",
    name: "Tokens",
    type: "metered",
    dimensions: ["model", "token_type"],
    pricing: { model: "per_unit", unit_amount_decimal: "0.00001" }, // fallback: matches none
    dimension_prices: [
      {
        match: { model: "m-large", token_type: "output" },
        pricing: { model: "per_unit", unit_amount_decimal: "0.0006" },
      },
      { match: { model: "m-large" }, pricing: { model: "per_unit", unit_amount_decimal: "0.00015" } },
      { match: { token_type: "output" }, pricing: { model: "per_unit", unit_amount_decimal: "0.00006" } },
    ],
  };
  const combos = [
    { values: { model: "m-small", token_type: "input" }, quantity: 2_000_000 },
    { values: { model: "m-large", token_type: "input" }, quantity: 1_000_001 },
    { values: { model: "m-large", token_type: "output" }, quantity: 250_000 },
    { values: { model: "m-small", token_type: "output" }, quantity: 333_333 },
  ];
  const inv = invoiceOf([feature], { tokens: 3_583_334 }, { tokens: combos });
  assert.deepEqual(inv.lines.map((l) => [l.dimensions, l.unit_amount_decimal, l.amount]), [
    // m-small input matches no entry → feature pricing: 2 000 000 × 0.00001 = 20
    [{ model: "m-small", token_type: "input" }, "0.00001", 20],
    // m-large input → entry 2: 1 000 001 × 0.00015 = 150.00015 → 150
    [{ model: "m-large", token_type: "input" }, "0.00015", 150],
    // m-large output → entry 1 (first match, not entry 2): 250 000 × 0.0006 = 150
    [{ model: "m-large", token_type: "output" }, "0.0006", 150],
    // m-small output → entry 3: 333 333 × 0.00006 = 19.99998 → 20
    [{ model: "m-small", token_type: "output" }, "0.00006", 20],
  ]);
  assert.equal(inv.subtotal, 20 + 150 + 150 + 20);
});

Deno.test("dimensions: tiers count within each combination; the included allowance goes to the first-used combinations", () => {
  const feature: FeatureInput = {
    key: "calls",
    name: "Calls",
    type: "metered",
    included: 150,
    dimensions: ["region"],
    dimension_prices: [{
      match: {},
      pricing: {
        model: "graduated",
        tiers: [{ up_to: 100, unit_amount: 10 }, { up_to: null, unit_amount: 5 }],
      },
    }],
  };
  const inv = invoiceOf([feature], { calls: 400 }, {
    calls: [
      { values: { region: "eu" }, quantity: 100 }, // used first: takes 100 of the 150 included
      { values: { region: "us" }, quantity: 300 }, // takes the other 50 → 250 billable
    ],
  });
  // eu: 0 billable → one zero line; us: 250 → tier 1: 100 × 10 = 1000, tier 2: 150 × 5 = 750
  assert.deepEqual(inv.lines.map((l) => [l.dimensions?.region, l.tier, l.quantity, l.amount]), [
    ["eu", 1, 0, 0],
    ["us", 1, 100, 1000],
    ["us", 2, 150, 750],
  ]);
  assert.equal(inv.total, 1750);
  assert.match(
    inv.lines[1].description,
    /^Calls \[region=us\] — Tier 1 \(1–100\) \(300 used, 50 of 150 included\)$/,
  );
});

Deno.test("dimensions: a credit_cost-only entry is validated and stored, and leaves pricing to the feature", () => {
  const [f] = checkFeatures([{
    key: "calls",
    type: "metered",
    dimensions: ["model"],
    pricing: { model: "per_unit", unit_amount: 2 },
    dimension_prices: [{ match: { model: "m-large" }, credit_cost: "5.50" }, {
      match: { model: "m-small" },
      credit_cost: 1,
    }],
  }]);
  assert.deepEqual(f.dimension_prices, [
    { match: { model: "m-large" }, pricing: null, credit_cost: "5.5" },
    { match: { model: "m-small" }, pricing: null, credit_cost: "1" },
  ]);
  const inv = invoiceOf([{ ...f, pricing: { model: "per_unit", unit_amount: 2 } } as FeatureInput], {
    calls: 3,
  }, {
    calls: [{ values: { model: "m-large" }, quantity: 3 }],
  });
  assert.deepEqual(inv.lines.map((l) => l.amount), [6]); // 3 × 2 at the feature's price
  try {
    checkFeatures([
      { key: "a", type: "metered", dimension_prices: [{ match: { x: "1" }, credit_cost: "1" }] },
      {
        key: "b",
        type: "metered",
        dimensions: ["model", "model"],
        dimension_prices: [{ match: { size: "l" } }, { match: {}, credit_cost: "-1" }],
      },
      { key: "c", type: "metered", dimensions: ["a", "b", "c", "d", "e"] },
      { key: "d", type: "boolean", dimensions: ["model"] },
    ]);
    assert.fail("expected a validation error");
  } catch (e) {
    assert.ok(e instanceof BillingError);
    assert.equal(e.code, "validation_failed");
    assert.deepEqual(e.fields.map((f) => f.path), [
      "features.0.dimension_prices",
      "features.1.dimensions.1",
      "features.1.dimension_prices.0.match.size",
      "features.1.dimension_prices.0.pricing",
      "features.1.dimension_prices.1.credit_cost",
      "features.2.dimensions",
      "features.3.dimensions",
    ]);
  }
});

Deno.test("dimensions: unit grants cover only priced combinations, drawn in order of first usage", () => {
  const [feature] = checkFeatures([{
    key: "calls",
    name: "Calls",
    type: "metered",
    dimensions: ["region"],
    dimension_prices: [
      { match: { region: "eu" }, pricing: { model: "per_unit", unit_amount_decimal: "1.5" } },
      { match: { region: "us" }, pricing: { model: "per_unit", unit_amount: 2 } },
    ],
  }]);
  const inv = computePeriodInvoice({
    period: { ...jan, trial: false },
    full_period: jan,
    segments: [{
      plan: { name: "P", base_amount: 0, features: [feature] },
      start: jan.start,
      end: jan.end,
      usage: new Map([["calls", 900]]),
      dimension_usage: new Map([["calls", [
        { values: { region: "internal" }, quantity: 500 }, // no price anywhere: not billed, not covered
        { values: { region: "eu" }, quantity: 101 },
        { values: { region: "us" }, quantity: 299 },
      ]]]),
      proration: "none",
    }],
    coupon: null,
    tax_rate: null,
    monetary_grants: [],
    unit_grants: [{
      id: "g1",
      feature: "calls",
      priority: 0,
      effective_at: jan.start,
      expires_at: null,
      remaining: 150,
    }],
  });
  // priced billable = 101 + 299 = 400; the grant's 150 units cover eu's 101 first, then 49 of us
  // eu: 0 × 1.5 = 0; us: (299 − 49) = 250 × 2 = 500
  assert.deepEqual(inv.lines.map((l) => [l.dimensions?.region, l.quantity, l.amount]), [["eu", 0, 0], [
    "us",
    250,
    500,
  ]]);
  assert.deepEqual(inv.unit_draws, [{ grant_id: "g1", amount: 150 }]);
  assert.match(inv.lines[1].description, /49 covered by prepaid credits/);
});

Deno.test("integer plans rate exactly as before: same lines, numbers, descriptions", () => {
  const inv = computeInvoice({
    plan: {
      name: "Pro",
      base_amount: 4900,
      features: checkFeatures([{
        key: "calls",
        name: "Calls",
        type: "metered",
        included: 500,
        pricing: {
          model: "graduated",
          tiers: [{ up_to: 1000, unit_amount: 5 }, { up_to: null, unit_amount: 3, flat_amount: 200 }],
        },
      }]),
    },
    usage: new Map([["calls", 1700]]),
    trial: false,
  });
  // 1700 − 500 = 1200: 1000 × 5 = 5000; 200 × 3 + 200 flat = 800
  assert.deepEqual(inv.lines.map((l) => [l.description, l.quantity, l.unit_amount, l.amount, l.dimensions]), [
    ["Pro base fee", 1, 4900, 4900, null],
    ["Calls — Tier 1 (1–1000) (1700 used, 500 included)", 1000, 5, 5000, null],
    ["Calls — Tier 2 (1001 and above) (1700 used, 500 included) + flat 200", 200, 3, 800, null],
  ]);
});

Deno.test("property: every line is the exact decimal product rounded once half-up; the total is the sum of lines", () => {
  const decimal = (maxWhole: number) =>
    fc.tuple(fc.integer({ min: 0, max: maxWhole }), fc.integer({ min: 0, max: 999_999_999_999 }))
      .map(([whole, fraction]) => (BigInt(whole) * DECIMAL_SCALE + BigInt(fraction)) as Decimal);
  fc.assert(
    fc.property(
      fc.array(fc.record({ price: decimal(1000), quantity: decimal(10_000_000), flat: decimal(100) }), {
        minLength: 1,
        maxLength: 40,
      }),
      (rows) => {
        const features: FeatureInput[] = rows.map((r, i) => ({
          key: `f${i}`,
          type: "metered",
          pricing: {
            model: "volume",
            tiers: [{ up_to: null, unit_amount_decimal: fmt(r.price), flat_amount_decimal: fmt(r.flat) }],
          },
        }));
        const usage = Object.fromEntries(rows.map((r, i) => [`f${i}`, r.quantity]));
        const inv = invoiceOf(features, usage);
        assert.equal(inv.lines.length, rows.length);
        inv.lines.forEach((line, i) => {
          const { price, quantity, flat } = rows[i];
          const exact = quantity * price + flat * DECIMAL_SCALE; // 24 fractional digits
          const expected = quantity === 0n ? 0n : divide(exact, DECIMAL_SCALE * DECIMAL_SCALE, "half_up");
          assert.equal(BigInt(line.amount), expected);
          if (quantity > 0n) {
            // rounded once: within half a minor unit of the exact amount, ties upward
            const error = exact - expected * DECIMAL_SCALE * DECIMAL_SCALE;
            assert.ok(-2n * error <= DECIMAL_SCALE ** 2n && 2n * error < DECIMAL_SCALE ** 2n);
          }
        });
        assert.equal(inv.subtotal, inv.lines.reduce((acc, l) => acc + l.amount, 0));
        assert.equal(inv.total, inv.subtotal);
      },
    ),
    { numRuns: 300 },
  );
});

/** Canonical text of a Decimal (the test's own, to feed the API form). */
function fmt(x: Decimal): string {
  const whole = x / DECIMAL_SCALE;
  const fraction = (x % DECIMAL_SCALE).toString().padStart(12, "0").replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}
