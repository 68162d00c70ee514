/**
 * The late-event gate of usage ingestion: closed periods (finalized invoices) of the batch's
 * customers, checked with the pure rule `eventTimingViolation` of `domain/usage_rules.ts`.
 *
 * @module
 */
import { and, eq, inArray } from "drizzle-orm";
import { type ClosedPeriod, eventTimingViolation, type TimingViolation } from "../domain/usage_rules.ts";
import type { Executor } from "../storage/db.ts";
import { invoices } from "../storage/schema.ts";
import type { Ctx } from "./context.ts";

/** Checks timestamps of a batch against the clock and each customer's closed periods. */
export interface TimingGate {
  /** The violation for an event of `customerId` at `timestamp`, or null. */
  check(customerId: string, timestamp: Date): TimingViolation | null;
}

/**
 * Loads the closed periods (finalized invoices) of the batch's customers and returns the gate.
 * One query per batch.
 */
export async function timingGate(ctx: Ctx, exec: Executor, customerIds: readonly string[], now: Date): Promise<TimingGate> {
  const unique = [...new Set(customerIds)];
  const closed = new Map<string, ClosedPeriod[]>();
  for (let i = 0; i < unique.length; i += 500) {
    const rows = await exec.select({
      customer_id: invoices.customer_id,
      start: invoices.period_start,
      end: invoices.period_end,
      number: invoices.number,
    }).from(invoices).where(and(
      eq(invoices.tenant_id, ctx.scope.tenantId),
      eq(invoices.app_id, ctx.scope.appId),
      inArray(invoices.customer_id, unique.slice(i, i + 500)),
      inArray(invoices.status, ["open", "paid", "uncollectible"]),
    ));
    for (const r of rows) {
      const list = closed.get(r.customer_id) ?? [];
      list.push({ start: r.start, end: r.end, invoice_number: r.number });
      closed.set(r.customer_id, list);
    }
  }
  return { check: (customerId, timestamp) => eventTimingViolation(timestamp, now, closed.get(customerId) ?? []) };
}

