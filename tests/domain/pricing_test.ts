import assert from "node:assert/strict";
import { computeInvoice } from "../../src/domain/invoice.ts";
import { checkFeatures } from "../../src/domain/plan.ts";
import {
  type PricingInput,
  pricingViolations,
  rate as rateDecimal,
  rateTotal as rateTotalDecimal,
  type TierSpec,
  toPricing,
} from "../../src/domain/pricing.ts";
import { type Decimal, decimalFromInteger, decimalToSafeInteger } from "../../src/domain/decimal.ts";

// rate() works in exact Decimals; these integer examples read them back as numbers
const num = (d: Decimal) => decimalToSafeInteger(d)!;
const rate = (p: PricingInput, quantity: number) =>
  rateDecimal(toPricing(p), decimalFromInteger(quantity)).map((l) => ({
    quantity: num(l.quantity),
    unit_amount: num(l.unit_amount),
    flat_amount: num(l.flat_amount),
    amount: l.amount,
    ...(l.tier
      ? {
        tier: {
          index: l.tier.index,
          from: num(l.tier.after) + 1,
          up_to: l.tier.up_to === null ? null : num(l.tier.up_to),
        },
      }
      : {}),
    ...(l.units !== undefined ? { units: num(l.units) } : {}),
  }));
const rateTotal = (p: PricingInput, quantity: number) =>
  rateTotalDecimal(toPricing(p), decimalFromInteger(quantity));
import { BillingError } from "../../src/domain/errors.ts";

const graduated: PricingInput & { tiers: TierSpec[] } = {
  model: "graduated",
  tiers: [
    { up_to: 1000, unit_amount: 5, flat_amount: 0 },
    { up_to: 5000, unit_amount: 3, flat_amount: 0 },
    { up_to: null, unit_amount: 1, flat_amount: 200 },
  ],
};
const volume: PricingInput & { tiers: TierSpec[] } = {
  model: "volume",
  tiers: [
    { up_to: 10, unit_amount: 100, flat_amount: 0 },
    { up_to: 100, unit_amount: 80, flat_amount: 500 },
    { up_to: null, unit_amount: 50, flat_amount: 0 },
  ],
};

Deno.test("rate() per_unit multiplies quantity by unit_amount", () => {
  assert.deepEqual(rate({ model: "per_unit", unit_amount: 25 }, 40), [{
    quantity: 40,
    unit_amount: 25,
    flat_amount: 0,
    amount: 1000,
  }]);
  assert.equal(rateTotal({ model: "per_unit", unit_amount: 25 }, 0), 0);
});

Deno.test("rate() package rounds up to whole packages", () => {
  const p: PricingInput = { model: "package", unit_amount: 1000, package_size: 1000 };
  assert.equal(rateTotal(p, 0), 0);
  assert.equal(rateTotal(p, 1), 1000);
  assert.equal(rateTotal(p, 1000), 1000);
  assert.equal(rateTotal(p, 1001), 2000);
  assert.equal(rate(p, 2500)[0].quantity, 3);
  assert.equal(rate(p, 2500)[0].units, 2500);
});

Deno.test("rate() graduated prices each unit by its own tier, one line per tier", () => {
  // 6000 units: 1000×5 + 4000×3 + 1000×1 + flat 200
  const lines = rate(graduated, 6000);
  assert.deepEqual(lines.map((l) => [l.quantity, l.unit_amount, l.flat_amount, l.amount]), [
    [1000, 5, 0, 5000],
    [4000, 3, 0, 12000],
    [1000, 1, 200, 1200],
  ]);
  assert.equal(rateTotal(graduated, 6000), 18200);
  assert.deepEqual(lines.map((l) => l.tier), [
    { index: 1, from: 1, up_to: 1000 },
    { index: 2, from: 1001, up_to: 5000 },
    { index: 3, from: 5001, up_to: null },
  ]);
});

Deno.test("rate() graduated at tier boundaries: the bound belongs to the lower tier", () => {
  assert.equal(rateTotal(graduated, 1000), 5000);
  assert.equal(rate(graduated, 1000).length, 1);
  assert.equal(rateTotal(graduated, 1001), 5003);
  assert.equal(rateTotal(graduated, 5000), 17000);
  // the first unit of the open tier brings its flat fee
  assert.equal(rateTotal(graduated, 5001), 17000 + 1 + 200);
});

Deno.test("rate() zero usage costs nothing in every model, flat fees included", () => {
  for (
    const p of [graduated, volume, { model: "package", unit_amount: 9, package_size: 10 } as PricingInput]
  ) {
    const lines = rate(p, 0);
    assert.equal(lines.length, 1);
    assert.equal(lines[0].amount, 0);
  }
});

Deno.test("rate() volume prices all units at the tier the total reaches", () => {
  assert.equal(rateTotal(volume, 10), 1000); // tier 1: 10×100
  assert.equal(rateTotal(volume, 11), 11 * 80 + 500); // tier 2 for all units + its flat
  assert.equal(rateTotal(volume, 100), 100 * 80 + 500);
  assert.equal(rateTotal(volume, 101), 101 * 50);
  assert.equal(rate(volume, 101)[0].tier?.index, 3);
});

Deno.test("rate() refuses amounts beyond 2^53 - 1 instead of losing precision", () => {
  assert.throws(
    () => rate({ model: "per_unit", unit_amount: 1_000_000_000 }, 10_000_000_000),
    (e: unknown) => e instanceof BillingError && e.code === "amount_out_of_range",
  );
});

Deno.test("pricingViolations() demands ascending bounds and a single open last tier", () => {
  assert.deepEqual(
    pricingViolations(
      { model: "graduated", tiers: graduated.tiers },
      "p",
    ),
    [],
  );
  const bad = pricingViolations({
    model: "volume",
    tiers: [
      { up_to: 100, unit_amount: 1, flat_amount: 0 },
      { up_to: 50, unit_amount: 1, flat_amount: 0 },
      { up_to: null, unit_amount: 1, flat_amount: 0 },
      { up_to: 500, unit_amount: 1, flat_amount: 0 },
    ],
  }, "p");
  assert.deepEqual(bad.map((i) => i.path), ["p.tiers.1.up_to", "p.tiers.2.up_to", "p.tiers.3.up_to"]);
  assert.ok(
    pricingViolations({ model: "package", unit_amount: 5 }, "p").some((i) => i.path === "p.package_size"),
  );
  assert.ok(pricingViolations({ model: "per_unit" }, "p").some((i) => i.path === "p.unit_amount"));
  assert.ok(pricingViolations({ model: "graduated", tiers: [] }, "p").some((i) => i.path === "p.tiers"));
});

Deno.test("computeInvoice() bills base fee then usage beyond included, one line per graduated tier", () => {
  const features = checkFeatures([
    {
      key: "calls",
      name: "Calls",
      type: "metered",
      included: 500,
      pricing: { model: "graduated", tiers: graduated.tiers },
    },
    {
      key: "gb",
      name: "Storage",
      type: "metered",
      aggregation: "max",
      pricing: { model: "volume", tiers: volume.tiers },
    },
    { key: "sso", type: "boolean" },
    { key: "seats", type: "seat", limit: 10 }, // not priced: no line
  ]);
  const invoice = computeInvoice({
    plan: { name: "Pro", base_amount: 4900, features },
    usage: new Map([["calls", 1700], ["gb", 12]]),
    trial: false,
  });
  // calls: 1700 - 500 included = 1200 billable → 1000×5 + 200×3 = 5600; gb: 12 → tier 2: 12×80 + 500 = 1460
  assert.deepEqual(invoice.lines.map((l) => [l.kind, l.feature, l.quantity, l.unit_amount, l.amount]), [
    ["base", null, 1, 4900, 4900],
    ["usage", "calls", 1000, 5, 5000],
    ["usage", "calls", 200, 3, 600],
    ["usage", "gb", 12, 80, 1460],
  ]);
  assert.equal(invoice.subtotal, 4900 + 5600 + 1460);
  assert.equal(invoice.total, invoice.subtotal);
  assert.equal(invoice.discount, 0);
  assert.equal(invoice.tax, 0);
});

Deno.test("computeInvoice() usage within included is a zero line; trial waives the base fee", () => {
  const features = checkFeatures([{
    key: "calls",
    type: "metered",
    included: 1000,
    pricing: { model: "per_unit", unit_amount: 3 },
  }]);
  const invoice = computeInvoice({
    plan: { name: "Pro", base_amount: 4900, features },
    usage: new Map([["calls", 999]]),
    trial: true,
  });
  assert.deepEqual(invoice.lines.map((l) => [l.kind, l.quantity, l.amount]), [["usage", 0, 0]]);
  assert.equal(invoice.total, 0);
});

Deno.test("checkFeatures() applies defaults and reports every rule violation with its path", () => {
  const [metered, seat] = checkFeatures([{ key: "a", type: "metered" }, { key: "s", type: "seat" }]);
  assert.equal(metered.aggregation, "sum");
  assert.equal(metered.limit, null);
  assert.equal(seat.aggregation, "latest");
  try {
    checkFeatures([
      { key: "a", type: "metered", aggregation: "unique_count" },
      { key: "a", type: "boolean", pricing: { model: "per_unit", unit_amount: 1 } },
      { key: "b", type: "metered", soft_limit: true },
    ]);
    assert.fail("expected a validation error");
  } catch (e) {
    assert.ok(e instanceof BillingError);
    assert.equal(e.code, "validation_failed");
    assert.deepEqual(e.fields.map((f) => f.path).sort(), [
      "features.0.unique_property",
      "features.1.key",
      "features.1.pricing",
      "features.2.soft_limit",
    ]);
  }
});
