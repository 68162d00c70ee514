/**
 * Invoices: generate (draft), finalize (open, numbered, posted to the ledger), pay, void, mark
 * uncollectible, credit notes. The amounts come from `domain/invoice.ts` (every rule of ADR 0004).
 *
 * - One non-void invoice per subscription and period. Generating again returns the same invoice:
 *   a draft is refreshed in place from current usage, plan changes, coupon, tax rate and credits
 *   (same id; a draft is a preview), an invoice past draft is returned unchanged. Finalizing
 *   refreshes the draft one last time, so usage that arrived before finalization is never left
 *   unbilled; after finalization the period is closed to late usage (`usage.ts`).
 * - Numbers (`INV-000001`) are assigned at finalization from a per-app sequence advanced in the
 *   same transaction, so they are sequential and gapless; credit notes have their own gapless
 *   sequence (`CN-000001`).
 * - Ledger (`domain/billing_postings.ts`): finalization debits `accounts_receivable:{customer}`
 *   and credits `revenue` (and `tax_payable`); prepaid monetary credits applied at finalization
 *   move from `customer_credit:{customer}` to the receivable; a payment debits `cash`; voiding an
 *   open invoice posts the reversal of its finalization (and of its credits, which become
 *   spendable again); marking it uncollectible writes the amount due off to `bad_debt_expense`;
 *   a credit note debits revenue and tax back and credits the receivable (open) or cash (paid:
 *   a refund). A zero-total invoice is marked paid on finalization and posts nothing (as Stripe).
 * - Due date: `due_at = finalized_at + days_until_due` (default 30 days, as Stripe's default for
 *   invoices sent for manual payment).
 * - Payments may be partial; `reference` makes a payment retry-safe (same reference, same amount →
 *   the same payment; another amount → `idempotency_key_reused`).
 *
 * @module
 */
import {
  BILLING_LEDGER_ACCOUNTS,
  creditsAppliedPostings,
  invoiceFinalizedPostings,
  uncollectiblePostings,
} from "../domain/billing_postings.ts";
import { payloadHash } from "../domain/hash.ts";
import { keyReused, onceVerdict } from "../domain/idempotency.ts";
import { isId, newId } from "../domain/ids.ts";
import {
  BILLING_ACCOUNTS,
  type InvoiceAccounts,
  invoicePaymentPostings,
  reversalPostings,
} from "../domain/ledger.ts";
import {
  amountDue,
  finalizeTransition,
  paymentTransition,
  statusAfterFinalize,
  uncollectibleTransition,
  voidTransition,
} from "../domain/invoice_state.ts";
import { addDays } from "../domain/period.ts";
import type { Plan } from "../domain/plan.ts";
import { type BillingPeriod, resolvePeriod } from "../domain/subscription.ts";
import type { Tx } from "../storage/db.ts";
import { consumptionRows } from "../credits/repository.ts";
import { invoiceOfPeriod, invoicePaymentRows, invoiceRows, nextSequenceNumber } from "./repository.ts";
import type { Ctx } from "../context.ts";
import { type Emit, writeOp } from "../lifecycle/write.ts";
import { ensureAccount, loadEntry, postEntry } from "../ledger/service.ts";
import {
  billingPeriodAt,
  loadSubscription,
  subscriptionCtx,
  type SubscriptionRow,
  timelineOf,
} from "../subscriptions/read.ts";
import { amountsOf, type Fresh, lineColumns, ratePeriod, refreshDraft, writeLines } from "./rating.ts";
import { customerCtx } from "../test_clocks/time.ts";

/**
 * `ctx` on the clock of the invoice's customer (`test_clocks/time.ts`); an unknown id keeps `ctx`
 * (the caller's own lookup then answers 404).
 */
export async function invoiceCtx(ctx: Ctx, id: string): Promise<Ctx> {
  if (!isId("inv", id)) return ctx;
  const row = await invoiceRows.first(ctx.database.db, ctx.scope, { id });
  return row ? await customerCtx(ctx, ctx.database.db, row.customer_id) : ctx;
}
import { type InvoiceRow, type InvoiceView, invoiceView, invoiceViewOf, loadInvoiceRow } from "./view.ts";

/** Default days between finalization and the due date. */
export const DEFAULT_DAYS_UNTIL_DUE = 30;

/**
 * Generates (or refreshes) the invoice of one period inside the caller's transaction.
 *
 * @returns the row and whether it was created
 */
export async function generateInvoiceTx(
  ctx: Ctx,
  tx: Tx,
  emit: Emit,
  sub: SubscriptionRow,
  plan: Plan,
  period: BillingPeriod,
): Promise<{ row: InvoiceRow; created: boolean; fresh: Fresh | null }> {
  const now = ctx.clock.now();
  const existing = await invoiceOfPeriod(tx, ctx.scope, sub.id, period.start, period.end);
  if (existing) {
    if (existing.status !== "draft") return { row: existing, created: false, fresh: null };
    const refreshed = await refreshDraft(ctx, tx, existing, emit);
    return { row: refreshed.row, created: false, fresh: refreshed };
  }
  const rated = await ratePeriod(ctx, tx, sub, plan, period);
  const row = draftRow(ctx, newId("inv"), sub, plan, period, rated, now);
  await invoiceRows.insert(tx, ctx.scope, row);
  await writeLines(ctx, tx, row.id, rated.draft.lines);
  emit(
    "invoice.generated",
    row.id,
    await invoiceView(tx, ctx.scope, row),
  );
  return { row, created: true, fresh: { row, rated } };
}

/**
 * Generates (or returns) the invoice of a subscription's period: the current period, or the one
 * named by `period_start`/`period_end`.
 *
 * @returns the invoice and whether it was newly created
 * @throws {BillingError} `subscription_not_found` (404), `invalid_period` (422)
 */
export async function generateInvoice(
  caller: Ctx,
  input: { subscription_id: string; period_start?: Date; period_end?: Date },
): Promise<{ invoice: InvoiceView; created: boolean }> {
  const ctx = await subscriptionCtx(caller, input.subscription_id);
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const { row: sub, plan } = await loadSubscription(ctx, tx, input.subscription_id);
    const period = input.period_start && input.period_end
      ? resolvePeriod(timelineOf(sub), plan.interval, input.period_start, input.period_end, now)
      : billingPeriodAt(sub, plan.interval, now);
    const { row, created } = await generateInvoiceTx(ctx, tx, emit, sub, plan, period);
    return { invoice: await invoiceView(tx, ctx.scope, row), created };
  });
}

/** The invoice a period would produce now (`GET /v1/invoices/upcoming`): an invoice without an id. */
export type UpcomingInvoiceView = Omit<InvoiceView, "id"> & { id: null };

/**
 * Previews the invoice of the subscription's current period as it would be generated now: the
 * same setup and compute as {@link generateInvoice} (`ratePeriod`), run on the database handle
 * instead of a write transaction, so nothing is stored, no coupon redemption or credit is used,
 * no ledger entry is posted and no event is emitted. Amounts equal those of the draft that
 * `POST /v1/invoices` would write at the same instant (`credits_applied` shows what finalization
 * would draw; `amount_due` is 0 as on every draft).
 *
 * @throws {BillingError} `subscription_not_found` (404)
 */
export async function upcomingInvoice(caller: Ctx, subscriptionId: string): Promise<UpcomingInvoiceView> {
  // "now" is the customer's: its test clock's frozen time when it has one, as POST /v1/invoices uses
  const ctx = await subscriptionCtx(caller, subscriptionId);
  const now = ctx.clock.now();
  const db = ctx.database.db;
  const { row: sub, plan } = await loadSubscription(ctx, db, subscriptionId);
  const period = billingPeriodAt(sub, plan.interval, now);
  const existing = await invoiceOfPeriod(db, ctx.scope, sub.id, period.start, period.end);
  const rated = await ratePeriod(ctx, db, sub, plan, period, existing?.id ?? null);
  const view = invoiceViewOf(
    draftRow(ctx, "", sub, plan, period, rated, now),
    rated.draft.lines.map(lineColumns),
  );
  return { ...view, id: null };
}

/**
 * The row of a new draft invoice for `period` rated as `rated` (nothing collected, nothing
 * finalized): what {@link generateInvoice} stores and what {@link upcomingInvoice} shows unstored.
 */
function draftRow(
  ctx: Ctx,
  id: string,
  sub: { id: string; customer_id: string },
  plan: Pick<Plan, "currency">,
  period: BillingPeriod,
  rated: Parameters<typeof amountsOf>[0],
  now: Date,
): InvoiceRow {
  return {
    id,
    tenant_id: ctx.scope.tenantId,
    app_id: ctx.scope.appId,
    subscription_id: sub.id,
    customer_id: sub.customer_id,
    number: null,
    status: "draft",
    currency: plan.currency,
    period_start: period.start,
    period_end: period.end,
    ...amountsOf(rated),
    amount_paid: 0,
    credited: 0,
    due_at: null,
    uncollectible_at: null,
    uncollectible_entry_id: null,
    finalize_entry_id: null,
    finalized_at: null,
    paid_at: null,
    voided_at: null,
    created_at: now,
    updated_at: now,
  };
}

async function ensure(
  ctx: Ctx,
  tx: Tx,
  now: Date,
  account: { name: string; type: "asset" | "liability" | "revenue" | "expense" },
  currency: string,
) {
  return (await ensureAccount(tx, ctx.scope, now, { ...account, currency })).id;
}

/** The ledger accounts an invoice posts to, created on first use. */
export async function accountsFor(
  ctx: Ctx,
  tx: Tx,
  customerId: string,
  currency: string,
  now: Date,
): Promise<InvoiceAccounts> {
  return {
    receivable: await ensure(
      ctx,
      tx,
      now,
      { name: BILLING_ACCOUNTS.receivable(customerId), type: "asset" },
      currency,
    ),
    revenue: await ensure(ctx, tx, now, { name: BILLING_ACCOUNTS.revenue, type: "revenue" }, currency),
    taxPayable: await ensure(
      ctx,
      tx,
      now,
      { name: BILLING_ACCOUNTS.taxPayable, type: "liability" },
      currency,
    ),
    cash: await ensure(ctx, tx, now, { name: BILLING_ACCOUNTS.cash, type: "asset" }, currency),
  };
}

/** The next number of a gapless per-app sequence: `INV-000001`, `CN-000001`. */
export async function nextNumber(
  ctx: Ctx,
  tx: Tx,
  kind: "invoice" | "credit_note",
  prefix: string,
): Promise<string> {
  const last = await nextSequenceNumber(tx, ctx.scope, kind);
  return `${prefix}-${String(last).padStart(6, "0")}`;
}

/**
 * Finalizes a draft inside the caller's transaction: refreshes it, numbers it, records the
 * credits it spends, posts it to the ledger, opens it (or marks it paid when nothing is due).
 * An invoice past draft is returned unchanged.
 *
 * @throws {BillingError} `invoice_not_found` (404), `invoice_voided` (409)
 */
export async function finalizeInvoiceTx(
  ctx: Ctx,
  tx: Tx,
  emit: Emit,
  id: string,
  options: { days_until_due?: number; fresh?: Fresh | null } = {},
): Promise<InvoiceRow> {
  const now = ctx.clock.now();
  const current = await loadInvoiceRow(ctx, tx, id);
  if (finalizeTransition(id, current.status) === "unchanged") return current;
  const { row, rated } = options.fresh && options.fresh.row.id === id
    ? options.fresh
    : await refreshDraft(ctx, tx, current, null);
  const number = await nextNumber(ctx, tx, "invoice", "INV");
  let entryId: string | null = null;
  if (row.total > 0) {
    const accounts = await accountsFor(ctx, tx, row.customer_id, row.currency, now);
    const { entry } = await postEntry(tx, ctx.scope, now, {
      idempotency_key: `invoice:${row.id}:finalize`,
      description: `Invoice ${number} finalized`,
      postings: invoiceFinalizedPostings(accounts, {
        total: row.total,
        tax: row.tax,
        currency: row.currency,
      }),
      metadata: { invoice_id: row.id },
    });
    entryId = entry.id;
    emit("ledger.entry_posted", entry.id, entry);
    if (row.credits_applied > 0) {
      const customerCredit = await ensure(
        ctx,
        tx,
        now,
        BILLING_LEDGER_ACCOUNTS.customerCredit(row.customer_id),
        row.currency,
      );
      const { entry: credits } = await postEntry(tx, ctx.scope, now, {
        idempotency_key: `invoice:${row.id}:credits`,
        description: `Prepaid credits applied to invoice ${number}`,
        postings: creditsAppliedPostings(
          { customerCredit, receivable: accounts.receivable },
          row.credits_applied,
          row.currency,
        ),
        metadata: { invoice_id: row.id, draws: rated.draft.monetary_draws },
      });
      emit("ledger.entry_posted", credits.id, credits);
    }
  }
  const draws = [...rated.draft.monetary_draws, ...rated.draft.unit_draws];
  if (draws.length > 0) {
    await consumptionRows.insertMany(
      tx,
      ctx.scope,
      draws.map((d) => ({
        id: newId("ccn"),
        grant_id: d.grant_id,
        invoice_id: row.id,
        amount: d.amount,
        created_at: now,
      })),
    );
  }
  const status = statusAfterFinalize(row.total - row.credits_applied);
  const fields = {
    number,
    status,
    finalize_entry_id: entryId,
    finalized_at: now,
    paid_at: status === "paid" ? now : null,
    due_at: status === "open" ? addDays(now, options.days_until_due ?? DEFAULT_DAYS_UNTIL_DUE) : null,
    updated_at: now,
  };
  await invoiceRows.update(tx, ctx.scope, { id }, fields);
  const finalized: InvoiceRow = { ...row, ...fields };
  const view = await invoiceView(tx, ctx.scope, finalized);
  emit("invoice.finalized", id, view);
  if (status === "paid") emit("invoice.paid", id, view);
  return finalized;
}

/**
 * Finalizes a draft (see {@link finalizeInvoiceTx}). Finalizing an invoice that is already open
 * or paid returns it unchanged.
 *
 * @param options.days_until_due 0…365 days from finalization to the due date (default 30)
 * @throws {BillingError} `invoice_not_found` (404), `invoice_voided` (409)
 */
export async function finalizeInvoice(
  caller: Ctx,
  id: string,
  options: { days_until_due?: number } = {},
): Promise<InvoiceView> {
  const ctx = await invoiceCtx(caller, id);
  return await writeOp(
    ctx,
    async (tx, emit) => invoiceView(tx, ctx.scope, await finalizeInvoiceTx(ctx, tx, emit, id, options)),
  );
}

/**
 * Records a payment on an open (or uncollectible: a recovery) invoice and posts it to the ledger;
 * the invoice becomes `paid` when nothing is due.
 *
 * @param input.amount minor units, 1…amount_due (default: the amount due)
 * @throws {BillingError} `invoice_not_found` (404); `invoice_not_open` (409);
 *   `payment_exceeds_amount_due` (422); `idempotency_key_reused` (409) for a reused reference
 */
export async function payInvoice(
  caller: Ctx,
  id: string,
  input: { amount?: number; reference?: string },
): Promise<InvoiceView> {
  const ctx = await invoiceCtx(caller, id);
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const row = await loadInvoiceRow(ctx, tx, id);
    if (input.reference !== undefined) {
      const prior = await invoicePaymentRows.first(tx, ctx.scope, {
        invoice_id: id,
        reference: input.reference,
      });
      if (prior) {
        // The request a payment records is its amount; a retry that omits it asks for "the amount
        // due", which the recorded payment settled, so it names the recorded amount too.
        const verdict = onceVerdict(
          input.reference,
          await paymentHash(input.amount ?? prior.amount),
          { payload_hash: await paymentHash(prior.amount) },
        );
        if (verdict === "conflict") throw keyReused(`Payment reference "${input.reference}"`);
        return await invoiceView(tx, ctx.scope, row);
      }
    }
    // A payment on a written-off invoice is a recovery: it credits bad_debt_expense back instead of
    // the receivable, which the write-off already cleared (as Stripe lets uncollectible invoices be paid).
    const { amount, status, recovery } = paymentTransition(id, row, input.amount);
    const paymentId = newId("pst");
    const accounts = await accountsFor(ctx, tx, row.customer_id, row.currency, now);
    const counter = recovery
      ? { ...accounts, receivable: await ensure(ctx, tx, now, BILLING_LEDGER_ACCOUNTS.badDebt, row.currency) }
      : accounts;
    const { entry } = await postEntry(tx, ctx.scope, now, {
      idempotency_key: `invoice:${id}:payment:${paymentId}`,
      description: `${recovery ? "Recovery" : "Payment"} on invoice ${row.number}${
        input.reference ? ` (${input.reference})` : ""
      }`,
      postings: invoicePaymentPostings(counter, amount, row.currency),
      metadata: { invoice_id: id, reference: input.reference ?? null },
    });
    await invoicePaymentRows.insert(tx, ctx.scope, {
      id: paymentId,
      invoice_id: id,
      amount,
      reference: input.reference ?? null,
      entry_id: entry.id,
      created_at: now,
    });
    const paid = row.amount_paid + amount;
    const updated: InvoiceRow = {
      ...row,
      amount_paid: paid,
      status,
      paid_at: status === "paid" ? now : null,
      updated_at: now,
    };
    await invoiceRows.update(tx, ctx.scope, { id }, {
      amount_paid: paid,
      status,
      paid_at: updated.paid_at,
      updated_at: now,
    });
    const view = await invoiceView(tx, ctx.scope, updated);
    emit("ledger.entry_posted", entry.id, entry);
    emit("invoice.payment_recorded", id, { amount, reference: input.reference ?? null, entry_id: entry.id });
    if (status === "paid") emit("invoice.paid", id, view);
    return view;
  });
}

/** The request hash of a payment (or credit note) retried by reference: its amount. */
export function paymentHash(amount: number): Promise<string> {
  return payloadHash({ amount });
}

/**
 * Voids a draft, or an open invoice without payments or credit notes: posts the reversal of its
 * finalization and of the credits it applied, and releases what it consumed of credit grants.
 * Voiding a void invoice returns it unchanged.
 *
 * @throws {BillingError} `invoice_not_found` (404); `invoice_paid`, `invoice_uncollectible`,
 *   `invoice_has_payments`, `invoice_has_credit_notes` (409)
 */
export async function voidInvoice(caller: Ctx, id: string): Promise<InvoiceView> {
  const ctx = await invoiceCtx(caller, id);
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const row = await loadInvoiceRow(ctx, tx, id);
    if (voidTransition(id, row) === "unchanged") return await invoiceView(tx, ctx.scope, row);
    if (row.finalize_entry_id) {
      const original = await loadEntry(tx, ctx.scope, row.finalize_entry_id);
      if (!original) {
        throw new Error(`invariant: finalize entry ${row.finalize_entry_id} of ${id} is missing`);
      }
      const { entry } = await postEntry(tx, ctx.scope, now, {
        idempotency_key: `invoice:${id}:void`,
        description: `Invoice ${row.number} voided`,
        postings: reversalPostings(original.postings),
        metadata: { invoice_id: id },
        reverses_entry_id: original.id,
      });
      emit("ledger.entry_posted", entry.id, entry);
      if (row.credits_applied > 0) {
        const receivable = await ensure(
          ctx,
          tx,
          now,
          BILLING_LEDGER_ACCOUNTS.receivable(row.customer_id),
          row.currency,
        );
        const customerCredit = await ensure(
          ctx,
          tx,
          now,
          BILLING_LEDGER_ACCOUNTS.customerCredit(row.customer_id),
          row.currency,
        );
        const { entry: back } = await postEntry(tx, ctx.scope, now, {
          idempotency_key: `invoice:${id}:credits:void`,
          description: `Prepaid credits of voided invoice ${row.number} returned`,
          postings: reversalPostings(
            creditsAppliedPostings({ customerCredit, receivable }, row.credits_applied, row.currency),
          ),
          metadata: { invoice_id: id },
        });
        emit("ledger.entry_posted", back.id, back);
      }
    }
    await consumptionRows.delete(tx, ctx.scope, { invoice_id: id });
    const updated: InvoiceRow = { ...row, status: "void", voided_at: now, updated_at: now };
    await invoiceRows.update(tx, ctx.scope, { id }, { status: "void", voided_at: now, updated_at: now });
    const view = await invoiceView(tx, ctx.scope, updated);
    emit("invoice.voided", id, view);
    return view;
  });
}

/**
 * Marks an open invoice uncollectible: writes its amount due off (debit `bad_debt_expense`,
 * credit the receivable). Repeating it returns the invoice unchanged.
 *
 * @throws {BillingError} `invoice_not_found` (404); `invoice_not_open` (409)
 */
export async function markUncollectible(caller: Ctx, id: string): Promise<InvoiceView> {
  const ctx = await invoiceCtx(caller, id);
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const row = await loadInvoiceRow(ctx, tx, id);
    if (uncollectibleTransition(id, row.status) === "unchanged") return await invoiceView(tx, ctx.scope, row);
    const due = amountDue(row);
    let entryId: string | null = null;
    if (due > 0) {
      const receivable = await ensure(
        ctx,
        tx,
        now,
        BILLING_LEDGER_ACCOUNTS.receivable(row.customer_id),
        row.currency,
      );
      const badDebt = await ensure(ctx, tx, now, BILLING_LEDGER_ACCOUNTS.badDebt, row.currency);
      const { entry } = await postEntry(tx, ctx.scope, now, {
        idempotency_key: `invoice:${id}:uncollectible`,
        description: `Invoice ${row.number} written off as uncollectible`,
        postings: uncollectiblePostings({ badDebt, receivable }, due, row.currency),
        metadata: { invoice_id: id },
      });
      entryId = entry.id;
      emit("ledger.entry_posted", entry.id, entry);
    }
    const updated: InvoiceRow = {
      ...row,
      status: "uncollectible",
      uncollectible_at: now,
      uncollectible_entry_id: entryId,
      updated_at: now,
    };
    await invoiceRows.update(tx, ctx.scope, { id }, {
      status: "uncollectible",
      uncollectible_at: now,
      uncollectible_entry_id: entryId,
      updated_at: now,
    });
    const view = await invoiceView(tx, ctx.scope, updated);
    emit("invoice.marked_uncollectible", id, view);
    return view;
  });
}
