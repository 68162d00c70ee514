/**
 * Invoices: generate (draft), finalize (open, numbered, posted to the ledger), pay, void.
 *
 * - One non-void invoice per subscription and period. Generating again returns the same invoice:
 *   a draft is refreshed in place from current usage (same id; a draft is a preview), an invoice
 *   past draft is returned unchanged. Finalizing refreshes the draft one last time, so usage that
 *   arrived before finalization is never left unbilled.
 * - Numbers (`INV-000001`) are assigned at finalization from a per-app sequence advanced in the
 *   same transaction, so they are sequential and gapless.
 * - Ledger (ADR 0001): finalization debits `accounts_receivable:{customer}` and credits `revenue`
 *   (and `tax_payable`); a payment debits `cash` and credits the receivable; voiding an open invoice
 *   posts the reversal of its finalization. A zero-total invoice is marked paid on finalization
 *   and posts nothing (as Stripe does), since a ledger entry of zero postings means nothing.
 * - Payments may be partial; `reference` makes a payment retry-safe (same reference, same amount →
 *   the same payment; another amount → `idempotency_key_reused`).
 *
 * @module
 */
import { and, desc, eq, lt, ne, sql } from "drizzle-orm";
import { BillingError, notFound } from "../domain/errors.ts";
import { isId, newId } from "../domain/ids.ts";
import { computeInvoice, type InvoiceLineDraft, type InvoiceStatus } from "../domain/invoice.ts";
import {
  BILLING_ACCOUNTS,
  type InvoiceAccounts,
  invoiceFinalizedPostings,
  invoicePaymentPostings,
  reversalPostings,
} from "../domain/ledger.ts";
import { resolvePeriod, type BillingPeriod } from "../domain/subscription.ts";
import type { Executor, Tx } from "../storage/db.ts";
import { invoiceLines, invoicePayments, invoices, invoiceSequences } from "../storage/schema.ts";
import { type Ctx, type Emit, type Scope, writeOp } from "./context.ts";
import { loadCustomer } from "./customers.ts";
import { ensureAccount, loadEntry, postEntry } from "./ledger.ts";
import { billingPeriodAt, loadSubscription, timelineOf } from "./subscriptions.ts";
import { aggregateUsage } from "./usage.ts";
import type { Plan } from "../domain/plan.ts";

/** An invoice line as the API shows it. */
export interface InvoiceLineView {
  kind: "base" | "usage";
  description: string;
  feature: string | null;
  quantity: number;
  unit_amount: number;
  amount: number;
  tier: number | null;
}

/** An invoice as the API shows it; amounts in minor units of `currency`. */
export interface InvoiceView {
  id: string;
  number: string | null;
  status: InvoiceStatus;
  customer_id: string;
  subscription_id: string;
  currency: string;
  lines: InvoiceLineView[];
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
  amount_paid: number;
  amount_due: number;
  period_start: string;
  period_end: string;
  finalized_at: string | null;
  paid_at: string | null;
  voided_at: string | null;
  created_at: string;
}

type InvoiceRow = typeof invoices.$inferSelect;

function scopedInvoices(scope: Scope) {
  return and(eq(invoices.tenant_id, scope.tenantId), eq(invoices.app_id, scope.appId));
}

async function invoiceView(exec: Executor, scope: Scope, row: InvoiceRow): Promise<InvoiceView> {
  const lines = await exec.select().from(invoiceLines)
    .where(and(eq(invoiceLines.tenant_id, scope.tenantId), eq(invoiceLines.app_id, scope.appId), eq(invoiceLines.invoice_id, row.id)))
    .orderBy(invoiceLines.position);
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
      quantity: l.quantity,
      unit_amount: l.unit_amount,
      amount: l.amount,
      tier: l.tier,
    })),
    subtotal: row.subtotal,
    discount: row.discount,
    tax: row.tax,
    total: row.total,
    amount_paid: row.amount_paid,
    amount_due: row.status === "void" ? 0 : row.total - row.amount_paid,
    period_start: row.period_start.toISOString(),
    period_end: row.period_end.toISOString(),
    finalized_at: row.finalized_at?.toISOString() ?? null,
    paid_at: row.paid_at?.toISOString() ?? null,
    voided_at: row.voided_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
  };
}

async function loadInvoiceRow(ctx: Ctx, exec: Executor, id: string): Promise<InvoiceRow> {
  if (!isId("inv", id)) throw notFound("invoice", id);
  const row = await exec.query.invoices.findFirst({ where: and(scopedInvoices(ctx.scope), eq(invoices.id, id)) });
  if (!row) throw notFound("invoice", id);
  return row;
}

/** Rates a period of a subscription: usage per priced feature → lines and totals. */
async function rate(ctx: Ctx, tx: Tx, customerId: string, plan: Plan, period: BillingPeriod) {
  const usage = new Map<string, number>();
  for (const feature of plan.features) {
    if (!feature.pricing) continue;
    usage.set(feature.key, await aggregateUsage(ctx.scope, tx, customerId, feature, period.start, period.end));
  }
  return computeInvoice({ plan, usage, trial: period.trial });
}

async function writeLines(ctx: Ctx, tx: Tx, invoiceId: string, lines: InvoiceLineDraft[]): Promise<void> {
  await tx.delete(invoiceLines).where(and(
    eq(invoiceLines.tenant_id, ctx.scope.tenantId),
    eq(invoiceLines.app_id, ctx.scope.appId),
    eq(invoiceLines.invoice_id, invoiceId),
  ));
  if (lines.length === 0) return;
  await tx.insert(invoiceLines).values(lines.map((l, position) => ({
    id: newId("il"),
    tenant_id: ctx.scope.tenantId,
    app_id: ctx.scope.appId,
    invoice_id: invoiceId,
    position,
    ...l,
  })));
}

/** Recomputes a draft from current usage; returns the updated row. */
async function refreshDraft(ctx: Ctx, tx: Tx, row: InvoiceRow, emit: Emit | null): Promise<InvoiceRow> {
  const { row: sub, plan } = await loadSubscription(ctx, tx, row.subscription_id);
  const trial = billingPeriodAt(sub, plan.interval, row.period_start).trial;
  const period: BillingPeriod = { start: row.period_start, end: row.period_end, index: 0, trial };
  const draft = await rate(ctx, tx, row.customer_id, plan, period);
  const updated: InvoiceRow = {
    ...row,
    subtotal: draft.subtotal,
    discount: draft.discount,
    tax: draft.tax,
    total: draft.total,
    updated_at: ctx.clock.now(),
  };
  await writeLines(ctx, tx, row.id, draft.lines);
  await tx.update(invoices).set({
    subtotal: updated.subtotal,
    discount: updated.discount,
    tax: updated.tax,
    total: updated.total,
    updated_at: updated.updated_at,
  }).where(and(scopedInvoices(ctx.scope), eq(invoices.id, row.id)));
  if (emit && updated.total !== row.total) emit("invoice.updated", row.id, { total: updated.total, previous_total: row.total });
  return updated;
}

/**
 * Generates (or returns) the invoice of a subscription's period: the current period, or the one
 * named by `period_start`/`period_end`.
 *
 * @returns the invoice and whether it was newly created
 * @throws {BillingError} `subscription_not_found` (404), `invalid_period` (422)
 */
export async function generateInvoice(
  ctx: Ctx,
  input: { subscription_id: string; period_start?: Date; period_end?: Date },
): Promise<{ invoice: InvoiceView; created: boolean }> {
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const { row: sub, plan } = await loadSubscription(ctx, tx, input.subscription_id);
    const period = input.period_start && input.period_end
      ? resolvePeriod(timelineOf(sub), plan.interval, input.period_start, input.period_end, now)
      : billingPeriodAt(sub, plan.interval, now);
    const existing = await tx.query.invoices.findFirst({
      where: and(
        scopedInvoices(ctx.scope),
        eq(invoices.subscription_id, sub.id),
        eq(invoices.period_start, period.start),
        eq(invoices.period_end, period.end),
        ne(invoices.status, "void"),
      ),
    });
    if (existing) {
      const row = existing.status === "draft" ? await refreshDraft(ctx, tx, existing, emit) : existing;
      return { invoice: await invoiceView(tx, ctx.scope, row), created: false };
    }
    const draft = await rate(ctx, tx, sub.customer_id, plan, period);
    const row: InvoiceRow = {
      id: newId("inv"),
      tenant_id: ctx.scope.tenantId,
      app_id: ctx.scope.appId,
      subscription_id: sub.id,
      customer_id: sub.customer_id,
      number: null,
      status: "draft",
      currency: plan.currency,
      period_start: period.start,
      period_end: period.end,
      subtotal: draft.subtotal,
      discount: draft.discount,
      tax: draft.tax,
      total: draft.total,
      amount_paid: 0,
      finalize_entry_id: null,
      finalized_at: null,
      paid_at: null,
      voided_at: null,
      created_at: now,
      updated_at: now,
    };
    await tx.insert(invoices).values(row);
    await writeLines(ctx, tx, row.id, draft.lines);
    const view = await invoiceView(tx, ctx.scope, row);
    emit("invoice.generated", row.id, view as unknown as Record<string, unknown>);
    return { invoice: view, created: true };
  });
}

async function accountsFor(ctx: Ctx, tx: Tx, customerId: string, currency: string, now: Date): Promise<InvoiceAccounts> {
  const ensure = (name: string, type: "asset" | "liability" | "revenue") => ensureAccount(tx, ctx.scope, now, { name, type, currency });
  return {
    receivable: (await ensure(BILLING_ACCOUNTS.receivable(customerId), "asset")).id,
    revenue: (await ensure(BILLING_ACCOUNTS.revenue, "revenue")).id,
    taxPayable: (await ensure(BILLING_ACCOUNTS.taxPayable, "liability")).id,
    cash: (await ensure(BILLING_ACCOUNTS.cash, "asset")).id,
  };
}

/**
 * Finalizes a draft: refreshes it, numbers it, posts it to the ledger, opens it (or marks a zero
 * invoice paid). Finalizing an invoice that is already open or paid returns it unchanged.
 *
 * @throws {BillingError} `invoice_not_found` (404), `invoice_voided` (409)
 */
export async function finalizeInvoice(ctx: Ctx, id: string): Promise<InvoiceView> {
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const current = await loadInvoiceRow(ctx, tx, id);
    if (current.status === "void") throw new BillingError("invoice_voided", "conflict", `Invoice "${id}" is void`);
    if (current.status !== "draft") return await invoiceView(tx, ctx.scope, current);
    const row = await refreshDraft(ctx, tx, current, null);
    const [sequence] = await tx.insert(invoiceSequences)
      .values({ tenant_id: ctx.scope.tenantId, app_id: ctx.scope.appId, last_number: 1 })
      .onConflictDoUpdate({
        target: [invoiceSequences.tenant_id, invoiceSequences.app_id],
        set: { last_number: sql`${invoiceSequences.last_number} + 1` },
      })
      .returning({ last_number: invoiceSequences.last_number });
    const number = `INV-${String(sequence.last_number).padStart(6, "0")}`;
    let entryId: string | null = null;
    if (row.total > 0) {
      const accounts = await accountsFor(ctx, tx, row.customer_id, row.currency, now);
      const { entry } = await postEntry(tx, ctx.scope, now, {
        idempotency_key: `invoice:${row.id}:finalize`,
        description: `Invoice ${number} finalized`,
        postings: invoiceFinalizedPostings(accounts, { total: row.total, tax: row.tax, currency: row.currency }),
        metadata: { invoice_id: row.id },
      });
      entryId = entry.id;
      emit("ledger.entry_posted", entry.id, entry as unknown as Record<string, unknown>);
    }
    const status: InvoiceStatus = row.total === 0 ? "paid" : "open";
    const finalized: InvoiceRow = {
      ...row,
      number,
      status,
      finalize_entry_id: entryId,
      finalized_at: now,
      paid_at: status === "paid" ? now : null,
      updated_at: now,
    };
    await tx.update(invoices).set({
      number,
      status,
      finalize_entry_id: entryId,
      finalized_at: now,
      paid_at: finalized.paid_at,
      updated_at: now,
    }).where(and(scopedInvoices(ctx.scope), eq(invoices.id, id)));
    const view = await invoiceView(tx, ctx.scope, finalized);
    emit("invoice.finalized", id, view as unknown as Record<string, unknown>);
    if (status === "paid") emit("invoice.paid", id, view as unknown as Record<string, unknown>);
    return view;
  });
}

/**
 * Records a payment on an open invoice and posts it to the ledger; the invoice becomes `paid` when
 * nothing is due.
 *
 * @param input.amount minor units, 1…amount_due (default: the amount due)
 * @throws {BillingError} `invoice_not_found` (404); `invoice_not_open` (409);
 *   `payment_exceeds_amount_due` (422); `idempotency_key_reused` (409) for a reused reference
 */
export async function payInvoice(ctx: Ctx, id: string, input: { amount?: number; reference?: string }): Promise<InvoiceView> {
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const row = await loadInvoiceRow(ctx, tx, id);
    if (input.reference !== undefined) {
      const prior = await tx.query.invoicePayments.findFirst({
        where: and(
          eq(invoicePayments.tenant_id, ctx.scope.tenantId),
          eq(invoicePayments.app_id, ctx.scope.appId),
          eq(invoicePayments.invoice_id, id),
          eq(invoicePayments.reference, input.reference),
        ),
      });
      if (prior) {
        if (input.amount !== undefined && input.amount !== prior.amount) {
          throw new BillingError("idempotency_key_reused", "conflict", `Payment reference "${input.reference}" was used with amount ${prior.amount}`);
        }
        return await invoiceView(tx, ctx.scope, row);
      }
    }
    if (row.status !== "open") {
      throw new BillingError("invoice_not_open", "conflict", `Invoice "${id}" is ${row.status}; only open invoices take payments`);
    }
    const due = row.total - row.amount_paid;
    const amount = input.amount ?? due;
    if (amount > due) {
      throw new BillingError("payment_exceeds_amount_due", "unprocessable", `The payment ${amount} exceeds the amount due ${due}`);
    }
    const paymentId = newId("pst");
    const accounts = await accountsFor(ctx, tx, row.customer_id, row.currency, now);
    const { entry } = await postEntry(tx, ctx.scope, now, {
      idempotency_key: `invoice:${id}:payment:${paymentId}`,
      description: `Payment on invoice ${row.number}${input.reference ? ` (${input.reference})` : ""}`,
      postings: invoicePaymentPostings(accounts, amount, row.currency),
      metadata: { invoice_id: id, reference: input.reference ?? null },
    });
    await tx.insert(invoicePayments).values({
      id: paymentId,
      tenant_id: ctx.scope.tenantId,
      app_id: ctx.scope.appId,
      invoice_id: id,
      amount,
      reference: input.reference ?? null,
      entry_id: entry.id,
      created_at: now,
    });
    const paid = row.amount_paid + amount;
    const status: InvoiceStatus = paid === row.total ? "paid" : "open";
    const updated: InvoiceRow = { ...row, amount_paid: paid, status, paid_at: status === "paid" ? now : null, updated_at: now };
    await tx.update(invoices).set({ amount_paid: paid, status, paid_at: updated.paid_at, updated_at: now })
      .where(and(scopedInvoices(ctx.scope), eq(invoices.id, id)));
    const view = await invoiceView(tx, ctx.scope, updated);
    emit("ledger.entry_posted", entry.id, entry as unknown as Record<string, unknown>);
    emit("invoice.payment_recorded", id, { amount, reference: input.reference ?? null, entry_id: entry.id });
    if (status === "paid") emit("invoice.paid", id, view as unknown as Record<string, unknown>);
    return view;
  });
}

/**
 * Voids a draft, or an open invoice without payments (posting the reversal of its finalization).
 * Voiding a void invoice returns it unchanged.
 *
 * @throws {BillingError} `invoice_not_found` (404); `invoice_paid`, `invoice_has_payments` (409)
 */
export async function voidInvoice(ctx: Ctx, id: string): Promise<InvoiceView> {
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const row = await loadInvoiceRow(ctx, tx, id);
    if (row.status === "void") return await invoiceView(tx, ctx.scope, row);
    if (row.status === "paid") throw new BillingError("invoice_paid", "conflict", `Invoice "${id}" is paid and cannot be voided`);
    if (row.amount_paid > 0) {
      throw new BillingError("invoice_has_payments", "conflict", `Invoice "${id}" has payments and cannot be voided`);
    }
    if (row.finalize_entry_id) {
      const original = await loadEntry(tx, ctx.scope, row.finalize_entry_id);
      if (!original) throw new Error(`invariant: finalize entry ${row.finalize_entry_id} of ${id} is missing`);
      const { entry } = await postEntry(tx, ctx.scope, now, {
        idempotency_key: `invoice:${id}:void`,
        description: `Invoice ${row.number} voided`,
        postings: reversalPostings(original.postings),
        metadata: { invoice_id: id },
        reverses_entry_id: original.id,
      });
      emit("ledger.entry_posted", entry.id, entry as unknown as Record<string, unknown>);
    }
    const updated: InvoiceRow = { ...row, status: "void", voided_at: now, updated_at: now };
    await tx.update(invoices).set({ status: "void", voided_at: now, updated_at: now })
      .where(and(scopedInvoices(ctx.scope), eq(invoices.id, id)));
    const view = await invoiceView(tx, ctx.scope, updated);
    emit("invoice.voided", id, view as unknown as Record<string, unknown>);
    return view;
  });
}

/** GET an invoice. @throws {BillingError} `invoice_not_found` */
export async function getInvoice(ctx: Ctx, id: string): Promise<InvoiceView> {
  const db = ctx.database.db;
  return await invoiceView(db, ctx.scope, await loadInvoiceRow(ctx, db, id));
}

/**
 * Lists invoices newest first, filtered by customer and status, paginated by `cursor` (the last
 * id of the previous page).
 *
 * @param filter.limit 1…100 (default 20)
 * @throws {BillingError} `customer_not_found` when the customer filter names no customer
 */
export async function listInvoices(
  ctx: Ctx,
  filter: { customer_id?: string; status?: InvoiceStatus; cursor?: string; limit?: number },
): Promise<{ data: InvoiceView[]; next_cursor: string | null }> {
  const db = ctx.database.db;
  const where = [scopedInvoices(ctx.scope)];
  if (filter.customer_id) where.push(eq(invoices.customer_id, (await loadCustomer(ctx, db, filter.customer_id)).id));
  if (filter.status) where.push(eq(invoices.status, filter.status));
  if (filter.cursor) where.push(lt(invoices.id, filter.cursor));
  const limit = filter.limit ?? 20;
  const rows = await db.select().from(invoices).where(and(...where)).orderBy(desc(invoices.id)).limit(limit + 1);
  const page = rows.slice(0, limit);
  return {
    data: await Promise.all(page.map((r) => invoiceView(db, ctx.scope, r))),
    next_cursor: rows.length > limit ? page[page.length - 1].id : null,
  };
}
