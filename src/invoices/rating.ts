/**
 * Rating: the setup and compute of one period's invoice (Autumn's split). Loads the plan
 * segments with their usage, the coupon, the tax rates and the credit balances, calls the pure
 * `computePeriodInvoice` of `domain/invoice.ts`, and writes a draft's amounts and lines. Setup
 * only reads, so the invoice preview (`GET /v1/invoices/upcoming`) runs the same code on the
 * database handle and writes nothing.
 *
 * Which tax rates: the subscription's own `tax_rate_ids` when set, else the customer's
 * `tax_rate_ids`, else the customer's single rate of the earlier API (`customer_tax_rates`).
 *
 * A `once` coupon discounts the first invoice from its first counted period on that has something
 * to discount: a period whose invoice took no discount from it (nothing billed, a zero-cost
 * period) does not use it up. It is used up once another finalized invoice of the subscription
 * (open, paid or uncollectible; not a void one) carries a discount from it.
 *
 * @module
 */
import { type Coupon, discountApplies, onceCouponApplies } from "../domain/coupons.ts";
import type { GrantBalance } from "../domain/credits.ts";
import { newId } from "../domain/ids.ts";
import {
  type CombinationUsage,
  computePeriodInvoice,
  type InvoiceDraft,
  type InvoiceLineDraft,
  type PlanSegment,
  type UnitGrant,
} from "../domain/invoice.ts";
import { isDimensioned, isPriced, type Plan } from "../domain/plan.ts";
import {
  type BillingPeriod,
  initialPlanId,
  pausedSlices,
  periodAt,
  planSegments,
} from "../domain/subscription.ts";
import type { TaxRate } from "../domain/tax.ts";
import type { Executor, Tx } from "../storage/db.ts";
import { loadCustomerRow } from "../customers/service.ts";
import { discountWithCoupon } from "../coupons/repository.ts";
import { creditGrantRows, spentOfGrants } from "../credits/repository.ts";
import { changeRows, type SubscriptionChangeRow } from "../subscriptions/repository.ts";
import { taxRateOfCustomer, taxRateRows } from "../tax/repository.ts";
import type { Ctx } from "../context.ts";
import type { Emit } from "../lifecycle/write.ts";
import { loadPlan } from "../plans/service.ts";
import {
  billingPeriodAt,
  loadSubscription,
  pausesOf,
  type SubscriptionRow,
  timelineOf,
} from "../subscriptions/read.ts";
import { aggregateUsage, aggregateUsageByCombination } from "../usage/service.ts";
import {
  couponDiscountedAnInvoice,
  type InvoiceLineColumns,
  invoiceLineRows,
  type InvoiceRow,
  invoiceRows,
} from "./repository.ts";
import { type Decimal, decimalFromInteger, parseDecimal, roundDecimalToInteger } from "../domain/decimal.ts";

/** Remaining balances of a customer's grants: amount − every recorded consumption. */
async function grantBalances(ctx: Ctx, exec: Executor, customerId: string) {
  const grants = await creditGrantRows.list(exec, ctx.scope, { customer_id: customerId });
  if (grants.length === 0) return [];
  const spent = await spentOfGrants(exec, ctx.scope, grants.map((g) => g.id));
  return grants.map((g) => ({ ...g, remaining: g.amount - (spent.get(g.id) ?? 0) }));
}

/**
 * The tax rates a subscription's invoices apply, in order (see module rule): the subscription's
 * own, else the customer's list, else the customer's single rate; rates no longer stored are skipped.
 */
export async function subscriptionTaxRates(
  ctx: Ctx,
  exec: Executor,
  sub: SubscriptionRow,
): Promise<TaxRate[]> {
  const customer = await loadCustomerRow(ctx, exec, sub.customer_id);
  const ids = sub.tax_rate_ids ?? customer.tax_rate_ids;
  const toRate = (rate: { id: string; display_name: string; percentage_bp: number; inclusive: boolean }) => ({
    id: rate.id,
    display_name: rate.display_name,
    percentage_bp: rate.percentage_bp,
    inclusive: rate.inclusive,
  });
  if (ids === null) {
    const legacy = await taxRateOfCustomer(exec, ctx.scope, sub.customer_id);
    return legacy ? [toRate(legacy)] : [];
  }
  if (ids.length === 0) return [];
  const rows = await taxRateRows.list(exec, ctx.scope, { id: ids });
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => (byId.has(id) ? [toRate(byId.get(id)!)] : []));
}

/** The plan changes of a subscription, oldest first. */
export async function loadPlanChanges(
  ctx: Ctx,
  exec: Executor,
  subscriptionId: string,
): Promise<SubscriptionChangeRow[]> {
  return await changeRows.list(exec, ctx.scope, { subscription_id: subscriptionId }, {
    orderBy: [["effective_at", "asc"], ["id", "asc"]],
  });
}

/** Computed invoice of a period plus what it was computed with. */
export interface RatedPeriod {
  /** The computed invoice (`domain/invoice.ts`). */
  draft: InvoiceDraft;
  /** Coupon applied, if any. */
  couponId: string | null;
  /** Tax rates applied, in order (empty: none). */
  taxRates: TaxRate[];
  /** ISO 4217 code of the plan. */
  currency: string;
}

/**
 * Setup + compute of one period (Autumn's split): loads the plan segments with their usage, the
 * coupon, tax rates and credit balances, then calls the pure {@link computePeriodInvoice}. Reads
 * only: `tx` may be the database handle (the preview) or the caller's write transaction.
 *
 * @param invoiceId the invoice being rated, or null for a new one or a preview (a `once` coupon
 *   this invoice itself used is not "used up" for it)
 */
export async function ratePeriod(
  ctx: Ctx,
  tx: Executor,
  sub: SubscriptionRow,
  currentPlan: Plan,
  period: BillingPeriod,
  invoiceId: string | null = null,
): Promise<RatedPeriod> {
  const changes = await loadPlanChanges(ctx, tx, sub.id);
  const initial = initialPlanId(sub.plan_id, changes);
  const slices = planSegments(initial, changes, period.start, period.end);
  const plans = new Map<string, Plan>([[currentPlan.id, currentPlan]]);
  const segments: PlanSegment[] = [];
  for (const slice of slices) {
    if (!plans.has(slice.plan_id)) plans.set(slice.plan_id, await loadPlan(ctx, tx, slice.plan_id));
    const plan = plans.get(slice.plan_id)!;
    const usage = new Map<string, Decimal>();
    const dimensionUsage = new Map<string, CombinationUsage[]>();
    for (const feature of plan.features) {
      if (!isPriced(feature)) continue;
      usage.set(
        feature.key,
        decimalFromInteger(
          await aggregateUsage(ctx.scope, tx, sub.customer_id, feature, slice.start, slice.end),
        ),
      );
      if (isDimensioned(feature)) {
        const groups = await aggregateUsageByCombination(
          ctx.scope,
          tx,
          sub.customer_id,
          feature,
          feature.dimensions ?? [],
          slice.start,
          slice.end,
        );
        dimensionUsage.set(
          feature.key,
          groups.map((g) => ({ values: g.values, quantity: decimalFromInteger(g.value) })),
        );
      }
    }
    segments.push({
      plan,
      start: slice.start,
      end: slice.end,
      usage,
      dimension_usage: dimensionUsage,
      proration: slice.proration,
    });
  }
  const timeline = timelineOf(sub);
  const full = period.trial
    ? { start: period.start, end: timeline.trial_end ?? period.end }
    : periodAt({ ...timeline, cancel_at: null }, currentPlan.interval, period.start);

  let coupon: Coupon | null = null;
  const discount = await discountWithCoupon(tx, ctx.scope, sub.id);
  if (discount && !period.trial) {
    const c = { ...discount.c, plan_ids: discount.c.plan_ids as string[] | null };
    const planId = segments[0].plan.id ?? currentPlan.id;
    const first = discount.d.first_period_index;
    if (c.duration === "once") {
      const used = await couponDiscountedAnInvoice(tx, ctx.scope, sub.id, c.id, invoiceId);
      if (onceCouponApplies(c, first, period.index, planId, used)) coupon = c;
    } else if (discountApplies(c, first, period.index, planId)) coupon = c;
  }
  const taxRates = await subscriptionTaxRates(ctx, tx, sub);
  const balances = await grantBalances(ctx, tx, sub.customer_id);
  const toBalance = (g: (typeof balances)[number]): GrantBalance => ({
    id: g.id,
    priority: g.priority,
    effective_at: g.effective_at,
    expires_at: g.expires_at,
    remaining: Math.max(0, g.remaining),
  });
  const paused = pausedSlices(await pausesOf(ctx, tx, sub.id), period.start, period.end);
  // A period cut by a plan change (not by a cancellation) is an interval change's last period.
  const cutByChange = period.end.getTime() < full.end.getTime() &&
    changes.some((c) => c.effective_at.getTime() === period.end.getTime());
  const draft = computePeriodInvoice({
    period: { start: period.start, end: period.end, trial: period.trial },
    full_period: { start: full.start, end: full.end },
    cut_reason: cutByChange ? "interval_change" : "cancellation",
    segments,
    coupon,
    tax_rate: null,
    tax_rates: taxRates,
    paused,
    monetary_grants: balances.filter((g) => g.kind === "monetary" && g.currency === currentPlan.currency).map(
      toBalance,
    ),
    unit_grants: balances.filter((g) => g.kind === "units" && g.feature).map((g): UnitGrant => ({
      ...toBalance(g),
      feature: g.feature!,
    })),
  });
  return { draft, couponId: coupon?.id ?? null, taxRates, currency: currentPlan.currency };
}

/** Replaces the stored lines of an invoice with `lines`, in order. */
export async function writeLines(
  ctx: Ctx,
  tx: Tx,
  invoiceId: string,
  lines: InvoiceLineDraft[],
): Promise<void> {
  await invoiceLineRows.delete(tx, ctx.scope, { invoice_id: invoiceId });
  if (lines.length === 0) return;
  await invoiceLineRows.insertMany(
    tx,
    ctx.scope,
    lines.map((l, position) => ({
      id: newId("il"),
      invoice_id: invoiceId,
      position,
      ...lineColumns(l),
    })),
  );
}

/**
 * The stored columns of a computed line: a fractional quantity or unit price is kept exact in its
 * `_decimal` column (the integer column then holds it rounded half-up, for readers that only know
 * integers); whole values leave the `_decimal` columns null, so integer invoices store as before.
 */
export function lineColumns(l: InvoiceLineDraft): InvoiceLineColumns {
  const quantity = typeof l.quantity === "number" ? null : parseDecimal(l.quantity);
  const unit = parseDecimal(l.unit_amount_decimal);
  return {
    kind: l.kind,
    description: l.description,
    feature: l.feature,
    quantity: quantity === null ? l.quantity as number : Number(roundDecimalToInteger(quantity, "half_up")),
    quantity_decimal: quantity === null ? null : l.quantity as string,
    unit_amount: l.unit_amount ?? Number(roundDecimalToInteger(unit, "half_up")),
    unit_amount_decimal: l.unit_amount === null ? l.unit_amount_decimal : null,
    amount: l.amount,
    tier: l.tier,
    plan_id: l.plan_id,
    dimensions: l.dimensions,
    discount_amount: l.discount_amount,
    tax_amount: l.tax_amount,
  };
}

/** The invoice columns a rating sets (amounts, coupon, tax rates: the first one also in the single-rate columns). */
export function amountsOf(rated: RatedPeriod): Pick<
  InvoiceRow,
  | "subtotal"
  | "discount"
  | "tax"
  | "total"
  | "credits_applied"
  | "coupon_id"
  | "tax_rate_id"
  | "tax_percentage_bp"
  | "tax_inclusive"
  | "taxes"
> {
  const first = rated.taxRates[0];
  return {
    subtotal: rated.draft.subtotal,
    discount: rated.draft.discount,
    tax: rated.draft.tax,
    total: rated.draft.total,
    credits_applied: rated.draft.credits_applied,
    coupon_id: rated.couponId,
    tax_rate_id: first?.id ?? null,
    tax_percentage_bp: first?.percentage_bp ?? null,
    tax_inclusive: first?.inclusive ?? null,
    taxes: rated.draft.taxes,
  };
}

/** The billing period an invoice row covers (index and trial flag recomputed from the timeline). */
export function periodOfRow(sub: SubscriptionRow, plan: Plan, row: InvoiceRow): BillingPeriod {
  const period = billingPeriodAt(sub, plan.interval, row.period_start);
  return { ...period, start: row.period_start, end: row.period_end };
}

/** Recomputes a draft from current usage; returns the updated row and the computation. */
export async function refreshDraft(
  ctx: Ctx,
  tx: Tx,
  row: InvoiceRow,
  emit: Emit | null,
): Promise<{ row: InvoiceRow; rated: RatedPeriod }> {
  const { row: sub, plan } = await loadSubscription(ctx, tx, row.subscription_id);
  const rated = await ratePeriod(ctx, tx, sub, plan, periodOfRow(sub, plan, row), row.id);
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
 * A draft rated in the current transaction: finalizing it in the same transaction may skip the
 * refresh, since nothing can have changed in between (the write lane is exclusive).
 */
export interface Fresh {
  /** The draft as written. */
  row: InvoiceRow;
  /** What it was rated with. */
  rated: RatedPeriod;
}
