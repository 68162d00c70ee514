/**
 * Credit notes: issued against an open invoice (lowers what is due) or a paid one (a refund to
 * cash), numbered from their own gapless sequence (`CN-000001`), retry-safe by `reference`.
 *
 * @module
 */
import { creditNotePostings } from "../domain/billing_postings.ts";
import { keyReused, onceVerdict } from "../domain/idempotency.ts";
import { newId } from "../domain/ids.ts";
import { creditNoteTransition } from "../domain/invoice_state.ts";
import { divide } from "../domain/money.ts";
import type { Ctx } from "../context.ts";
import { writeOp } from "../lifecycle/write.ts";
import { postEntry } from "../ledger/service.ts";
import { creditNotePage, creditNoteRows, invoiceRows } from "./repository.ts";
import { mapPage, type Page, type PageRequest } from "../domain/paging.ts";
import { accountsFor, invoiceCtx, nextNumber, paymentHash } from "./service.ts";
import {
  type CreditNoteView,
  creditNoteView,
  type InvoiceRow,
  type InvoiceView,
  invoiceView,
  loadInvoiceRow,
} from "./view.ts";

/**
 * Issues a credit note against an open or paid invoice. `amount` includes tax; its tax part is
 * `round_half_up(amount × invoice.tax / invoice.total)`. On an open invoice it lowers the amount
 * due (and pays the invoice off when nothing is left); on a paid invoice it is a refund to cash.
 * `reference` makes it retry-safe (same reference and amount → the same credit note).
 *
 * @param input.amount minor units, 1…creditable (open: the amount due; paid: total − credits
 *   applied − already credited)
 * @throws {BillingError} `invoice_not_found` (404); `invoice_not_creditable` (409) unless open or
 *   paid; `credit_note_exceeds_creditable` (422); `idempotency_key_reused` (409)
 */
export async function createCreditNote(
  caller: Ctx,
  invoiceId: string,
  input: { amount: number; reason?: string; reference: string },
): Promise<{ credit_note: CreditNoteView; invoice: InvoiceView; replayed: boolean }> {
  const ctx = await invoiceCtx(caller, invoiceId);
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const row = await loadInvoiceRow(ctx, tx, invoiceId);
    const prior = await creditNoteRows.first(tx, ctx.scope, {
      invoice_id: invoiceId,
      reference: input.reference,
    });
    if (prior) {
      const verdict = onceVerdict(input.reference, await paymentHash(input.amount), {
        payload_hash: await paymentHash(prior.amount),
      });
      if (verdict === "conflict") throw keyReused(`Credit note reference "${input.reference}"`);
      return {
        credit_note: creditNoteView(prior),
        invoice: await invoiceView(tx, ctx.scope, row),
        replayed: true,
      };
    }
    const status = creditNoteTransition(invoiceId, row, input.amount);
    const tax = row.total > 0
      ? Number(divide(BigInt(input.amount) * BigInt(row.tax), BigInt(row.total), "half_up"))
      : 0;
    const accounts = await accountsFor(ctx, tx, row.customer_id, row.currency, now);
    const id = newId("cn");
    const number = await nextNumber(ctx, tx, "credit_note", "CN");
    const { entry } = await postEntry(tx, ctx.scope, now, {
      idempotency_key: `credit_note:${id}`,
      description: `Credit note ${number} on invoice ${row.number}`,
      postings: creditNotePostings(
        {
          revenue: accounts.revenue,
          taxPayable: accounts.taxPayable,
          counter: row.status === "open" ? accounts.receivable : accounts.cash,
        },
        input.amount,
        tax,
        row.currency,
      ),
      metadata: { invoice_id: invoiceId, credit_note_id: id },
    });
    const note = {
      id,
      tenant_id: ctx.scope.tenantId,
      app_id: ctx.scope.appId,
      invoice_id: invoiceId,
      number,
      amount: input.amount,
      tax,
      reason: input.reason ?? null,
      reference: input.reference,
      entry_id: entry.id,
      created_at: now,
    };
    await creditNoteRows.insert(tx, ctx.scope, note);
    const credited = row.credited + input.amount;
    const updated: InvoiceRow = {
      ...row,
      credited,
      status,
      paid_at: status === "paid" && row.status === "open" ? now : row.paid_at,
      updated_at: now,
    };
    await invoiceRows.update(tx, ctx.scope, { id: invoiceId }, {
      credited,
      status: updated.status,
      paid_at: updated.paid_at,
      updated_at: now,
    });
    const view = await invoiceView(tx, ctx.scope, updated);
    emit("ledger.entry_posted", entry.id, entry);
    emit("invoice.credit_note_issued", invoiceId, creditNoteView(note));
    if (updated.status === "paid" && row.status === "open") {
      emit("invoice.paid", invoiceId, view);
    }
    return { credit_note: creditNoteView(note), invoice: view, replayed: false };
  });
}

/**
 * The credit notes of an invoice, newest first, one page at a time (`domain/paging.ts`).
 *
 * @throws {BillingError} `invoice_not_found` (404); `validation_failed` for a cursor this list did not hand out
 */
export async function listCreditNotes(
  ctx: Ctx,
  invoiceId: string,
  request: PageRequest = {},
): Promise<Page<CreditNoteView>> {
  const db = ctx.database.db;
  await loadInvoiceRow(ctx, db, invoiceId);
  return await mapPage(await creditNotePage(db, ctx.scope, invoiceId, request), creditNoteView);
}
