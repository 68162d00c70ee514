/**
 * Subscriptions: create, read, change plan, cancel. Rules live in `domain/subscription.ts`.
 *
 * Plan changes (docs/adr/0004-billing-rules.md) are rows of `subscription_changes`; `subscriptions.plan_id` is the plan in
 * effect (what entitlement checks read): an immediate change sets it in the same transaction, a
 * period-end change is pending until the billing job (`billing_cycle.ts`) applies it at the
 * boundary. Cancelling now also generates the final invoice (draft: usage to date and the
 * proration credit for the unused part of the base fee); the job finalizes it after the plan's
 * grace period.
 *
 * A customer has at most one live (trialing or active) subscription per app: the entitlement
 * check needs one unambiguous plan. Creating a subscription while one is live returns it
 * (`replayed`) when it is for the same plan and start, else fails with `subscription_exists`.
 * The check and the insert run in one write transaction, so concurrent creates cannot both win.
 *
 * @module
 */
import { BillingError } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import {
  cancelAt,
  type ChangeTiming,
  pausedAt,
  periodAt,
  planChangeDecision,
  type ProrationBehavior,
  rebasedFirstPeriodIndex,
  startTimeline,
  statusAt,
  type SubscriptionStatus,
  timelineAfterIntervalChange,
} from "../domain/subscription.ts";
import { mapPage, type Page, type PageRequest } from "../domain/paging.ts";
import {
  changeRows,
  deletePendingChanges,
  pauseRows,
  type SubscriptionChangeRow,
  subscriptionPage,
  subscriptionRows,
} from "./repository.ts";
import type { Plan } from "../domain/plan.ts";
import type { Tx } from "../storage/db.ts";
import { type Emit, writeOp } from "../lifecycle/write.ts";
import { discountRows } from "../coupons/repository.ts";
import { invoiceRows } from "../invoices/repository.ts";
import type { Ctx } from "../context.ts";
import { loadCustomer } from "../customers/service.ts";
import { resolveTaxRates } from "../tax/rates.ts";
import { invalidateEntitlements } from "../entitlements/invalidate.ts";
import { loadPlan, loadPlanByRef } from "../plans/service.ts";
import { finalizeInvoiceTx, generateInvoice, generateInvoiceTx } from "../invoices/service.ts";
import {
  changesOf,
  currentSubscription,
  historiesOf,
  loadSubscription,
  pausesOf,
  subscriptionCtx,
  type SubscriptionRow,
  type SubscriptionView,
  subscriptionView,
  timelineOf,
} from "./read.ts";
import { customerCtx, customerTimes } from "../test_clocks/time.ts";

export type { SubscriptionView };

/**
 * Subscribes a customer to a plan.
 *
 * @param input.tax_rate_ids the subscription's own tax rates (replacing the customer's), at most 5
 * @throws {BillingError} `customer_not_found`, `plan_not_found`, `tax_rate_not_found` (404); `plan_archived`,
 *   `start_at_in_future`, `start_at_too_old`, `end_at_not_after_start`, `tax_rates_incompatible` (422);
 *   `subscription_exists` (409)
 */
export async function createSubscription(
  caller: Ctx,
  input: { customer_id: string; plan_id: string; start_at?: Date; end_at?: Date; tax_rate_ids?: string[] },
): Promise<{ subscription: SubscriptionView; replayed: boolean }> {
  const bound = await loadCustomer(caller, caller.database.db, input.customer_id);
  const ctx = await customerCtx(caller, caller.database.db, bound.id);
  const now = ctx.clock.now();
  const result = await writeOp(ctx, async (tx, emit) => {
    const customer = await loadCustomer(ctx, tx, input.customer_id);
    const plan = await loadPlanByRef(ctx, tx, input.plan_id);
    const live = await currentSubscription(ctx, tx, customer.id, now);
    if (live) {
      const sameStart = input.start_at === undefined || live.start_at.getTime() === input.start_at.getTime();
      const sameEnd = input.end_at === undefined || live.cancel_at?.getTime() === input.end_at.getTime();
      const sameTax = input.tax_rate_ids === undefined ||
        JSON.stringify(live.tax_rate_ids) === JSON.stringify(input.tax_rate_ids);
      if (live.plan_id === plan.id && sameStart && sameEnd && sameTax) {
        return {
          subscription: subscriptionView(live, plan.interval, now),
          replayed: true,
          customerId: customer.id,
        };
      }
      throw new BillingError(
        "subscription_exists",
        "conflict",
        `Customer "${customer.id}" already has live subscription "${live.id}"`,
      );
    }
    if (plan.status === "archived") {
      throw new BillingError(
        "plan_archived",
        "unprocessable",
        `Plan "${plan.id}" is archived and takes no new subscriptions`,
      );
    }
    const timeline = startTimeline({ start_at: input.start_at, trial_days: plan.trial_days, now });
    if (input.end_at) {
      if (input.end_at.getTime() <= Math.max(timeline.start_at.getTime(), now.getTime())) {
        throw new BillingError(
          "end_at_not_after_start",
          "unprocessable",
          `The end_at ${input.end_at.toISOString()} must be after the start and now`,
        );
      }
      timeline.cancel_at = input.end_at; // a fixed end: cancel_at without canceled_at → "expired"
    }
    const taxRates = input.tax_rate_ids ? await resolveTaxRates(ctx, tx, input.tax_rate_ids) : null;
    const row: SubscriptionRow = {
      id: newId("sub"),
      tenant_id: ctx.scope.tenantId,
      app_id: ctx.scope.appId,
      customer_id: customer.id,
      plan_id: plan.id,
      ...timeline,
      canceled_at: null,
      tax_rate_ids: taxRates ? taxRates.map((r) => r.id) : null,
      created_at: now,
    };
    await subscriptionRows.insert(tx, ctx.scope, row);
    const view = subscriptionView(row, plan.interval, now);
    emit("subscription.created", row.id, view);
    return { subscription: view, replayed: false, customerId: customer.id };
  });
  await invalidateEntitlements(ctx, { customerId: result.customerId });
  return { subscription: result.subscription, replayed: result.replayed };
}

/**
 * Lists the app's subscriptions, newest first, one page at a time (`domain/paging.ts`),
 * optionally of one customer (`cus_` or external id) and in one status at the clock's now.
 *
 * @throws {BillingError} `customer_not_found` (404) when the customer filter names no customer;
 *   `validation_failed` for a cursor this list did not hand out
 */
export async function listSubscriptions(
  ctx: Ctx,
  filter: { customer_id?: string; status?: SubscriptionStatus } & PageRequest,
): Promise<Page<SubscriptionView>> {
  const db = ctx.database.db;
  const now = ctx.clock.now();
  const customerId = filter.customer_id ? (await loadCustomer(ctx, db, filter.customer_id)).id : undefined;
  const page = await subscriptionPage(
    db,
    ctx.scope,
    { customer_id: customerId, status: filter.status, now },
    {
      limit: filter.limit,
      cursor: filter.cursor,
    },
  );
  const plans = new Map<string, Promise<Plan>>();
  const histories = await historiesOf(ctx, db, page.data.map((row) => row.id));
  // each view at its customer's instant (a test clock's frozen time), as GET /v1/subscriptions/{id}
  const timeOf = await customerTimes(ctx, db, page.data.map((row) => row.customer_id));
  return await mapPage(page, async (row) => {
    if (!plans.has(row.plan_id)) plans.set(row.plan_id, loadPlan(ctx, db, row.plan_id));
    const plan = await plans.get(row.plan_id)!;
    const { changes, pauses } = histories.get(row.id)!;
    return subscriptionView(row, plan.interval, timeOf(row.customer_id), changes, pauses);
  });
}

/**
 * Sets the subscription's own tax rates (at most 5), which replace the customer's on its invoices;
 * `null` clears them so the customer's apply again. Draft invoices pick them up on their next
 * refresh. Idempotent.
 *
 * @throws {BillingError} `subscription_not_found`, `tax_rate_not_found` (404); `tax_rates_incompatible`
 *   (422); `validation_failed` (more than 5, or one listed twice)
 */
export async function setSubscriptionTaxRates(
  caller: Ctx,
  id: string,
  taxRateIds: string[] | null,
): Promise<SubscriptionView> {
  const ctx = await subscriptionCtx(caller, id);
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const { row, plan } = await loadSubscription(ctx, tx, id);
    const ids = taxRateIds === null ? null : (await resolveTaxRates(ctx, tx, taxRateIds)).map((r) => r.id);
    await subscriptionRows.update(tx, ctx.scope, { id: row.id }, { tax_rate_ids: ids });
    emit("subscription.tax_rates_set", row.id, { subscription_id: row.id, tax_rate_ids: ids });
    return subscriptionView(
      { ...row, tax_rate_ids: ids },
      plan.interval,
      now,
      await changesOf(ctx, tx, row.id),
      await pausesOf(ctx, tx, row.id),
    );
  });
}

/** GET a subscription. @throws {BillingError} `subscription_not_found` */
export async function getSubscription(caller: Ctx, id: string): Promise<SubscriptionView> {
  const ctx = await subscriptionCtx(caller, id);
  const { row, plan } = await loadSubscription(ctx, ctx.database.db, id);
  const db = ctx.database.db;
  return subscriptionView(
    row,
    plan.interval,
    ctx.clock.now(),
    await changesOf(ctx, db, id),
    await pausesOf(ctx, db, id),
  );
}

/**
 * Cancels now or at the end of the current period. Repeating a cancellation is a no-op; cancelling
 * now after a period-end cancellation moves the end earlier.
 *
 * @throws {BillingError} `subscription_not_found`; `subscription_canceled` (409) once ended
 */
export async function cancelSubscription(
  caller: Ctx,
  id: string,
  input: { at_period_end: boolean },
): Promise<SubscriptionView> {
  const ctx = await subscriptionCtx(caller, id);
  const now = ctx.clock.now();
  const result = await writeOp(ctx, async (tx, emit) => {
    const { row, plan } = await loadSubscription(ctx, tx, id);
    const end = cancelAt(timelineOf(row), plan.interval, input.at_period_end, now);
    if (row.cancel_at && row.cancel_at.getTime() === end.getTime()) {
      return subscriptionView(row, plan.interval, now);
    }
    const updated: SubscriptionRow = { ...row, cancel_at: end, canceled_at: now };
    await subscriptionRows.update(tx, ctx.scope, { id }, { cancel_at: end, canceled_at: now });
    const view = subscriptionView(updated, plan.interval, now);
    emit("subscription.canceled", id, view);
    return view;
  });
  await invalidateEntitlements(ctx, { customerId: result.customer_id });
  if (
    !input.at_period_end && result.cancel_at && result.canceled_at && result.cancel_at === result.canceled_at
  ) {
    // The final invoice of the cut-short period. A crash before this line leaves the period to the
    // billing job, which invoices every ended period, so the invoice exists exactly once either way.
    await generateInvoice(ctx, { subscription_id: id });
  }
  return result;
}

/**
 * Changes a subscription's plan (rules: `planChangeDecision` in `domain/subscription.ts`).
 * An immediate change takes effect at `now`, or at `proration_date` (the period's invoice splits
 * usage at that instant and carries the proration lines); a period-end change is stored as pending
 * and replaces any other pending change. Retry-safe: asking again for the plan already in effect
 * (and nothing pending), or for the change already pending, returns the subscription unchanged.
 * Asking for the current plan while a change is pending cancels the pending change.
 *
 * An interval change (monthly ↔ yearly) ends the current period at the change: the subscription's
 * earlier drafts are finalized, the cut period is invoiced at once (its base fee less the unused
 * time, usage to date at the old prices) and finalized, and the billing anchor resets to the change
 * (the new plan's periods run from it; its base fee is billed in arrears with each period, as
 * every base fee, ADR 0004). A coupon keeps the periods it has left.
 *
 * @throws {BillingError} `subscription_not_found`, `plan_not_found` (404); `plan_archived`,
 *   `currency_mismatch`, `interval_mismatch`, `subscription_ending` (422); `subscription_canceled`,
 *   `subscription_paused` (409); `proration_date_outside_period`, `validation_failed` (400)
 */
export async function changePlan(
  caller: Ctx,
  id: string,
  input: { plan_id: string; proration?: ProrationBehavior; effective?: ChangeTiming; proration_date?: Date },
): Promise<{ subscription: SubscriptionView; changed: boolean }> {
  const ctx = await subscriptionCtx(caller, id);
  const now = ctx.clock.now();
  const result = await writeOp(ctx, async (tx, emit) => {
    const { row, plan: current } = await loadSubscription(ctx, tx, id);
    const target = await loadPlanByRef(ctx, tx, input.plan_id);
    const changes = await changesOf(ctx, tx, id);
    if (pausedAt(await pausesOf(ctx, tx, id), now)) {
      throw new BillingError(
        "subscription_paused",
        "conflict",
        `Subscription "${id}" is paused; resume it before changing its plan`,
      );
    }
    const pending = changes.filter((c) => c.effective_at.getTime() > now.getTime());
    const unchanged = () => ({
      subscription: subscriptionView(row, current.interval, now, changes),
      changed: false,
      customerId: row.customer_id,
    });
    if (target.id === current.id) {
      if (pending.length === 0) return unchanged();
      await deletePendingChanges(tx, ctx.scope, id, now);
      const view = subscriptionView(row, current.interval, now, []);
      emit("subscription.changed", id, view);
      return { subscription: view, changed: true, customerId: row.customer_id };
    }
    if (target.status === "archived") {
      throw new BillingError(
        "plan_archived",
        "unprocessable",
        `Plan "${target.id}" is archived and takes no new subscriptions`,
      );
    }
    const applied = changes.filter((c) => c.effective_at.getTime() <= now.getTime());
    const decision = planChangeDecision({
      timeline: timelineOf(row),
      from: current,
      to: target,
      effective: input.effective,
      proration: input.proration,
      proration_date: input.proration_date,
      not_before: applied.length > 0 ? applied[applied.length - 1].effective_at : undefined,
      now,
    });
    const same = pending.find((c) =>
      c.to_plan_id === target.id && c.effective_at.getTime() === decision.effective_at.getTime() &&
      c.proration === decision.proration
    );
    if (same) return unchanged();
    await deletePendingChanges(tx, ctx.scope, id, now);
    const change = {
      id: newId("sch"),
      tenant_id: ctx.scope.tenantId,
      app_id: ctx.scope.appId,
      subscription_id: id,
      from_plan_id: current.id,
      to_plan_id: target.id,
      effective_at: decision.effective_at,
      proration: decision.proration,
      created_at: now,
    };
    if (decision.resets_anchor) {
      const updated = await changeInterval(ctx, tx, emit, row, current, target, change);
      const view = subscriptionView(updated, target.interval, now, [...applied, change]);
      emit("subscription.changed", id, { ...view, direction: decision.direction });
      return { subscription: view, changed: true, customerId: row.customer_id };
    }
    await changeRows.insert(tx, ctx.scope, change);
    let updated = row;
    if (decision.effective_at.getTime() <= now.getTime()) {
      updated = { ...row, plan_id: target.id };
      await subscriptionRows.update(tx, ctx.scope, { id }, { plan_id: target.id });
    }
    const view = subscriptionView(updated, current.interval, now, [...applied, change]);
    emit(
      "subscription.changed",
      id,
      { ...view, direction: decision.direction },
    );
    return { subscription: view, changed: true, customerId: row.customer_id };
  });
  await invalidateEntitlements(ctx, { customerId: result.customerId });
  return { subscription: result.subscription, changed: result.changed };
}

/**
 * The writes of an interval change at `change.effective_at` (see {@link changePlan}), inside the
 * caller's transaction: finalize earlier drafts, record the change, invoice and finalize the cut
 * period, rebase the coupon, reset the anchor.
 *
 * @returns the updated subscription row
 */
async function changeInterval(
  ctx: Ctx,
  tx: Tx,
  emit: Emit,
  row: SubscriptionRow,
  current: Plan,
  target: Plan,
  change: SubscriptionChangeRow,
): Promise<SubscriptionRow> {
  const at = change.effective_at;
  const timeline = timelineOf(row);
  const cut = periodAt(timeline, current.interval, at);
  // Drafts of earlier periods are rated with the old anchor while it still stands.
  for (const draft of await invoiceRows.list(tx, ctx.scope, { subscription_id: row.id, status: "draft" })) {
    if (draft.period_start.getTime() < cut.start.getTime()) {
      await finalizeInvoiceTx(ctx, tx, emit, draft.id);
    }
  }
  await changeRows.insert(tx, ctx.scope, change);
  if (at.getTime() > cut.start.getTime()) {
    // The cut period, as a cancellation at `at` would bill it: its unused time is credited.
    const ending: SubscriptionRow = { ...row, cancel_at: at, canceled_at: at };
    const period = { ...cut, end: at };
    const { row: invoice, fresh } = await generateInvoiceTx(ctx, tx, emit, ending, current, period);
    await finalizeInvoiceTx(ctx, tx, emit, invoice.id, { fresh });
  }
  const discount = await discountRows.first(tx, ctx.scope, { subscription_id: row.id });
  if (discount) {
    await discountRows.update(tx, ctx.scope, { id: discount.id }, {
      first_period_index: rebasedFirstPeriodIndex(discount.first_period_index, cut.index),
    });
  }
  const next = timelineAfterIntervalChange(timeline, at);
  const fields = { plan_id: target.id, billing_anchor: next.billing_anchor, trial_end: next.trial_end };
  await subscriptionRows.update(tx, ctx.scope, { id: row.id }, fields);
  return { ...row, ...fields };
}

/**
 * Pauses a subscription now (see `PauseWindow` in `domain/subscription.ts` for what a pause means).
 * Pausing a paused subscription returns it unchanged.
 *
 * @throws {BillingError} `subscription_not_found` (404); `subscription_canceled` (409) once ended
 */
export async function pauseSubscription(ctx: Ctx, id: string): Promise<SubscriptionView> {
  return await setPause(ctx, id, "pause");
}

/**
 * Resumes a paused subscription now; the billing cycle keeps its anchor. Resuming a subscription
 * that is not paused returns it unchanged.
 *
 * @throws {BillingError} `subscription_not_found` (404); `subscription_canceled` (409) once ended
 */
export async function resumeSubscription(ctx: Ctx, id: string): Promise<SubscriptionView> {
  return await setPause(ctx, id, "resume");
}

async function setPause(caller: Ctx, id: string, action: "pause" | "resume"): Promise<SubscriptionView> {
  const ctx = await subscriptionCtx(caller, id);
  const now = ctx.clock.now();
  const result = await writeOp(ctx, async (tx, emit) => {
    const { row, plan } = await loadSubscription(ctx, tx, id);
    const t = timelineOf(row);
    const status = statusAt(t, now);
    if (status === "canceled" || status === "expired") {
      throw new BillingError("subscription_canceled", "conflict", `Subscription "${id}" is ${status}`);
    }
    const changes = await changesOf(ctx, tx, id);
    let pauses = await pausesOf(ctx, tx, id);
    const paused = pausedAt(pauses, now);
    if ((action === "pause") === paused) {
      return {
        view: subscriptionView(row, plan.interval, now, changes, pauses),
        customerId: row.customer_id,
      };
    }
    if (action === "pause") {
      await pauseRows.insert(tx, ctx.scope, {
        id: newId("spa"),
        subscription_id: id,
        start_at: now,
        end_at: null,
        created_at: now,
      });
    } else {
      await pauseRows.update(tx, ctx.scope, { subscription_id: id, end_at: null }, { end_at: now });
    }
    pauses = await pausesOf(ctx, tx, id);
    const view = subscriptionView(row, plan.interval, now, changes, pauses);
    emit(
      action === "pause" ? "subscription.paused" : "subscription.resumed",
      id,
      view,
    );
    return { view, customerId: row.customer_id };
  });
  await invalidateEntitlements(ctx, { customerId: result.customerId });
  return result.view;
}
