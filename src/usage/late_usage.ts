/**
 * The late-event gate of usage ingestion: closed periods (finalized invoices) and pauses of the
 * batch's customers, checked with the pure rule `eventTimingViolation` of `domain/usage_rules.ts`.
 * Two queries per batch.
 *
 * @module
 */
import { type ClosedPeriod, eventTimingViolation, type TimingViolation } from "../domain/usage_rules.ts";
import type { Executor } from "../storage/db.ts";
import { closedPeriodsOfCustomers } from "../invoices/repository.ts";
import { pausesOfCustomers } from "../subscriptions/repository.ts";
import type { Ctx } from "../context.ts";
import { inChunks } from "../storage/limits.ts";

/** Checks timestamps of a batch against the clock and each customer's closed periods. */
export interface TimingGate {
  /** The violation for an event of `customerId` at `timestamp`, or null. */
  check(customerId: string, timestamp: Date): TimingViolation | null;
}

/**
 * Loads the closed periods (finalized invoices) and pauses of the batch's customers and returns
 * the gate. Two queries per 500 customers.
 *
 * @param now the instant future timestamps are judged against: one for all, or each customer's
 *   own (a customer on a test clock lives on its frozen time, `test_clocks/time.ts`)
 */
export async function timingGate(
  ctx: Ctx,
  exec: Executor,
  customerIds: readonly string[],
  now: Date | ((customerId: string) => Date),
): Promise<TimingGate> {
  const nowOf = typeof now === "function" ? now : () => now;
  const unique = [...new Set(customerIds)];
  const closed = new Map<string, ClosedPeriod[]>();
  const paused = new Map<string, { start: Date; end: Date | null }[]>();
  for (const slice of inChunks(exec, unique, 8)) {
    const rows = await closedPeriodsOfCustomers(exec, ctx.scope, slice);
    for (const r of rows) {
      const list = closed.get(r.customer_id) ?? [];
      list.push({ start: r.start, end: r.end, invoice_number: r.number });
      closed.set(r.customer_id, list);
    }
    const pauses = await pausesOfCustomers(exec, ctx.scope, slice);
    for (const p of pauses) {
      const list = paused.get(p.customer_id) ?? [];
      list.push({ start: p.start, end: p.end });
      paused.set(p.customer_id, list);
    }
  }
  return {
    check: (customerId, timestamp) =>
      eventTimingViolation(
        timestamp,
        nowOf(customerId),
        closed.get(customerId) ?? [],
        paused.get(customerId) ?? [],
      ),
  };
}
