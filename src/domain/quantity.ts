/**
 * Fractional quantities (issue 19): event values, consumptions, limits and usage that may be
 * decimals, on top of the shared exact {@link Decimal} (`domain/decimal.ts`).
 *
 * - **JSON**: a quantity is sent as a JSON number or a decimal string with at most 12 places; it is
 *   answered with {@link decimalToJson} (a number when whole, the canonical string otherwise), so
 *   every integer request and response is exactly what it was before decimals.
 * - **Storage**: a stored quantity is two 64-bit integers, `whole` (the integer part) and `frac`
 *   (the fraction in 10^-12 units, 0 … 10^12 − 1). Integer events keep `frac = 0`: their sums are one
 *   SQL `sum()` of INTEGER, as before. A single column scaled by 10^12 would overflow SQLite's
 *   64-bit INTEGER at 9.2 million units, far below real token counts.
 * - **Sums in SQL** (`usage/repository.ts`): `sum(whole)`, `sum(frac / 10^6)` and `sum(frac % 10^6)`,
 *   each read back as text and joined with {@link joinScaledParts}: every per-row term of the two
 *   fraction sums is below 10^6, so they cannot overflow before 9.2 × 10^12 events, and the whole sum
 *   overflows where integer sums always did (9.2 × 10^18 units; SQLite then fails the query with
 *   `integer overflow`, it never wraps).
 *
 * Quantities are never negative.
 *
 * @module
 */
import {
  type Decimal,
  DECIMAL_SCALE,
  DecimalError,
  decimalFromScaled,
  decimalToJson,
  parseDecimal,
} from "./decimal.ts";

/** A quantity as JSON carries it: a number, or a decimal string when it has a fraction. */
export type QuantityJson = number | string;

/** Largest whole part of a quantity: what a 64-bit column and a JavaScript number both keep exactly. */
export const MAX_WHOLE_UNITS: bigint = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Reads a client quantity (JSON number or decimal string, at most 12 places, not negative, whole
 * part at most 2^53 − 1).
 *
 * @throws {DecimalError} `format`, `precision` or `range` (the caller turns it into `validation_failed`)
 */
export function parseQuantity(input: QuantityJson): Decimal {
  const d = parseDecimal(input);
  if (d < 0n) throw new DecimalError("range", "must not be negative");
  if (d / DECIMAL_SCALE > MAX_WHOLE_UNITS) {
    throw new DecimalError("range", `must be at most ${Number.MAX_SAFE_INTEGER}`);
  }
  return d;
}

/** Why `input` is not a quantity (`undefined` when it is): the message a validation issue carries. */
export function quantityProblem(input: unknown): string | undefined {
  if (typeof input !== "number" && typeof input !== "string") return "must be a number or a decimal string";
  try {
    parseQuantity(input);
    return undefined;
  } catch (e) {
    if (e instanceof DecimalError) return `Must be a decimal quantity: ${e.message}`;
    throw e;
  }
}

/** The canonical JSON of a client quantity (`0.50` → `"0.5"`, `"3"` → `3`); idempotency hashes use it. */
export function canonicalQuantity(input: QuantityJson): QuantityJson {
  return decimalToJson(parseQuantity(input));
}

/**
 * The two stored integers of a quantity: `whole` units and `frac` (10^-12 units).
 *
 * @throws {RangeError} for a negative quantity or one past {@link MAX_WHOLE_UNITS} (a caller bug:
 *   {@link parseQuantity} refuses both)
 */
export function splitQuantity(d: Decimal): { whole: number; frac: number } {
  if (d < 0n || d / DECIMAL_SCALE > MAX_WHOLE_UNITS) {
    throw new RangeError(`splitQuantity(): ${d} out of range`);
  }
  return { whole: Number(d / DECIMAL_SCALE), frac: Number(d % DECIMAL_SCALE) };
}

/** The quantity of stored `whole` units and `frac` 10^-12 units (inverse of {@link splitQuantity}). */
export function joinQuantity(whole: number | bigint, frac: number | bigint): Decimal {
  return decimalFromScaled(BigInt(whole) * DECIMAL_SCALE + BigInt(frac));
}

/**
 * The exact total of SQL sums of stored quantities: `Σ whole`, `Σ ⌊frac / 10^6⌋` and
 * `Σ (frac mod 10^6)`, each as the text (or number) the database returned.
 */
export function joinScaledParts(
  wholeSum: string | number | bigint | null,
  fracHighSum: string | number | bigint | null,
  fracLowSum: string | number | bigint | null,
): Decimal {
  const big = (v: string | number | bigint | null) => v === null ? 0n : BigInt(v);
  return decimalFromScaled(big(wholeSum) * DECIMAL_SCALE + big(fracHighSum) * 1_000_000n + big(fracLowSum));
}

/** A quantity as a JSON value (see the module doc). */
export function quantityToJson(d: Decimal): QuantityJson {
  return decimalToJson(d);
}
