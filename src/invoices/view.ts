/**
 * Invoice views: a stored invoice (and credit note) as the API shows it, and the reads (get, list).
 *
 * @module
 */
import { isId } from "../domain/ids.ts";
import type { Page, PageRequest } from "../domain/paging.ts";
import { inChunks } from "../storage/limits.ts";
import { notFound } from "../domain/errors.ts";
import type { InvoiceStatus } from "../domain/invoice_state.ts";
import { amountDue } from "../domain/invoice_state.ts";
import type { Executor } from "../storage/db.ts";
import {
  type CreditNoteRow,
  type InvoiceLineColumns,
  invoiceLineRows,
  invoicePage,
  type InvoiceRow,
  invoiceRows,
} from "./repository.ts";
import type { Ctx } from "../context.ts";
import type { Scope } from "../domain/scope.ts";
import type { DimensionValues } from "../domain/dimensions.ts";
import { loadCustomer } from "../customers/service.ts";
import type { CreditNoteView, InvoiceLineView, InvoiceView } from "../domain/views.ts";
export type { CreditNoteView, InvoiceLineView, InvoiceView };

/** A stored invoice. */
export type { InvoiceRow };

/** Row → view (reads the lines). */
export async function invoiceView(exec: Executor, scope: Scope, row: InvoiceRow): Promise<InvoiceView> {
  const lines = await invoiceLineRows.list(exec, scope, { invoice_id: row.id }, {
    orderBy: [["position", "asc"]],
  });
  return invoiceViewOf(row, lines);
}

/** Rows → views, reading the lines of all of them in a few statements (a page of a list). */
export async function invoiceViews(
  exec: Executor,
  scope: Scope,
  rows: readonly InvoiceRow[],
): Promise<InvoiceView[]> {
  const lines = new Map(rows.map((r) => [r.id, [] as InvoiceLineColumns[]]));
  // Each statement binds the scope's two columns beside the IN list (4 reserved, generously).
  for (const chunk of inChunks(exec, rows.map((r) => r.id), 4)) {
    const found = await invoiceLineRows.list(exec, scope, { invoice_id: chunk }, {
      orderBy: [["invoice_id", "asc"], ["position", "asc"]],
    });
    for (const line of found) lines.get(line.invoice_id)!.push(line);
  }
  return rows.map((r) => invoiceViewOf(r, lines.get(r.id)!));
}

/**
 * An invoice row and its lines (in order) as the API shows them. Invoices rated before several
 * tax rates (`taxes` null) show their one rate's tax as the single entry of `taxes`.
 */
export function invoiceViewOf(
  row: Omit<InvoiceRow, "tenant_id" | "app_id">,
  lines: readonly InvoiceLineColumns[],
): InvoiceView {
  const taxes = row.taxes ??
    (row.tax_rate_id
      ? [{
        tax_rate_id: row.tax_rate_id,
        percentage_bp: row.tax_percentage_bp ?? 0,
        inclusive: row.tax_inclusive ?? false,
        amount: row.tax,
      }]
      : []);
  return {
    id: row.id,
    number: row.number,
    status: row.status,
    customer_id: row.customer_id,
    subscription_id: row.subscription_id,
    currency: row.currency,
    lines: lines.map((l) => ({
      kind: l.kind,
      description: l.description,
      feature: l.feature,
      quantity: l.quantity_decimal ?? l.quantity,
      unit_amount: l.unit_amount_decimal === null ? l.unit_amount : null,
      unit_amount_decimal: l.unit_amount_decimal ?? String(l.unit_amount),
      amount: l.amount,
      tier: l.tier,
      plan_id: l.plan_id,
      dimensions: l.dimensions as DimensionValues | null,
      discount_amount: l.discount_amount,
      tax_amount: l.tax_amount,
    })),
    subtotal: row.subtotal,
    discount: row.discount,
    tax: row.tax,
    total: row.total,
    credits_applied: row.credits_applied,
    credited: row.credited,
    amount_paid: row.amount_paid,
    amount_due: amountDue(row),
    coupon_id: row.coupon_id,
    tax_rate: row.tax_rate_id
      ? {
        id: row.tax_rate_id,
        percentage_bp: row.tax_percentage_bp ?? 0,
        inclusive: row.tax_inclusive ?? false,
      }
      : null,
    taxes,
    period_start: row.period_start.toISOString(),
    period_end: row.period_end.toISOString(),
    due_at: row.due_at?.toISOString() ?? null,
    finalized_at: row.finalized_at?.toISOString() ?? null,
    paid_at: row.paid_at?.toISOString() ?? null,
    voided_at: row.voided_at?.toISOString() ?? null,
    uncollectible_at: row.uncollectible_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
  };
}

/**
 * Loads one invoice of the scope.
 *
 * @throws {BillingError} `invoice_not_found` (404) for a malformed, missing or foreign id
 */
export async function loadInvoiceRow(ctx: Ctx, exec: Executor, id: string): Promise<InvoiceRow> {
  if (!isId("inv", id)) throw notFound("invoice", id);
  const row = await invoiceRows.first(exec, ctx.scope, { id });
  if (!row) throw notFound("invoice", id);
  return row;
}

/** A stored credit note → its view. */
export function creditNoteView(row: CreditNoteRow): CreditNoteView {
  return {
    id: row.id,
    number: row.number,
    invoice_id: row.invoice_id,
    amount: row.amount,
    tax: row.tax,
    reason: row.reason,
    reference: row.reference,
    entry_id: row.entry_id,
    created_at: row.created_at.toISOString(),
  };
}

/** GET an invoice. @throws {BillingError} `invoice_not_found` */
export async function getInvoice(ctx: Ctx, id: string): Promise<InvoiceView> {
  const db = ctx.database.db;
  return await invoiceView(db, ctx.scope, await loadInvoiceRow(ctx, db, id));
}

/**
 * Lists invoices newest first, one page at a time (`domain/paging.ts`), filtered by customer
 * (`cus_` or external id), subscription and status.
 *
 * @throws {BillingError} `customer_not_found` when the customer filter names no customer;
 *   `validation_failed` for a cursor this list did not hand out
 */
export async function listInvoices(
  ctx: Ctx,
  filter: { customer_id?: string; subscription_id?: string; status?: InvoiceStatus } & PageRequest,
): Promise<Page<InvoiceView>> {
  const db = ctx.database.db;
  const customerId = filter.customer_id ? (await loadCustomer(ctx, db, filter.customer_id)).id : undefined;
  const page = await invoicePage(db, ctx.scope, {
    customer_id: customerId,
    subscription_id: filter.subscription_id,
    status: filter.status,
  }, { limit: filter.limit, cursor: filter.cursor });
  const views = await invoiceViews(db, ctx.scope, page.data);
  return { data: views, next_cursor: page.next_cursor };
}
