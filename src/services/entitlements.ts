/**
 * Entitlement checks: resolve (cached) subscription + plan, read live usage, decide
 * (`domain/entitlement.ts`).
 *
 * @module
 */
import { decideEntitlement, type EntitlementDecision } from "../domain/entitlement.ts";
import { findFeature } from "../domain/plan.ts";
import type { Ctx } from "./context.ts";
import { loadCustomer } from "./customers.ts";
import type { EntitlementContext } from "./entitlement_cache.ts";
import { loadPlan } from "./plans.ts";
import { billingPeriodAt, liveSubscription } from "./subscriptions.ts";
import { aggregateUsage } from "./usage.ts";

/**
 * Loads the entitlement context of a customer at `now`, from cache or storage.
 */
export async function entitlementContext(ctx: Ctx, customerId: string, now: Date): Promise<EntitlementContext> {
  const cached = ctx.entitlementCache.get(ctx.scope, customerId, now);
  if (cached) return cached;
  const db = ctx.database.db;
  const sub = await liveSubscription(ctx, db, customerId, now);
  let value: EntitlementContext = { subscription: null, features: [] };
  if (sub) {
    const plan = await loadPlan(ctx, db, sub.plan_id);
    const period = billingPeriodAt(sub, plan.interval, now);
    value = {
      subscription: { id: sub.id, plan_id: plan.id, period_start: period.start, period_end: period.end },
      features: plan.features,
    };
  }
  ctx.entitlementCache.set(ctx.scope, customerId, value, now);
  return value;
}

/**
 * Checks whether a customer may use a feature now.
 *
 * @param input.customer_id `cus_…` id or external id
 * @throws {BillingError} `customer_not_found` (404)
 */
export async function checkEntitlement(ctx: Ctx, input: { customer_id: string; feature: string }): Promise<EntitlementDecision> {
  const now = ctx.clock.now();
  const customer = await loadCustomer(ctx, ctx.database.db, input.customer_id);
  const context = await entitlementContext(ctx, customer.id, now);
  const feature = findFeature(context, input.feature);
  const sub = context.subscription;
  const used = sub && feature && feature.type !== "boolean"
    ? await aggregateUsage(ctx.scope, ctx.database.db, customer.id, feature, sub.period_start, sub.period_end)
    : 0;
  return decideEntitlement({
    featureKey: input.feature,
    subscribed: sub !== null,
    feature,
    used,
    requested: 1,
    periodEnd: sub?.period_end ?? null,
  });
}
