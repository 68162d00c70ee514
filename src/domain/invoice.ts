/**
 * Invoice computation (pure): the lines, subtotal, discount, tax, credits and total of one
 * billing period. Every billing rule of ADR 0004 meets here, in this order:
 *
 * 1. **Base fee** (in arrears, with the period's invoice). The plan in effect at the period start
 *    bills its full `base_amount` (waived in a trial period). Each plan change with
 *    `proration: "prorate"` at instant *c* adds two proration lines: a credit
 *    `−prorate(old base, c → period end)` ("Unused time on Old") and a charge
 *    `+prorate(new base, c → period end)` ("Remaining time on New"); `proration: "none"` adds no
 *    line (the new base fee starts with the next period, as Stripe's `proration_behavior: none`).
 *    A period cut short by cancellation credits `prorate(last base, cancel → period end)`; each
 *    paused slice credits `prorate(running base, pause start → pause end)`.
 *    See `proration.ts` for the to-the-second rule and its rounding. Should the credits, each
 *    rounded on its own, exceed the fees by a few minor units, the excess is taken off the last
 *    credit: fee lines never sum below zero.
 * 2. **Usage**, per plan segment: usage in `[segment start, segment end)` is rated at that
 *    segment's plan (its `included` allowance and tiers apply per segment, as Stripe invoices
 *    the old price's usage separately when a metered price changes). Unit credit grants reduce
 *    billable units before pricing (`credits.ts`).
 * 3. **Discount** of the subscription's coupon on `max(0, subtotal)`, allocated to positive lines
 *    (`coupons.ts`); never makes a line or the total negative.
 * 4. **Tax** per line on the discounted amount, for each of the invoice's tax rates (up to
 *    {@link MAX_TAX_RATES}, `tax.ts`): every rate applies to the same discounted line amount and is
 *    rounded per line and rate (19 % + 2.5 % on 10 000 → 1 900 + 250); a line's `tax_amount` is
 *    the sum over the rates, the invoice shows each rate's total in `taxes`. Exclusive tax is
 *    added: `total = subtotal − discount + tax`; inclusive tax (a single rate) is already in the
 *    amounts: `total = subtotal − discount`. Should negative credit-line taxes out-round the
 *    positive ones (fees netting to about zero), the credits' taxes give way (per rate, last first,
 *    never past zero) so each rate's tax is ≥ 0; an inclusive invoice's tax is likewise capped at
 *    its total.
 * 5. **Monetary credits** are drawn against the total (`credits_applied`), so
 *    `amount_due = total − credits_applied − amount_paid − credited`.
 *
 * During a trial period the base fee is waived and usage is still rated, as Lago documents for
 * trials (the trial covers the subscription fee, not usage charges). A period with no usage and no
 * fee is a zero invoice.
 *
 * @module
 */
import { allocateDiscount, type Coupon, discountAmount } from "./coupons.ts";
import { type Draw, drawCredits, type GrantBalance, grantCovers } from "./credits.ts";
import { sum } from "./money.ts";
import { type Feature, isDimensioned, type Plan } from "./plan.ts";
import { type Pricing, type PricingSpec, rate, tierLabel, toPricing } from "./pricing.ts";
import {
  type Decimal,
  decimalFromInteger,
  decimalToJson,
  formatDecimal,
  maxDecimal,
  minDecimal,
  roundDecimalToInteger,
  subtractDecimal,
  sumDecimals,
} from "./decimal.ts";
import { type DimensionValues, findDimensionEntry } from "./dimensions.ts";
import { prorate } from "./proration.ts";
import { MAX_TAX_RATES, taxLines, type TaxRate } from "./tax.ts";

/** Status of an invoice: draft → open → paid | void | uncollectible (`invoice_state.ts`). */
export type { InvoiceStatus } from "./invoice_state.ts";

/** Kind of invoice line. */
export type InvoiceLineKind = "base" | "usage" | "proration";

/** A computed invoice line; amounts in minor units of the invoice currency. */
export interface InvoiceLineDraft {
  /** `base` for the recurring fee, `usage` for a rated feature, `proration` for a plan-change or cancellation adjustment. */
  kind: InvoiceLineKind;
  /** Human description (tier, included units, segment). */
  description: string;
  /** Feature key for usage lines, `null` otherwise. */
  feature: string | null;
  /**
   * Units (whole packages for `package`), 1 for fees: a number when whole, else the exact decimal
   * as a string (`"0.25"`, fractional usage).
   */
  quantity: number | string;
  /**
   * Price per unit in whole minor units (negative for credits); `null` when the price has a
   * fraction, as Stripe shows a price set only by `unit_amount_decimal`.
   */
  unit_amount: number | null;
  /** The exact price per unit as a decimal string of minor units (`"0.000015"`, `"4900"`). */
  unit_amount_decimal: string;
  /** Dimension values of the combination a usage line prices, `null` for other lines. */
  dimensions: DimensionValues | null;
  /** quantity × unit_amount (+ flat); negative only for proration credits. */
  amount: number;
  /** 1-based tier index for tiered pricing, else `null`. */
  tier: number | null;
  /** Plan whose price produced the line, or `null` when unknown. */
  plan_id: string | null;
  /** Share of the invoice discount (0 ≤ discount_amount ≤ max(0, amount)). */
  discount_amount: number;
  /** Tax of this line, rounded per line. */
  tax_amount: number;
}

/** A tax rate as an invoice applies it: `id` names it in {@link InvoiceTax} (absent in pure tests). */
export type InvoiceTaxRate = Pick<TaxRate, "percentage_bp" | "inclusive"> & { id?: string };

/** The tax of one rate on an invoice: the sum of its per-line, per-rate rounded amounts. */
export interface InvoiceTax {
  /** The rate's `txr_` id, or `null` when the caller gave none. */
  tax_rate_id: string | null;
  /** The rate in basis points (1 900 = 19 %). */
  percentage_bp: number;
  /** Whether the amounts already contain this tax. */
  inclusive: boolean;
  /** Minor units of tax of this rate, ≥ 0. */
  amount: number;
}

/** Output of {@link computeInvoice} / {@link computePeriodInvoice}. */
export interface InvoiceDraft {
  /** Lines in order: base, prorations, usage. */
  lines: InvoiceLineDraft[];
  /** Sum of line amounts. */
  subtotal: number;
  /** Coupon discount, 0…max(0, subtotal). */
  discount: number;
  /** Sum of per-line taxes (= the sum of `taxes`). */
  tax: number;
  /** The tax of each rate, in the order of the rates given; empty without a rate. */
  taxes: InvoiceTax[];
  /** subtotal − discount (+ tax when exclusive), ≥ 0. */
  total: number;
  /** Monetary credits drawn (previewed on drafts, recorded at finalization). */
  credits_applied: number;
  /** Draws on monetary grants. */
  monetary_draws: Draw[];
  /** Draws on unit grants. */
  unit_draws: Draw[];
}

/** The plan fields invoice computation uses. */
export type InvoicePlan = Pick<Plan, "name" | "base_amount" | "features"> & { id?: string };

/** A slice of a period billed at one plan, with the usage aggregated over the slice. */
export interface PlanSegment {
  /** Plan billed in this slice. */
  plan: InvoicePlan;
  /** Slice start (inclusive). */
  start: Date;
  /** Slice end (exclusive). */
  end: Date;
  /**
   * Aggregated usage per feature key over `[start, end)` (missing = 0): a {@link Decimal}, or a
   * whole `number` of units.
   */
  usage: ReadonlyMap<string, Decimal | number>;
  /**
   * Usage of dimensioned features (`plan.ts` `isDimensioned`) per combination of dimension
   * values, in order of first usage; a feature missing here is rated on `usage` alone.
   */
  dimension_usage?: ReadonlyMap<string, readonly CombinationUsage[]>;
  /** How the change that started this segment prorates (ignored for the first segment). */
  proration: "prorate" | "none";
}

/** Usage of one combination of dimension values over a segment. */
export interface CombinationUsage {
  /** The dimension values (`null` where events lack the property). */
  values: DimensionValues;
  /** The combination's aggregated usage. */
  quantity: Decimal | number;
}

/** A unit grant: like {@link GrantBalance} plus the feature it covers. */
export interface UnitGrant extends GrantBalance {
  /** Feature key whose billable units the grant covers. */
  feature: string;
}

/** Everything {@link computePeriodInvoice} needs; all pure data. */
export interface PeriodInvoiceInput {
  /** The billing period as invoiced (`end` truncated by cancellation). */
  period: { start: Date; end: Date; trial: boolean };
  /** The untruncated period, the denominator of prorations. */
  full_period: { start: Date; end: Date };
  /** Plan segments in time order covering `[period.start, period.end)`; at least one. */
  segments: PlanSegment[];
  /** The subscription's coupon when it discounts this period, else null. */
  coupon: Pick<Coupon, "code" | "percent_off_bp" | "amount_off"> | null;
  /** The customer's tax rate, or null (one rate; `tax_rates`, when given, takes its place). */
  tax_rate: InvoiceTaxRate | null;
  /** The tax rates of the invoice (subscription's, else customer's), at most {@link MAX_TAX_RATES}. */
  tax_rates?: readonly InvoiceTaxRate[];
  /**
   * Why the period ends before `full_period.end`: `cancellation` (default; also a fixed end) or
   * `interval_change` (the billing anchor reset there). Only the credit line's wording differs.
   */
  cut_reason?: "cancellation" | "interval_change";
  /** Paused parts of the period (see `pausedSlices`): their base fee is credited. */
  paused?: readonly { start: Date; end: Date }[];
  /** Monetary grants of the customer in the invoice currency, with remaining balances. */
  monetary_grants: readonly GrantBalance[];
  /** Unit grants of the customer, with remaining balances. */
  unit_grants: readonly UnitGrant[];
}

/**
 * Computes an invoice for one billing period at a single plan, without discount, tax or credits
 * (the spine's original entry point, kept for callers that bill one clean period).
 *
 * @param input.usage aggregated usage per feature key over the period (missing = 0)
 * @param input.trial whether the period is a trial period (base fee waived)
 * @throws {BillingError} `amount_out_of_range` when an amount overflows 2^53 − 1
 */
export function computeInvoice(input: {
  plan: InvoicePlan;
  usage: ReadonlyMap<string, Decimal | number>;
  trial: boolean;
}): InvoiceDraft {
  const start = new Date(0);
  const end = new Date(1000);
  return computePeriodInvoice({
    period: { start, end, trial: input.trial },
    full_period: { start, end },
    segments: [{ plan: input.plan, start, end, usage: input.usage, proration: "none" }],
    coupon: null,
    tax_rate: null,
    monetary_grants: [],
    unit_grants: [],
  });
}

/**
 * Computes the invoice of one billing period with plan changes, cancellation, coupon, tax and
 * prepaid credits (see the module rules, in order).
 *
 * @throws {RangeError} when segments are empty or outside the period (a caller bug)
 * @throws {BillingError} `amount_out_of_range` when an amount overflows 2^53 − 1
 */
export function computePeriodInvoice(input: PeriodInvoiceInput): InvoiceDraft {
  const { period, full_period: full, segments } = input;
  if (segments.length === 0) throw new RangeError("computePeriodInvoice(): no plan segment");
  const lines: InvoiceLineDraft[] = [];
  const line = (
    l: Omit<InvoiceLineDraft, "discount_amount" | "tax_amount" | "unit_amount_decimal" | "dimensions">,
  ) =>
    lines.push({
      ...l,
      unit_amount_decimal: String(l.unit_amount),
      dimensions: null,
      discount_amount: 0,
      tax_amount: 0,
    });

  // 1. base fee and prorations
  if (!period.trial) {
    const first = segments[0].plan;
    if (first.base_amount > 0) {
      line({
        kind: "base",
        description: `${first.name} base fee`,
        feature: null,
        quantity: 1,
        unit_amount: first.base_amount,
        amount: first.base_amount,
        tier: null,
        plan_id: first.id ?? null,
      });
    }
    let billed = first; // plan whose base fee currently runs to the period end
    for (const segment of segments.slice(1)) {
      if (segment.proration === "none") continue;
      const slice = { from: segment.start, to: full.end };
      const credit = prorate(billed.base_amount, full, slice);
      const charge = prorate(segment.plan.base_amount, full, slice);
      const from = segment.start.toISOString();
      if (credit > 0) {
        line({
          kind: "proration",
          description: `Unused time on ${billed.name} from ${from}`,
          feature: null,
          quantity: 1,
          unit_amount: -credit,
          amount: -credit,
          tier: null,
          plan_id: billed.id ?? null,
        });
      }
      if (charge > 0) {
        line({
          kind: "proration",
          description: `Remaining time on ${segment.plan.name} from ${from}`,
          feature: null,
          quantity: 1,
          unit_amount: charge,
          amount: charge,
          tier: null,
          plan_id: segment.plan.id ?? null,
        });
      }
      billed = segment.plan;
    }
    for (const slice of input.paused ?? []) {
      // the base fee running at the pause: the last prorated plan started by then
      let running = first;
      for (const segment of segments.slice(1)) {
        if (segment.proration === "prorate" && segment.start.getTime() <= slice.start.getTime()) {
          running = segment.plan;
        }
      }
      const credit = prorate(running.base_amount, full, { from: slice.start, to: slice.end });
      if (credit > 0) {
        line({
          kind: "proration",
          description: `Paused ${slice.start.toISOString()} – ${slice.end.toISOString()} on ${running.name}`,
          feature: null,
          quantity: 1,
          unit_amount: -credit,
          amount: -credit,
          tier: null,
          plan_id: running.id ?? null,
        });
      }
    }
    if (period.end.getTime() < full.end.getTime()) {
      const credit = prorate(billed.base_amount, full, { from: period.end, to: full.end });
      if (credit > 0) {
        line({
          kind: "proration",
          description: input.cut_reason === "interval_change"
            ? `Unused time on ${billed.name} after the interval change at ${period.end.toISOString()}`
            : `Unused time on ${billed.name} after cancellation at ${period.end.toISOString()}`,
          feature: null,
          quantity: 1,
          unit_amount: -credit,
          amount: -credit,
          tier: null,
          plan_id: billed.id ?? null,
        });
      }
    }
  }

  // Credits rounded line by line could exceed, by a few minor units, the fees they offset (many
  // short pauses); the excess comes off the last credit so the fees never go below zero.
  const feeTotal = lines.reduce((acc, l) => acc + l.amount, 0);
  if (feeTotal < 0) {
    const last = lines.findLast((l) => l.amount < 0)!;
    last.amount -= feeTotal;
    last.unit_amount = last.amount;
    last.unit_amount_decimal = String(last.amount);
  }

  // 2. usage per segment, unit credits before pricing
  const unitBalances = new Map(
    input.unit_grants.filter((g) => grantCovers(g, period.start, period.end)).map((g) => [g.id, { ...g }]),
  );
  const unitDraws = new Map<string, number>();
  for (const segment of segments) {
    for (const feature of segment.plan.features) {
      const combinations = isDimensioned(feature) ? segment.dimension_usage?.get(feature.key) ?? [] : [];
      if (combinations.length === 0 && !feature.pricing) continue;
      const used = asDecimal(segment.usage.get(feature.key) ?? 0);
      const slices: Slice[] = combinations.length === 0
        ? [{ values: null, used, billable: billableQuantity(feature, used) }]
        : shareIncluded(feature, combinations);
      // each slice's price; a combination without any price is not billed (nor covered by grants)
      const priced = slices.flatMap((slice) => {
        const pricing = slice.values === null
          ? feature.pricing
          : findDimensionEntry(feature.dimension_prices ?? [], slice.values)?.entry.pricing ??
            feature.pricing;
        return pricing ? [{ slice, pricing }] : [];
      });
      const billable = sumDecimals(priced.map((p) => p.slice.billable));
      // unit grants hold whole units: they cover the whole part of the billable quantity
      const grants = [...unitBalances.values()].filter((g) => g.feature === feature.key);
      const { draws, drawn } = drawCredits(grants, Number(roundDecimalToInteger(billable, "floor")));
      for (const d of draws) {
        unitBalances.get(d.grant_id)!.remaining -= d.amount;
        unitDraws.set(d.grant_id, (unitDraws.get(d.grant_id) ?? 0) + d.amount);
      }
      let creditLeft = decimalFromInteger(drawn);
      for (const { slice, pricing } of priced) {
        const credited = minDecimal(creditLeft, slice.billable);
        creditLeft = subtractDecimal(creditLeft, credited);
        lines.push(
          ...usageLines(
            feature,
            pricing,
            slice,
            subtractDecimal(slice.billable, credited),
            credited,
            segment.plan.id ?? null,
            segments.length > 1 ? segment : null,
          ),
        );
      }
    }
  }
  const subtotal = sum(lines.map((l) => l.amount), "invoice subtotal");

  // 3. discount, allocated to positive lines
  const discount = input.coupon ? discountAmount(input.coupon, subtotal) : 0;
  const shares = allocateDiscount(lines.map((l) => l.amount), discount);
  lines.forEach((l, i) => (l.discount_amount = shares[i]));

  // 4. tax per line and rate
  const rates = input.tax_rates ?? (input.tax_rate ? [input.tax_rate] : []);
  if (rates.length > MAX_TAX_RATES) throw new RangeError(`computePeriodInvoice(): ${rates.length} tax rates`);
  const inclusive = rates.length > 0 && rates[0].inclusive;
  if (rates.some((r) => r.inclusive) && rates.length > 1) {
    throw new RangeError("computePeriodInvoice(): an inclusive tax rate must be the invoice's only rate");
  }
  const nets = lines.map((l) => l.amount - l.discount_amount);
  const taxes: InvoiceTax[] = rates.map((rate) => {
    const perLine = taxLines(rate, nets).lines;
    let amount = sum(perLine, "tax");
    if (amount < 0) {
      // Credit lines rounded on their own can out-round the charges they offset (fees netting to
      // ~0): the taxable total is never negative, so neither is its tax. The credits' taxes give
      // way from the last one back, each at most to zero (so no line's tax changes sign).
      let excess = -amount;
      for (let i = perLine.length - 1; i >= 0 && excess > 0; i--) {
        const give = Math.min(excess, Math.max(0, -perLine[i]));
        perLine[i] += give;
        excess -= give;
      }
      amount = 0;
    }
    if (rate.inclusive && amount > subtotal - discount) {
      // Likewise an inclusive total cannot contain more tax than itself: the charges' taxes give way.
      let excess = amount - (subtotal - discount);
      for (let i = perLine.length - 1; i >= 0 && excess > 0; i--) {
        const give = Math.min(excess, Math.max(0, perLine[i]));
        perLine[i] -= give;
        excess -= give;
      }
      amount = subtotal - discount;
    }
    perLine.forEach((t, i) => (lines[i].tax_amount += t));
    return {
      tax_rate_id: rate.id ?? null,
      percentage_bp: rate.percentage_bp,
      inclusive: rate.inclusive,
      amount,
    };
  });
  const tax = sum(taxes.map((t) => t.amount), "tax");
  const total = inclusive ? subtotal - discount : sum([subtotal, -discount, tax], "invoice total");
  if (total < 0) throw new RangeError(`computePeriodInvoice(): negative total ${total}`);

  // 5. monetary credits against the total
  const monetary = drawCredits(
    input.monetary_grants.filter((g) => grantCovers(g, period.start, period.end)),
    total,
  );
  return {
    lines,
    subtotal,
    discount,
    tax,
    taxes,
    total,
    credits_applied: monetary.drawn,
    monetary_draws: monetary.draws,
    unit_draws: [...unitDraws].map(([grant_id, amount]) => ({ grant_id, amount })),
  };
}

/** One rated slice of a feature's usage: the whole feature, or one dimension combination. */
interface Slice {
  /** The combination's values, `null` for an undimensioned feature. */
  values: DimensionValues | null;
  /** Usage of the slice. */
  used: Decimal;
  /** Usage beyond the part of the included allowance the slice took. */
  billable: Decimal;
}

function asDecimal(q: Decimal | number): Decimal {
  return typeof q === "bigint" ? q : decimalFromInteger(q);
}

/**
 * Billable units of a feature: usage beyond the included allowance, never negative. Takes and
 * returns a {@link Decimal} (or whole numbers, as before fractional usage existed).
 */
export function billableQuantity(feature: Pick<Feature, "included">, used: Decimal): Decimal;
/** Whole-number form of {@link billableQuantity}. */
export function billableQuantity(feature: Pick<Feature, "included">, used: number): number;
export function billableQuantity(
  feature: Pick<Feature, "included">,
  used: Decimal | number,
): Decimal | number {
  if (typeof used === "number") return Math.max(0, used - feature.included);
  return maxDecimal(0n as Decimal, subtractDecimal(used, asDecimal(feature.included)));
}

/**
 * The included allowance of a dimensioned feature shared among its combinations (ADR 0004): it is
 * consumed in order of first usage — the combination used first draws it down first, the next
 * takes what is left — so the total billable quantity is `max(0, Σ usage − included)` as for an
 * undimensioned feature, and the allowance lands where the period's usage started.
 */
function shareIncluded(
  feature: Pick<Feature, "included">,
  combinations: readonly CombinationUsage[],
): Slice[] {
  let left = asDecimal(feature.included);
  return combinations.map((c) => {
    const used = asDecimal(c.quantity);
    const taken = minDecimal(left, used);
    left = subtractDecimal(left, taken);
    return { values: c.values, used, billable: subtractDecimal(used, taken) };
  });
}

/** Exact pricings of stored specs, converted once per spec object (plans are read once per rating). */
const exactPricings = new WeakMap<PricingSpec, Pricing>();

function exactPricing(spec: PricingSpec): Pricing {
  let pricing = exactPricings.get(spec);
  if (!pricing) exactPricings.set(spec, pricing = toPricing(spec));
  return pricing;
}

/** `model=m-large, token_type=input` (a missing value shows as `(none)`). */
function dimensionText(values: DimensionValues): string {
  return Object.entries(values).map(([k, v]) => `${k}=${v ?? "(none)"}`).join(", ");
}

function usageLines(
  feature: Feature,
  spec: PricingSpec,
  slice: Slice,
  billable: Decimal,
  credited: Decimal,
  planId: string | null,
  segment: PlanSegment | null,
): InvoiceLineDraft[] {
  const notes: string[] = [];
  const includedTaken = subtractDecimal(slice.used, slice.billable);
  if (feature.included > 0 && (slice.values === null || includedTaken > 0n)) {
    notes.push(
      slice.values === null
        ? `${formatDecimal(slice.used)} used, ${feature.included} included`
        : `${formatDecimal(slice.used)} used, ${
          formatDecimal(includedTaken)
        } of ${feature.included} included`,
    );
  }
  if (credited > 0n) notes.push(`${formatDecimal(credited)} covered by prepaid credits`);
  if (segment) {
    notes.push(`${segment.start.toISOString()} – ${segment.end.toISOString()} on ${segment.plan.name}`);
  }
  const usageNote = notes.length > 0 ? ` (${notes.join("; ")})` : "";
  const name = slice.values === null ? feature.name : `${feature.name} [${dimensionText(slice.values)}]`;
  const pricing = exactPricing(spec);
  return rate(pricing, billable).map((rated) => {
    let description = `${name}${usageNote}`;
    if (rated.tier && pricing.model === "graduated") {
      description = `${name} — ${tierLabel(rated.tier)}${usageNote}`;
    }
    if (rated.tier && pricing.model === "volume") {
      description = `${name} — volume ${tierLabel(rated.tier)}${usageNote}`;
    }
    if (pricing.model === "package") {
      description = `${name} — ${
        formatDecimal(rated.units!)
      } units in packages of ${pricing.package_size}${usageNote}`;
    }
    const unit = decimalToJson(rated.unit_amount);
    return {
      kind: "usage" as const,
      description: rated.flat_amount > 0n
        ? `${description} + flat ${formatDecimal(rated.flat_amount)}`
        : description,
      feature: feature.key,
      quantity: decimalToJson(rated.quantity),
      unit_amount: typeof unit === "number" ? unit : null,
      unit_amount_decimal: formatDecimal(rated.unit_amount),
      amount: rated.amount,
      tier: rated.tier?.index ?? null,
      plan_id: planId,
      dimensions: slice.values,
      discount_amount: 0,
      tax_amount: 0,
    };
  });
}
