/**
 * The one resolver of "now" per customer. A customer bound to a test clock lives on the clock's
 * frozen time; every other customer on the services' clock (the wall clock in production). The
 * services that act for one customer (subscriptions, invoices, usage, entitlements, coupons,
 * credits) narrow their context with {@link customerCtx}, so every instant they read or stamp
 * (periods, statuses, event timestamps, invoice dates, outbox and audit rows) comes from the same
 * source; nothing else calls `Date.now()` for a customer.
 *
 * A customer's binding never changes (it is set at creation), so it is remembered per process
 * (bounded); the frozen time is read from storage each time, since an advance in another process
 * moves it.
 *
 * @module
 */
import type { Clock } from "../domain/scope.ts";
import type { Ctx } from "../context.ts";
import type { Executor, Store } from "../storage/db.ts";
import { inChunks } from "../storage/limits.ts";
import { clocksOfCustomers } from "./repository.ts";

/** Largest number of customer bindings remembered per store (a limit on everything). */
const MAX_REMEMBERED = 100_000;
/** customer key → clock id, or null for the wall clock; per store. */
const bindings = new WeakMap<Store, Map<string, string | null>>();

/** A clock stopped at `at`. */
export function frozenClock(at: Date): Clock {
  const ms = at.getTime();
  return { now: () => new Date(ms) };
}

/**
 * The frozen times of those customers (`cus_…` ids) that are bound to a test clock; customers on
 * the wall clock are absent. One query per chunk of customers not yet known to be on the wall clock.
 */
async function frozenTimes(
  ctx: Ctx,
  exec: Executor,
  customerIds: readonly string[],
): Promise<Map<string, Date>> {
  let known = bindings.get(ctx.database);
  if (!known) bindings.set(ctx.database, known = new Map());
  const prefix = `${ctx.scope.tenantId}:${ctx.scope.appId}:`;
  const ask = [...new Set(customerIds)].filter((id) => !known.has(prefix + id));
  const frozen = new Map<string, Date>();
  for (const chunk of inChunks(exec, ask, 4)) {
    const found = await clocksOfCustomers(exec, ctx.scope, chunk);
    for (const id of chunk) {
      const clock = found.get(id);
      if (clock) {
        frozen.set(id, clock.frozen_time);
        continue;
      }
      // Only the wall clock is remembered: a bound customer's frozen time is read each time.
      if (known.size >= MAX_REMEMBERED) known.delete(known.keys().next().value!);
      known.set(prefix + id, null);
    }
  }
  return frozen;
}

/**
 * The current instant of each customer (`cus_…` ids): its test clock's frozen time, or
 * `ctx.clock.now()` for customers on the wall clock (and unknown ids).
 *
 * @returns a function from customer id to its instant
 */
export async function customerTimes(
  ctx: Ctx,
  exec: Executor,
  customerIds: readonly string[],
): Promise<(customerId: string) => Date> {
  const now = ctx.clock.now();
  const frozen = await frozenTimes(ctx, exec, customerIds);
  return (customerId) => frozen.get(customerId) ?? now;
}

/**
 * Whether this process already knows the customer (`cus_…` id) is on the wall clock, so that
 * {@link customerCtx} would return `ctx` itself without reading anything; asked without a promise
 * on the hot path (the entitlement check, issue 14). False means: ask {@link customerCtx}.
 */
export function onWallClock(ctx: Ctx, customerId: string): boolean {
  return bindings.get(ctx.database)?.has(`${ctx.scope.tenantId}:${ctx.scope.appId}:${customerId}`) ?? false;
}

/**
 * `ctx` with the customer's clock: its test clock stopped at the frozen time, else `ctx` itself.
 *
 * @param customerId `cus_…` id (an unknown id keeps `ctx`)
 */
export async function customerCtx(ctx: Ctx, exec: Executor, customerId: string): Promise<Ctx> {
  const at = (await frozenTimes(ctx, exec, [customerId])).get(customerId);
  return at ? { ...ctx, clock: frozenClock(at) } : ctx;
}
