/**
 * Test clocks, with Stripe's semantics: a clock is a frozen instant; customers created with
 * `test_clock` live on it (`test_clocks/time.ts` resolves their "now"), and the wall-clock jobs
 * skip them (`storage/clock_bound.ts`). Only {@link advanceTestClock} moves the clock, and it runs
 * what came due for the clock's customers on the way, in time order:
 *
 * 1. It stops at every instant where something is due, earliest first: each subscription's period
 *    end (trial end, recurring period end, a cancellation or fixed end), each period end plus the
 *    plan's invoice grace period, each pending plan change, each credit grant expiry; and finally
 *    the requested instant.
 * 2. At each stop it runs the billing cycle of the clock's subscriptions with the clock stopped
 *    there (plan changes due applied, ended periods invoiced, drafts past their grace finalized —
 *    invoice dates are those instants), then closes expired credit grants (breakage), and then
 *    records the stop as the clock's frozen time.
 *
 * Deterministic (the stops depend only on stored data) and exactly once: each step is idempotent
 * (invoices are unique per period, finalization of a non-draft is a no-op, ledger entries carry
 * idempotency keys) and the frozen time only moves forward, so advancing again to the same instant
 * does nothing, a retried advance ends in the same state, and an interrupted one resumes from its
 * last stop. Going backwards is refused (`frozen_time_in_past`).
 *
 * 3. At each stop it also emits the time-based notifications the wall clock's sweeper emits for
 *    other customers (`lifecycle/sweeper.ts`): `subscription.trial_ending` when a trial ends
 *    within 3 days (a stop is made exactly 3 days before each trial end) and `subscription.expired`
 *    when a fixed end is reached (a stop at each), with `occurred_at` = the stop, same data, outbox
 *    + audit + webhooks as always; once per subscription and kind (the audit row is the mark), so a
 *    retried advance emits nothing twice. Invoices generated and finalized, plan changes applied
 *    and credits expired at a stop already emit their events (the same services, clock stopped
 *    there). This is Stripe's behaviour: advancing a test clock fires the same webhooks real time
 *    would (`customer.subscription.trial_will_end` 3 days before, `invoice.created`, …), with the
 *    clock's time in the objects.
 *
 * Not on a clock: ledger and inventory holds belong to accounts, not customers, so they expire
 * on the wall clock.
 *
 * Deleting a clock deletes its customers and their subscriptions (with plan changes, pauses,
 * discounts), usage events, invoices (with lines, payments, credit notes), credit grants (with
 * consumptions) and tax rate assignment, in one transaction. Kept, because they are append-only
 * records: ledger entries and accounts (a clock's finalized invoices stay booked), audit events,
 * the outbox and webhook deliveries; invoice and credit note numbers stay used. An external id of a
 * deleted customer may be used again (this process forgets its cached reference at once; another
 * process sharing the database keeps its cached one until it restarts).
 *
 * @module
 */
import { BillingError, notFound } from "../domain/errors.ts";
import { isId, newId } from "../domain/ids.ts";
import { periodAt } from "../domain/subscription.ts";
import type { Ctx } from "../context.ts";
import { expireCredits } from "../credits/service.ts";
import { invalidateEntitlements } from "../entitlements/invalidate.ts";
import { forgetCustomerRefs } from "../entitlements/service.ts";
import { loadPlan } from "../plans/service.ts";
import { cycleSubscriptions } from "../subscriptions/billing_cycle.ts";
import { changeRows, subscriptionsOfTestClock } from "../subscriptions/repository.ts";
import { timelineOf } from "../subscriptions/read.ts";
import {
  customersOfTestClock,
  deleteTestClockData,
  moveFrozenTime,
  nextGrantExpiry,
  type TestClockRow,
  testClockRows,
  testClocksAfter,
} from "./repository.ts";
import { frozenClock } from "./time.ts";
import { sweepTestClock, TRIAL_ENDING_NOTICE_MS } from "../lifecycle/sweeper.ts";

/** A test clock as the API shows it. */
export interface TestClockView {
  /** `clock_…` TypeID. */
  id: string;
  /** The clock's instant (ISO 8601 UTC): the "now" of its customers. */
  frozen_time: string;
  /** Your label, or `null`. */
  name: string | null;
  /** Always `ready`: an advance runs to its end within the request. */
  status: "ready";
  /** ISO 8601 creation time (wall clock). */
  created_at: string;
}

/** Farthest one advance may move a clock (5 × 366 days, ms): a limit on the work one request does. */
export const MAX_ADVANCE_MS = 5 * 366 * 86_400_000;
/** Most stops of one advance (a limit on everything; far above what {@link MAX_ADVANCE_MS} needs). */
export const MAX_ADVANCE_STEPS = 2_000;

function view(row: TestClockRow): TestClockView {
  return {
    id: row.id,
    frozen_time: row.frozen_time.toISOString(),
    name: row.name ?? null,
    status: "ready",
    created_at: row.created_at.toISOString(),
  };
}

async function loadTestClock(ctx: Ctx, id: string): Promise<TestClockRow> {
  const row = isId("clock", id) ? await testClockRows.first(ctx.database.db, ctx.scope, { id }) : undefined;
  if (!row) throw notFound("test_clock", id);
  return row;
}

/** Creates a test clock stopped at `frozen_time` (any instant, past or future). */
export async function createTestClock(
  ctx: Ctx,
  input: { frozen_time: Date; name?: string | null },
): Promise<TestClockView> {
  const row: TestClockRow = {
    id: newId("clock"),
    tenant_id: ctx.scope.tenantId,
    app_id: ctx.scope.appId,
    name: input.name ?? null,
    frozen_time: input.frozen_time,
    created_at: ctx.clock.now(),
  };
  await ctx.database.write((tx) => testClockRows.insert(tx, ctx.scope, row));
  return view(row);
}

/** GET a test clock. @throws {BillingError} `test_clock_not_found` (404) */
export async function getTestClock(ctx: Ctx, id: string): Promise<TestClockView> {
  return view(await loadTestClock(ctx, id));
}

/**
 * The app's test clocks in id order (creation order), `limit` per page after `cursor` (the last id
 * of the previous page).
 *
 * @returns the page and the cursor of the next one (`null` on the last page)
 */
export async function listTestClocks(
  ctx: Ctx,
  input: { limit: number; cursor?: string },
): Promise<{ data: TestClockView[]; next_cursor: string | null }> {
  const rows = await testClocksAfter(ctx.database.db, ctx.scope, input.cursor ?? "", input.limit + 1);
  const page = rows.slice(0, input.limit);
  return {
    data: page.map(view),
    next_cursor: rows.length > input.limit ? page[page.length - 1].id : null,
  };
}

/**
 * Deletes a test clock and its customers' data (see the module doc for what is kept), in one
 * transaction. Deleting a deleted clock answers 404.
 *
 * @returns the clock as it was, and how many customers went with it
 * @throws {BillingError} `test_clock_not_found` (404)
 */
export async function deleteTestClock(
  ctx: Ctx,
  id: string,
): Promise<{ clock: TestClockView; deleted_customers: number }> {
  const clock = await loadTestClock(ctx, id);
  const customers = await ctx.database.write(async (tx) => {
    const gone = await customersOfTestClock(tx, ctx.scope, id);
    await deleteTestClockData(tx, ctx.scope, id);
    return gone;
  });
  forgetCustomerRefs(ctx, customers);
  for (const customer of customers) await invalidateEntitlements(ctx, { customerId: customer.id });
  return { clock: view(clock), deleted_customers: customers.length };
}

/** The earliest instant after `after` at which something is due for one subscription, or null. */
async function nextDueOfSubscription(
  ctx: Ctx,
  sub: Awaited<ReturnType<typeof subscriptionsOfTestClock>>[number],
  after: Date,
): Promise<number | null> {
  const plan = await loadPlan(ctx, ctx.database.db, sub.plan_id);
  const graceMs = plan.invoice_grace_period_hours * 3_600_000;
  const period = periodAt(timelineOf(sub), plan.interval, after);
  const candidates = [period.end.getTime(), period.start.getTime() + graceMs, period.end.getTime() + graceMs];
  // The time-based notifications (the wall clock's sweeper): 3 days before a trial ends, and a
  // fixed end.
  if (sub.trial_end) candidates.push(sub.trial_end.getTime() - TRIAL_ENDING_NOTICE_MS);
  if (sub.cancel_at) candidates.push(sub.cancel_at.getTime());
  for (const change of await changeRows.list(ctx.database.db, ctx.scope, { subscription_id: sub.id })) {
    candidates.push(change.effective_at.getTime());
  }
  const due = candidates.filter((t) => t > after.getTime());
  return due.length > 0 ? Math.min(...due) : null;
}

/**
 * Advances a clock to `frozen_time`, running what came due for its customers on the way (see the
 * module doc). Advancing to the current frozen time does nothing.
 *
 * @throws {BillingError} `test_clock_not_found` (404); `frozen_time_in_past` (400) before the
 *   current frozen time; `test_clock_advance_too_far` (400) beyond {@link MAX_ADVANCE_MS}
 */
export async function advanceTestClock(ctx: Ctx, id: string, frozenTime: Date): Promise<TestClockView> {
  const clock = await loadTestClock(ctx, id);
  const target = frozenTime.getTime();
  if (target < clock.frozen_time.getTime()) {
    throw new BillingError(
      "frozen_time_in_past",
      "invalid_request",
      `The frozen_time ${frozenTime.toISOString()} is before the clock's ${clock.frozen_time.toISOString()}; a test clock only moves forward`,
      { fields: [{ path: "frozen_time", message: "Must not be before the clock's frozen_time" }] },
    );
  }
  if (target - clock.frozen_time.getTime() > MAX_ADVANCE_MS) {
    throw new BillingError(
      "test_clock_advance_too_far",
      "invalid_request",
      `One advance moves a clock at most ${MAX_ADVANCE_MS / 86_400_000} days; advance in several steps`,
      { fields: [{ path: "frozen_time", message: "Too far after the clock's frozen_time" }] },
    );
  }
  let at = clock.frozen_time.getTime();
  for (let step = 0; at < target; step++) {
    if (step >= MAX_ADVANCE_STEPS) {
      throw new BillingError(
        "test_clock_advance_too_far",
        "invalid_request",
        `The advance needs more than ${MAX_ADVANCE_STEPS} stops; advance in several steps`,
      );
    }
    const subs = await subscriptionsOfTestClock(ctx.database.db, ctx.scope, id);
    let next = target;
    const dues = new Map<string, number>();
    for (const sub of subs) {
      const due = await nextDueOfSubscription(ctx, sub, new Date(at));
      if (due !== null) dues.set(sub.id, due);
      if (due !== null && due < next) next = due;
    }
    const expiry = await nextGrantExpiry(ctx.database.db, ctx.scope, id, new Date(at));
    if (expiry && expiry.getTime() < next) next = expiry.getTime();
    const stop = new Date(next);
    const stepCtx: Ctx = { ...ctx, clock: frozenClock(stop), actor: "test_clock" };
    // Between the first and the last stop, only subscriptions with something due by this stop (the
    // others would find nothing to do); the first and last stops catch up every subscription (one
    // backdated before the clock's time may have ended periods before the first stop).
    const all = step === 0 || next === target;
    const due = subs.filter((s) => all || (dues.get(s.id) ?? Infinity) <= next);
    await cycleSubscriptions(stepCtx, due.map((s) => s.id));
    await expireCredits(stepCtx, stop, 500, { scope: ctx.scope, id });
    // Trials ending within 3 days and fixed ends reached, as of this stop (once each).
    await sweepTestClock(stepCtx, { scope: ctx.scope, clockId: id }, stop, {
      actor: "test_clock",
      requestId: ctx.requestId ?? null,
    });
    await ctx.database.write((tx) => moveFrozenTime(tx, ctx.scope, id, stop));
    at = next;
  }
  if (target > clock.frozen_time.getTime()) {
    for (const customer of await customersOfTestClock(ctx.database.db, ctx.scope, id)) {
      await invalidateEntitlements(ctx, { customerId: customer.id });
    }
  }
  return view(await loadTestClock(ctx, id));
}
