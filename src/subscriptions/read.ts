/**
 * Reading subscriptions: the row, its plan changes and pauses, the live one of a customer, and
 * the view the API shows. Invoices and entitlements read through here; the writes live in
 * `service.ts`, so neither depends on the other's writes.
 *
 * @module
 */
import { notFound } from "../domain/errors.ts";
import { isId } from "../domain/ids.ts";
import type { Interval } from "../domain/period.ts";
import type { Plan } from "../domain/plan.ts";
import {
  type BillingPeriod,
  pausedAt,
  type PauseWindow,
  periodAt,
  type PlanChange,
  statusAt,
  type SubscriptionTimeline,
} from "../domain/subscription.ts";
import type { Executor } from "../storage/db.ts";
import {
  changeRows,
  openSubscriptionOf,
  pauseRows,
  type SubscriptionRow,
  subscriptionRows,
} from "./repository.ts";
import type { Ctx } from "../context.ts";
import { loadPlan } from "../plans/service.ts";
import { customerCtx } from "../test_clocks/time.ts";
import { inChunks } from "../storage/limits.ts";
import type { SubscriptionView } from "../domain/views.ts";
export type { SubscriptionView };

/** A stored subscription. */
export type { SubscriptionRow };

/** The timeline part of a row. */
export function timelineOf(row: SubscriptionRow): SubscriptionTimeline {
  return {
    start_at: row.start_at,
    trial_end: row.trial_end,
    billing_anchor: row.billing_anchor,
    cancel_at: row.cancel_at,
    canceled_at: row.canceled_at,
  };
}

/** Row → view at `now` for a plan of `interval`. */
export function subscriptionView(
  row: SubscriptionRow,
  interval: Interval,
  now: Date,
  changes: readonly PlanChange[] = [],
  pauses: readonly PauseWindow[] = [],
): SubscriptionView {
  const t = timelineOf(row);
  const period = periodAt(t, interval, now);
  const pending = changes.find((c) => c.effective_at.getTime() > now.getTime());
  const status = statusAt(t, now, pauses);
  const pause = status === "paused" ? pauses.find((p) => pausedAt([p], now)) : undefined;
  return {
    id: row.id,
    customer_id: row.customer_id,
    plan_id: row.plan_id,
    status,
    start_at: row.start_at.toISOString(),
    trial_end: row.trial_end?.toISOString() ?? null,
    billing_anchor: row.billing_anchor.toISOString(),
    current_period_start: period.start.toISOString(),
    current_period_end: period.end.toISOString(),
    cancel_at_period_end: row.cancel_at !== null && row.canceled_at !== null &&
      row.cancel_at.getTime() > row.canceled_at.getTime(),
    cancel_at: row.cancel_at?.toISOString() ?? null,
    canceled_at: row.canceled_at?.toISOString() ?? null,
    pending_change: pending
      ? {
        plan_id: pending.to_plan_id,
        effective_at: pending.effective_at.toISOString(),
        proration: pending.proration,
      }
      : null,
    paused_at: pause?.start.toISOString() ?? null,
    tax_rate_ids: row.tax_rate_ids ?? null,
    created_at: row.created_at.toISOString(),
  };
}

/** The plan changes of a subscription (applied and scheduled), in order of `effective_at`. */
export async function changesOf(ctx: Ctx, exec: Executor, subscriptionId: string): Promise<PlanChange[]> {
  return await changeRows.list(exec, ctx.scope, { subscription_id: subscriptionId }, {
    orderBy: [["effective_at", "asc"], ["id", "asc"]],
  });
}

/**
 * The plan changes and pauses of several subscriptions (a page of a list) in a few statements
 * (each within the store's bound-parameter limit), by subscription id, ordered as
 * {@link changesOf} and {@link pausesOf} order them.
 */
export async function historiesOf(
  ctx: Ctx,
  exec: Executor,
  subscriptionIds: readonly string[],
): Promise<Map<string, { changes: PlanChange[]; pauses: PauseWindow[] }>> {
  const out = new Map(
    subscriptionIds.map((id) => [id, { changes: [] as PlanChange[], pauses: [] as PauseWindow[] }]),
  );
  // Each statement binds the scope's two columns beside the IN list (4 reserved, generously).
  for (const chunk of inChunks(exec, subscriptionIds, 4)) {
    const changes = await changeRows.list(exec, ctx.scope, { subscription_id: chunk }, {
      orderBy: [["effective_at", "asc"], ["id", "asc"]],
    });
    for (const change of changes) out.get(change.subscription_id)!.changes.push(change);
    const pauses = await pauseRows.list(exec, ctx.scope, { subscription_id: chunk }, {
      orderBy: [["start_at", "asc"], ["id", "asc"]],
    });
    for (const p of pauses) out.get(p.subscription_id)!.pauses.push({ start: p.start_at, end: p.end_at });
  }
  return out;
}

/** The pauses of a subscription, oldest first. */
export async function pausesOf(ctx: Ctx, exec: Executor, subscriptionId: string): Promise<PauseWindow[]> {
  const rows = await pauseRows.list(exec, ctx.scope, { subscription_id: subscriptionId }, {
    orderBy: [["start_at", "asc"], ["id", "asc"]],
  });
  return rows.map((p) => ({ start: p.start_at, end: p.end_at }));
}

/**
 * The customer's live subscription at `now`: not ended by then and not paused (what entitlement
 * checks serve), or `undefined`.
 */
export async function liveSubscription(
  ctx: Ctx,
  exec: Executor,
  customerId: string,
  now: Date,
): Promise<SubscriptionRow | undefined> {
  const current = await currentSubscription(ctx, exec, customerId, now);
  if (!current) return undefined;
  return pausedAt(await pausesOf(ctx, exec, current.id), now) ? undefined : current;
}

/** The customer's subscription that has not ended at `now` (paused or not), or `undefined`. */
export async function currentSubscription(
  ctx: Ctx,
  exec: Executor,
  customerId: string,
  now: Date,
): Promise<SubscriptionRow | undefined> {
  return await openSubscriptionOf(exec, ctx.scope, customerId, now);
}

/**
 * Loads a subscription with its plan.
 *
 * @throws {BillingError} `subscription_not_found` (404)
 */
export async function loadSubscription(
  ctx: Ctx,
  exec: Executor,
  id: string,
): Promise<{ row: SubscriptionRow; plan: Plan }> {
  if (!isId("sub", id)) throw notFound("subscription", id);
  const row = await subscriptionRows.first(exec, ctx.scope, { id });
  if (!row) throw notFound("subscription", id);
  return { row, plan: await loadPlan(ctx, exec, row.plan_id) };
}

/**
 * `ctx` on the clock of the subscription's customer (`test_clocks/time.ts`): its test clock's
 * frozen time when the customer is bound to one. An unknown id keeps `ctx` (the caller's own
 * lookup then answers 404).
 */
export async function subscriptionCtx(ctx: Ctx, id: string): Promise<Ctx> {
  if (!isId("sub", id)) return ctx;
  const row = await subscriptionRows.first(ctx.database.db, ctx.scope, { id });
  return row ? await customerCtx(ctx, ctx.database.db, row.customer_id) : ctx;
}

/** The billing period of a subscription containing `at`. */
export function billingPeriodAt(row: SubscriptionRow, interval: Interval, at: Date): BillingPeriod {
  return periodAt(timelineOf(row), interval, at);
}
