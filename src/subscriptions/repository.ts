/**
 * Subscriptions, their plan changes and pauses, of one scope, through the one tenancy filter of
 * `storage/scoped.ts`.
 *
 * @module
 */
import { and, asc, desc, eq, exists, gt, isNotNull, isNull, lte, not, or, type SQL, sql } from "drizzle-orm";
import type { Page, PageRequest } from "../domain/paging.ts";
import type { Scope } from "../domain/scope.ts";
import type { SubscriptionStatus } from "../domain/subscription.ts";
import type { Executor } from "../storage/db.ts";
import { subscriptionChanges, subscriptionPauses, subscriptions } from "../storage/schema.ts";
import { onTestClock, onWallClock } from "../storage/clock_bound.ts";
import { pageRows, type Row, scoped, type TableRepository, tableRepository } from "../storage/scoped.ts";

/** A subscription row as stored. */
export type SubscriptionRow = Row<typeof subscriptions>;
/** A plan change row as stored. */
export type SubscriptionChangeRow = Row<typeof subscriptionChanges>;

/** The scope's subscriptions. */
export const subscriptionRows: TableRepository<typeof subscriptions> = tableRepository(subscriptions);
/** The scope's scheduled and applied plan changes. */
export const changeRows: TableRepository<typeof subscriptionChanges> = tableRepository(subscriptionChanges);
/** The scope's pauses (`end_at` null = still paused). */
export const pauseRows: TableRepository<typeof subscriptionPauses> = tableRepository(subscriptionPauses);

/** The customer's newest subscription that has not ended at `now` (paused or not), or undefined. */
export function openSubscriptionOf(
  exec: Executor,
  scope: Scope,
  customerId: string,
  now: Date,
): Promise<SubscriptionRow | undefined> {
  const s = scoped(exec, scope);
  return s.first(
    subscriptions,
    s.filter(
      subscriptions,
      eq(subscriptions.customer_id, customerId),
      or(isNull(subscriptions.cancel_at), gt(subscriptions.cancel_at, now)),
    ),
    { orderBy: [desc(subscriptions.id)] },
  );
}

/** Deletes the subscription's plan changes that take effect after `now` (not yet applied). */
export async function deletePendingChanges(
  exec: Executor,
  scope: Scope,
  subscriptionId: string,
  now: Date,
): Promise<void> {
  await scoped(exec, scope).delete(
    subscriptionChanges,
    scoped(exec, scope).filter(
      subscriptionChanges,
      eq(subscriptionChanges.subscription_id, subscriptionId),
      gt(subscriptionChanges.effective_at, now),
    ),
  );
}

/**
 * Up to `limit` subscriptions of every scope with an id above `afterId`, in id order, of
 * customers on the wall clock (a test clock's customers are billed by its advance). Global on
 * purpose: the billing cycle walks every tenant's subscriptions and then works on each one in its
 * own scope.
 */
export function subscriptionsOfAllScopesAfter(
  exec: Executor,
  afterId: string,
  limit: number,
): Promise<SubscriptionRow[]> {
  return exec.select().from(subscriptions).where(
    and(gt(subscriptions.id, afterId), onWallClock(subscriptions)),
  )
    .orderBy(subscriptions.id)
    .limit(limit);
}

/** The subscriptions of the customers bound to test clock `clockId` in the scope, in id order. */
export function subscriptionsOfTestClock(
  exec: Executor,
  scope: Scope,
  clockId: string,
): Promise<SubscriptionRow[]> {
  const s = scoped(exec, scope);
  return s.select(subscriptions, onTestClock(subscriptions, clockId), { orderBy: [asc(subscriptions.id)] });
}

/** One test clock of one scope: narrows the sweeper's global reads to that clock's subscriptions. */
export interface ClockOfScope {
  /** Tenant and app of the clock. */
  scope: Scope;
  /** `clock_…` id. */
  clockId: string;
}

/** Wall-clock subscriptions (the sweeper), or those of one test clock in its scope (an advance). */
function clockFilter(clock: ClockOfScope | undefined): SQL {
  if (!clock) return onWallClock(subscriptions);
  return and(
    eq(subscriptions.tenant_id, clock.scope.tenantId),
    eq(subscriptions.app_id, clock.scope.appId),
    onTestClock(subscriptions, clock.clockId),
  )!;
}

/** `not exists` an audit row of `action` about the subscription (the sweeper emits each event once). */
const notAudited = (action: string) =>
  sql`not exists (select 1 from audit_events a where a.tenant_id = ${subscriptions.tenant_id} and a.app_id = ${subscriptions.app_id}
    and a.resource_id = ${subscriptions.id} and a.action = ${action})`;

/**
 * Subscriptions of every scope whose trial ends in `(now, until]` (and not after they end), not
 * yet reported with `subscription.trial_ending`, soonest first, at most `limit`. Global on purpose:
 * the sweeper serves every tenant in one pass.
 */
export function trialsEndingOfAllScopes(
  exec: Executor,
  now: Date,
  until: Date,
  limit: number,
  clock?: ClockOfScope,
): Promise<SubscriptionRow[]> {
  return exec.select().from(subscriptions).where(and(
    isNotNull(subscriptions.trial_end),
    gt(subscriptions.trial_end, now),
    lte(subscriptions.trial_end, until),
    sql`(${subscriptions.cancel_at} is null or ${subscriptions.cancel_at} > ${subscriptions.trial_end})`,
    notAudited("subscription.trial_ending"),
    clockFilter(clock),
  )).orderBy(asc(subscriptions.trial_end), asc(subscriptions.id)).limit(limit);
}

/**
 * Subscriptions of every scope that ran out (a scheduled end in `(since, now]`, not canceled
 * explicitly) and were not yet reported with `subscription.expired`, oldest first, at most
 * `limit`. Global on purpose, like {@link trialsEndingOfAllScopes}.
 */
export function expiriesOfAllScopes(
  exec: Executor,
  now: Date,
  since: Date,
  limit: number,
  clock?: ClockOfScope,
): Promise<SubscriptionRow[]> {
  return exec.select().from(subscriptions).where(and(
    isNotNull(subscriptions.cancel_at),
    isNull(subscriptions.canceled_at),
    lte(subscriptions.cancel_at, now),
    gt(subscriptions.cancel_at, since),
    notAudited("subscription.expired"),
    clockFilter(clock),
  )).orderBy(asc(subscriptions.cancel_at), asc(subscriptions.id)).limit(limit);
}

/**
 * The condition "the subscription's status at `now` is `status`", in SQL: the rule of
 * `statusAt` in `domain/subscription.ts` (ended → canceled or expired; else paused inside a pause;
 * else trialing before `trial_end`; else active), so a filtered list pages in the database.
 */
function statusWhere(exec: Executor, status: SubscriptionStatus, now: Date): SQL {
  const ended = and(isNotNull(subscriptions.cancel_at), lte(subscriptions.cancel_at, now))!;
  const paused = exists(
    exec.select({ one: sql`1` }).from(subscriptionPauses).where(and(
      eq(subscriptionPauses.tenant_id, subscriptions.tenant_id),
      eq(subscriptionPauses.app_id, subscriptions.app_id),
      eq(subscriptionPauses.subscription_id, subscriptions.id),
      lte(subscriptionPauses.start_at, now),
      or(isNull(subscriptionPauses.end_at), gt(subscriptionPauses.end_at, now)),
    )),
  );
  switch (status) {
    case "canceled":
      return and(ended, isNotNull(subscriptions.canceled_at))!;
    case "expired":
      return and(ended, isNull(subscriptions.canceled_at))!;
    case "paused":
      return and(not(ended), paused)!;
    case "trialing":
      return and(
        not(ended),
        not(paused),
        isNotNull(subscriptions.trial_end),
        gt(subscriptions.trial_end, now),
      )!;
    case "active":
      return and(
        not(ended),
        not(paused),
        or(isNull(subscriptions.trial_end), lte(subscriptions.trial_end, now)),
      )!;
  }
}

/**
 * One page of the scope's subscriptions, newest first, optionally of one customer and in one
 * status at `now`.
 */
export function subscriptionPage(
  exec: Executor,
  scope: Scope,
  filter: { customer_id?: string; status?: SubscriptionStatus; now: Date },
  request: PageRequest,
): Promise<Page<SubscriptionRow>> {
  const where = and(
    filter.customer_id === undefined ? undefined : eq(subscriptions.customer_id, filter.customer_id),
    filter.status === undefined ? undefined : statusWhere(exec, filter.status, filter.now),
  );
  return pageRows(exec, scope, subscriptions, where, request, "sub");
}
