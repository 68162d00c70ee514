/**
 * The billing cycle job: rolls every subscription's periods over by itself, driven by the
 * injectable clock.
 *
 * For each subscription (all tenants and apps, in id order, in pages), at `now`:
 * 1. **Plan changes due**: the plan in effect at `now` (pending period-end changes included)
 *    becomes `subscriptions.plan_id`, so entitlement checks follow the boundary.
 * 2. **Ended periods**: every billing period with `end ≤ now` (trial, recurring, the one cut short
 *    by cancellation) gets its invoice generated (draft), and finalized once
 *    `now ≥ period end + plan.invoice_grace_period_hours` (late usage is accepted until then).
 * 3. **Expired credit**: monetary grants past `expires_at` with a balance are closed and their
 *    remainder posted as breakage, once (`expireCredits` in `credits.ts`).
 *
 * Exactly once: each period is handled in **one write transaction** (generate + finalize), the
 * invoice is unique per (subscription, period) by a partial unique index, finalization of a
 * non-draft is a no-op, and ledger entries carry idempotency keys. A second run, two concurrent
 * runs, or a run after a crash halfway (some periods committed, the rest not) therefore end in
 * the same state as one clean run. The job keeps no state of its own.
 *
 * Limits: at most {@link MAX_PERIODS_PER_SUBSCRIPTION} periods per subscription per run (the
 * rest is picked up by the next run), pages of {@link PAGE_SIZE} subscriptions.
 *
 * @module
 */
import { initialPlanId, periodAt, planIdAt } from "../domain/subscription.ts";
import { invoiceRows } from "../invoices/repository.ts";
import { subscriptionRows, subscriptionsOfAllScopesAfter } from "./repository.ts";
import type { Ctx, Services } from "../context.ts";
import { writeOp } from "../lifecycle/write.ts";
import { expireCredits } from "../credits/service.ts";
import { invalidateEntitlements } from "../entitlements/invalidate.ts";
import { finalizeInvoiceTx, generateInvoiceTx } from "../invoices/service.ts";
import { loadPlanChanges } from "../invoices/rating.ts";
import { loadPlan } from "../plans/service.ts";
import { timelineOf } from "./read.ts";

/** Subscriptions read per page. */
export const PAGE_SIZE = 200;
/** Periods handled per subscription per run. */
export const MAX_PERIODS_PER_SUBSCRIPTION = 24;

/** What one run did. */
export interface BillingCycleReport {
  /** Subscriptions looked at. */
  subscriptions_scanned: number;
  /** Pending plan changes that took effect. */
  plan_changes_applied: number;
  /** Invoices created for ended periods. */
  invoices_generated: number;
  /** Drafts finalized after their grace period. */
  invoices_finalized: number;
  /** Monetary credit grants closed after expiry (breakage posted). */
  credits_expired: number;
  /** Subscriptions whose processing failed (logged; the next run retries them). */
  failures: { subscription_id: string; error: string }[];
}

/** Test hook: called after each committed step; throwing simulates a crash at that point. */
export type FaultHook = (
  step: { subscription_id: string; period_start: Date; action: "generated" | "finalized" | "none" },
) => void;

/**
 * Runs the billing cycle once at `services.clock.now()`, for the subscriptions of customers on the
 * wall clock (a test clock's customers are billed by its advance).
 *
 * @param options.fault test-only crash injection (see {@link FaultHook}); a throw aborts the run
 */
export async function runBillingCycle(
  services: Services,
  options: { fault?: FaultHook } = {},
): Promise<BillingCycleReport> {
  const report: BillingCycleReport = {
    subscriptions_scanned: 0,
    plan_changes_applied: 0,
    invoices_generated: 0,
    invoices_finalized: 0,
    credits_expired: 0,
    failures: [],
  };
  let after = "";
  for (;;) {
    const page = await subscriptionsOfAllScopesAfter(services.database.db, after, PAGE_SIZE);
    if (page.length === 0) break;
    for (const sub of page) {
      report.subscriptions_scanned++;
      const ctx: Ctx = {
        ...services,
        scope: { tenantId: sub.tenant_id, appId: sub.app_id },
        actor: "billing_cycle",
      };
      try {
        await cycleSubscription(ctx, sub.id, report, options.fault);
      } catch (error) {
        if (options.fault && error instanceof SimulatedCrash) throw error;
        report.failures.push({ subscription_id: sub.id, error: String(error) });
        services.log({
          level: "error",
          msg: "billing cycle failed",
          subscription_id: sub.id,
          error: String(error),
        });
      }
    }
    after = page[page.length - 1].id;
  }
  // After invoicing, so drafts of periods the grants overlap are finalized (and spend them) first.
  report.credits_expired = await expireCredits(services, services.clock.now());
  services.log({ level: "info", msg: "billing cycle", ...report, failures: report.failures.length });
  return report;
}

/**
 * Runs the billing cycle of these subscriptions (of `ctx.scope`) at `ctx.clock.now()`, steps 1–2
 * above, in id order; a test clock's advance calls it at each instant it stops at
 * (`test_clocks/service.ts`). Exactly once like {@link runBillingCycle}; the first failure is
 * thrown (the caller's retry resumes where it stopped).
 */
export async function cycleSubscriptions(
  ctx: Ctx,
  subscriptionIds: readonly string[],
): Promise<BillingCycleReport> {
  const report: BillingCycleReport = {
    subscriptions_scanned: 0,
    plan_changes_applied: 0,
    invoices_generated: 0,
    invoices_finalized: 0,
    credits_expired: 0,
    failures: [],
  };
  for (const id of [...subscriptionIds].sort()) {
    report.subscriptions_scanned++;
    await cycleSubscription(ctx, id, report);
  }
  return report;
}

/** Thrown by fault hooks in tests to stop the run as a crash would. */
export class SimulatedCrash extends Error {}

async function cycleSubscription(
  ctx: Ctx,
  subscriptionId: string,
  report: BillingCycleReport,
  fault?: FaultHook,
): Promise<void> {
  const now = ctx.clock.now();
  // 1. plan changes due (read first: the write transaction is only opened when one is due)
  const current = await subscriptionRows.first(ctx.database.db, ctx.scope, { id: subscriptionId });
  if (!current) return;
  const known = await loadPlanChanges(ctx, ctx.database.db, subscriptionId);
  const due = known.length > 0 &&
    planIdAt(initialPlanId(current.plan_id, known), known, now) !== current.plan_id;
  const applied = due && await writeOp(ctx, async (tx, emit) => {
    const sub = await subscriptionRows.first(tx, ctx.scope, { id: subscriptionId });
    if (!sub) return false;
    const changes = await loadPlanChanges(ctx, tx, sub.id);
    const effective = planIdAt(initialPlanId(sub.plan_id, changes), changes, now);
    if (effective === sub.plan_id) return false;
    await subscriptionRows.update(tx, ctx.scope, { id: sub.id }, { plan_id: effective });
    emit("subscription.changed", sub.id, {
      plan_id: effective,
      previous_plan_id: sub.plan_id,
      applied_by: "billing_cycle",
    });
    return sub.customer_id;
  });
  if (applied) {
    report.plan_changes_applied++;
    await invalidateEntitlements(ctx, { customerId: applied });
  }

  // 2. ended periods, one transaction each
  const first = await subscriptionRows.first(ctx.database.db, ctx.scope, { id: subscriptionId });
  if (!first) return;
  const plan = await loadPlan(ctx, ctx.database.db, first.plan_id);
  const closed = (await invoiceRows.list(ctx.database.db, ctx.scope, {
    subscription_id: subscriptionId,
    status: ["open", "paid", "uncollectible"],
  })).map((row) => ({ end: row.period_end }));
  // Start at the latest period already closed (its successor is the first one that may need work).
  let at = first.start_at;
  for (const c of closed) if (c.end.getTime() > at.getTime()) at = c.end;
  const timeline = timelineOf(first);
  for (let i = 0; i < MAX_PERIODS_PER_SUBSCRIPTION; i++) {
    if (timeline.cancel_at && at.getTime() >= timeline.cancel_at.getTime()) break;
    const period = periodAt(timeline, plan.interval, at);
    if (period.end.getTime() > now.getTime()) break;
    const action = await writeOp(ctx, async (tx, emit) => {
      const sub = (await subscriptionRows.first(tx, ctx.scope, { id: subscriptionId }))!;
      const current = await loadPlan(ctx, tx, sub.plan_id);
      const { row, created, fresh } = await generateInvoiceTx(ctx, tx, emit, sub, current, period);
      const graceEnds = new Date(period.end.getTime() + current.invoice_grace_period_hours * 3_600_000);
      if (row.status === "draft" && now.getTime() >= graceEnds.getTime()) {
        await finalizeInvoiceTx(ctx, tx, emit, row.id, { fresh });
        return created ? "generated+finalized" : "finalized";
      }
      return created ? "generated" : "none";
    });
    if (action.startsWith("generated")) report.invoices_generated++;
    if (action.endsWith("finalized")) report.invoices_finalized++;
    fault?.({
      subscription_id: subscriptionId,
      period_start: period.start,
      action: action.endsWith("finalized") ? "finalized" : action === "generated" ? "generated" : "none",
    });
    at = period.end;
  }
}
