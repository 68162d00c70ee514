/**
 * Rating: turning a billable quantity into priced invoice lines.
 *
 * Standard definitions (as Stripe's and Lago's documented tier modes):
 * - `per_unit`: quantity × unit_amount.
 * - `package`: quantity rounded **up** to whole packages of `package_size`, × unit_amount (price
 *   per package). 1 001 units in packages of 1 000 = 2 packages; 0.5 units = 1 package.
 * - `graduated`: each unit is priced by the tier it falls in; a tier's `flat_amount` is added once
 *   when some quantity falls in that tier. One line per tier touched.
 * - `volume`: all units are priced at the tier the **total** reaches, plus that tier's
 *   `flat_amount`. One line.
 * Zero quantity rates to one zero line in every model: no usage, no charge, not even a flat fee.
 * Tier bounds are inclusive upper bounds (`up_to: 1000` covers units 1…1000, i.e. the quantity in
 * (0, 1000]); the last tier has `up_to: null` (no upper bound). Bounds may be decimals (`"0.5"`),
 * since quantities may be fractional (a tier then covers (previous bound, up_to]).
 *
 * Prices are exact {@link Decimal}s of the currency's minor unit (Stripe's `unit_amount_decimal`:
 * at most 12 decimal places), quantities are {@link Decimal}s. A line's amount is the exact
 * `quantity × unit_amount + flat_amount`, rounded **once**, half-up, to a whole minor unit
 * (ADR 0004): 3 456 789 tokens × 0.000015 = 51.851835 → 52. With whole prices and quantities the
 * product is already whole, so integer plans rate exactly as before. The only other division is
 * the package ceiling, which rounds up by definition.
 *
 * Two shapes of a price exist: the **spec** (what the API takes and the plan row stores, JSON:
 * integers as `unit_amount` / `flat_amount`, other values as canonical decimal strings in
 * `unit_amount_decimal` / `flat_amount_decimal`, exactly one of each pair) and {@link Pricing}
 * (the Decimals rating works with, from {@link toPricing}).
 *
 * @module
 */
import type { FieldIssue } from "./errors.ts";
import { assertAmount, divide } from "./money.ts";
import {
  type Decimal,
  DECIMAL_SCALE,
  decimalFromInteger,
  decimalToSafeInteger,
  formatDecimal,
  isWholeDecimal,
  parseDecimal,
  tryParseDecimal,
} from "./decimal.ts";

/** One price tier, in Decimals. `up_to` is the inclusive upper bound in units, `null` for "and above". */
export interface Tier {
  /** Inclusive upper bound of the tier in units; `null` only on the last tier ("and above"). */
  up_to: Decimal | null;
  /** Price per unit in minor units (≥ 0), exact. */
  unit_amount: Decimal;
  /** Fixed amount in minor units added once when the tier applies (≥ 0), exact. */
  flat_amount: Decimal;
}

/** How a feature's billable quantity is priced, in exact Decimals (from {@link toPricing}). */
export type Pricing =
  | { model: "per_unit"; unit_amount: Decimal }
  | { model: "package"; unit_amount: Decimal; package_size: number }
  | { model: "graduated"; tiers: Tier[] }
  | { model: "volume"; tiers: Tier[] };

/** The range of a tier a line falls in: quantities above `after` up to and including `up_to`. */
export interface TierRange {
  /** 1-based index of the tier. */
  index: number;
  /** Exclusive lower bound: the previous tier's `up_to` (0 for the first tier). */
  after: Decimal;
  /** Inclusive upper bound; `null` for the open last tier. */
  up_to: Decimal | null;
}

/** A priced slice of a quantity, the raw material of an invoice line. */
export interface RatedLine {
  /** Units (for `package`: whole packages) priced by this line. */
  quantity: Decimal;
  /** Price per unit (per package) in minor units, exact. */
  unit_amount: Decimal;
  /** Flat amount included in `amount` (0 when none), exact. */
  flat_amount: Decimal;
  /** quantity × unit_amount + flat_amount, rounded once half-up to whole minor units. */
  amount: number;
  /** Tier touched (graduated / volume) with its range. */
  tier?: TierRange;
  /** For `package`: units before rounding up to packages. */
  units?: Decimal;
}

/**
 * The amount of one line: `quantity × unit_amount + flat_amount`, computed exactly and rounded
 * once, half-up, to whole minor units (ADR 0004).
 *
 * @throws {BillingError} `amount_out_of_range` when the result exceeds 2^53 − 1
 */
export function lineAmount(quantity: Decimal, unitAmount: Decimal, flatAmount: Decimal): number {
  // q × u carries 24 fractional digits; the flat amount (12) is scaled up to match
  const exact = quantity * unitAmount + flatAmount * DECIMAL_SCALE;
  return assertAmount(divide(exact, DECIMAL_SCALE * DECIMAL_SCALE, "half_up"), "line amount");
}

const ZERO = 0n as Decimal;

/**
 * Rates `quantity` billable units with `pricing`.
 *
 * @param quantity non-negative {@link Decimal} of units (already net of any included allowance)
 * @returns one or more lines whose amounts sum to the charge
 * @throws {BillingError} `amount_out_of_range` when a line exceeds 2^53 − 1 minor units
 * @throws {RangeError} when `quantity` is negative (a caller bug)
 */
export function rate(pricing: Pricing, quantity: Decimal): RatedLine[] {
  if (typeof quantity !== "bigint" || quantity < 0n) {
    throw new RangeError(`rate(): quantity must be a non-negative Decimal, got ${quantity}`);
  }
  switch (pricing.model) {
    case "per_unit":
      return [{
        quantity,
        unit_amount: pricing.unit_amount,
        flat_amount: ZERO,
        amount: lineAmount(quantity, pricing.unit_amount, ZERO),
      }];
    case "package": {
      const packages = decimalFromInteger(
        divide(quantity, BigInt(pricing.package_size) * DECIMAL_SCALE, "ceil"),
      );
      return [{
        quantity: packages,
        unit_amount: pricing.unit_amount,
        flat_amount: ZERO,
        amount: lineAmount(packages, pricing.unit_amount, ZERO),
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
export function rateTotal(pricing: Pricing, quantity: Decimal): number {
  return assertAmount(rate(pricing, quantity).reduce((acc, l) => acc + BigInt(l.amount), 0n), "charge");
}

function rateGraduated(tiers: Tier[], quantity: Decimal): RatedLine[] {
  if (quantity === 0n) {
    const first = tiers[0];
    return [{
      quantity: ZERO,
      unit_amount: first.unit_amount,
      flat_amount: ZERO,
      amount: 0,
      tier: { index: 1, after: ZERO, up_to: first.up_to },
    }];
  }
  const lines: RatedLine[] = [];
  let previousBound = ZERO;
  for (const [i, tier] of tiers.entries()) {
    if (quantity <= previousBound) break;
    const upper = tier.up_to === null || quantity < tier.up_to ? quantity : tier.up_to;
    const units = (upper - previousBound) as Decimal;
    lines.push({
      quantity: units,
      unit_amount: tier.unit_amount,
      flat_amount: tier.flat_amount,
      amount: lineAmount(units, tier.unit_amount, tier.flat_amount),
      tier: { index: i + 1, after: previousBound, up_to: tier.up_to },
    });
    if (tier.up_to === null) break;
    previousBound = tier.up_to;
  }
  return lines;
}

function rateVolume(tiers: Tier[], quantity: Decimal): RatedLine {
  const index = tiers.findIndex((t) => t.up_to === null || quantity <= t.up_to);
  const tier = tiers[index];
  const after = index === 0 ? ZERO : tiers[index - 1].up_to as Decimal;
  if (quantity === 0n) {
    return {
      quantity: ZERO,
      unit_amount: tier.unit_amount,
      flat_amount: ZERO,
      amount: 0,
      tier: { index: 1, after: ZERO, up_to: tier.up_to },
    };
  }
  return {
    quantity,
    unit_amount: tier.unit_amount,
    flat_amount: tier.flat_amount,
    amount: lineAmount(quantity, tier.unit_amount, tier.flat_amount),
    tier: { index: index + 1, after, up_to: tier.up_to },
  };
}

/** A tier as the API takes it and the plan row stores it (see the module doc for the pairs). */
export interface TierSpec {
  /** Inclusive upper bound in units: a positive integer, a decimal string, or `null` on the last tier. */
  up_to: number | string | null;
  /** Price per unit in whole minor units (≥ 0); exclusive with `unit_amount_decimal`. */
  unit_amount?: number;
  /** Price per unit as a decimal string of minor units, ≤ 12 places; exclusive with `unit_amount`. */
  unit_amount_decimal?: string;
  /** Fixed amount in whole minor units (≥ 0, default 0); exclusive with `flat_amount_decimal`. */
  flat_amount?: number;
  /** Fixed amount as a decimal string of minor units, ≤ 12 places; exclusive with `flat_amount`. */
  flat_amount_decimal?: string;
}

/** Pricing as the API takes it and the plan row stores it (checked by {@link pricingViolations}). */
export interface PricingInput {
  /** `per_unit`, `package`, `graduated` or `volume`; decides which other fields are required. */
  model: Pricing["model"];
  /** Price per unit (`per_unit`) or per started package (`package`), whole minor units ≥ 0. */
  unit_amount?: number;
  /** The same price as a decimal string of minor units (≤ 12 places); exactly one of the pair. */
  unit_amount_decimal?: string;
  /** Units per package (`package` only), integer ≥ 1. */
  package_size?: number;
  /** Tiers in increasing `up_to` order, the last open-ended (`graduated` and `volume` only). */
  tiers?: TierSpec[];
}

/** The stored (canonical) form of a pricing: a {@link PricingInput} normalised by {@link canonicalPricing}. */
export type PricingSpec = PricingInput;

/**
 * Checks one `amount` / `amount_decimal` pair. `required`: neither given is an issue at `field`.
 * Both given is an issue at `<field>_decimal`. The decimal must parse (≤ 12 places) and be ≥ 0.
 */
function pairViolations(
  integer: number | undefined,
  decimal: string | undefined,
  field: string,
  required: string | null,
  at: (field: string) => string,
): FieldIssue[] {
  if (integer !== undefined && decimal !== undefined) {
    return [{ path: at(`${field}_decimal`), message: `Give ${field} or ${field}_decimal, not both` }];
  }
  if (integer === undefined && decimal === undefined) {
    return required === null ? [] : [{ path: at(field), message: required }];
  }
  if (decimal !== undefined) {
    const d = tryParseDecimal(decimal);
    if (d === undefined || typeof decimal !== "string") {
      return [{
        path: at(`${field}_decimal`),
        message: `Must be a decimal string of minor units with at most 12 decimal places, got "${decimal}"`,
      }];
    }
    if (d < 0n) return [{ path: at(`${field}_decimal`), message: "Must not be negative" }];
  }
  return [];
}

/** A tier bound as a Decimal (`undefined` when it does not parse). */
function boundOf(upTo: number | string): Decimal | undefined {
  if (typeof upTo === "number") return Number.isSafeInteger(upTo) ? decimalFromInteger(upTo) : undefined;
  return tryParseDecimal(upTo);
}

/**
 * Rule check of a pricing definition beyond its JSON shape. Returns every violation with its path.
 * - `per_unit` needs exactly one of `unit_amount` / `unit_amount_decimal`; `package` too, and
 *   `package_size` ≥ 1;
 * - tiered models need ≥ 1 tier, each with exactly one of `unit_amount` / `unit_amount_decimal`
 *   and at most one of `flat_amount` / `flat_amount_decimal`, strictly increasing positive
 *   `up_to` (integers or decimal strings), and exactly the last tier open-ended (`up_to: null`),
 *   so every quantity has a price.
 */
export function pricingViolations(pricing: PricingInput, path: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const at = (field: string) => (path ? `${path}.${field}` : field);
  if (pricing.model === "per_unit" || pricing.model === "package") {
    issues.push(
      ...pairViolations(
        pricing.unit_amount,
        pricing.unit_amount_decimal,
        "unit_amount",
        `Required for model "${pricing.model}" (or unit_amount_decimal)`,
        at,
      ),
    );
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
  let previous = ZERO;
  for (const [i, tier] of tiers.entries()) {
    const tierAt = (field: string) => at(`tiers.${i}.${field}`);
    issues.push(
      ...pairViolations(
        tier.unit_amount,
        tier.unit_amount_decimal,
        "unit_amount",
        "Required (or unit_amount_decimal)",
        tierAt,
      ),
      ...pairViolations(tier.flat_amount, tier.flat_amount_decimal, "flat_amount", null, tierAt),
    );
    const last = i === tiers.length - 1;
    if (tier.up_to === null) {
      if (!last) {
        issues.push({ path: tierAt("up_to"), message: "Only the last tier may be open-ended (null)" });
      }
      continue;
    }
    if (last) issues.push({ path: tierAt("up_to"), message: "The last tier must be open-ended (null)" });
    const bound = boundOf(tier.up_to);
    if (bound === undefined) {
      issues.push({
        path: tierAt("up_to"),
        message: `Must be a positive integer or a decimal string with at most 12 places, got ${
          JSON.stringify(tier.up_to)
        }`,
      });
      continue;
    }
    if (bound <= previous) {
      issues.push({
        path: tierAt("up_to"),
        message: `Must be greater than the previous bound ${formatDecimal(previous)}`,
      });
    }
    previous = bound;
  }
  return issues;
}

/** `d` in the stored form of a pair: a safe whole number as the integer field, else a decimal string. */
function pairOf(d: Decimal): { integer?: number; decimal?: string } {
  const n = decimalToSafeInteger(d);
  return n !== undefined ? { integer: n } : { decimal: formatDecimal(d) };
}

function amountDecimal(integer: number | undefined, decimal: string | undefined): Decimal {
  return decimal !== undefined ? parseDecimal(decimal) : decimalFromInteger(integer ?? 0);
}

/**
 * The stored form of a checked {@link PricingInput}: whole values (also when sent as decimal
 * strings, `"2.0"`) become the integer field, other values the canonical decimal string
 * (`"0.000015"`, no trailing zeros), so a plan defined either way compares equal and integer-only
 * plans are stored exactly as before. Tiers always carry `flat_amount` (0 when none was given).
 * Call only after {@link pricingViolations} returned no issue.
 */
export function canonicalPricing(input: PricingInput): PricingSpec {
  const unit = (integer: number | undefined, decimal: string | undefined) => {
    const p = pairOf(amountDecimal(integer, decimal));
    return p.integer !== undefined ? { unit_amount: p.integer } : { unit_amount_decimal: p.decimal };
  };
  switch (input.model) {
    case "per_unit":
      return { model: "per_unit", ...unit(input.unit_amount, input.unit_amount_decimal) };
    case "package":
      return {
        model: "package",
        ...unit(input.unit_amount, input.unit_amount_decimal),
        package_size: input.package_size ?? 1,
      };
    case "graduated":
    case "volume":
      return {
        model: input.model,
        tiers: (input.tiers ?? []).map((t): TierSpec => {
          const flat = pairOf(amountDecimal(t.flat_amount, t.flat_amount_decimal));
          const bound = t.up_to === null ? null : pairOf(boundOf(t.up_to)!);
          return {
            up_to: bound === null ? null : bound.integer ?? bound.decimal!,
            ...unit(t.unit_amount, t.unit_amount_decimal),
            ...(flat.integer !== undefined
              ? { flat_amount: flat.integer }
              : { flat_amount_decimal: flat.decimal }),
          };
        }),
      };
  }
}

/**
 * The exact {@link Pricing} of a checked spec (stored or as sent).
 *
 * @throws {DecimalError} on a decimal that does not parse (never for a spec that passed
 *   {@link pricingViolations})
 */
export function toPricing(spec: PricingInput): Pricing {
  switch (spec.model) {
    case "per_unit":
      return { model: "per_unit", unit_amount: amountDecimal(spec.unit_amount, spec.unit_amount_decimal) };
    case "package":
      return {
        model: "package",
        unit_amount: amountDecimal(spec.unit_amount, spec.unit_amount_decimal),
        package_size: spec.package_size ?? 1,
      };
    case "graduated":
    case "volume":
      return {
        model: spec.model,
        tiers: (spec.tiers ?? []).map((t) => ({
          up_to: t.up_to === null ? null : boundOf(t.up_to)!,
          unit_amount: amountDecimal(t.unit_amount, t.unit_amount_decimal),
          flat_amount: amountDecimal(t.flat_amount, t.flat_amount_decimal),
        })),
      };
  }
}

/**
 * Human label of a tier. With whole bounds, as before fractional tiers existed: `Tier 2 (1001–5000)`,
 * `Tier 3 (5001 and above)` (the tier's first unit is the previous bound + 1). With a fractional
 * bound on either side the range is shown as it is, (after, up_to]: `Tier 1 (up to 10.5)`,
 * `Tier 2 (over 10.5 to 100.25)`, `Tier 3 (over 100.25)`.
 */
export function tierLabel(tier: TierRange): string {
  const to = tier.up_to === null ? null : formatDecimal(tier.up_to);
  if (isWholeDecimal(tier.after) && (tier.up_to === null || isWholeDecimal(tier.up_to))) {
    const from = formatDecimal((tier.after + DECIMAL_SCALE) as Decimal);
    return to === null ? `Tier ${tier.index} (${from} and above)` : `Tier ${tier.index} (${from}–${to})`;
  }
  if (tier.after === 0n) return `Tier ${tier.index} (up to ${to})`;
  const after = formatDecimal(tier.after);
  return to === null ? `Tier ${tier.index} (over ${after})` : `Tier ${tier.index} (over ${after} to ${to})`;
}

/** A tier as responses show it: both fields of each pair (see {@link pricingView}). */
export interface TierView {
  /** Inclusive upper bound: a number when whole, else a decimal string; `null` on the last tier. */
  up_to: number | string | null;
  /** Price per unit in whole minor units; `null` when the price has a fraction. */
  unit_amount: number | null;
  /** The exact price per unit as a decimal string of minor units. */
  unit_amount_decimal: string;
  /** Flat amount in whole minor units; `null` when it has a fraction. */
  flat_amount: number | null;
  /** The exact flat amount as a decimal string of minor units. */
  flat_amount_decimal: string;
}

/** A pricing as responses show it: both fields of each pair, as Stripe echoes a price. */
export interface PricingView {
  /** `per_unit`, `package`, `graduated` or `volume`. */
  model: Pricing["model"];
  /** Price per unit / package in whole minor units; `null` when fractional (only the decimal is set). */
  unit_amount?: number | null;
  /** The exact price per unit / package as a decimal string of minor units. */
  unit_amount_decimal?: string;
  /** Units per package (`package` only). */
  package_size?: number;
  /** Tiers (`graduated` and `volume` only). */
  tiers?: TierView[];
}

/**
 * The response form of a stored pricing: like Stripe's prices, both fields of each pair are
 * shown — the integer (or `null` when the amount has a fraction) and the exact decimal string.
 */
export function pricingView(spec: PricingSpec): PricingView {
  const pricing = toPricing(spec);
  const pair = (d: Decimal) => ({ integer: decimalToSafeInteger(d) ?? null, decimal: formatDecimal(d) });
  switch (pricing.model) {
    case "per_unit":
    case "package": {
      const unit = pair(pricing.unit_amount);
      return {
        model: pricing.model,
        unit_amount: unit.integer,
        unit_amount_decimal: unit.decimal,
        ...(pricing.model === "package" ? { package_size: pricing.package_size } : {}),
      };
    }
    case "graduated":
    case "volume":
      return {
        model: pricing.model,
        tiers: pricing.tiers.map((t) => {
          const unit = pair(t.unit_amount);
          const flat = pair(t.flat_amount);
          return {
            up_to: t.up_to === null ? null : decimalToSafeInteger(t.up_to) ?? formatDecimal(t.up_to),
            unit_amount: unit.integer,
            unit_amount_decimal: unit.decimal,
            flat_amount: flat.integer,
            flat_amount_decimal: flat.decimal,
          };
        }),
      };
  }
}
