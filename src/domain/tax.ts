/**
 * Tax (pure rules).
 *
 * - A tax rate is `percentage_bp` basis points (20 % VAT = 2000, 8.875 % = 887.5 → not
 *   representable, so rates are limited to 0.01 % steps: 8.88 % = 888) and is `inclusive` (the
 *   line amounts already contain the tax, as EU consumer prices) or exclusive (tax is added).
 * - Taxable amount of a line = its amount − its share of the discount (a coupon comes off the
 *   subtotal, as Stripe's `amount_off` "taken off the subtotal", so it reduces the tax base).
 * - **Rounding is per line**, half away from zero, as Zuora documents its default tax rounding
 *   (each line's tax rounded to the currency's minor unit, then summed for the invoice):
 *   exclusive `tax = round_half_up(net × bp / 10 000)`; inclusive
 *   `tax = net − round_half_up(net × 10 000 / (10 000 + bp))` (Zuora's default "round the net
 *   amount" rule for inclusive tax). The invoice tax is the sum of the line taxes. Rounding per invoice would give a different total when several lines have
 *   half-cent taxes (3 lines of 5 cents at 10 %: per line 1 + 1 + 1 = 3, per invoice
 *   round(1.5) = 2); this module deliberately does per line and the test pins it.
 * - Negative lines (proration credits) get negative tax by the same formula, so a credit gives back
 *   the tax that the charge it offsets carried.
 * - **Several rates** (a state and a city rate, VAT and a levy): a customer or a subscription
 *   carries up to {@link MAX_TAX_RATES} exclusive rates; each applies to the same discounted line
 *   amount (no tax on tax, as Stripe applies several `tax_rates`) and is rounded per line **and
 *   rate**, half up: 19 % + 2.5 % on 10 000 → 1 900 + 250 = 2 150. An inclusive rate must be the
 *   only rate (carving two inclusive rates out of one price has no single agreed rounding; refused
 *   with `tax_rates_incompatible` rather than guessed), and a rate may appear once.
 *
 * @module
 */
import { BillingError, type FieldIssue, invalid } from "./errors.ts";
import { assertAmount, divide, sum } from "./money.ts";

/** A tax rate as the rules need it. */
export interface TaxRate {
  /** TypeID `txr_…`. */
  id: string;
  /** Name printed on invoices (`VAT`). */
  display_name: string;
  /** Basis points, 0…10 000 (0.01 % steps). */
  percentage_bp: number;
  /** Whether line amounts already contain the tax. */
  inclusive: boolean;
}

/**
 * Converts a percentage with at most two decimals into basis points exactly.
 *
 * @throws {BillingError} `validation_failed` for more decimals or outside 0…100
 */
export function percentageToBasisPoints(percentage: number, path = "percentage"): number {
  const scaled = Math.round(percentage * 100);
  const issues: FieldIssue[] = [];
  if (Math.abs(scaled - percentage * 100) > 1e-6 || scaled < 0 || scaled > 10_000) {
    issues.push({ path, message: "Must be between 0 and 100 with at most 2 decimals" });
  }
  if (issues.length > 0) throw invalid(issues, "The tax rate breaks one or more rules");
  return scaled;
}

/**
 * Tax of one line (see module rule).
 *
 * @param net line amount net of discount, minor units (may be negative for credits)
 * @returns minor units, same sign as `net`
 */
export function lineTax(rate: Pick<TaxRate, "percentage_bp" | "inclusive">, net: number): number {
  const n = BigInt(net);
  const bp = BigInt(rate.percentage_bp);
  if (rate.inclusive) {
    const exclusive = divide(n * 10_000n, 10_000n + bp, "half_up");
    return assertAmount(n - exclusive, "tax");
  }
  return assertAmount(divide(n * bp, 10_000n, "half_up"), "tax");
}

/** Outcome of {@link taxLines}. */
export interface TaxResult {
  /** Tax per line, minor units. */
  lines: number[];
  /** Sum of line taxes. */
  tax: number;
  /** Sum of taxable (net) amounts. */
  taxable: number;
}

/** Per-line tax of net line amounts (null rate → all zero). */
export function taxLines(
  rate: Pick<TaxRate, "percentage_bp" | "inclusive"> | null,
  nets: readonly number[],
): TaxResult {
  const lines = nets.map((net) => (rate ? lineTax(rate, net) : 0));
  return { lines, tax: sum(lines, "tax"), taxable: sum(nets, "taxable amount") };
}

/** Most tax rates one customer or subscription carries. */
export const MAX_TAX_RATES = 5;

/**
 * Checks a list of tax rates for a customer or subscription (see module rule): at most
 * {@link MAX_TAX_RATES}, each once, and an inclusive rate only alone.
 *
 * @param path field path of the list in the request (`tax_rate_ids`)
 * @throws {BillingError} `validation_failed` (too many, duplicates); `tax_rates_incompatible`
 *   (422) for an inclusive rate beside others
 */
export function checkTaxRates(
  rates: readonly Pick<TaxRate, "id" | "inclusive">[],
  path = "tax_rate_ids",
): void {
  const issues: FieldIssue[] = [];
  if (rates.length > MAX_TAX_RATES) issues.push({ path, message: `At most ${MAX_TAX_RATES} tax rates` });
  const ids = rates.map((r) => r.id);
  ids.forEach((id, i) => {
    if (ids.indexOf(id) !== i) {
      issues.push({ path: `${path}.${i}`, message: `Tax rate "${id}" is listed twice` });
    }
  });
  if (issues.length > 0) throw invalid(issues, "The tax rates break one or more rules");
  if (rates.length > 1 && rates.some((r) => r.inclusive)) {
    throw new BillingError(
      "tax_rates_incompatible",
      "unprocessable",
      "An inclusive tax rate must be the only rate; several rates must all be exclusive",
    );
  }
}
