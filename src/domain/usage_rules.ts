/**
 * Timing rules of usage events (pure).
 *
 * - **Future skew**: an event may carry a timestamp at most {@link MAX_FUTURE_SKEW_SECONDS}
 *   (5 minutes) ahead of the server clock, for clients whose clocks drift; further ahead it is
 *   rejected with `timestamp_in_future` (422 on the item). All instants are UTC.
 * - **Late events**: an event belongs to the billing period containing its timestamp. It is
 *   accepted while that period's invoice is still a draft (or not yet generated); once the
 *   invoice is finalized (open, paid, uncollectible) the period is **closed** and the event is
 *   rejected with `period_closed` (409 on the item), as Lago refuses events for invoiced periods
 *   after the grace period. The billing job keeps a period's invoice a draft for the plan's
 *   `invoice_grace_period_hours` after the period ends, which is therefore the window for late
 *   events. A voided invoice reopens its period (it will be invoiced again).
 * - **Pauses**: an event timestamped inside a pause of the customer's subscription is rejected
 *   with `subscription_paused` (409 on the item): paused time is neither charged nor metered.
 * - **Idempotency keys** (event ids) are kept as long as the event row: at least
 *   {@link IDEMPOTENCY_RETENTION_DAYS} days (rows are never pruned today). A retry after a future
 *   retention window cannot double bill when the event carries its timestamp: its period is
 *   closed by then, so the retry is rejected with `period_closed`. A retry without a timestamp
 *   would be stamped anew; clients must send timestamps for retries older than the window.
 *
 * @module
 */

/** Allowed clock skew for timestamps ahead of the server, in seconds. */
export const MAX_FUTURE_SKEW_SECONDS = 300;

/** Minimum retention of usage event ids (idempotency keys), in days. */
export const IDEMPOTENCY_RETENTION_DAYS = 35;

/** A closed period of a customer: `[start, end)` invoiced by the finalized invoice `number`. */
export interface ClosedPeriod {
  /** Period start (inclusive). */
  start: Date;
  /** Period end (exclusive). */
  end: Date;
  /** Number of the finalized invoice. */
  invoice_number: string | null;
}

/** Why an event's timestamp is refused. */
export interface TimingViolation {
  /** Stable code of the rejection. */
  code: "timestamp_in_future" | "period_closed" | "subscription_paused";
  /** HTTP status of the item (422 or 409). */
  status: number;
  /** Human explanation naming the instants. */
  message: string;
}

/**
 * Checks an event's timestamp against the clock and the customer's closed periods.
 *
 * @returns the violation, or `null` when the event may be stored
 */
export function eventTimingViolation(
  timestamp: Date,
  now: Date,
  closed: readonly ClosedPeriod[],
  paused: readonly { start: Date; end: Date | null }[] = [],
): TimingViolation | null {
  if (timestamp.getTime() > now.getTime() + MAX_FUTURE_SKEW_SECONDS * 1000) {
    return {
      code: "timestamp_in_future",
      status: 422,
      message:
        `The timestamp ${timestamp.toISOString()} is more than ${MAX_FUTURE_SKEW_SECONDS} s ahead of the server clock`,
    };
  }
  const period = closed.find((p) =>
    p.start.getTime() <= timestamp.getTime() && timestamp.getTime() < p.end.getTime()
  );
  if (period) {
    return {
      code: "period_closed",
      status: 409,
      message: `The period ${period.start.toISOString()} – ${period.end.toISOString()} is closed (invoice ${
        period.invoice_number ?? "finalized"
      }); late usage is accepted only while its invoice is a draft`,
    };
  }
  const pause = paused.find((p) =>
    p.start.getTime() <= timestamp.getTime() && (p.end === null || timestamp.getTime() < p.end.getTime())
  );
  if (pause) {
    return {
      code: "subscription_paused",
      status: 409,
      message:
        `The subscription was paused at ${timestamp.toISOString()} (paused from ${pause.start.toISOString()}); paused time takes no usage`,
    };
  }
  return null;
}

/** Buckets of `[from, to)` by UTC day (`day`) or one bucket (`none`); at most `max` buckets. */
export function usageBuckets(
  from: Date,
  to: Date,
  groupBy: "day" | "none",
  max = 366,
): { start: Date; end: Date }[] | null {
  if (groupBy === "none") return [{ start: from, end: to }];
  const day = 86_400_000;
  const buckets: { start: Date; end: Date }[] = [];
  let start = from.getTime();
  while (start < to.getTime()) {
    const next = Math.min((Math.floor(start / day) + 1) * day, to.getTime());
    buckets.push({ start: new Date(start), end: new Date(next) });
    if (buckets.length > max) return null;
    start = next;
  }
  return buckets;
}
