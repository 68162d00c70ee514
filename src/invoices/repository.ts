/**
 * Invoices, their lines, payments, credit notes and number sequences of one scope, through the
 * one tenancy filter of `storage/scoped.ts`.
 *
 * @module
 */
import { and, eq, gt, inArray, ne, sql } from "drizzle-orm";
import type { Page, PageRequest } from "../domain/paging.ts";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import {
  creditNotes,
  creditNoteSequences,
  invoiceLines,
  invoicePayments,
  invoices,
  invoiceSequences,
} from "../storage/schema.ts";
import {
  type NewRow,
  pageRows,
  type Row,
  scoped,
  type TableRepository,
  tableRepository,
} from "../storage/scoped.ts";

/** An invoice row as stored. */
export type InvoiceRow = Row<typeof invoices>;
/** An invoice line row to insert (the scope columns are stamped by the repository). */
export type NewInvoiceLineRow = NewRow<typeof invoiceLines>;

/** The columns of an invoice line that say what it bills (without its keys and position). */
export type InvoiceLineColumns = Omit<
  Row<typeof invoiceLines>,
  "id" | "tenant_id" | "app_id" | "invoice_id" | "position"
>;
/** A credit note row as stored. */
export type CreditNoteRow = Row<typeof creditNotes>;

/** The scope's invoices. */
export const invoiceRows: TableRepository<typeof invoices> = tableRepository(invoices);
/** The scope's invoice lines. */
export const invoiceLineRows: TableRepository<typeof invoiceLines> = tableRepository(invoiceLines);
/** The scope's recorded invoice payments. */
export const invoicePaymentRows: TableRepository<typeof invoicePayments> = tableRepository(invoicePayments);
/** The scope's credit notes. */
export const creditNoteRows: TableRepository<typeof creditNotes> = tableRepository(creditNotes);

/** One page of an invoice's credit notes, newest first (`domain/paging.ts`). */
export function creditNotePage(
  exec: Executor,
  scope: Scope,
  invoiceId: string,
  request: PageRequest,
): Promise<Page<CreditNoteRow>> {
  return pageRows(exec, scope, creditNotes, eq(creditNotes.invoice_id, invoiceId), request, "cn");
}

/** The subscription's invoice of exactly this period that is not void, or undefined. */
export function invoiceOfPeriod(
  exec: Executor,
  scope: Scope,
  subscriptionId: string,
  start: Date,
  end: Date,
): Promise<InvoiceRow | undefined> {
  const s = scoped(exec, scope);
  return s.first(
    invoices,
    s.filter(
      invoices,
      eq(invoices.subscription_id, subscriptionId),
      eq(invoices.period_start, start),
      eq(invoices.period_end, end),
      ne(invoices.status, "void"),
    ),
  );
}

/**
 * One page of the scope's invoices, newest first (`domain/paging.ts`), optionally of one customer,
 * one subscription and in one status.
 */
export function invoicePage(
  exec: Executor,
  scope: Scope,
  filter: { customer_id?: string; subscription_id?: string; status?: InvoiceRow["status"] },
  request: PageRequest,
): Promise<Page<InvoiceRow>> {
  const where = and(
    filter.customer_id ? eq(invoices.customer_id, filter.customer_id) : undefined,
    filter.subscription_id ? eq(invoices.subscription_id, filter.subscription_id) : undefined,
    filter.status ? eq(invoices.status, filter.status) : undefined,
  );
  return pageRows(exec, scope, invoices, where, request, "inv");
}

/**
 * The scope's next number of the invoice or credit note sequence (1, 2, …), race-free: one
 * upsert that increments in the statement.
 */
export async function nextSequenceNumber(
  exec: Executor,
  scope: Scope,
  kind: "invoice" | "credit_note",
): Promise<number> {
  const table = kind === "invoice" ? invoiceSequences : creditNoteSequences;
  const [sequence] = await scoped(exec, scope).insert(table, { last_number: 1 })
    .onConflictDoUpdate({
      target: [table.tenant_id, table.app_id],
      set: { last_number: sql`${table.last_number} + 1` },
    })
    .returning({ last_number: table.last_number });
  return sequence.last_number;
}

/**
 * Whether a finalized invoice (open, paid or uncollectible) of the subscription other than
 * `exceptInvoiceId` took a discount from `couponId`: what uses up a `once` coupon (ADR 0004).
 */
export async function couponDiscountedAnInvoice(
  exec: Executor,
  scope: Scope,
  subscriptionId: string,
  couponId: string,
  exceptInvoiceId: string | null,
): Promise<boolean> {
  const s = scoped(exec, scope);
  const row = await s.first(
    invoices,
    s.filter(
      invoices,
      eq(invoices.subscription_id, subscriptionId),
      eq(invoices.coupon_id, couponId),
      gt(invoices.discount, 0),
      inArray(invoices.status, ["open", "paid", "uncollectible"]),
      exceptInvoiceId === null ? undefined : ne(invoices.id, exceptInvoiceId),
    ),
  );
  return row !== undefined;
}
