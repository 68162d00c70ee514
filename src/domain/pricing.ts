/**
 * Rating: turning a billable quantity into priced invoice lines.
 *
 * Standard definitions (as Stripe's and Lago's documented tier modes):
 * - `per_unit`: quantity × unit_amount.
 * - `package`: quantity rounded **up** to whole packages of `package_size`, × unit_amount (price
 *   per package). 1 001 units in packages of 1 000 = 2 packages.
 * - `graduated`: each unit is priced by the tier it falls in; a tier's `flat_amount` is added once
 *   when at least one unit falls in that tier. One line per tier touched.
 * - `volume`: all units are priced at the tier the **total** reaches, plus that tier's
 *   `flat_amount`. One line.
 * Zero quantity rates to one zero line in every model: no usage, no charge, not even a flat fee.
 * Tier bounds are inclusive upper bounds (`up_to: 1000` covers units 1…1000); the last tier has
 * `up_to: null` (no upper bound). All amounts are integer minor units; no division except the
 * package ceiling, which rounds up by definition.
 *
 * @module
 */
import { type FieldIssue } from "./errors.ts";
import { divide, multiply, sum } from "./money.ts";

/** One price tier. `up_to` is the inclusive upper bound in units, `null` for "and above". */
export interface Tier {
  /** Inclusive upper bound of the tier in units; `null` only on the last tier ("and above"). */
  up_to: number | null;
  /** Price per unit in minor units (≥ 0). */
  unit_amount: number;
  /** Fixed amount in minor units charged once when the tier applies (≥ 0). */
  flat_amount: number;
}

/** How a feature's billable quantity is priced. */
export type Pricing =
  | { model: "per_unit"; unit_amount: number }
  | { model: "package"; unit_amount: number; package_size: number }
  | { model: "graduated"; tiers: Tier[] }
  | { model: "volume"; tiers: Tier[] };

/** A priced slice of a quantity, the raw material of an invoice line. */
export interface RatedLine {
  /** Units (for `package`: whole packages) priced by this line. */
  quantity: number;
  /** Price per unit (per package) in minor units. */
  unit_amount: number;
  /** Flat amount included in `amount` (0 when none). */
  flat_amount: number;
  /** quantity × unit_amount + flat_amount, minor units. */
  amount: number;
  /** Tier touched (graduated / volume), 1-based, with its unit range. */
  tier?: { index: number; from: number; up_to: number | null };
  /** For `package`: units before rounding up to packages. */
  units?: number;
}

/**
 * Rates `quantity` billable units with `pricing`.
 *
 * @param quantity non-negative safe integer of units (already net of any included allowance)
 * @returns one or more lines whose amounts sum to the charge
 * @throws {BillingError} `amount_out_of_range` when a product overflows 2^53 − 1
 * @throws {RangeError} when `quantity` is negative or fractional (a caller bug)
 */
export function rate(pricing: Pricing, quantity: number): RatedLine[] {
  if (!Number.isSafeInteger(quantity) || quantity < 0) {
    throw new RangeError(`rate(): quantity must be a non-negative integer, got ${quantity}`);
  }
  switch (pricing.model) {
    case "per_unit":
      return [{
        quantity,
        unit_amount: pricing.unit_amount,
        flat_amount: 0,
        amount: multiply(quantity, pricing.unit_amount),
      }];
    case "package": {
      const packages = Number(divide(BigInt(quantity), BigInt(pricing.package_size), "ceil"));
      return [{
        quantity: packages,
        unit_amount: pricing.unit_amount,
        flat_amount: 0,
        amount: multiply(packages, pricing.unit_amount),
        units: quantity,
      }];
    }
    case "graduated":
      return rateGraduated(pricing.tiers, quantity);
    case "volume":
      return [rateVolume(pricing.tiers, quantity)];
  }
}

/** Total charge of {@link rate}'s lines, minor units. */
export function rateTotal(pricing: Pricing, quantity: number): number {
  return sum(rate(pricing, quantity).map((l) => l.amount));
}

function rateGraduated(tiers: Tier[], quantity: number): RatedLine[] {
  if (quantity === 0) {
    const first = tiers[0];
    return [{
      quantity: 0,
      unit_amount: first.unit_amount,
      flat_amount: 0,
      amount: 0,
      tier: { index: 1, from: 1, up_to: first.up_to },
    }];
  }
  const lines: RatedLine[] = [];
  let previousBound = 0;
  for (const [i, tier] of tiers.entries()) {
    if (quantity <= previousBound) break;
    const upper = tier.up_to === null ? quantity : Math.min(quantity, tier.up_to);
    const units = upper - previousBound;
    lines.push({
      quantity: units,
      unit_amount: tier.unit_amount,
      flat_amount: tier.flat_amount,
      amount: sum([multiply(units, tier.unit_amount), tier.flat_amount]),
      tier: { index: i + 1, from: previousBound + 1, up_to: tier.up_to },
    });
    if (tier.up_to === null) break;
    previousBound = tier.up_to;
  }
  return lines;
}

function rateVolume(tiers: Tier[], quantity: number): RatedLine {
  const index = tiers.findIndex((t) => t.up_to === null || quantity <= t.up_to);
  const tier = tiers[index];
  const from = index === 0 ? 1 : (tiers[index - 1].up_to as number) + 1;
  if (quantity === 0) {
    return {
      quantity: 0,
      unit_amount: tier.unit_amount,
      flat_amount: 0,
      amount: 0,
      tier: { index: 1, from: 1, up_to: tier.up_to },
    };
  }
  return {
    quantity,
    unit_amount: tier.unit_amount,
    flat_amount: tier.flat_amount,
    amount: sum([multiply(quantity, tier.unit_amount), tier.flat_amount]),
    tier: { index: index + 1, from, up_to: tier.up_to },
  };
}

/**
 * Rule check of a pricing definition beyond its JSON shape. Returns every violation with its path.
 * - `per_unit` needs `unit_amount`; `package` needs `unit_amount` and `package_size` ≥ 1;
 * - tiered models need ≥ 1 tier, strictly increasing positive `up_to`, and exactly the last tier
 *   open-ended (`up_to: null`), so every quantity has a price.
 */
export function pricingViolations(pricing: PricingInput, path: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const at = (field: string) => (path ? `${path}.${field}` : field);
  if (pricing.model === "per_unit" || pricing.model === "package") {
    if (pricing.unit_amount === undefined) {
      issues.push({ path: at("unit_amount"), message: `Required for model "${pricing.model}"` });
    }
    if (pricing.model === "package" && (pricing.package_size === undefined || pricing.package_size < 1)) {
      issues.push({
        path: at("package_size"),
        message: 'Required for model "package" and must be at least 1',
      });
    }
    return issues;
  }
  const tiers = pricing.tiers ?? [];
  if (tiers.length === 0) {
    issues.push({ path: at("tiers"), message: `At least one tier is required for model "${pricing.model}"` });
    return issues;
  }
  let previous = 0;
  for (const [i, tier] of tiers.entries()) {
    const last = i === tiers.length - 1;
    if (tier.up_to === null) {
      if (!last) {
        issues.push({ path: at(`tiers.${i}.up_to`), message: "Only the last tier may be open-ended (null)" });
      }
      continue;
    }
    if (last) {
      issues.push({ path: at(`tiers.${i}.up_to`), message: "The last tier must be open-ended (null)" });
    }
    if (tier.up_to <= previous) {
      issues.push({
        path: at(`tiers.${i}.up_to`),
        message: `Must be greater than the previous bound ${previous}`,
      });
    }
    previous = tier.up_to;
  }
  return issues;
}

/** Pricing as a client sends it (optional fields not yet checked against the model). */
export interface PricingInput {
  /** `per_unit`, `package`, `graduated` or `volume`; decides which other fields are required. */
  model: Pricing["model"];
  /** Price per unit (`per_unit`) or per started package (`package`), minor units ≥ 0. */
  unit_amount?: number;
  /** Units per package (`package` only), integer ≥ 1. */
  package_size?: number;
  /** Tiers in increasing `up_to` order, the last open-ended (`graduated` and `volume` only). */
  tiers?: Tier[];
}

/**
 * Narrows a checked {@link PricingInput} into a {@link Pricing}. Call only after
 * {@link pricingViolations} returned no issue.
 */
export function toPricing(input: PricingInput): Pricing {
  switch (input.model) {
    case "per_unit":
      return { model: "per_unit", unit_amount: input.unit_amount ?? 0 };
    case "package":
      return { model: "package", unit_amount: input.unit_amount ?? 0, package_size: input.package_size ?? 1 };
    case "graduated":
    case "volume":
      return { model: input.model, tiers: (input.tiers ?? []).map((t) => ({ ...t })) };
  }
}

/** Human label of a tier, e.g. `Tier 2 (1001–5000)` or `Tier 3 (5001 and above)`. */
export function tierLabel(tier: { index: number; from: number; up_to: number | null }): string {
  return tier.up_to === null
    ? `Tier ${tier.index} (${tier.from} and above)`
    : `Tier ${tier.index} (${tier.from}–${tier.up_to})`;
}
