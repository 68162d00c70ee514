/**
 * Invoice computation (pure): the lines, subtotal, discount, tax and total of one period.
 *
 * Order of lines: the base fee, then each priced feature in plan order, its usage beyond
 * `included` rated by its pricing model (one line per tier touched for graduated pricing).
 * During a trial period the base fee is waived; usage is still rated, as Lago documents for
 * trials (the trial covers the subscription fee, not usage charges).
 * This spine has no coupons or tax rates yet, so `discount` and `tax` are 0 and
 * `total = subtotal`; the fields exist so that clients do not change when they arrive.
 *
 * @module
 */
import { sum } from "./money.ts";
import type { Feature, Plan } from "./plan.ts";
import { rate, tierLabel } from "./pricing.ts";

/** Status of an invoice: draft → open → paid | void. */
export type InvoiceStatus = "draft" | "open" | "paid" | "void";

/** A computed invoice line; amounts in minor units of the invoice currency. */
export interface InvoiceLineDraft {
  /** `base` for the recurring fee, `usage` for a rated feature. */
  kind: "base" | "usage";
  description: string;
  /** Feature key for usage lines, `null` for the base fee. */
  feature: string | null;
  quantity: number;
  unit_amount: number;
  amount: number;
  /** 1-based tier index for tiered pricing, else `null`. */
  tier: number | null;
}

/** Output of {@link computeInvoice}. */
export interface InvoiceDraft {
  lines: InvoiceLineDraft[];
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
}

/**
 * Computes an invoice for one billing period.
 *
 * @param input.usage aggregated usage per feature key over the period (missing = 0)
 * @param input.trial whether the period is a trial period (base fee waived)
 * @throws {BillingError} `amount_out_of_range` when an amount overflows 2^53 − 1
 */
export function computeInvoice(input: {
  plan: Pick<Plan, "name" | "base_amount" | "features">;
  usage: ReadonlyMap<string, number>;
  trial: boolean;
}): InvoiceDraft {
  const lines: InvoiceLineDraft[] = [];
  if (!input.trial && input.plan.base_amount > 0) {
    lines.push({
      kind: "base",
      description: `${input.plan.name} base fee`,
      feature: null,
      quantity: 1,
      unit_amount: input.plan.base_amount,
      amount: input.plan.base_amount,
      tier: null,
    });
  }
  for (const feature of input.plan.features) {
    if (!feature.pricing) continue;
    lines.push(...usageLines(feature, input.usage.get(feature.key) ?? 0));
  }
  const subtotal = sum(lines.map((l) => l.amount), "invoice subtotal");
  return { lines, subtotal, discount: 0, tax: 0, total: subtotal };
}

/** Billable units of a feature: usage beyond the included allowance, never negative. */
export function billableQuantity(feature: Pick<Feature, "included">, used: number): number {
  return Math.max(0, used - feature.included);
}

function usageLines(feature: Feature, used: number): InvoiceLineDraft[] {
  const pricing = feature.pricing!;
  const billable = billableQuantity(feature, used);
  const usageNote = feature.included > 0 ? ` (${used} used, ${feature.included} included)` : "";
  return rate(pricing, billable).map((rated) => {
    let description = `${feature.name}${usageNote}`;
    if (rated.tier && pricing.model === "graduated") description = `${feature.name} — ${tierLabel(rated.tier)}${usageNote}`;
    if (rated.tier && pricing.model === "volume") description = `${feature.name} — volume ${tierLabel(rated.tier)}${usageNote}`;
    if (pricing.model === "package") {
      description = `${feature.name} — ${rated.units} units in packages of ${pricing.package_size}${usageNote}`;
    }
    return {
      kind: "usage" as const,
      description: rated.flat_amount > 0 ? `${description} + flat ${rated.flat_amount}` : description,
      feature: feature.key,
      quantity: rated.quantity,
      unit_amount: rated.unit_amount,
      amount: rated.amount,
      tier: rated.tier?.index ?? null,
    };
  });
}
