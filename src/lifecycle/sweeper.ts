/**
 * Lifecycle events that no request causes: time passing.
 *
 * - `subscription.trial_ending`: once per subscription, when its trial ends within
 *   {@link TRIAL_ENDING_NOTICE_MS} (3 days, Stripe's `customer.subscription.trial_will_end`
 *   notice) and has not ended yet.
 * - `subscription.expired`: once per subscription, when a fixed end (`cancel_at` without a
 *   client cancellation, see `domain/subscription.ts`) has passed, within the last
 *   {@link EXPIRY_LOOKBACK_MS} (so a sweep does not rescan all history; the sweep must run at
 *   least that often — the Deno worker sweeps every second, the Workers cron every minute).
 *
 * Customers on a test clock get the same events from their clock's advance, at its simulated
 * instants ({@link sweepTestClock}).
 *
 * "Once" is enforced by the audit trail itself: a subscription is a candidate only while it has
 * no audit row of that action (index `audit_events_scope_resource_idx`), and the event, its
 * outbox row and its audit row are written in one transaction, so a crash or a concurrent sweep
 * can at worst find nothing left to do.
 *
 * @module
 */
import type { LifecycleEvent } from "../domain/events.ts";
import {
  type ClockOfScope,
  expiriesOfAllScopes,
  type SubscriptionRow,
  trialsEndingOfAllScopes,
} from "../subscriptions/repository.ts";
import type { Services } from "../context.ts";
import type { Tx } from "../storage/db.ts";
import { recordLifecycle, type WriteActor } from "./outbox.ts";

/** Notice before a trial ends, ms (3 days). */
export const TRIAL_ENDING_NOTICE_MS = 3 * 24 * 3_600_000;
/** How far back expiries are looked for, ms (7 days). */
export const EXPIRY_LOOKBACK_MS = 7 * 24 * 3_600_000;
/** Most events one sweep emits per kind (a limit on everything; the next sweep continues). */
export const MAX_SWEEP_EVENTS = 500;

/** What one sweep emitted. */
export interface SweepReport {
  /** `subscription.trial_ending` events emitted (at most {@link MAX_SWEEP_EVENTS}). */
  trial_ending: number;
  /** `subscription.expired` events emitted (at most {@link MAX_SWEEP_EVENTS}). */
  expired: number;
}

/** The due events as of `now`: on the wall clock, or of one test clock (`clock`). */
async function dueEvents(
  tx: Tx,
  now: Date,
  limit: number,
  clock?: ClockOfScope,
): Promise<{ events: LifecycleEvent[]; report: SweepReport }> {
  const trials = await trialsEndingOfAllScopes(
    tx,
    now,
    new Date(now.getTime() + TRIAL_ENDING_NOTICE_MS),
    limit,
    clock,
  );
  // A test clock has no lookback: it stops at every fixed end on its way (test_clocks/service.ts).
  const since = clock ? new Date(0) : new Date(now.getTime() - EXPIRY_LOOKBACK_MS);
  const expiries = await expiriesOfAllScopes(tx, now, since, limit, clock);
  const base = (s: SubscriptionRow) => ({
    id: s.id,
    customer_id: s.customer_id,
    plan_id: s.plan_id,
  });
  const events: LifecycleEvent[] = [];
  for (const s of trials) {
    events.push({
      type: "subscription.trial_ending",
      tenant_id: s.tenant_id,
      app_id: s.app_id,
      resource_id: s.id,
      occurred_at: now,
      data: { ...base(s), status: "trialing", trial_end: s.trial_end!.toISOString() },
    });
  }
  for (const s of expiries) {
    events.push({
      type: "subscription.expired",
      tenant_id: s.tenant_id,
      app_id: s.app_id,
      resource_id: s.id,
      occurred_at: now,
      data: { ...base(s), status: "expired", ended_at: s.cancel_at!.toISOString() },
    });
  }
  return { events, report: { trial_ending: trials.length, expired: expiries.length } };
}

/**
 * Emits the due time-based subscription events, as of `services.clock.now()`, in one write
 * transaction (outbox + audit, actor `system`); dispatches them after the commit. Customers on a
 * test clock are skipped: their clock's advance emits theirs ({@link sweepTestClock}).
 */
export async function sweepTimedEvents(
  services: Services,
  limit: number = MAX_SWEEP_EVENTS,
): Promise<SweepReport> {
  const now = services.clock.now();
  let events: LifecycleEvent[] = [];
  const report = await services.database.write(async (tx) => {
    const due = await dueEvents(tx, now, limit);
    events = due.events;
    await recordLifecycle(tx, { actor: "system", requestId: null }, events);
    return due.report;
  });
  await services.lifecycle.dispatch(events);
  return report;
}

/**
 * The same events for the customers of one test clock, as of its simulated instant `at` (one
 * stop of an advance): `occurred_at` is `at` where the wall-clock sweep uses now, and the data
 * are the same. Once per subscription and kind, like the sweep (the audit row is the mark), so a
 * retried advance emits nothing twice. Every due event is emitted (in runs of `limit`): an
 * advance must not leave any behind, since its clock does not stop here again.
 *
 * @param who the actor of the audit rows (an advance passes its own: `test_clock`)
 * @returns how many of each kind were emitted
 */
export async function sweepTestClock(
  services: Services,
  clock: ClockOfScope,
  at: Date,
  who: WriteActor,
  limit: number = MAX_SWEEP_EVENTS,
): Promise<SweepReport> {
  const total: SweepReport = { trial_ending: 0, expired: 0 };
  for (;;) {
    let events: LifecycleEvent[] = [];
    const report = await services.database.write(async (tx) => {
      const due = await dueEvents(tx, at, limit, clock);
      events = due.events;
      await recordLifecycle(tx, who, events);
      return due.report;
    });
    await services.lifecycle.dispatch(events);
    total.trial_ending += report.trial_ending;
    total.expired += report.expired;
    if (report.trial_ending < limit && report.expired < limit) return total;
  }
}
