/**
 * Proration: the share of a recurring fee that belongs to part of a billing period.
 *
 * Rule (as Stripe documents for `proration_behavior: create_prorations`): prorations are exact to
 * the **second**. The fraction is `seconds / period_seconds`, where `period_seconds` is the length
 * of the full (untruncated) billing period the instant falls in, so February credits are computed
 * against 28 (or 29) days and March against 31. Instants are truncated to whole seconds (floor of
 * the millisecond timestamp ÷ 1000) before counting, so two changes in the same second prorate
 * alike. The amount is `round_half_up(fee × seconds / period_seconds)` computed in bigint; each
 * proration line is rounded on its own (Stripe rounds each proration item).
 *
 * @module
 */
import { assertAmount, divide } from "./money.ts";

/** Whole seconds of an instant since the epoch (floor; all instants are UTC). */
export function epochSeconds(at: Date): bigint {
  return divide(BigInt(at.getTime()), 1000n, "floor");
}

/**
 * `fee × (to − from) / (period_end − period_start)`, all in whole seconds, rounded half up.
 *
 * @param fee minor units (≥ 0)
 * @param slice the part of the period to charge or credit; must lie inside the period
 * @returns minor units, 0 ≤ result ≤ fee
 * @throws {RangeError} when the slice is not inside the period or the period is empty (a caller bug)
 *
 * @example
 * // 4900 cents, upgrade on day 10 of a 31-day month → 22 days left of 31
 * prorate(4900, { start: jan1, end: feb1 }, { from: jan10, to: feb1 }) // = 3477
 */
export function prorate(
  fee: number,
  period: { start: Date; end: Date },
  slice: { from: Date; to: Date },
): number {
  const periodStart = epochSeconds(period.start);
  const periodEnd = epochSeconds(period.end);
  const from = epochSeconds(slice.from);
  const to = epochSeconds(slice.to);
  if (periodEnd <= periodStart) throw new RangeError("prorate(): empty period");
  if (from < periodStart || to > periodEnd || to < from) {
    throw new RangeError("prorate(): slice outside the period");
  }
  return assertAmount(divide(BigInt(fee) * (to - from), periodEnd - periodStart, "half_up"), "proration");
}
