/**
 * Subscriptions: create, read, cancel. Rules live in `domain/subscription.ts`.
 *
 * A customer has at most one live (trialing or active) subscription per app: the entitlement
 * check needs one unambiguous plan. Creating a subscription while one is live returns it
 * (`replayed`) when it is for the same plan and start, else fails with `subscription_exists`.
 * The check and the insert run in one write transaction, so concurrent creates cannot both win.
 *
 * @module
 */
import { and, desc, eq, gt, isNull, or } from "drizzle-orm";
import { BillingError, notFound } from "../domain/errors.ts";
import { isId, newId } from "../domain/ids.ts";
import type { Interval } from "../domain/period.ts";
import type { Plan } from "../domain/plan.ts";
import {
  type BillingPeriod,
  cancelAt,
  periodAt,
  startTimeline,
  statusAt,
  type SubscriptionStatus,
  type SubscriptionTimeline,
} from "../domain/subscription.ts";
import type { Executor } from "../storage/db.ts";
import { subscriptions } from "../storage/schema.ts";
import { type Ctx, type Scope, writeOp } from "./context.ts";
import { loadCustomer } from "./customers.ts";
import { loadPlan } from "./plans.ts";

/** A subscription as the API shows it (instants in ISO 8601 UTC). */
export interface SubscriptionView {
  id: string;
  customer_id: string;
  plan_id: string;
  status: SubscriptionStatus;
  start_at: string;
  trial_end: string | null;
  billing_anchor: string;
  current_period_start: string;
  current_period_end: string;
  cancel_at_period_end: boolean;
  cancel_at: string | null;
  canceled_at: string | null;
  created_at: string;
}

/** A stored subscription. */
export type SubscriptionRow = typeof subscriptions.$inferSelect;

/** The timeline part of a row. */
export function timelineOf(row: SubscriptionRow): SubscriptionTimeline {
  return { start_at: row.start_at, trial_end: row.trial_end, billing_anchor: row.billing_anchor, cancel_at: row.cancel_at };
}

/** Row → view at `now` for a plan of `interval`. */
export function subscriptionView(row: SubscriptionRow, interval: Interval, now: Date): SubscriptionView {
  const t = timelineOf(row);
  const period = periodAt(t, interval, now);
  return {
    id: row.id,
    customer_id: row.customer_id,
    plan_id: row.plan_id,
    status: statusAt(t, now),
    start_at: row.start_at.toISOString(),
    trial_end: row.trial_end?.toISOString() ?? null,
    billing_anchor: row.billing_anchor.toISOString(),
    current_period_start: period.start.toISOString(),
    current_period_end: period.end.toISOString(),
    cancel_at_period_end: row.cancel_at !== null && row.canceled_at !== null && row.cancel_at.getTime() > row.canceled_at.getTime(),
    cancel_at: row.cancel_at?.toISOString() ?? null,
    canceled_at: row.canceled_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
  };
}

function scoped(scope: Scope) {
  return and(eq(subscriptions.tenant_id, scope.tenantId), eq(subscriptions.app_id, scope.appId));
}

/**
 * The customer's live subscription at `now` (not canceled by then), or `undefined`.
 */
export async function liveSubscription(ctx: Ctx, exec: Executor, customerId: string, now: Date): Promise<SubscriptionRow | undefined> {
  return await exec.query.subscriptions.findFirst({
    where: and(
      scoped(ctx.scope),
      eq(subscriptions.customer_id, customerId),
      or(isNull(subscriptions.cancel_at), gt(subscriptions.cancel_at, now)),
    ),
    orderBy: desc(subscriptions.id),
  });
}

/**
 * Loads a subscription with its plan.
 *
 * @throws {BillingError} `subscription_not_found` (404)
 */
export async function loadSubscription(ctx: Ctx, exec: Executor, id: string): Promise<{ row: SubscriptionRow; plan: Plan }> {
  if (!isId("sub", id)) throw notFound("subscription", id);
  const row = await exec.query.subscriptions.findFirst({ where: and(scoped(ctx.scope), eq(subscriptions.id, id)) });
  if (!row) throw notFound("subscription", id);
  return { row, plan: await loadPlan(ctx, exec, row.plan_id) };
}

/**
 * Subscribes a customer to a plan.
 *
 * @throws {BillingError} `customer_not_found`, `plan_not_found` (404); `plan_archived`,
 *   `start_at_in_future`, `start_at_too_old` (422); `subscription_exists` (409)
 */
export async function createSubscription(
  ctx: Ctx,
  input: { customer_id: string; plan_id: string; start_at?: Date },
): Promise<{ subscription: SubscriptionView; replayed: boolean }> {
  const now = ctx.clock.now();
  const result = await writeOp(ctx, async (tx, emit) => {
    const customer = await loadCustomer(ctx, tx, input.customer_id);
    const plan = await loadPlan(ctx, tx, input.plan_id);
    const live = await liveSubscription(ctx, tx, customer.id, now);
    if (live) {
      const sameStart = input.start_at === undefined || live.start_at.getTime() === input.start_at.getTime();
      if (live.plan_id === plan.id && sameStart) {
        return { subscription: subscriptionView(live, plan.interval, now), replayed: true, customerId: customer.id };
      }
      throw new BillingError("subscription_exists", "conflict", `Customer "${customer.id}" already has live subscription "${live.id}"`);
    }
    if (plan.status === "archived") {
      throw new BillingError("plan_archived", "unprocessable", `Plan "${plan.id}" is archived and takes no new subscriptions`);
    }
    const timeline = startTimeline({ start_at: input.start_at, trial_days: plan.trial_days, now });
    const row: SubscriptionRow = {
      id: newId("sub"),
      tenant_id: ctx.scope.tenantId,
      app_id: ctx.scope.appId,
      customer_id: customer.id,
      plan_id: plan.id,
      ...timeline,
      canceled_at: null,
      created_at: now,
    };
    await tx.insert(subscriptions).values(row);
    const view = subscriptionView(row, plan.interval, now);
    emit("subscription.created", row.id, view as unknown as Record<string, unknown>);
    return { subscription: view, replayed: false, customerId: customer.id };
  });
  ctx.entitlementCache.invalidateCustomer(ctx.scope, result.customerId);
  return { subscription: result.subscription, replayed: result.replayed };
}

/** GET a subscription. @throws {BillingError} `subscription_not_found` */
export async function getSubscription(ctx: Ctx, id: string): Promise<SubscriptionView> {
  const { row, plan } = await loadSubscription(ctx, ctx.database.db, id);
  return subscriptionView(row, plan.interval, ctx.clock.now());
}

/**
 * Cancels now or at the end of the current period. Repeating a cancellation is a no-op; cancelling
 * now after a period-end cancellation moves the end earlier.
 *
 * @throws {BillingError} `subscription_not_found`; `subscription_canceled` (409) once ended
 */
export async function cancelSubscription(ctx: Ctx, id: string, input: { at_period_end: boolean }): Promise<SubscriptionView> {
  const now = ctx.clock.now();
  const result = await writeOp(ctx, async (tx, emit) => {
    const { row, plan } = await loadSubscription(ctx, tx, id);
    const end = cancelAt(timelineOf(row), plan.interval, input.at_period_end, now);
    if (row.cancel_at && row.cancel_at.getTime() === end.getTime()) return subscriptionView(row, plan.interval, now);
    const updated: SubscriptionRow = { ...row, cancel_at: end, canceled_at: now };
    await tx.update(subscriptions).set({ cancel_at: end, canceled_at: now }).where(and(scoped(ctx.scope), eq(subscriptions.id, id)));
    const view = subscriptionView(updated, plan.interval, now);
    emit("subscription.canceled", id, view as unknown as Record<string, unknown>);
    return view;
  });
  ctx.entitlementCache.invalidateCustomer(ctx.scope, result.customer_id);
  return result;
}

/** The billing period of a subscription containing `at`. */
export function billingPeriodAt(row: SubscriptionRow, interval: Interval, at: Date): BillingPeriod {
  return periodAt(timelineOf(row), interval, at);
}
