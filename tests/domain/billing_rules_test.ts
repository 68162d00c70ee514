/**
 * Worked examples of every billing rule of issue 6 on the pure compute functions (ADR 0004).
 * Each expected number is derived in the comment next to it.
 */
import assert from "node:assert/strict";
import { allocateDiscount, checkCoupon, discountAmount, discountApplies } from "../../src/domain/coupons.ts";
import { drawCredits, grantCovers, spendingOrder } from "../../src/domain/credits.ts";
import { BillingError } from "../../src/domain/errors.ts";
import { computePeriodInvoice, type PlanSegment } from "../../src/domain/invoice.ts";
import { currencyExponent, divide, format } from "../../src/domain/money.ts";
import { addIntervals } from "../../src/domain/period.ts";
import { checkFeatures } from "../../src/domain/plan.ts";
import {
  type PricingInput,
  rate as rateDecimal,
  rateTotal as rateTotalDecimal,
  toPricing,
} from "../../src/domain/pricing.ts";
import { decimalFromInteger, decimalToSafeInteger } from "../../src/domain/decimal.ts";

// rate() works in exact Decimals; these integer examples read quantities back as numbers
const rate = (p: PricingInput, quantity: number) =>
  rateDecimal(toPricing(p), decimalFromInteger(quantity)).map((l) => ({
    ...l,
    quantity: decimalToSafeInteger(l.quantity)!,
  }));
const rateTotal = (p: PricingInput, quantity: number) =>
  rateTotalDecimal(toPricing(p), decimalFromInteger(quantity));
import { prorate } from "../../src/domain/proration.ts";
import {
  periodAt,
  planChangeDecision,
  planSegments,
  rebasedFirstPeriodIndex,
  startTimeline,
  statusAt,
  timelineAfterIntervalChange,
} from "../../src/domain/subscription.ts";
import { lineTax, percentageToBasisPoints, taxLines } from "../../src/domain/tax.ts";
import { eventTimingViolation, MAX_FUTURE_SKEW_SECONDS, usageBuckets } from "../../src/domain/usage_rules.ts";

const d = (s: string) => new Date(s);
const jan = { start: d("2026-01-01T00:00:00Z"), end: d("2026-02-01T00:00:00Z") };

// ---------------------------------------------------------------- pricing (standard definitions)

Deno.test("rate(): graduated prices each unit by its tier, volume prices all units at the reached tier, package rounds up", () => {
  const tiers = [
    { up_to: 5, unit_amount: 500, flat_amount: 0 },
    { up_to: 10, unit_amount: 400, flat_amount: 0 },
    { up_to: null, unit_amount: 300, flat_amount: 0 },
  ];
  // graduated 12 units: 5×500 + 5×400 + 2×300 = 2500 + 2000 + 600 = 5100
  assert.equal(rateTotal({ model: "graduated", tiers }, 12), 5100);
  // volume 12 units: tier 3 reached → 12×300 = 3600
  assert.equal(rateTotal({ model: "volume", tiers }, 12), 3600);
  // exactly at a bound: volume 10 → 10×400 = 4000; graduated 10 → 2500 + 2000 = 4500
  assert.equal(rateTotal({ model: "volume", tiers }, 10), 4000);
  assert.equal(rateTotal({ model: "graduated", tiers }, 10), 4500);
  // package: 1001 units in packages of 1000 at 500 → ceil = 2 packages → 1000
  assert.deepEqual(
    rate({ model: "package", unit_amount: 500, package_size: 1000 }, 1001).map((l) => [l.quantity, l.amount]),
    [[2, 1000]],
  );
  assert.equal(rateTotal({ model: "package", unit_amount: 500, package_size: 1000 }, 1000), 500);
});

// ---------------------------------------------------------------- money: ISO 4217 exponents

Deno.test("currencyExponent() follows ISO 4217: JPY 0, USD 2, KWD 3, CLF 4; unknown codes are refused", () => {
  assert.deepEqual(["JPY", "USD", "KWD", "CLF"].map(currencyExponent), [0, 2, 3, 4]);
  assert.equal(format(1234, "JPY"), "JPY 1234");
  assert.equal(format(1234, "KWD"), "KWD 1.234");
  assert.throws(
    () => currencyExponent("XXX"),
    (e) => e instanceof BillingError && e.code === "unsupported_currency",
  );
});

Deno.test("divide() rounds as named, symmetric around zero for half_up", () => {
  assert.equal(divide(5n, 2n, "half_up"), 3n);
  assert.equal(divide(-5n, 2n, "half_up"), -3n);
  assert.equal(divide(5n, 2n, "half_even"), 2n);
  assert.equal(divide(5n, 2n, "floor"), 2n);
  assert.equal(divide(-5n, 2n, "floor"), -3n);
  assert.equal(divide(5n, 2n, "ceil"), 3n);
});

// ---------------------------------------------------------------- proration

Deno.test("prorate(): Stripe's worked example — $10 → $20 halfway through a 30-day period credits $5 and charges $10", () => {
  const period = { start: d("2026-04-01T00:00:00Z"), end: d("2026-05-01T00:00:00Z") }; // 30 days
  const half = { from: d("2026-04-16T00:00:00Z"), to: period.end };
  assert.equal(prorate(1000, period, half), 500);
  assert.equal(prorate(2000, period, half), 1000);
});

Deno.test("prorate(): to the second against the period's own length, rounded half up", () => {
  // January has 31 days = 2 678 400 s; upgrade on Jan 10 00:00 leaves 22 days.
  const slice = { from: d("2026-01-10T00:00:00Z"), to: jan.end };
  assert.equal(prorate(4900, jan, slice), 3477); // 4900 × 22/31 = 3477.42 → 3477
  assert.equal(prorate(9900, jan, slice), 7026); // 9900 × 22/31 = 7025.81 → 7026
  assert.equal(prorate(3100, jan, slice), 2200); // 100 per day exactly
  // milliseconds are truncated to whole seconds: .999 s later prorates the same
  assert.equal(prorate(3100, jan, { from: d("2026-01-10T00:00:00.999Z"), to: jan.end }), 2200);
  // one second of a 31-day month of 2 678 400 cents is exactly 1 cent
  assert.equal(prorate(2_678_400, jan, { from: d("2026-01-31T23:59:59Z"), to: jan.end }), 1);
  // February (28 days) and a leap February (29 days) use their own length
  const feb = { start: d("2026-02-01T00:00:00Z"), end: d("2026-03-01T00:00:00Z") };
  assert.equal(prorate(2800, feb, { from: d("2026-02-15T00:00:00Z"), to: feb.end }), 1400);
  const leapFeb = { start: d("2028-02-01T00:00:00Z"), end: d("2028-03-01T00:00:00Z") };
  assert.equal(prorate(2900, leapFeb, { from: d("2028-02-15T00:00:00Z"), to: leapFeb.end }), 1500);
  // JPY has no minor unit: ¥1000 × 22/31 = 709.68 → ¥710
  assert.equal(prorate(1000, jan, slice), 710);
  assert.throws(() => prorate(100, jan, { from: d("2025-12-31T00:00:00Z"), to: jan.end }), RangeError);
});

Deno.test("anniversary Jan 30 → Feb 29 in a leap year (Feb 28 otherwise) → Mar 30; all instants UTC", () => {
  const anchor = d("2028-01-30T00:00:00Z");
  assert.equal(addIntervals(anchor, "month", 1).toISOString(), "2028-02-29T00:00:00.000Z");
  assert.equal(addIntervals(anchor, "month", 2).toISOString(), "2028-03-30T00:00:00.000Z");
  assert.equal(addIntervals(d("2027-01-30T00:00:00Z"), "month", 1).toISOString(), "2027-02-28T00:00:00.000Z");
  // an anchor given with an offset is the same UTC instant: 2026-01-31T23:30-05:00 = Feb 1 04:30 UTC
  const offset = d("2026-01-31T23:30:00-05:00");
  assert.equal(addIntervals(offset, "month", 1).toISOString(), "2026-03-01T04:30:00.000Z");
});

// ---------------------------------------------------------------- plan changes

Deno.test("planChangeDecision(): upgrades now, downgrades at period end, overridable; currency must match; an interval change is now and resets the anchor", () => {
  const timeline = startTimeline({ start_at: jan.start, trial_days: 0, now: jan.start });
  const now = d("2026-01-10T00:00:00Z");
  const basic = { base_amount: 3100, currency: "USD", interval: "month" as const };
  const pro = { base_amount: 6200, currency: "USD", interval: "month" as const };
  const up = planChangeDecision({ timeline, from: basic, to: pro, now });
  assert.deepEqual([up.direction, up.effective_at.toISOString(), up.proration], [
    "upgrade",
    now.toISOString(),
    "prorate",
  ]);
  const down = planChangeDecision({ timeline, from: pro, to: basic, now });
  assert.deepEqual([down.direction, down.effective_at.toISOString()], ["downgrade", jan.end.toISOString()]);
  const downNow = planChangeDecision({
    timeline,
    from: pro,
    to: basic,
    now,
    effective: "now",
    proration: "none",
  });
  assert.deepEqual([downNow.effective_at.toISOString(), downNow.proration], [now.toISOString(), "none"]);
  assert.throws(
    () => planChangeDecision({ timeline, from: basic, to: { ...pro, currency: "EUR" }, now }),
    (e) => e instanceof BillingError && e.code === "currency_mismatch",
  );
  const yearly = planChangeDecision({ timeline, from: basic, to: { ...pro, interval: "year" }, now });
  assert.deepEqual([yearly.effective_at.toISOString(), yearly.proration, yearly.resets_anchor], [
    now.toISOString(),
    "prorate",
    true,
  ]);
  assert.equal(up.resets_anchor, false);
  assert.throws(
    () =>
      planChangeDecision({
        timeline,
        from: basic,
        to: { ...pro, interval: "year" },
        now,
        effective: "period_end",
      }),
    (e) => e instanceof BillingError && e.code === "interval_mismatch",
  );
  assert.throws(
    () =>
      planChangeDecision({ timeline, from: basic, to: { ...pro, interval: "year" }, now, proration: "none" }),
    (e) => e instanceof BillingError && e.code === "validation_failed" && e.fields[0].path === "proration",
  );
  const ended = { ...timeline, cancel_at: d("2026-01-05T00:00:00Z"), canceled_at: d("2026-01-05T00:00:00Z") };
  assert.throws(
    () => planChangeDecision({ timeline: ended, from: basic, to: pro, now }),
    (e) => e instanceof BillingError && e.code === "subscription_canceled",
  );
});

Deno.test("planChangeDecision(): proration_date takes effect at that instant, within the current period and not before the last applied change", () => {
  const timeline = startTimeline({ start_at: jan.start, trial_days: 0, now: jan.start });
  const now = d("2026-01-20T00:00:00Z");
  const basic = { base_amount: 3100, currency: "USD", interval: "month" as const };
  const pro = { base_amount: 6200, currency: "USD", interval: "month" as const };
  const at = d("2026-01-10T12:34:56Z");
  const dated = planChangeDecision({ timeline, from: basic, to: pro, now, proration_date: at });
  assert.equal(dated.effective_at.toISOString(), at.toISOString());
  // A later instant in the period schedules the change then (a downgrade too, when dated).
  const later = planChangeDecision({
    timeline,
    from: pro,
    to: basic,
    now,
    proration_date: d("2026-01-25T00:00:00Z"),
  });
  assert.equal(later.effective_at.toISOString(), "2026-01-25T00:00:00.000Z");
  const outside = (input: Partial<Parameters<typeof planChangeDecision>[0]>) =>
    assert.throws(
      () => planChangeDecision({ timeline, from: basic, to: pro, now, ...input }),
      (e) =>
        e instanceof BillingError && e.code === "proration_date_outside_period" &&
        e.kind === "invalid_request",
    );
  outside({ proration_date: d("2025-12-31T23:59:59Z") }); // before the period
  outside({ proration_date: jan.end }); // the period end is the next period
  outside({ proration_date: at, not_before: d("2026-01-11T00:00:00Z") }); // before the last change
  outside({ proration_date: d("2026-01-21T00:00:00Z"), to: { ...pro, interval: "year" } }); // interval change after now
  assert.throws(
    () =>
      planChangeDecision({
        timeline,
        from: basic,
        to: pro,
        now,
        proration_date: at,
        effective: "period_end",
      }),
    (e) => e instanceof BillingError && e.code === "validation_failed",
  );
});

Deno.test("timelineAfterIntervalChange() resets the anchor (ending a running trial there); rebasedFirstPeriodIndex() keeps a coupon's remaining periods", () => {
  const timeline = startTimeline({ start_at: jan.start, trial_days: 14, now: jan.start });
  const at = d("2026-01-10T00:00:00Z");
  const inTrial = timelineAfterIntervalChange(timeline, at);
  assert.deepEqual([inTrial.trial_end?.toISOString(), inTrial.billing_anchor.toISOString()], [
    at.toISOString(),
    at.toISOString(),
  ]);
  const later = d("2026-03-03T00:00:00Z");
  const after = timelineAfterIntervalChange(timeline, later);
  assert.equal(after.trial_end?.toISOString(), "2026-01-15T00:00:00.000Z");
  assert.equal(periodAt(after, "year", later).end.toISOString(), "2027-03-03T00:00:00.000Z");
  // repeating × 3 redeemed for period 0, cut in period 1: periods 0 and 1 used, one left → new index 0 only.
  const first = rebasedFirstPeriodIndex(0, 1);
  assert.equal(first, -2);
  const coupon = { duration: "repeating" as const, duration_periods: 3, plan_ids: null };
  assert.deepEqual([0, 1].map((i) => discountApplies(coupon, first, i, "p")), [true, false]);
  // redeemed in the trial (first 0), cut in the trial (index −1): nothing used yet.
  assert.equal(rebasedFirstPeriodIndex(0, -1), 0);
});

Deno.test("planSegments() splits a period at changes inside it; a change at the start decides the first plan", () => {
  const changes = [
    {
      from_plan_id: "a",
      to_plan_id: "b",
      effective_at: d("2026-01-10T00:00:00Z"),
      proration: "prorate" as const,
    },
    {
      from_plan_id: "b",
      to_plan_id: "c",
      effective_at: d("2026-02-01T00:00:00Z"),
      proration: "none" as const,
    },
  ];
  const slices = planSegments("a", changes, jan.start, jan.end);
  assert.deepEqual(slices.map((s) => [s.plan_id, s.start.toISOString(), s.end.toISOString(), s.proration]), [
    ["a", "2026-01-01T00:00:00.000Z", "2026-01-10T00:00:00.000Z", "none"],
    ["b", "2026-01-10T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "prorate"],
  ]);
  const feb = planSegments("a", changes, jan.end, d("2026-03-01T00:00:00Z"));
  assert.deepEqual(feb.map((s) => [s.plan_id, s.proration]), [["c", "none"]]);
});

Deno.test("statusAt(): canceled by a client vs expired at a fixed end", () => {
  const t = startTimeline({ start_at: jan.start, trial_days: 0, now: jan.start });
  const end = d("2026-01-20T00:00:00Z");
  assert.equal(statusAt({ ...t, cancel_at: end, canceled_at: d("2026-01-05T00:00:00Z") }, end), "canceled");
  assert.equal(statusAt({ ...t, cancel_at: end, canceled_at: null }, end), "expired");
  assert.equal(statusAt({ ...t, cancel_at: end, canceled_at: null }, d("2026-01-19T23:59:59Z")), "active");
});

// ---------------------------------------------------------------- a whole period invoice

const basicFeatures = checkFeatures([{
  key: "calls",
  name: "Calls",
  type: "metered",
  pricing: { model: "per_unit", unit_amount: 2 },
}]);
const proFeatures = checkFeatures([{
  key: "calls",
  name: "Calls",
  type: "metered",
  included: 1000,
  pricing: { model: "per_unit", unit_amount: 1 },
}]);
const basic = { id: "pln_basic", name: "Basic", base_amount: 3100, features: basicFeatures };
const pro = { id: "pln_pro", name: "Pro", base_amount: 6200, features: proFeatures };

function upgradeMonth(): PlanSegment[] {
  return [
    {
      plan: basic,
      start: jan.start,
      end: d("2026-01-10T00:00:00Z"),
      usage: new Map([["calls", 500]]),
      proration: "none",
    },
    {
      plan: pro,
      start: d("2026-01-10T00:00:00Z"),
      end: jan.end,
      usage: new Map([["calls", 1500]]),
      proration: "prorate",
    },
  ];
}

const plain = { coupon: null, tax_rate: null, monetary_grants: [], unit_grants: [] };

Deno.test("computePeriodInvoice(): a month with an upgrade on day 10 — old base, credit, new remainder, usage split at the change", () => {
  const inv = computePeriodInvoice({
    period: { ...jan, trial: false },
    full_period: jan,
    segments: upgradeMonth(),
    ...plain,
  });
  assert.deepEqual(inv.lines.map((l) => [l.kind, l.plan_id, l.amount]), [
    ["base", "pln_basic", 3100],
    ["proration", "pln_basic", -2200], // unused 22 of 31 days of 3100
    ["proration", "pln_pro", 4400], // remaining 22 of 31 days of 6200
    ["usage", "pln_basic", 1000], // 500 calls × 2 at the old price
    ["usage", "pln_pro", 500], // 1500 − 1000 included = 500 × 1 at the new price
  ]);
  assert.equal(inv.subtotal, 6800);
  assert.equal(inv.total, 6800);
  // the same month with proration "none": the old base fee covers the period, no proration lines
  const none = upgradeMonth();
  none[1].proration = "none";
  const flat = computePeriodInvoice({
    period: { ...jan, trial: false },
    full_period: jan,
    segments: none,
    ...plain,
  });
  assert.deepEqual(flat.lines.map((l) => l.amount), [3100, 1000, 500]);
});

Deno.test("computePeriodInvoice(): cancellation on day 16 credits the unused base; a trial period has no base fee", () => {
  const cut = d("2026-01-16T00:00:00Z"); // 15 days used, 16 unused
  const inv = computePeriodInvoice({
    period: { start: jan.start, end: cut, trial: false },
    full_period: jan,
    segments: [{
      plan: basic,
      start: jan.start,
      end: cut,
      usage: new Map([["calls", 10]]),
      proration: "none",
    }],
    ...plain,
  });
  assert.deepEqual(inv.lines.map((l) => [l.kind, l.amount]), [["base", 3100], ["proration", -1600], [
    "usage",
    20,
  ]]);
  assert.equal(inv.total, 1520);
  const trial = computePeriodInvoice({
    period: { start: jan.start, end: d("2026-01-15T00:00:00Z"), trial: true },
    full_period: { start: jan.start, end: d("2026-01-15T00:00:00Z") },
    segments: [{
      plan: basic,
      start: jan.start,
      end: d("2026-01-15T00:00:00Z"),
      usage: new Map([["calls", 10]]),
      proration: "none",
    }],
    ...plain,
  });
  assert.deepEqual(trial.lines.map((l) => [l.kind, l.amount]), [["usage", 20]]); // trial usage is billed (Lago rule)
});

// ---------------------------------------------------------------- coupons

Deno.test("coupons: percent rounds half up, amount_off never exceeds the subtotal, discounts never go negative", () => {
  assert.equal(discountAmount({ percent_off_bp: 1250, amount_off: null }, 999), 125); // 999 × 12.5 % = 124.875 → 125
  assert.equal(discountAmount({ percent_off_bp: 1250, amount_off: null }, 996), 125); // 124.5 → 125 (half up)
  assert.equal(discountAmount({ percent_off_bp: null, amount_off: 5000 }, 3000), 3000);
  assert.equal(discountAmount({ percent_off_bp: null, amount_off: 5000 }, -200), 0);
  assert.equal(discountAmount({ percent_off_bp: 10_000, amount_off: null }, 0), 0);
  // 100 % off a month with proration credits: discount = subtotal, no line below zero, total 0
  const inv = computePeriodInvoice({
    period: { ...jan, trial: false },
    full_period: jan,
    segments: upgradeMonth(),
    ...plain,
    coupon: { code: "FREE", percent_off_bp: 10_000, amount_off: null },
  });
  assert.equal(inv.discount, 6800);
  assert.equal(inv.total, 0);
  for (const l of inv.lines) {
    assert.ok(l.discount_amount >= 0 && l.discount_amount <= Math.max(0, l.amount), JSON.stringify(l));
  }
  assert.equal(inv.lines.reduce((s, l) => s + l.discount_amount, 0), 6800);
});

Deno.test("allocateDiscount(): proportional floors, leftover by largest remainder (earlier first on ties), positives only", () => {
  assert.deepEqual(allocateDiscount([1, 1, 1], 2), [1, 1, 0]);
  assert.deepEqual(allocateDiscount([100, -50, 300], 100), [25, 0, 75]);
  // 5 × 3/10 = 1.5, 5 × 7/10 = 3.5 → floors 1 + 3 = 4; one left, equal remainders → the earlier line
  assert.deepEqual(allocateDiscount([3, 7], 5), [2, 3]);
});

Deno.test("discountApplies(): once, repeating for 3 periods, forever; plan restrictions", () => {
  const repeating = { duration: "repeating" as const, duration_periods: 3, plan_ids: null };
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => discountApplies(repeating, 0, i, "p")), [
    true,
    true,
    true,
    false,
    false,
  ]);
  assert.deepEqual([1, 2, 3, 4, 5].map((i) => discountApplies(repeating, 2, i, "p")), [
    false,
    true,
    true,
    true,
    false,
  ]);
  const once = { duration: "once" as const, duration_periods: null, plan_ids: null };
  assert.deepEqual([0, 1].map((i) => discountApplies(once, 0, i, "p")), [true, false]);
  const forever = { duration: "forever" as const, duration_periods: null, plan_ids: ["p"] };
  assert.equal(discountApplies(forever, 0, 99, "p"), true);
  assert.equal(discountApplies(forever, 0, 1, "q"), false);
});

Deno.test("checkCoupon(): exact basis points, one of percent/amount, duration rules", () => {
  assert.equal(checkCoupon({ code: "A", percent_off: 12.5, duration: "once" }).percent_off_bp, 1250);
  const bad = (input: Parameters<typeof checkCoupon>[0], path: string) =>
    assert.throws(
      () => checkCoupon(input),
      (e) => e instanceof BillingError && e.fields.some((f) => f.path === path),
    );
  bad({ code: "A", percent_off: 12.345, duration: "once" }, "percent_off");
  bad({ code: "A", percent_off: 10, amount_off: 100, duration: "once" }, "percent_off");
  bad({ code: "A", amount_off: 100, duration: "once" }, "currency");
  bad({ code: "A", percent_off: 10, duration: "repeating" }, "duration_periods");
  bad({ code: "A", percent_off: 10, duration: "forever", duration_periods: 2 }, "duration_periods");
});

// ---------------------------------------------------------------- tax

Deno.test("tax: per-line rounding — three 5-cent lines at 10 % give 3 cents, not round(1.5) = 2 per invoice", () => {
  const rate = { percentage_bp: 1000, inclusive: false };
  const result = taxLines(rate, [5, 5, 5]);
  assert.deepEqual(result.lines, [1, 1, 1]);
  assert.equal(result.tax, 3);
  const perInvoice = Number(divide(15n * 1000n, 10_000n, "half_up"));
  assert.equal(perInvoice, 2, "the per-invoice alternative differs by one cent");
});

Deno.test("tax: exclusive adds, inclusive extracts; negative credit lines give tax back; discounts reduce the base", () => {
  assert.equal(lineTax({ percentage_bp: 2000, inclusive: false }, 1000), 200);
  assert.equal(lineTax({ percentage_bp: 2000, inclusive: true }, 1200), 200); // 1200 − 1200/1.2
  assert.equal(lineTax({ percentage_bp: 1900, inclusive: true }, 1000), 160); // 1000 − round(840.34) = 160
  assert.equal(lineTax({ percentage_bp: 1900, inclusive: false }, -2200), -418);
  assert.equal(lineTax({ percentage_bp: 1000, inclusive: false }, 1001), 100); // JPY ¥1001 → ¥100.1 → ¥100
  assert.equal(percentageToBasisPoints(8.88), 888);
  assert.throws(() => percentageToBasisPoints(8.875), BillingError);

  const segments: PlanSegment[] = [{
    plan: { ...basic, base_amount: 10_000, features: [] },
    start: jan.start,
    end: jan.end,
    usage: new Map(),
    proration: "none",
  }];
  const exclusive = computePeriodInvoice({
    period: { ...jan, trial: false },
    full_period: jan,
    segments,
    ...plain,
    coupon: { code: "TEN", percent_off_bp: 1000, amount_off: null },
    tax_rate: { percentage_bp: 2000, inclusive: false },
  });
  // 10000 − 10 % = 9000 taxable; 20 % → 1800; total 10800
  assert.deepEqual([exclusive.subtotal, exclusive.discount, exclusive.tax, exclusive.total], [
    10_000,
    1000,
    1800,
    10_800,
  ]);
  const inclusive = computePeriodInvoice({
    period: { ...jan, trial: false },
    full_period: jan,
    segments,
    ...plain,
    coupon: { code: "TEN", percent_off_bp: 1000, amount_off: null },
    tax_rate: { percentage_bp: 2000, inclusive: true },
  });
  // 9000 includes 20 % VAT: 9000 − 7500 = 1500; total stays 9000
  assert.deepEqual([inclusive.tax, inclusive.total], [1500, 9000]);
});

// ---------------------------------------------------------------- prepaid credits

Deno.test("credits: spend priority → earliest expiry → oldest; only grants overlapping the period", () => {
  const g = (id: string, priority: number, effective: string, expires: string | null, remaining: number) => ({
    id,
    priority,
    effective_at: d(effective),
    expires_at: expires ? d(expires) : null,
    remaining,
  });
  const grants = [
    g("never", 0, "2025-12-01T00:00:00Z", null, 500),
    g("old", 0, "2025-11-01T00:00:00Z", null, 500),
    g("soon", 0, "2025-12-15T00:00:00Z", "2026-03-01T00:00:00Z", 500),
    g("vip", 5, "2026-01-05T00:00:00Z", null, 100),
  ];
  assert.deepEqual(spendingOrder(grants).map((x) => x.id), ["vip", "soon", "old", "never"]);
  assert.deepEqual(drawCredits(grants, 700), {
    draws: [{ grant_id: "vip", amount: 100 }, { grant_id: "soon", amount: 500 }, {
      grant_id: "old",
      amount: 100,
    }],
    drawn: 700,
  });
  assert.deepEqual(drawCredits(grants, 5000).drawn, 1600);
  assert.equal(grantCovers(g("x", 0, "2026-02-01T00:00:00Z", null, 1), jan.start, jan.end), false); // starts after
  assert.equal(
    grantCovers(g("x", 0, "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z", 1), jan.start, jan.end),
    false,
  ); // expired at start
  assert.equal(
    grantCovers(g("x", 0, "2025-01-01T00:00:00Z", "2026-01-02T00:00:00Z", 1), jan.start, jan.end),
    true,
  );
});

Deno.test("computePeriodInvoice(): unit credits reduce billable units before pricing; monetary credits come off the total after tax", () => {
  const segments: PlanSegment[] = [{
    plan: basic,
    start: jan.start,
    end: jan.end,
    usage: new Map([["calls", 500]]),
    proration: "none",
  }];
  const inv = computePeriodInvoice({
    period: { ...jan, trial: false },
    full_period: jan,
    segments,
    coupon: null,
    tax_rate: { percentage_bp: 1000, inclusive: false },
    unit_grants: [{
      id: "u",
      feature: "calls",
      priority: 0,
      effective_at: jan.start,
      expires_at: null,
      remaining: 300,
    }],
    monetary_grants: [{ id: "m", priority: 0, effective_at: jan.start, expires_at: null, remaining: 10_000 }],
  });
  // base 3100 + (500 − 300 credited) × 2 = 3500; tax 10 % per line: 310 + 40 = 350; total 3850, all paid by credits
  assert.deepEqual([inv.subtotal, inv.tax, inv.total, inv.credits_applied], [3500, 350, 3850, 3850]);
  assert.deepEqual(inv.unit_draws, [{ grant_id: "u", amount: 300 }]);
  assert.deepEqual(inv.monetary_draws, [{ grant_id: "m", amount: 3850 }]);
  // computing the same draft again draws the same (a preview consumes nothing)
  assert.deepEqual(
    computePeriodInvoice({
      period: { ...jan, trial: false },
      full_period: jan,
      segments,
      coupon: null,
      tax_rate: { percentage_bp: 1000, inclusive: false },
      unit_grants: [{
        id: "u",
        feature: "calls",
        priority: 0,
        effective_at: jan.start,
        expires_at: null,
        remaining: 300,
      }],
      monetary_grants: [{
        id: "m",
        priority: 0,
        effective_at: jan.start,
        expires_at: null,
        remaining: 10_000,
      }],
    }).unit_draws,
    inv.unit_draws,
  );
});

// ---------------------------------------------------------------- usage timing

Deno.test("eventTimingViolation(): 5-minute future skew; closed periods reject, open ones accept", () => {
  const now = d("2026-02-01T10:00:00Z");
  assert.equal(eventTimingViolation(new Date(now.getTime() + MAX_FUTURE_SKEW_SECONDS * 1000), now, []), null);
  assert.equal(
    eventTimingViolation(new Date(now.getTime() + MAX_FUTURE_SKEW_SECONDS * 1000 + 1), now, [])?.code,
    "timestamp_in_future",
  );
  const closed = [{ start: jan.start, end: jan.end, invoice_number: "INV-000001" }];
  assert.equal(eventTimingViolation(d("2026-01-31T23:59:59.999Z"), now, closed)?.code, "period_closed");
  assert.equal(eventTimingViolation(jan.end, now, closed), null); // half-open: the end belongs to the next period
  assert.equal(eventTimingViolation(d("2026-01-15T00:00:00Z"), now, [])?.code, undefined);
});

Deno.test("usageBuckets(): UTC days, partial first and last day, bounded", () => {
  const b = usageBuckets(d("2026-01-01T12:00:00Z"), d("2026-01-03T06:00:00Z"), "day")!;
  assert.deepEqual(b.map((x) => [x.start.toISOString(), x.end.toISOString()]), [
    ["2026-01-01T12:00:00.000Z", "2026-01-02T00:00:00.000Z"],
    ["2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z"],
    ["2026-01-03T00:00:00.000Z", "2026-01-03T06:00:00.000Z"],
  ]);
  assert.equal(usageBuckets(d("2020-01-01T00:00:00Z"), d("2026-01-01T00:00:00Z"), "day"), null);
});

Deno.test("pauses: status paused, slices clipped and merged, base credited for paused time, never below zero", async () => {
  const { pausedSlices, statusAt: status } = await import("../../src/domain/subscription.ts");
  const t = startTimeline({ start_at: jan.start, trial_days: 0, now: jan.start });
  const pauses = [{ start: d("2026-01-11T00:00:00Z"), end: d("2026-01-21T00:00:00Z") }, {
    start: d("2026-01-20T00:00:00Z"),
    end: null,
  }];
  assert.equal(status(t, d("2026-01-15T00:00:00Z"), pauses), "paused");
  assert.equal(status(t, d("2026-01-05T00:00:00Z"), pauses), "active");
  const slices = pausedSlices(pauses, jan.start, jan.end);
  assert.deepEqual(slices.map((x) => [x.start.toISOString(), x.end.toISOString()]), [[
    "2026-01-11T00:00:00.000Z",
    "2026-02-01T00:00:00.000Z",
  ]]);
  const inv = computePeriodInvoice({
    period: { ...jan, trial: false },
    full_period: jan,
    segments: [{
      plan: basic,
      start: jan.start,
      end: jan.end,
      usage: new Map([["calls", 10]]),
      proration: "none",
    }],
    ...plain,
    paused: slices,
  });
  // 3100 − 21 paused days × 100 = 1000, plus 10 calls × 2
  assert.deepEqual(inv.lines.map((l) => [l.kind, l.amount]), [["base", 3100], ["proration", -2100], [
    "usage",
    20,
  ]]);
  // six pauses of 1/6 period each on a fee of 100: every credit rounds 16.67 up to 17
  const six = Array.from({ length: 6 }, (_, i) => ({
    start: new Date(jan.start.getTime() + i * (jan.end.getTime() - jan.start.getTime()) / 6),
    end: new Date(jan.start.getTime() + (i + 1) * (jan.end.getTime() - jan.start.getTime()) / 6),
  }));
  const tiny = computePeriodInvoice({
    period: { ...jan, trial: false },
    full_period: jan,
    segments: [{
      plan: { ...basic, base_amount: 100, features: [] },
      start: jan.start,
      end: jan.end,
      usage: new Map(),
      proration: "none",
    }],
    ...plain,
    paused: six,
  });
  // 6 × round(16.67) = 102 > 100: the last credit gives back 2, the fees sum to exactly 0
  assert.equal(tiny.lines.reduce((acc, l) => acc + l.amount, 0), 0);
  assert.equal(tiny.total, 0);
});

Deno.test("invoiceFinalizedPostings(): balanced, zero legs left out (a total made only of tax after rounding)", async () => {
  const { invoiceFinalizedPostings } = await import("../../src/domain/billing_postings.ts");
  const a = { receivable: "ar", revenue: "rev", taxPayable: "tax" };
  assert.deepEqual(
    invoiceFinalizedPostings(a, { total: 1190, tax: 190, currency: "EUR" }).map((
      p: { account_id: string; amount: number },
    ) => [p.account_id, p.amount]),
    [["ar", 1190], ["rev", -1000], ["tax", -190]],
  );
  assert.deepEqual(
    invoiceFinalizedPostings(a, { total: 1, tax: 1, currency: "EUR" }).map((
      p: { account_id: string; amount: number },
    ) => [p.account_id, p.amount]),
    [["ar", 1], ["tax", -1]],
  );
  assert.deepEqual(
    invoiceFinalizedPostings(a, { total: 500, tax: 0, currency: "JPY" }).map((p: { amount: number }) =>
      p.amount
    ),
    [500, -500],
  );
  assert.throws(() => invoiceFinalizedPostings(a, { total: 5, tax: 6, currency: "EUR" }), RangeError);
  // exclusive 50 % on one 2-cent usage line: tax 1, total 3
  const inv = computePeriodInvoice({
    period: { ...jan, trial: false },
    full_period: jan,
    segments: [{
      plan: { ...basic, base_amount: 0 },
      start: jan.start,
      end: jan.end,
      usage: new Map([["calls", 1]]),
      proration: "none",
    }],
    ...plain,
    tax_rate: { percentage_bp: 5000, inclusive: false },
  });
  assert.deepEqual([inv.subtotal, inv.tax, inv.total], [2, 1, 3]);
});
