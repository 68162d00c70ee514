/**
 * Invoice rows of one scope, through the one tenancy filter of `storage/scoped.ts`.
 *
 * @module
 */
import { inArray } from "drizzle-orm";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import { invoices } from "../storage/schema.ts";
import { type Row, scoped, type TableRepository, tableRepository } from "../storage/scoped.ts";

/** An invoice row as stored. */
export type InvoiceRow = Row<typeof invoices>;

/** The scope's invoices. */
export const invoiceRows: TableRepository<typeof invoices> = tableRepository(invoices);

/** The scope's closed (open, paid or uncollectible) invoice periods of these customers (one IN list). */
export async function closedPeriodsOfCustomers(
  exec: Executor,
  scope: Scope,
  customerIds: readonly string[],
): Promise<{ customer_id: string; start: Date; end: Date; number: string | null }[]> {
  if (customerIds.length === 0) return [];
  const s = scoped(exec, scope);
  return await exec.select({
    customer_id: invoices.customer_id,
    start: invoices.period_start,
    end: invoices.period_end,
    number: invoices.number,
  }).from(invoices).where(s.filter(
    invoices,
    inArray(invoices.customer_id, [...customerIds]),
    inArray(invoices.status, ["open", "paid", "uncollectible"]),
  ));
}
