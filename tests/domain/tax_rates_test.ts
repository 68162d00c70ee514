/**
 * Several tax rates on one invoice (`domain/invoice.ts` step 4, `domain/tax.ts`): each rate on the
 * same discounted line amount, rounded per line and rate (half up), summed per rate.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { computePeriodInvoice, type PeriodInvoiceInput } from "../../src/domain/invoice.ts";
import { checkTaxRates } from "../../src/domain/tax.ts";
import { BillingError } from "../../src/domain/errors.ts";

const start = new Date("2026-01-01T00:00:00Z");
const end = new Date("2026-02-01T00:00:00Z");

/** One period at a plan of `base` plus a per-unit feature of `unit` minor units, `used` units. */
function input(
  base: number,
  unit: number,
  used: number,
  extra: Partial<PeriodInvoiceInput> = {},
): PeriodInvoiceInput {
  return {
    period: { start, end, trial: false },
    full_period: { start, end },
    segments: [{
      plan: {
        id: "pln_a",
        name: "A",
        base_amount: base,
        features: [{
          key: "calls",
          name: "Calls",
          type: "metered",
          included: 0,
          aggregation: "sum",
          unique_property: null,
          limit: null,
          soft_limit: false,
          pricing: { model: "per_unit", unit_amount: unit },
        }] as never,
      },
      start,
      end,
      usage: new Map([["calls", used]]),
      proration: "none",
    }],
    coupon: null,
    tax_rate: null,
    monetary_grants: [],
    unit_grants: [],
    ...extra,
  };
}

const VAT = { id: "txr_vat", percentage_bp: 1900, inclusive: false };
const LEVY = { id: "txr_levy", percentage_bp: 250, inclusive: false };

Deno.test("computePeriodInvoice(): 19 % + 2.5 % on 10 000 → 1 900 + 250 = 2 150; total 12 150", () => {
  const draft = computePeriodInvoice(input(10_000, 1, 0, { tax_rates: [VAT, LEVY] }));
  assert.deepEqual(draft.taxes, [
    { tax_rate_id: "txr_vat", percentage_bp: 1900, inclusive: false, amount: 1_900 },
    { tax_rate_id: "txr_levy", percentage_bp: 250, inclusive: false, amount: 250 },
  ]);
  assert.deepEqual([draft.tax, draft.total], [2_150, 12_150]);
});

Deno.test("computePeriodInvoice(): rounding is per line and per rate (two 10-cent lines at 2.5 %: 0 + 0, where one rounding of the invoice would give round(0.5) = 1)", () => {
  // base 10, usage 5 units × 2 = 10 → two 10-cent lines; 2.5 % of 10 = 0.25 → 0 each; 19 % = 1.9 → 2 each
  const draft = computePeriodInvoice(input(10, 2, 5, { tax_rates: [VAT, LEVY] }));
  assert.deepEqual(draft.lines.map((l) => [l.amount, l.tax_amount]), [[10, 2], [10, 2]]);
  assert.deepEqual(draft.taxes.map((t) => t.amount), [4, 0]);
  assert.equal(draft.tax, 4);
});

Deno.test("computePeriodInvoice(): a coupon lowers every rate's base alike (10 % off 10 000 → 19 % of 9 000 = 1 710, 2.5 % = 225)", () => {
  const draft = computePeriodInvoice(input(10_000, 1, 0, {
    tax_rates: [VAT, LEVY],
    coupon: { code: "TEN", percent_off_bp: 1000, amount_off: null },
  }));
  assert.deepEqual([draft.discount, ...draft.taxes.map((t) => t.amount), draft.total], [
    1_000,
    1_710,
    225,
    10_935,
  ]);
});

Deno.test("computePeriodInvoice(): one rate given as tax_rates equals the single tax_rate (backward compatible)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1_000_000 }),
      fc.integer({ min: 0, max: 5_000 }),
      fc.integer({ min: 0, max: 10_000 }),
      (base, used, bp) => {
        const rate = { percentage_bp: bp, inclusive: false };
        const single = computePeriodInvoice(input(base, 3, used, { tax_rate: rate }));
        const listed = computePeriodInvoice(input(base, 3, used, { tax_rates: [rate] }));
        assert.deepEqual(listed, single);
        assert.equal(single.taxes[0].amount, single.tax);
      },
    ),
  );
});

Deno.test("computePeriodInvoice(): with up to five rates, each rate's tax is ≥ 0, the rates sum to tax and the lines to tax", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1_000_000 }),
      fc.integer({ min: 0, max: 5_000 }),
      fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 0, maxLength: 5 }),
      (base, used, bps) => {
        const rates = bps.map((bp, i) => ({ id: `txr_${i}`, percentage_bp: bp, inclusive: false }));
        const draft = computePeriodInvoice(input(base, 7, used, { tax_rates: rates }));
        assert.equal(draft.taxes.length, rates.length);
        for (const t of draft.taxes) assert.ok(t.amount >= 0);
        assert.equal(draft.taxes.reduce((s, t) => s + t.amount, 0), draft.tax);
        assert.equal(draft.lines.reduce((s, l) => s + l.tax_amount, 0), draft.tax);
        assert.equal(draft.total, draft.subtotal - draft.discount + draft.tax);
      },
    ),
  );
});

Deno.test("checkTaxRates(): more than 5, a rate twice → validation_failed naming the field; inclusive beside another → tax_rates_incompatible", () => {
  const six = Array.from({ length: 6 }, (_, i) => ({ id: `txr_${i}`, inclusive: false }));
  const fail = (rates: { id: string; inclusive: boolean }[]) => {
    try {
      checkTaxRates(rates);
    } catch (error) {
      assert.ok(error instanceof BillingError);
      return [error.code, error.fields.map((f) => f.path)];
    }
    return null;
  };
  assert.deepEqual(fail(six), ["validation_failed", ["tax_rate_ids"]]);
  assert.deepEqual(fail([VAT, VAT]), ["validation_failed", ["tax_rate_ids.1"]]);
  assert.deepEqual(fail([VAT, { id: "txr_gst", inclusive: true }]), ["tax_rates_incompatible", []]);
  assert.equal(fail([{ id: "txr_gst", inclusive: true }]), null);
  assert.equal(fail(six.slice(0, 5)), null);
  assert.throws(
    () => computePeriodInvoice(input(100, 1, 0, { tax_rates: [VAT, { ...LEVY, inclusive: true }] })),
    RangeError,
  );
});
