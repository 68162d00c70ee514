/**
 * Coupons and discounts (pure rules).
 *
 * - A coupon takes `percent_off` (stored in basis points: 12.5 % = 1250) **or** `amount_off` in
 *   minor units of its `currency`.
 * - Duration (as Stripe's coupon `duration`): `once` applies to the first invoice, from the first
 *   counted period on, that has something to discount (a zero-cost period does not use it up; see
 *   {@link onceCouponApplies}), `repeating` to `duration_periods` consecutive recurring periods,
 *   `forever` to every period. Periods are counted from the first recurring period that starts at or after the
 *   redemption's period (a redemption during a trial starts counting at the first paid period;
 *   Stripe counts months from redemption, which for anchored monthly periods is the same).
 * - Redemption rules: the coupon is redeemable between `valid_from` and `redeem_by` (half-open:
 *   `valid_from ≤ now < redeem_by`), at most `max_redemptions` times in the app, for plans in
 *   `plan_ids` (null = all), and `amount_off` only in the subscription's currency.
 * - Amount: `percent_off` → `round_half_up(discountable × bp / 10 000)`; `amount_off` →
 *   `min(amount_off, discountable)`. `discountable = max(0, subtotal)`: a discount never makes the
 *   total (or any line) negative.
 * - Allocation to lines (needed for per-line tax): the discount is split over the **positive**
 *   lines in proportion to their amounts, floors first, then the leftover minor units go one each
 *   to the lines with the largest remainders (ties: earlier line first). Each line's share is ≤ its
 *   amount and the shares sum to the discount exactly.
 *
 * @module
 */
import { BillingError, type FieldIssue, invalid } from "./errors.ts";
import { assertAmount, divide } from "./money.ts";

/** How long a redeemed coupon keeps discounting. */
export type CouponDuration = "once" | "repeating" | "forever";

/** A coupon as the rules need it. */
export interface Coupon {
  /** TypeID `cpn_…`. */
  id: string;
  /** Client-chosen code, unique per app (`SPRING20`). */
  code: string;
  /** Basis points (1 = 0.01 %), 1…10 000, or null for an amount-off coupon. */
  percent_off_bp: number | null;
  /** Minor units of `currency`, or null for a percent-off coupon. */
  amount_off: number | null;
  /** ISO 4217 code of `amount_off`, null for percent-off. */
  currency: string | null;
  /** How many periods a redemption discounts (module rule). */
  duration: CouponDuration;
  /** Number of recurring periods for `repeating`, else null. */
  duration_periods: number | null;
  /** Redemptions allowed in the app; null = unlimited. */
  max_redemptions: number | null;
  /** Redemptions so far. */
  times_redeemed: number;
  /** First instant it may be redeemed (inclusive), null = always. */
  valid_from: Date | null;
  /** Instant from which it can no longer be redeemed (exclusive), null = never. */
  redeem_by: Date | null;
  /** Plans the coupon is restricted to; null = every plan. */
  plan_ids: string[] | null;
}

/** Coupon fields as a client sends them (percent as a decimal with at most 2 decimals). */
export interface CouponInput {
  /** Code, unique per app. */
  code: string;
  /** Percentage 0 < x ≤ 100 with at most 2 decimals. */
  percent_off?: number;
  /** Minor units of `currency`. */
  amount_off?: number;
  /** ISO 4217 code, required with `amount_off`. */
  currency?: string;
  /** `once`, `repeating` or `forever`. */
  duration: CouponDuration;
  /** Periods for `repeating` (≥ 1). */
  duration_periods?: number;
  /** Redemptions allowed in the app. */
  max_redemptions?: number;
  /** Redeemable from (inclusive). */
  valid_from?: Date;
  /** Redeemable until (exclusive). */
  redeem_by?: Date;
  /** Plans it is restricted to (empty/absent = all). */
  plan_ids?: string[];
}

/**
 * Checks a coupon definition and converts `percent_off` to basis points exactly.
 *
 * @throws {BillingError} `validation_failed` listing every violated rule with its field
 */
export function checkCoupon(input: CouponInput): Pick<
  Coupon,
  | "percent_off_bp"
  | "amount_off"
  | "currency"
  | "duration"
  | "duration_periods"
  | "max_redemptions"
  | "valid_from"
  | "redeem_by"
  | "plan_ids"
> {
  const issues: FieldIssue[] = [];
  const hasPercent = input.percent_off !== undefined;
  const hasAmount = input.amount_off !== undefined;
  if (hasPercent === hasAmount) {
    issues.push({ path: "percent_off", message: "Give exactly one of percent_off and amount_off" });
  }
  let bp: number | null = null;
  if (hasPercent) {
    const scaled = Math.round(input.percent_off! * 100);
    // Exactly representable with at most two decimals: 12.5 → 1250; 12.345 is refused, not rounded.
    if (Math.abs(scaled - input.percent_off! * 100) > 1e-6 || scaled < 1 || scaled > 10_000) {
      issues.push({
        path: "percent_off",
        message: "Must be greater than 0 and at most 100, with at most 2 decimals",
      });
    } else bp = scaled;
  }
  if (hasAmount) {
    if (!Number.isSafeInteger(input.amount_off) || input.amount_off! < 1) {
      issues.push({ path: "amount_off", message: "Must be a positive integer of minor units" });
    }
    if (!input.currency) issues.push({ path: "currency", message: "Required with amount_off" });
  }
  if (hasPercent && input.currency) issues.push({ path: "currency", message: "Only used with amount_off" });
  if (input.duration === "repeating") {
    if (input.duration_periods === undefined || input.duration_periods < 1) {
      issues.push({ path: "duration_periods", message: 'Required (≥ 1) when duration is "repeating"' });
    }
  } else if (input.duration_periods !== undefined) {
    issues.push({ path: "duration_periods", message: 'Only used when duration is "repeating"' });
  }
  if (input.valid_from && input.redeem_by && input.redeem_by.getTime() <= input.valid_from.getTime()) {
    issues.push({ path: "redeem_by", message: "Must be after valid_from" });
  }
  if (issues.length > 0) throw invalid(issues, "The coupon breaks one or more rules");
  return {
    percent_off_bp: bp,
    amount_off: hasAmount ? input.amount_off! : null,
    currency: hasAmount ? input.currency! : null,
    duration: input.duration,
    duration_periods: input.duration === "repeating" ? input.duration_periods! : null,
    max_redemptions: input.max_redemptions ?? null,
    valid_from: input.valid_from ?? null,
    redeem_by: input.redeem_by ?? null,
    plan_ids: input.plan_ids && input.plan_ids.length > 0 ? [...input.plan_ids] : null,
  };
}

/**
 * Whether a coupon may be redeemed now on a subscription of `planId` in `currency`.
 *
 * @throws {BillingError} `coupon_not_yet_valid`, `coupon_expired`, `coupon_max_redemptions_reached`,
 *   `coupon_not_applicable_to_plan`, `coupon_currency_mismatch` (all 422)
 */
export function assertRedeemable(
  coupon: Coupon,
  input: { planId: string; currency: string; now: Date },
): void {
  const fail = (code: string, message: string) => new BillingError(code, "unprocessable", message);
  if (coupon.valid_from && input.now.getTime() < coupon.valid_from.getTime()) {
    throw fail(
      "coupon_not_yet_valid",
      `Coupon "${coupon.code}" is valid from ${coupon.valid_from.toISOString()}`,
    );
  }
  if (coupon.redeem_by && input.now.getTime() >= coupon.redeem_by.getTime()) {
    throw fail(
      "coupon_expired",
      `Coupon "${coupon.code}" could be redeemed until ${coupon.redeem_by.toISOString()}`,
    );
  }
  if (coupon.max_redemptions !== null && coupon.times_redeemed >= coupon.max_redemptions) {
    throw fail(
      "coupon_max_redemptions_reached",
      `Coupon "${coupon.code}" was redeemed ${coupon.times_redeemed} times already`,
    );
  }
  if (coupon.plan_ids && !coupon.plan_ids.includes(input.planId)) {
    throw fail(
      "coupon_not_applicable_to_plan",
      `Coupon "${coupon.code}" does not apply to plan "${input.planId}"`,
    );
  }
  if (coupon.currency && coupon.currency !== input.currency) {
    throw fail(
      "coupon_currency_mismatch",
      `Coupon "${coupon.code}" is in ${coupon.currency}, the subscription in ${input.currency}`,
    );
  }
}

/**
 * Whether a redeemed coupon discounts the recurring period `periodIndex` of a plan.
 *
 * @param firstPeriodIndex first recurring period counted (see module rule)
 * @param periodIndex index of the period being invoiced (trial periods are never discounted:
 *   they have no base fee, and counting them would spend a `once` coupon on a trial)
 */
export function discountApplies(
  coupon: Pick<Coupon, "duration" | "duration_periods" | "plan_ids">,
  firstPeriodIndex: number,
  periodIndex: number,
  planId: string,
): boolean {
  if (periodIndex < firstPeriodIndex) return false;
  if (coupon.plan_ids && !coupon.plan_ids.includes(planId)) return false;
  switch (coupon.duration) {
    case "forever":
      return true;
    case "once":
      return periodIndex === firstPeriodIndex;
    case "repeating":
      return periodIndex < firstPeriodIndex + (coupon.duration_periods ?? 0);
  }
}

/**
 * Discount in minor units on a subtotal (see module rule). Never negative, never above
 * `max(0, subtotal)`.
 */
export function discountAmount(
  coupon: Pick<Coupon, "percent_off_bp" | "amount_off">,
  subtotal: number,
): number {
  const discountable = Math.max(0, subtotal);
  if (coupon.percent_off_bp !== null) {
    return assertAmount(
      divide(BigInt(discountable) * BigInt(coupon.percent_off_bp), 10_000n, "half_up"),
      "discount",
    );
  }
  return Math.min(coupon.amount_off ?? 0, discountable);
}

/**
 * Splits `discount` over line amounts (see module rule: positive lines, largest remainder).
 *
 * @returns one share per line (0 for non-positive lines); shares sum to `discount`
 * @throws {RangeError} when `discount` exceeds the sum of positive lines (a caller bug)
 */
export function allocateDiscount(amounts: readonly number[], discount: number): number[] {
  const positive = amounts.reduce((s, a) => (a > 0 ? s + BigInt(a) : s), 0n);
  const total = BigInt(discount);
  if (total < 0n || total > positive) {
    throw new RangeError("allocateDiscount(): discount outside 0…positive subtotal");
  }
  if (total === 0n) return amounts.map(() => 0);
  const shares = amounts.map((a) => (a > 0 ? (BigInt(a) * total) / positive : 0n));
  const remainders = amounts.map((a, i) => ({ i, r: a > 0 ? (BigInt(a) * total) % positive : -1n }));
  let left = total - shares.reduce((s, x) => s + x, 0n);
  remainders.sort((x, y) => (x.r === y.r ? x.i - y.i : x.r > y.r ? -1 : 1));
  for (const { i, r } of remainders) {
    if (left === 0n) break;
    if (r <= 0n) continue;
    shares[i] += 1n;
    left -= 1n;
  }
  return shares.map(Number);
}

/**
 * Whether a redeemed `once` coupon discounts the period `periodIndex`: from its first counted
 * period on, as long as no other (non-void, finalized) invoice of the subscription took a discount
 * from it. A period with nothing to discount leaves it for the next invoice with an amount (ADR 0004).
 *
 * @param usedByAnotherInvoice whether another finalized, non-void invoice carries a discount from it
 */
export function onceCouponApplies(
  coupon: Pick<Coupon, "plan_ids">,
  firstPeriodIndex: number,
  periodIndex: number,
  planId: string,
  usedByAnotherInvoice: boolean,
): boolean {
  return !usedByAnotherInvoice &&
    discountApplies(
      { ...coupon, duration: "forever", duration_periods: null },
      firstPeriodIndex,
      periodIndex,
      planId,
    );
}
