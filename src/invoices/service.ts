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
  creditNotePostings,
  creditsAppliedPostings,
  invoiceFinalizedPostings,
  uncollectiblePostings,
} from "../domain/billing_postings.ts";
import { type Coupon, discountApplies } from "../domain/coupons.ts";
import type { GrantBalance } from "../domain/credits.ts";
import { BillingError, notFound } from "../domain/errors.ts";
import { isId, newId } from "../domain/ids.ts";
import {
  computePeriodInvoice,
  type InvoiceDraft,
  type InvoiceLineDraft,
  type InvoiceStatus,
  type PlanSegment,
  type UnitGrant,
} from "../domain/invoice.ts";
import {
  BILLING_ACCOUNTS,
  type InvoiceAccounts,
  invoicePaymentPostings,
  reversalPostings,
} from "../domain/ledger.ts";
import { divide } from "../domain/money.ts";
import { addDays } from "../domain/period.ts";
import type { Plan } from "../domain/plan.ts";
import {
  type BillingPeriod,
  initialPlanId,
  pausedSlices,
  periodAt,
  planSegments,
  resolvePeriod,
} from "../domain/subscription.ts";
import type { TaxRate } from "../domain/tax.ts";
import type { Executor, Tx } from "../storage/db.ts";
import { discountWithCoupon } from "../coupons/repository.ts";
import { consumptionRows, creditGrantRows, spentOfGrants } from "../credits/repository.ts";
import { changeRows } from "../subscriptions/repository.ts";
import { taxRateOfCustomer } from "../tax/repository.ts";
import {
  type CreditNoteRow,
  creditNoteRows,
  invoiceLineRows,
  invoiceOfPeriod,
  invoicePage,
  invoicePaymentRows,
  type InvoiceRow,
  invoiceRows,
  nextSequenceNumber,
} from "./repository.ts";
import type { Ctx } from "../context.ts";
import { type Emit, writeOp } from "../lifecycle/write.ts";
import type { Scope } from "../domain/scope.ts";
import { loadCustomer } from "../customers/service.ts";
import { ensureAccount, loadEntry, postEntry } from "../ledger/service.ts";
import { loadPlan } from "../plans/service.ts";
import {
  billingPeriodAt,
  loadSubscription,
  pausesOf,
  type SubscriptionRow,
  timelineOf,
} from "../subscriptions/read.ts";
import { aggregateUsage } from "../usage/service.ts";

/** Default days between finalization and the due date. */
export const DEFAULT_DAYS_UNTIL_DUE = 30;

/** An invoice line as the API shows it: exactly the computed line (`domain/invoice.ts`). */
export type InvoiceLineView = InvoiceLineDraft;

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
  /** Prepaid monetary credits applied (a draft shows the preview). */
  credits_applied: number;
  /** Sum of credit notes against the invoice. */
  credited: number;
  amount_paid: number;
  /** `total − credits_applied − amount_paid − credited` while open or uncollectible, else 0. */
  amount_due: number;
  coupon_id: string | null;
  tax_rate: { id: string; percentage_bp: number; inclusive: boolean } | null;
  period_start: string;
  period_end: string;
  due_at: string | null;
  finalized_at: string | null;
  paid_at: string | null;
  voided_at: string | null;
  uncollectible_at: string | null;
  created_at: string;
}

/** A credit note as the API shows it. */
export interface CreditNoteView {
  id: string;
  number: string;
  invoice_id: string;
  amount: number;
  tax: number;
  reason: string | null;
  reference: string | null;
  entry_id: string;
  created_at: string;
}

/** A stored invoice. */
export type { InvoiceRow };

function amountDue(row: InvoiceRow): number {
  if (row.status !== "open" && row.status !== "uncollectible") return 0;
  return row.total - row.credits_applied - row.amount_paid - row.credited;
}

/** Row → view (reads the lines). */
export async function invoiceView(exec: Executor, scope: Scope, row: InvoiceRow): Promise<InvoiceView> {
  const lines = await invoiceLineRows.list(exec, scope, { invoice_id: row.id }, {
    orderBy: [["position", "asc"]],
  });
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
      plan_id: l.plan_id,
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

async function loadInvoiceRow(ctx: Ctx, exec: Executor, id: string): Promise<InvoiceRow> {
  if (!isId("inv", id)) throw notFound("invoice", id);
  const row = await invoiceRows.first(exec, ctx.scope, { id });
  if (!row) throw notFound("invoice", id);
  return row;
}

/** Remaining balances of a customer's grants: amount − every recorded consumption. */
async function grantBalances(ctx: Ctx, exec: Executor, customerId: string) {
  const grants = await creditGrantRows.list(exec, ctx.scope, { customer_id: customerId });
  if (grants.length === 0) return [];
  const spent = await spentOfGrants(exec, ctx.scope, grants.map((g) => g.id));
  return grants.map((g) => ({ ...g, remaining: g.amount - (spent.get(g.id) ?? 0) }));
}

/** The customer's tax rate, or null. */
export async function customerTaxRate(ctx: Ctx, exec: Executor, customerId: string): Promise<TaxRate | null> {
  const rate = await taxRateOfCustomer(exec, ctx.scope, customerId);
  return rate
    ? {
      id: rate.id,
      display_name: rate.display_name,
      percentage_bp: rate.percentage_bp,
      inclusive: rate.inclusive,
    }
    : null;
}

/** The plan changes of a subscription, oldest first. */
export async function loadPlanChanges(ctx: Ctx, exec: Executor, subscriptionId: string) {
  return await changeRows.list(exec, ctx.scope, { subscription_id: subscriptionId }, {
    orderBy: [["effective_at", "asc"], ["id", "asc"]],
  });
}

/** Computed invoice of a period plus what it was computed with. */
export interface RatedPeriod {
  draft: InvoiceDraft;
  couponId: string | null;
  taxRate: TaxRate | null;
  currency: string;
}

/**
 * Setup + compute of one period (Autumn's split): loads the plan segments with their usage, the
 * coupon, tax rate and credit balances, then calls the pure {@link computePeriodInvoice}.
 */
async function ratePeriod(
  ctx: Ctx,
  tx: Tx,
  sub: SubscriptionRow,
  currentPlan: Plan,
  period: BillingPeriod,
): Promise<RatedPeriod> {
  const changes = await loadPlanChanges(ctx, tx, sub.id);
  const initial = initialPlanId(sub.plan_id, changes);
  const slices = planSegments(initial, changes, period.start, period.end);
  const plans = new Map<string, Plan>([[currentPlan.id, currentPlan]]);
  const segments: PlanSegment[] = [];
  for (const slice of slices) {
    if (!plans.has(slice.plan_id)) plans.set(slice.plan_id, await loadPlan(ctx, tx, slice.plan_id));
    const plan = plans.get(slice.plan_id)!;
    const usage = new Map<string, number>();
    for (const feature of plan.features) {
      if (!feature.pricing) continue;
      usage.set(
        feature.key,
        await aggregateUsage(ctx.scope, tx, sub.customer_id, feature, slice.start, slice.end),
      );
    }
    segments.push({ plan, start: slice.start, end: slice.end, usage, proration: slice.proration });
  }
  const timeline = timelineOf(sub);
  const full = period.trial
    ? { start: period.start, end: timeline.trial_end ?? period.end }
    : periodAt({ ...timeline, cancel_at: null }, currentPlan.interval, period.start);

  let coupon: Coupon | null = null;
  const discount = await discountWithCoupon(tx, ctx.scope, sub.id);
  if (discount && !period.trial) {
    const c = { ...discount.c, plan_ids: discount.c.plan_ids as string[] | null };
    if (
      discountApplies(c, discount.d.first_period_index, period.index, segments[0].plan.id ?? currentPlan.id)
    ) coupon = c;
  }
  const taxRate = await customerTaxRate(ctx, tx, sub.customer_id);
  const balances = await grantBalances(ctx, tx, sub.customer_id);
  const toBalance = (g: (typeof balances)[number]): GrantBalance => ({
    id: g.id,
    priority: g.priority,
    effective_at: g.effective_at,
    expires_at: g.expires_at,
    remaining: Math.max(0, g.remaining),
  });
  const paused = pausedSlices(await pausesOf(ctx, tx, sub.id), period.start, period.end);
  const draft = computePeriodInvoice({
    period: { start: period.start, end: period.end, trial: period.trial },
    full_period: { start: full.start, end: full.end },
    segments,
    coupon,
    tax_rate: taxRate,
    paused,
    monetary_grants: balances.filter((g) => g.kind === "monetary" && g.currency === currentPlan.currency).map(
      toBalance,
    ),
    unit_grants: balances.filter((g) => g.kind === "units" && g.feature).map((g): UnitGrant => ({
      ...toBalance(g),
      feature: g.feature!,
    })),
  });
  return { draft, couponId: coupon?.id ?? null, taxRate, currency: currentPlan.currency };
}

async function writeLines(ctx: Ctx, tx: Tx, invoiceId: string, lines: InvoiceLineDraft[]): Promise<void> {
  await invoiceLineRows.delete(tx, ctx.scope, { invoice_id: invoiceId });
  if (lines.length === 0) return;
  await invoiceLineRows.insertMany(
    tx,
    ctx.scope,
    lines.map((l, position) => ({
      id: newId("il"),
      invoice_id: invoiceId,
      position,
      ...l,
    })),
  );
}

function amountsOf(rated: RatedPeriod) {
  return {
    subtotal: rated.draft.subtotal,
    discount: rated.draft.discount,
    tax: rated.draft.tax,
    total: rated.draft.total,
    credits_applied: rated.draft.credits_applied,
    coupon_id: rated.couponId,
    tax_rate_id: rated.taxRate?.id ?? null,
    tax_percentage_bp: rated.taxRate?.percentage_bp ?? null,
    tax_inclusive: rated.taxRate?.inclusive ?? null,
  };
}

/** The billing period an invoice row covers (index and trial flag recomputed from the timeline). */
function periodOfRow(sub: SubscriptionRow, plan: Plan, row: InvoiceRow): BillingPeriod {
  const period = billingPeriodAt(sub, plan.interval, row.period_start);
  return { ...period, start: row.period_start, end: row.period_end };
}

/** Recomputes a draft from current usage; returns the updated row and the computation. */
async function refreshDraft(
  ctx: Ctx,
  tx: Tx,
  row: InvoiceRow,
  emit: Emit | null,
): Promise<{ row: InvoiceRow; rated: RatedPeriod }> {
  const { row: sub, plan } = await loadSubscription(ctx, tx, row.subscription_id);
  const rated = await ratePeriod(ctx, tx, sub, plan, periodOfRow(sub, plan, row));
  const updated: InvoiceRow = { ...row, ...amountsOf(rated), updated_at: ctx.clock.now() };
  await writeLines(ctx, tx, row.id, rated.draft.lines);
  await invoiceRows.update(tx, ctx.scope, { id: row.id }, {
    ...amountsOf(rated),
    updated_at: updated.updated_at,
  });
  if (emit && updated.total !== row.total) {
    emit("invoice.updated", row.id, { total: updated.total, previous_total: row.total });
  }
  return { row: updated, rated };
}

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
  await invoiceRows.insert(tx, ctx.scope, row);
  await writeLines(ctx, tx, row.id, rated.draft.lines);
  emit(
    "invoice.generated",
    row.id,
    (await invoiceView(tx, ctx.scope, row)) as unknown as Record<string, unknown>,
  );
  return { row, created: true, fresh: { row, rated } };
}

/**
 * A draft rated in the current transaction: finalizing it in the same transaction may skip the
 * refresh, since nothing can have changed in between (the write lane is exclusive).
 */
export interface Fresh {
  row: InvoiceRow;
  rated: RatedPeriod;
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
    const { row, created } = await generateInvoiceTx(ctx, tx, emit, sub, plan, period);
    return { invoice: await invoiceView(tx, ctx.scope, row), created };
  });
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

async function accountsFor(
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

async function nextNumber(
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
  if (current.status === "void") {
    throw new BillingError("invoice_voided", "conflict", `Invoice "${id}" is void`);
  }
  if (current.status !== "draft") return current;
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
    emit("ledger.entry_posted", entry.id, entry as unknown as Record<string, unknown>);
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
      emit("ledger.entry_posted", credits.id, credits as unknown as Record<string, unknown>);
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
  const due = row.total - row.credits_applied;
  const status: InvoiceStatus = due === 0 ? "paid" : "open";
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
  emit("invoice.finalized", id, view as unknown as Record<string, unknown>);
  if (status === "paid") emit("invoice.paid", id, view as unknown as Record<string, unknown>);
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
  ctx: Ctx,
  id: string,
  options: { days_until_due?: number } = {},
): Promise<InvoiceView> {
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
  ctx: Ctx,
  id: string,
  input: { amount?: number; reference?: string },
): Promise<InvoiceView> {
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const row = await loadInvoiceRow(ctx, tx, id);
    if (input.reference !== undefined) {
      const prior = await invoicePaymentRows.first(tx, ctx.scope, {
        invoice_id: id,
        reference: input.reference,
      });
      if (prior) {
        if (input.amount !== undefined && input.amount !== prior.amount) {
          throw new BillingError(
            "idempotency_key_reused",
            "conflict",
            `Payment reference "${input.reference}" was used with amount ${prior.amount}`,
          );
        }
        return await invoiceView(tx, ctx.scope, row);
      }
    }
    if (row.status !== "open" && row.status !== "uncollectible") {
      throw new BillingError(
        "invoice_not_open",
        "conflict",
        `Invoice "${id}" is ${row.status}; only open or uncollectible invoices take payments`,
      );
    }
    const due = amountDue(row);
    // A payment on a written-off invoice is a recovery: it credits bad_debt_expense back instead of
    // the receivable, which the write-off already cleared (as Stripe lets uncollectible invoices be paid).
    const recovery = row.status === "uncollectible";
    const amount = input.amount ?? due;
    if (amount > due) {
      throw new BillingError(
        "payment_exceeds_amount_due",
        "unprocessable",
        `The payment ${amount} exceeds the amount due ${due}`,
      );
    }
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
    const status: InvoiceStatus = amount === due ? "paid" : row.status;
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
    emit("ledger.entry_posted", entry.id, entry as unknown as Record<string, unknown>);
    emit("invoice.payment_recorded", id, { amount, reference: input.reference ?? null, entry_id: entry.id });
    if (status === "paid") emit("invoice.paid", id, view as unknown as Record<string, unknown>);
    return view;
  });
}

/**
 * Voids a draft, or an open invoice without payments or credit notes: posts the reversal of its
 * finalization and of the credits it applied, and releases what it consumed of credit grants.
 * Voiding a void invoice returns it unchanged.
 *
 * @throws {BillingError} `invoice_not_found` (404); `invoice_paid`, `invoice_uncollectible`,
 *   `invoice_has_payments`, `invoice_has_credit_notes` (409)
 */
export async function voidInvoice(ctx: Ctx, id: string): Promise<InvoiceView> {
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const row = await loadInvoiceRow(ctx, tx, id);
    if (row.status === "void") return await invoiceView(tx, ctx.scope, row);
    if (row.status === "paid") {
      throw new BillingError("invoice_paid", "conflict", `Invoice "${id}" is paid and cannot be voided`);
    }
    if (row.status === "uncollectible") {
      throw new BillingError(
        "invoice_uncollectible",
        "conflict",
        `Invoice "${id}" was written off as uncollectible`,
      );
    }
    if (row.amount_paid > 0) {
      throw new BillingError(
        "invoice_has_payments",
        "conflict",
        `Invoice "${id}" has payments and cannot be voided`,
      );
    }
    if (row.credited > 0) {
      throw new BillingError(
        "invoice_has_credit_notes",
        "conflict",
        `Invoice "${id}" has credit notes and cannot be voided`,
      );
    }
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
      emit("ledger.entry_posted", entry.id, entry as unknown as Record<string, unknown>);
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
        emit("ledger.entry_posted", back.id, back as unknown as Record<string, unknown>);
      }
    }
    await consumptionRows.delete(tx, ctx.scope, { invoice_id: id });
    const updated: InvoiceRow = { ...row, status: "void", voided_at: now, updated_at: now };
    await invoiceRows.update(tx, ctx.scope, { id }, { status: "void", voided_at: now, updated_at: now });
    const view = await invoiceView(tx, ctx.scope, updated);
    emit("invoice.voided", id, view as unknown as Record<string, unknown>);
    return view;
  });
}

/**
 * Marks an open invoice uncollectible: writes its amount due off (debit `bad_debt_expense`,
 * credit the receivable). Repeating it returns the invoice unchanged.
 *
 * @throws {BillingError} `invoice_not_found` (404); `invoice_not_open` (409)
 */
export async function markUncollectible(ctx: Ctx, id: string): Promise<InvoiceView> {
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const row = await loadInvoiceRow(ctx, tx, id);
    if (row.status === "uncollectible") return await invoiceView(tx, ctx.scope, row);
    if (row.status !== "open") {
      throw new BillingError(
        "invoice_not_open",
        "conflict",
        `Invoice "${id}" is ${row.status}; only open invoices can be marked uncollectible`,
      );
    }
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
      emit("ledger.entry_posted", entry.id, entry as unknown as Record<string, unknown>);
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
    emit("invoice.marked_uncollectible", id, view as unknown as Record<string, unknown>);
    return view;
  });
}

function creditNoteView(row: CreditNoteRow): CreditNoteView {
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
  ctx: Ctx,
  invoiceId: string,
  input: { amount: number; reason?: string; reference: string },
): Promise<{ credit_note: CreditNoteView; invoice: InvoiceView; replayed: boolean }> {
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const row = await loadInvoiceRow(ctx, tx, invoiceId);
    const prior = await creditNoteRows.first(tx, ctx.scope, {
      invoice_id: invoiceId,
      reference: input.reference,
    });
    if (prior) {
      if (prior.amount !== input.amount) {
        throw new BillingError(
          "idempotency_key_reused",
          "conflict",
          `Credit note reference "${input.reference}" was used with amount ${prior.amount}`,
        );
      }
      return {
        credit_note: creditNoteView(prior),
        invoice: await invoiceView(tx, ctx.scope, row),
        replayed: true,
      };
    }
    if (row.status !== "open" && row.status !== "paid") {
      throw new BillingError(
        "invoice_not_creditable",
        "conflict",
        `Invoice "${invoiceId}" is ${row.status}; credit notes need an open or paid invoice`,
      );
    }
    const creditable = row.status === "open"
      ? amountDue(row)
      : row.total - row.credits_applied - row.credited;
    if (input.amount > creditable) {
      throw new BillingError(
        "credit_note_exceeds_creditable",
        "unprocessable",
        `The credit note ${input.amount} exceeds the creditable amount ${creditable}`,
      );
    }
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
    let updated: InvoiceRow = { ...row, credited, updated_at: now };
    if (row.status === "open" && amountDue(updated) === 0) {
      updated = { ...updated, status: "paid", paid_at: now };
    }
    await invoiceRows.update(tx, ctx.scope, { id: invoiceId }, {
      credited,
      status: updated.status,
      paid_at: updated.paid_at,
      updated_at: now,
    });
    const view = await invoiceView(tx, ctx.scope, updated);
    emit("ledger.entry_posted", entry.id, entry as unknown as Record<string, unknown>);
    emit("invoice.credit_note_issued", invoiceId, creditNoteView(note) as unknown as Record<string, unknown>);
    if (updated.status === "paid" && row.status === "open") {
      emit("invoice.paid", invoiceId, view as unknown as Record<string, unknown>);
    }
    return { credit_note: creditNoteView(note), invoice: view, replayed: false };
  });
}

/** Credit notes of an invoice, oldest first. @throws {BillingError} `invoice_not_found` */
export async function listCreditNotes(ctx: Ctx, invoiceId: string): Promise<CreditNoteView[]> {
  const db = ctx.database.db;
  await loadInvoiceRow(ctx, db, invoiceId);
  const rows = await creditNoteRows.list(db, ctx.scope, { invoice_id: invoiceId }, {
    orderBy: [["id", "asc"]],
  });
  return rows.map(creditNoteView);
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
  const customerId = filter.customer_id ? (await loadCustomer(ctx, db, filter.customer_id)).id : undefined;
  const limit = filter.limit ?? 20;
  const rows = await invoicePage(db, ctx.scope, {
    customer_id: customerId,
    status: filter.status,
    before_id: filter.cursor,
  }, limit + 1);
  const page = rows.slice(0, limit);
  return {
    data: await Promise.all(page.map((r) => invoiceView(db, ctx.scope, r))),
    next_cursor: rows.length > limit ? page[page.length - 1].id : null,
  };
}
