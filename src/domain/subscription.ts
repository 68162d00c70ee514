/**
 * Subscriptions: periods, trials and cancellation as pure rules.
 *
 * - A subscription starts at `start_at` (now, or backdated; never in the future). With
 *   `trial_days > 0` it is `trialing` until `trial_end = start_at + trial_days × 24 h`, and the
 *   trial is its own period `[start_at, trial_end)`.
 * - Recurring periods follow the billing anchor (`trial_end` when there is a trial, else
 *   `start_at`) with the anchor rule of `period.ts` (Jan 31 → Feb 28/29 → Mar 31).
 * - Cancellation sets `cancel_at`: now (immediately) or the end of the current period. From
 *   `cancel_at` on, the status is `canceled` and the last period is truncated at `cancel_at`.
 * Status is derived from these instants and the clock, never stored, so it cannot go stale.
 *
 * @module
 */
import { BillingError } from "./errors.ts";
import { addDays, type Interval, type Period, periodContaining } from "./period.ts";

/** Derived lifecycle status. */
export type SubscriptionStatus = "trialing" | "active" | "canceled";

/** The instants that define a subscription's timeline (UTC). */
export interface SubscriptionTimeline {
  start_at: Date;
  trial_end: Date | null;
  /** Billing cycle anchor: `trial_end ?? start_at`. */
  billing_anchor: Date;
  /** When the subscription ends (set by cancellation), or `null`. */
  cancel_at: Date | null;
}

/** A billing period of a subscription: a recurring period, or the trial (`index` -1). */
export interface BillingPeriod extends Period {
  trial: boolean;
}

/** Largest backdating allowed, so a mistyped year cannot bill decades of periods. */
export const MAX_BACKDATE_DAYS = 366;

/**
 * Timeline of a new subscription.
 *
 * @param now the clock's instant
 * @throws {BillingError} `start_at_in_future` (422) when `start_at` > now;
 *   `start_at_too_old` when backdated more than {@link MAX_BACKDATE_DAYS}
 */
export function startTimeline(input: { start_at?: Date; trial_days: number; now: Date }): SubscriptionTimeline {
  const start = input.start_at ?? input.now;
  if (start.getTime() > input.now.getTime()) {
    throw new BillingError("start_at_in_future", "unprocessable", `The start_at ${start.toISOString()} is in the future`);
  }
  if (input.now.getTime() - start.getTime() > MAX_BACKDATE_DAYS * 86_400_000) {
    throw new BillingError(
      "start_at_too_old",
      "unprocessable",
      `The start_at ${start.toISOString()} is more than ${MAX_BACKDATE_DAYS} days in the past`,
    );
  }
  const trialEnd = input.trial_days > 0 ? addDays(start, input.trial_days) : null;
  return { start_at: start, trial_end: trialEnd, billing_anchor: trialEnd ?? start, cancel_at: null };
}

/** Status at `now`. */
export function statusAt(t: SubscriptionTimeline, now: Date): SubscriptionStatus {
  if (t.cancel_at && now.getTime() >= t.cancel_at.getTime()) return "canceled";
  if (t.trial_end && now.getTime() < t.trial_end.getTime()) return "trialing";
  return "active";
}

/**
 * The billing period containing `at`: the trial period before `trial_end`, else the recurring
 * period, truncated at `cancel_at`. For `at` at or after `cancel_at`, the last period.
 */
export function periodAt(t: SubscriptionTimeline, interval: Interval, at: Date): BillingPeriod {
  let instant = at;
  if (t.cancel_at && at.getTime() >= t.cancel_at.getTime()) instant = new Date(t.cancel_at.getTime() - 1);
  if (t.trial_end && instant.getTime() < t.trial_end.getTime()) {
    return truncate({ start: t.start_at, end: t.trial_end, index: -1, trial: true }, t.cancel_at);
  }
  const period = periodContaining(t.billing_anchor, interval, instant);
  return truncate({ ...period, trial: false }, t.cancel_at);
}

/**
 * Resolves a period a client named by its bounds. Accepts exactly the subscription's periods
 * (trial or recurring, the last one truncated by cancellation) that have started by `now`.
 *
 * @throws {BillingError} `invalid_period` (422) otherwise
 */
export function resolvePeriod(
  t: SubscriptionTimeline,
  interval: Interval,
  start: Date,
  end: Date,
  now: Date,
): BillingPeriod {
  const fail = () =>
    new BillingError(
      "invalid_period",
      "unprocessable",
      `The period ${start.toISOString()} – ${end.toISOString()} is not a billing period of this subscription`,
    );
  if (start.getTime() < t.start_at.getTime() || start.getTime() > now.getTime()) throw fail();
  const period = periodAt(t, interval, start);
  if (period.start.getTime() !== start.getTime() || period.end.getTime() !== end.getTime()) throw fail();
  return period;
}

/**
 * When a cancellation takes effect.
 *
 * @throws {BillingError} `subscription_canceled` (409) when already canceled at `now`
 */
export function cancelAt(t: SubscriptionTimeline, interval: Interval, atPeriodEnd: boolean, now: Date): Date {
  if (statusAt(t, now) === "canceled") {
    throw new BillingError("subscription_canceled", "conflict", "The subscription is already canceled");
  }
  const target = atPeriodEnd ? periodAt({ ...t, cancel_at: null }, interval, now).end : now;
  // Cancelling again never pushes an earlier end later.
  if (t.cancel_at && t.cancel_at.getTime() <= target.getTime()) return t.cancel_at;
  return target;
}

function truncate(period: BillingPeriod, cancelAt: Date | null): BillingPeriod {
  if (cancelAt && cancelAt.getTime() < period.end.getTime() && cancelAt.getTime() > period.start.getTime()) {
    return { ...period, end: cancelAt };
  }
  return period;
}
