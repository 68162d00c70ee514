/**
 * Property tests (fast-check) of the issue 6 invoice computation: whatever the plans, changes,
 * pauses, cancellation, coupon, tax rate and credits, the invariants of ADR 0004 hold.
 * A failing run prints its seed and the shrunk counterexample.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { allocateDiscount } from "../../src/domain/coupons.ts";
import { computePeriodInvoice, type PlanSegment } from "../../src/domain/invoice.ts";
import { checkFeatures } from "../../src/domain/plan.ts";
import { prorate } from "../../src/domain/proration.ts";

const start = new Date("2026-01-01T00:00:00Z").getTime();
const end = new Date("2026-02-01T00:00:00Z").getTime();
const features = checkFeatures([
  {
    key: "calls",
    name: "Calls",
    type: "metered",
    included: 100,
    pricing: { model: "per_unit", unit_amount: 3 },
  },
  {
    key: "gb",
    name: "GB",
    type: "metered",
    pricing: {
      model: "graduated",
      tiers: [{ up_to: 10, unit_amount: 50, flat_amount: 100 }, {
        up_to: null,
        unit_amount: 20,
        flat_amount: 0,
      }],
    },
  },
]);

const scenario = fc.record({
  bases: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 4 }),
  cuts: fc.uniqueArray(fc.integer({ min: start + 1000, max: end - 1000 }), { maxLength: 3 }),
  prorations: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  usage: fc.array(fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 500 })), {
    minLength: 4,
    maxLength: 4,
  }),
  cancelAt: fc.option(fc.integer({ min: start + 1000, max: end - 1 }), { nil: null }),
  pauses: fc.array(
    fc.tuple(fc.integer({ min: start, max: end }), fc.integer({ min: 0, max: 10 * 86_400_000 })),
    { maxLength: 6 },
  ),
  coupon: fc.option(
    fc.oneof(
      fc.record({ percent_off_bp: fc.integer({ min: 1, max: 10_000 }), amount_off: fc.constant(null) }),
      fc.record({ percent_off_bp: fc.constant(null), amount_off: fc.integer({ min: 1, max: 2_000_000 }) }),
    ),
    { nil: null },
  ),
  tax: fc.option(fc.record({ percentage_bp: fc.integer({ min: 0, max: 10_000 }), inclusive: fc.boolean() }), {
    nil: null,
  }),
  monetary: fc.integer({ min: 0, max: 3_000_000 }),
  units: fc.integer({ min: 0, max: 50_000 }),
});

Deno.test("computePeriodInvoice() invariants: totals never negative, discounts bounded and allocated exactly, credits bounded", () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const cuts = [...s.cuts].sort((a, b) => a - b);
      const periodEnd = s.cancelAt !== null
        ? Math.max(s.cancelAt, (cuts[cuts.length - 1] ?? start) + 1)
        : end;
      const bounds = [start, ...cuts.filter((c) => c < periodEnd), periodEnd];
      const segments: PlanSegment[] = [];
      for (let i = 0; i < bounds.length - 1; i++) {
        segments.push({
          plan: { id: `p${i}`, name: `Plan ${i}`, base_amount: s.bases[i % s.bases.length], features },
          start: new Date(bounds[i]),
          end: new Date(bounds[i + 1]),
          usage: new Map([["calls", s.usage[i][0]], ["gb", s.usage[i][1]]]),
          proration: i === 0 ? "none" : s.prorations[i - 1] ? "prorate" : "none",
        });
      }
      const paused = s.pauses
        .map(([from, length]) => ({
          start: new Date(from),
          end: new Date(Math.min(from + length, periodEnd)),
        }))
        .filter((p) => p.end.getTime() > p.start.getTime() && p.start.getTime() < periodEnd)
        .sort((a, b) => a.start.getTime() - b.start.getTime())
        .reduce<{ start: Date; end: Date }[]>((merged, p) => {
          const last = merged[merged.length - 1];
          if (last && p.start.getTime() <= last.end.getTime()) {
            last.end = new Date(Math.max(last.end.getTime(), p.end.getTime()));
          } else merged.push({ ...p });
          return merged;
        }, []);
      const inv = computePeriodInvoice({
        period: { start: new Date(start), end: new Date(periodEnd), trial: false },
        full_period: { start: new Date(start), end: new Date(end) },
        segments,
        coupon: s.coupon ? { code: "C", ...s.coupon } : null,
        tax_rate: s.tax,
        paused,
        monetary_grants: [{
          id: "m",
          priority: 0,
          effective_at: new Date(start),
          expires_at: null,
          remaining: s.monetary,
        }],
        unit_grants: [{
          id: "u",
          feature: "calls",
          priority: 0,
          effective_at: new Date(start),
          expires_at: null,
          remaining: s.units,
        }],
      });
      const lineSum = inv.lines.reduce((acc, l) => acc + l.amount, 0);
      assert.equal(inv.subtotal, lineSum);
      assert.ok(inv.subtotal >= 0, "subtotal never negative");
      assert.ok(inv.discount >= 0 && inv.discount <= inv.subtotal, "discount within 0…subtotal");
      assert.equal(
        inv.lines.reduce((acc, l) => acc + l.discount_amount, 0),
        inv.discount,
        "discount allocated exactly",
      );
      for (const l of inv.lines) {
        assert.ok(
          l.discount_amount >= 0 && l.discount_amount <= Math.max(0, l.amount),
          "no line discounted below zero",
        );
        assert.ok(
          Math.sign(l.tax_amount) * Math.sign(l.amount - l.discount_amount) >= 0,
          "tax has the sign of its net line",
        );
        assert.ok(Number.isSafeInteger(l.amount) && Number.isSafeInteger(l.tax_amount));
      }
      assert.equal(inv.tax, inv.lines.reduce((acc, l) => acc + l.tax_amount, 0));
      assert.ok(inv.total >= 0, "total never negative");
      assert.ok(inv.tax >= 0 && inv.total - inv.tax >= 0, "tax and net revenue never negative");
      assert.equal(
        inv.total,
        s.tax?.inclusive ? inv.subtotal - inv.discount : inv.subtotal - inv.discount + inv.tax,
      );
      assert.ok(inv.credits_applied <= inv.total && inv.credits_applied <= s.monetary);
      assert.ok(inv.unit_draws.reduce((acc, d) => acc + d.amount, 0) <= s.units);
      // the fee lines (base + prorations) never charge more than the most expensive plan's full fee
      const fees = inv.lines.filter((l) => l.kind !== "usage").reduce((acc, l) => acc + l.amount, 0);
      assert.ok(fees >= 0 && fees <= Math.max(...s.bases) + segments.length, `fees ${fees}`);
    }),
    { numRuns: 400 },
  );
});

Deno.test("prorate() is monotonic and additive within rounding; allocateDiscount() sums exactly", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 10_000_000 }),
      fc.integer({ min: start, max: end }),
      fc.integer({ min: start, max: end }),
      (fee, a, b) => {
        const [from, to] = a <= b ? [a, b] : [b, a];
        const period = { start: new Date(start), end: new Date(end) };
        const left = prorate(fee, period, { from: new Date(start), to: new Date(from) });
        const middle = prorate(fee, period, { from: new Date(from), to: new Date(to) });
        const right = prorate(fee, period, { from: new Date(to), to: new Date(end) });
        assert.ok(middle >= 0 && middle <= fee);
        assert.ok(
          Math.abs(left + middle + right - fee) <= 2,
          "three slices add up to the fee within one unit each",
        );
        assert.ok(prorate(fee, period, { from: new Date(from), to: new Date(end) }) >= right);
      },
    ),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { maxLength: 12 }),
      fc.nat(),
      (amounts, seed) => {
        const positive = amounts.filter((a) => a > 0).reduce((x, y) => x + y, 0);
        const discount = positive === 0 ? 0 : seed % (positive + 1);
        const shares = allocateDiscount(amounts, discount);
        assert.equal(shares.reduce((x, y) => x + y, 0), discount);
        shares.forEach((share, i) => assert.ok(share >= 0 && share <= Math.max(0, amounts[i])));
      },
    ),
    { numRuns: 1000 },
  );
});
