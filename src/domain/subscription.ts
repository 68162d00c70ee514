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
 * - A subscription created with a fixed end (`end_at`) stores it as `cancel_at` without a
 *   `canceled_at`: it reaches `expired` instead of `canceled` (Lago's "terminated at ending_at").
 * - Plan changes (ADR 0004): `planChangeDecision` picks when a change takes effect and whether it
 *   prorates; `planSegments` splits a period into slices billed at one plan each.
 * Status is derived from these instants and the clock, never stored, so it cannot go stale.
 *
 * @module
 */
import { BillingError } from "./errors.ts";
import { addDays, type Interval, type Period, periodContaining } from "./period.ts";

/** Derived lifecycle status. */
export type SubscriptionStatus = "trialing" | "active" | "paused" | "canceled" | "expired";

/**
 * A pause `[start, end)` (`end` null while paused). While paused: status `paused`, entitlement
 * checks deny, no base fee is charged for the paused time (a proration credit on the period's
 * invoice), usage events timestamped inside the pause are refused, and the plan cannot change.
 * Periods stay anchored: a pause does not move the billing cycle (unlike a cancellation and a
 * new subscription). Trials are not extended.
 */
export interface PauseWindow {
  /** When the pause began (inclusive). */
  start: Date;
  /** When the subscription resumed (exclusive); `null` while still paused. */
  end: Date | null;
}

/** Whether `at` falls inside one of the pauses. */
export function pausedAt(pauses: readonly PauseWindow[], at: Date): boolean {
  return pauses.some((p) =>
    p.start.getTime() <= at.getTime() && (p.end === null || at.getTime() < p.end.getTime())
  );
}

/** The paused parts of `[start, end)`, clipped, in time order, overlapping pauses merged. */
export function pausedSlices(
  pauses: readonly PauseWindow[],
  start: Date,
  end: Date,
): { start: Date; end: Date }[] {
  const slices = pauses
    .map((p) => ({
      start: Math.max(p.start.getTime(), start.getTime()),
      end: Math.min(p.end?.getTime() ?? Number.POSITIVE_INFINITY, end.getTime()),
    }))
    .filter((p) => p.end > p.start)
    .sort((a, b) => a.start - b.start);
  const merged: { start: number; end: number }[] = [];
  for (const p of slices) {
    const last = merged[merged.length - 1];
    if (last && p.start <= last.end) last.end = Math.max(last.end, p.end);
    else merged.push({ ...p });
  }
  return merged.map((p) => ({ start: new Date(p.start), end: new Date(p.end) }));
}

/** The instants that define a subscription's timeline (UTC). */
export interface SubscriptionTimeline {
  /** When the subscription began (may be backdated up to {@link MAX_BACKDATE_DAYS}). */
  start_at: Date;
  /** End of the free trial, `start_at + trial_days`; `null` without a trial. */
  trial_end: Date | null;
  /** Billing cycle anchor: `trial_end ?? start_at`. */
  billing_anchor: Date;
  /** When the subscription ends (set by cancellation or a fixed end), or `null`. */
  cancel_at: Date | null;
  /** When a client canceled; `null` with a `cancel_at` means a fixed end (→ `expired`). */
  canceled_at?: Date | null;
}

/** A billing period of a subscription: a recurring period, or the trial (`index` -1). */
export interface BillingPeriod extends Period {
  /** `true` for the trial, which is never charged a base fee. */
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
export function startTimeline(
  input: { start_at?: Date; trial_days: number; now: Date },
): SubscriptionTimeline {
  const start = input.start_at ?? input.now;
  if (start.getTime() > input.now.getTime()) {
    throw new BillingError(
      "start_at_in_future",
      "unprocessable",
      `The start_at ${start.toISOString()} is in the future`,
    );
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

/** Status at `now` (`paused` when `now` is inside one of `pauses`). */
export function statusAt(
  t: SubscriptionTimeline,
  now: Date,
  pauses: readonly PauseWindow[] = [],
): SubscriptionStatus {
  if (t.cancel_at && now.getTime() >= t.cancel_at.getTime()) {
    return t.canceled_at === null ? "expired" : "canceled";
  }
  if (pausedAt(pauses, now)) return "paused";
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
  const status = statusAt(t, now);
  if (status === "canceled" || status === "expired") {
    throw new BillingError("subscription_canceled", "conflict", `The subscription is already ${status}`);
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

/** How a plan change prorates: `prorate` (credit + charge to the second) or `none`. */
export type ProrationBehavior = "prorate" | "none";

/** When a plan change takes effect. */
export type ChangeTiming = "now" | "period_end";

/** A plan change as stored (pending when `effective_at` is in the future). */
export interface PlanChange {
  /** Plan before the change (`plan_…`). */
  from_plan_id: string;
  /** Plan after the change (`plan_…`). */
  to_plan_id: string;
  /** When the new plan applies: now for upgrades, the period end for downgrades by default. */
  effective_at: Date;
  /** Whether the period's base fee is split between the two plans to the second. */
  proration: ProrationBehavior;
}

/** What {@link planChangeDecision} decided. */
export interface PlanChangeDecision {
  /** `upgrade` when the new base fee is higher than the old, else `downgrade`. */
  direction: "upgrade" | "downgrade";
  /** When the change applies (the requested timing, the `proration_date`, or the direction's default). */
  effective_at: Date;
  /** The requested proration, default `prorate`. */
  proration: ProrationBehavior;
  /**
   * `true` for an interval change (monthly ↔ yearly): the current period ends at `effective_at`
   * (its unused time credited, invoiced at once) and the billing anchor resets to it (Stripe's
   * rule for interval changes).
   */
  resets_anchor: boolean;
}

/**
 * Decides a plan change (rules as Stripe's documented defaults, adapted to billing in arrears):
 * - an **upgrade** (new base fee > old) takes effect now; a **downgrade** (≤) at the end of the
 *   current period. `effective` overrides either default.
 * - `proration` defaults to `prorate`; it only matters for changes inside a period.
 * - `proration_date` (Stripe's): the change (upgrade or downgrade) takes effect, and prorates to
 *   the second, at that instant instead of now. It must lie in the current period (`start ≤ date < end`) and not
 *   before the last applied change (`not_before`); a date after now schedules the change then.
 * - the new plan must have the same currency (one currency per subscription).
 * - a different **interval** (monthly ↔ yearly) is an interval change: it takes effect now (or
 *   at a `proration_date` not after now), always credits the unused time, and resets the billing
 *   anchor to that instant (`resets_anchor`), as Stripe does.
 *
 * @throws {BillingError} `subscription_canceled` (409) when canceled/expired at `now`;
 *   `currency_mismatch` (422); `interval_mismatch` (422) for an interval change asked for the period
 *   end; `proration_date_outside_period` (400); `validation_failed` (400) for `proration_date`
 *   with `effective: "period_end"`, or `proration: "none"` on an interval change;
 *   `subscription_ending` (422) when a period-end change would start after the subscription ends
 */
export function planChangeDecision(input: {
  timeline: SubscriptionTimeline;
  from: { base_amount: number; currency: string; interval: Interval };
  to: { base_amount: number; currency: string; interval: Interval };
  effective?: ChangeTiming;
  proration?: ProrationBehavior;
  /** Instant the change takes effect and prorates at (Stripe's `proration_date`). */
  proration_date?: Date;
  /** Effective instant of the last applied change; a `proration_date` may not precede it. */
  not_before?: Date;
  now: Date;
}): PlanChangeDecision {
  const status = statusAt(input.timeline, input.now);
  if (status === "canceled" || status === "expired") {
    throw new BillingError(
      "subscription_canceled",
      "conflict",
      `The subscription is ${status}; its plan cannot change`,
    );
  }
  if (input.from.currency !== input.to.currency) {
    throw new BillingError(
      "currency_mismatch",
      "unprocessable",
      `The new plan is in ${input.to.currency}, the subscription in ${input.from.currency}; one currency per subscription`,
    );
  }
  const resetsAnchor = input.from.interval !== input.to.interval;
  if (resetsAnchor && input.effective === "period_end") {
    throw new BillingError(
      "interval_mismatch",
      "unprocessable",
      `A change from per-${input.from.interval} to per-${input.to.interval} billing takes effect now (the billing anchor resets); it cannot wait for the period end`,
    );
  }
  if (resetsAnchor && input.proration === "none") {
    throw new BillingError(
      "validation_failed",
      "invalid_request",
      "An interval change always credits the unused time of the current period",
      { fields: [{ path: "proration", message: 'Must be "prorate" (or absent) for an interval change' }] },
    );
  }
  const direction = input.to.base_amount > input.from.base_amount ? "upgrade" : "downgrade";
  const date = input.proration_date;
  // A dated change (either direction) takes effect at its date, inside the period.
  const timing = resetsAnchor || date
    ? "now"
    : input.effective ?? (direction === "upgrade" ? "now" : "period_end");
  if (date) {
    if (input.effective === "period_end") {
      throw new BillingError(
        "validation_failed",
        "invalid_request",
        "A proration_date applies to a change that takes effect within the period, not at its end",
        { fields: [{ path: "proration_date", message: 'Not allowed with effective "period_end"' }] },
      );
    }
    const period = periodAt(input.timeline, input.from.interval, input.now);
    const latest = resetsAnchor ? input.now : period.end;
    const earliest = input.not_before && input.not_before.getTime() > period.start.getTime()
      ? input.not_before
      : period.start;
    if (
      date.getTime() < earliest.getTime() || date.getTime() >= latest.getTime() ||
      (resetsAnchor && date.getTime() > input.now.getTime())
    ) {
      throw new BillingError(
        "proration_date_outside_period",
        "invalid_request",
        `The proration_date ${date.toISOString()} is outside ${earliest.toISOString()} – ${latest.toISOString()}` +
          (resetsAnchor ? " (an interval change cannot be dated after now)" : " (the current period)"),
        { fields: [{ path: "proration_date", message: "Must lie within the current period" }] },
      );
    }
  }
  const effectiveAt = date ??
    (timing === "now"
      ? input.now
      : periodAt({ ...input.timeline, cancel_at: null }, input.from.interval, input.now).end);
  if (input.timeline.cancel_at && effectiveAt.getTime() >= input.timeline.cancel_at.getTime()) {
    throw new BillingError(
      "subscription_ending",
      "unprocessable",
      `The subscription ends at ${input.timeline.cancel_at.toISOString()}, before the change would take effect`,
    );
  }
  return {
    direction,
    effective_at: effectiveAt,
    proration: resetsAnchor ? "prorate" : input.proration ?? "prorate",
    resets_anchor: resetsAnchor,
  };
}

/**
 * The timeline after an interval change at `at` (Stripe's rule): the billing anchor becomes `at`,
 * so the next period is `[at, at + new interval)`; a trial still running at `at` ends there.
 * The period cut at `at` is invoiced by the caller before (with the old anchor).
 */
export function timelineAfterIntervalChange(t: SubscriptionTimeline, at: Date): SubscriptionTimeline {
  const trialEnd = t.trial_end && t.trial_end.getTime() > at.getTime() ? at : t.trial_end;
  return { ...t, trial_end: trialEnd, billing_anchor: at };
}

/**
 * The coupon's first counted period index after an interval change that cut period `cutIndex`
 * (−1 for the trial): periods restart at 0 at the new anchor, so the periods already discounted
 * (through the cut one) are taken off: `first − (cutIndex + 1)`. A `repeating` coupon keeps its
 * remaining periods, a used `once` coupon stays used.
 */
export function rebasedFirstPeriodIndex(firstPeriodIndex: number, cutIndex: number): number {
  return firstPeriodIndex - (cutIndex + 1);
}

/** The plan in effect at `at`, given the plan the subscription started on and its changes. */
export function planIdAt(initialPlanId: string, changes: readonly PlanChange[], at: Date): string {
  let plan = initialPlanId;
  for (const c of [...changes].sort((a, b) => a.effective_at.getTime() - b.effective_at.getTime())) {
    if (c.effective_at.getTime() <= at.getTime()) plan = c.to_plan_id;
  }
  return plan;
}

/** The plan a subscription started on: the first change's `from_plan_id`, else its current plan. */
export function initialPlanId(currentPlanId: string, changes: readonly PlanChange[]): string {
  const sorted = [...changes].sort((a, b) => a.effective_at.getTime() - b.effective_at.getTime());
  return sorted[0]?.from_plan_id ?? currentPlanId;
}

/** A slice of a period billed at one plan. */
export interface PlanSlice {
  /** Plan billed for this slice (`plan_…`). */
  plan_id: string;
  /** Start of the slice (inclusive). */
  start: Date;
  /** End of the slice (exclusive). */
  end: Date;
  /** Proration of the change that started the slice (`none` for the first slice). */
  proration: ProrationBehavior;
}

/**
 * Splits `[start, end)` at the plan changes strictly inside it. Always at least one slice; a
 * change exactly at `start` decides the first slice's plan and prorates nothing.
 */
export function planSegments(
  initialPlan: string,
  changes: readonly PlanChange[],
  start: Date,
  end: Date,
): PlanSlice[] {
  const inside = [...changes]
    .sort((a, b) => a.effective_at.getTime() - b.effective_at.getTime())
    .filter((c) => c.effective_at.getTime() > start.getTime() && c.effective_at.getTime() < end.getTime());
  const slices: PlanSlice[] = [{
    plan_id: planIdAt(initialPlan, changes, start),
    start,
    end,
    proration: "none",
  }];
  for (const c of inside) {
    const last = slices[slices.length - 1];
    if (c.to_plan_id === last.plan_id) continue;
    last.end = c.effective_at;
    slices.push({ plan_id: c.to_plan_id, start: c.effective_at, end, proration: c.proration });
  }
  return slices.filter((s) => s.end.getTime() > s.start.getTime());
}
