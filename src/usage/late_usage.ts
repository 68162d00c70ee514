/**
 * The late-event gate of usage ingestion: closed periods (finalized invoices) and pauses of the
 * batch's customers, checked with the pure rule `eventTimingViolation` of `domain/usage_rules.ts`.
 * One query per batch (per 500 customers), `timingRowsOfCustomers`.
 *
 * @module
 */
import { type ClosedPeriod, eventTimingViolation, type TimingViolation } from "../domain/usage_rules.ts";
import type { Executor } from "../storage/db.ts";
import { timingRowsOfCustomers } from "./repository.ts";
import type { Ctx } from "../context.ts";
import { inChunks } from "../storage/limits.ts";

/** Checks timestamps of a batch against the clock and each customer's closed periods. */
export interface TimingGate {
  /** The violation for an event of `customerId` at `timestamp`, or null. */
  check(customerId: string, timestamp: Date): TimingViolation | null;
}

/**
 * Loads the closed periods (finalized invoices) and pauses of the batch's customers and returns
 * the gate. One query per 500 customers.
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
  // Each id binds twice (one IN list per half of the union): half the values of a plain IN list.
  for (const slice of inChunks(exec, unique, 8).flatMap((c) => halves(c))) {
    for (const r of await timingRowsOfCustomers(exec, ctx.scope, slice)) {
      if (r.kind === "closed") {
        const list = closed.get(r.customer_id) ?? [];
        list.push({ start: r.start, end: r.end!, invoice_number: r.number });
        closed.set(r.customer_id, list);
      } else {
        const list = paused.get(r.customer_id) ?? [];
        list.push({ start: r.start, end: r.end });
        paused.set(r.customer_id, list);
      }
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

/** `list` cut in two (one piece when it has a single value). */
function halves<T>(list: T[]): T[][] {
  if (list.length < 2) return [list];
  const mid = Math.ceil(list.length / 2);
  return [list.slice(0, mid), list.slice(mid)];
}
