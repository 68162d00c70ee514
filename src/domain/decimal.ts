/**
 * Exact decimals for sub-cent prices and fractional quantities (issue 19).
 *
 * A {@link Decimal} is a `bigint` counting units of 10^-12: `"0.000015"` is `15_000_000n`, `"3"` is
 * `3_000_000_000_000n`. Twelve fractional digits is the precision Stripe documents for
 * `unit_amount_decimal` (in minor units), and it covers event values such as GB-hours and tokens.
 * Arithmetic is exact: sums and differences never round; a product of two decimals has 24 fractional
 * digits and is rounded only where a caller asks for it, with an explicit {@link RoundingMode}
 * (ADR 0004: an invoice line is rounded to the minor unit once, half-up). There are no floats
 * anywhere: JSON numbers are read through their shortest decimal rendering (`String(n)`), which is
 * the literal the client wrote for any number with at most 15–17 significant digits.
 *
 * The type is branded so that a count of 10^-12 cannot be mixed up with a `bigint` of minor units.
 *
 * @module
 */
import { divide, type RoundingMode } from "./money.ts";

/** Fractional digits a {@link Decimal} keeps (Stripe's `unit_amount_decimal` precision). */
export const DECIMAL_PLACES = 12;

/** 10^{@link DECIMAL_PLACES}: the {@link Decimal} of the number 1. */
export const DECIMAL_SCALE: bigint = 10n ** BigInt(DECIMAL_PLACES);

/** The brand that keeps a {@link Decimal} apart from other bigints; never present at run time. */
export declare const decimalBrand: unique symbol;

/** An exact decimal, stored as an integer count of 10^-12 (see the module doc). */
export type Decimal = bigint & { readonly [decimalBrand]: true };

/** Why a text or number is not a {@link Decimal}: `format` (not a plain decimal), `precision` (more than 12 fractional digits), `range` (more than {@link MAX_INTEGER_DIGITS} integer digits). */
export type DecimalErrorReason = "format" | "precision" | "range";

/** Thrown by {@link parseDecimal} for input that is not an exact decimal of at most 12 places. */
export class DecimalError extends RangeError {
  /** Which rule the input broke. */
  readonly reason: DecimalErrorReason;
  /**
   * Makes the error.
   *
   * @param reason the broken rule
   * @param message a sentence for the problem detail
   */
  constructor(reason: DecimalErrorReason, message: string) {
    super(message);
    this.name = "DecimalError";
    this.reason = reason;
  }
}

/**
 * Integer digits a parsed decimal may have: 10^20 units is far beyond any count of tokens or bytes a
 * period holds, and bounds the size of what callers multiply.
 */
export const MAX_INTEGER_DIGITS = 20;

const PLAIN = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Reads a decimal string (`"0.000015"`, `"12"`, `"-1.5"`, `"1e-7"`) or a finite JSON number.
 *
 * Trailing zeros beyond the 12th place are accepted (`"0.1000000000000"`); a non-zero 13th digit is
 * not rounded away but refused, because a price the client wrote must be the price billed.
 *
 * @throws {DecimalError} `format` for anything else (empty, `NaN`, `Infinity`, `"1,5"`, `" 1"`),
 *   `precision` for more than 12 significant fractional digits, `range` for more than 20 integer digits
 */
export function parseDecimal(input: string | number): Decimal {
  if (typeof input === "number" && !Number.isFinite(input)) {
    throw new DecimalError("format", "must be a finite number");
  }
  // A safe integer is itself scaled: the same value the text path gives, without a regex and a
  // BigInt parse of a string (limits and `consume: 1` on every check, issue 14).
  if (typeof input === "number" && Number.isSafeInteger(input)) {
    return (BigInt(input) * DECIMAL_SCALE) as Decimal;
  }
  const text = typeof input === "number" ? String(input) : input;
  const m = PLAIN.exec(text);
  if (m === null || (m[2] === "" && (m[3] ?? "") === "")) {
    throw new DecimalError("format", 'must be a decimal number such as 12, 0.5 or "0.000015"');
  }
  const sign = m[1] === "-" ? -1n : 1n;
  let digits = m[2] + (m[3] ?? "");
  let point = m[2].length; // digits before the decimal point
  if (m[4] !== undefined) {
    const exp = Number(m[4]);
    if (!Number.isSafeInteger(exp) || Math.abs(exp) > 64) {
      throw new DecimalError("range", "exponent out of range");
    }
    point += exp;
  }
  if (point < 0) {
    digits = "0".repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits = digits + "0".repeat(point - digits.length);
  const whole = digits.slice(0, point).replace(/^0+/, "");
  const fraction = digits.slice(point).replace(/0+$/, "");
  if (fraction.length > DECIMAL_PLACES) {
    throw new DecimalError("precision", `must have at most ${DECIMAL_PLACES} decimal places`);
  }
  if (whole.length > MAX_INTEGER_DIGITS) {
    throw new DecimalError("range", `must have at most ${MAX_INTEGER_DIGITS} integer digits`);
  }
  const scaled = BigInt((whole || "0") + fraction.padEnd(DECIMAL_PLACES, "0"));
  return (sign * scaled) as Decimal;
}

/** Like {@link parseDecimal}, but `undefined` instead of throwing. */
export function tryParseDecimal(input: string | number): Decimal | undefined {
  try {
    return parseDecimal(input);
  } catch (e) {
    if (e instanceof DecimalError) return undefined;
    throw e;
  }
}

/**
 * The decimal of a whole number.
 *
 * @throws {RangeError} when `n` is a fractional or unsafe `number` (a caller bug)
 */
export function decimalFromInteger(n: number | bigint): Decimal {
  if (typeof n === "number" && !Number.isSafeInteger(n)) {
    throw new RangeError(`decimalFromInteger(): ${n} is not a safe integer`);
  }
  return (BigInt(n) * DECIMAL_SCALE) as Decimal;
}

/** Reinterprets a raw count of 10^-12 (e.g. read back from storage) as a {@link Decimal}. */
export function decimalFromScaled(scaled: bigint): Decimal {
  return scaled as Decimal;
}

/**
 * Canonical text: no exponent, no trailing zeros, no `+`, `"0"` for zero (`1500000000000n` → `"1.5"`).
 * `parseDecimal(formatDecimal(d)) === d` for every `d`.
 */
export function formatDecimal(d: Decimal): string {
  const negative = d < 0n;
  const digits = (negative ? -d : d).toString().padStart(DECIMAL_PLACES + 1, "0");
  const whole = digits.slice(0, -DECIMAL_PLACES);
  const fraction = digits.slice(-DECIMAL_PLACES).replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? "." + fraction : ""}`;
}

/** True when `d` has no fractional part. */
export function isWholeDecimal(d: Decimal): boolean {
  return d % DECIMAL_SCALE === 0n;
}

/** The safe integer bounds as bigints (built once: every answer renders several quantities). */
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE_BIG = BigInt(Number.MIN_SAFE_INTEGER);

/**
 * `d` as a JavaScript number when it is whole and safe, else `undefined`; lets responses keep
 * integer quantities as JSON numbers (integer behaviour unchanged) and render the rest as strings.
 */
export function decimalToSafeInteger(d: Decimal): number | undefined {
  if (!isWholeDecimal(d)) return undefined;
  const n = d / DECIMAL_SCALE;
  return n <= MAX_SAFE_BIG && n >= MIN_SAFE_BIG ? Number(n) : undefined;
}

/** `d` for JSON: a number when whole and safe, otherwise its canonical string (see {@link formatDecimal}). */
export function decimalToJson(d: Decimal): number | string {
  return decimalToSafeInteger(d) ?? formatDecimal(d);
}

/** a + b, exact. */
export function addDecimal(a: Decimal, b: Decimal): Decimal {
  return (a + b) as Decimal;
}

/** a − b, exact. */
export function subtractDecimal(a: Decimal, b: Decimal): Decimal {
  return (a - b) as Decimal;
}

/** Σ values, exact (0 for none). */
export function sumDecimals(values: Iterable<Decimal>): Decimal {
  let total = 0n;
  for (const v of values) total += v;
  return total as Decimal;
}

/** −1, 0 or 1 as a is below, equal to or above b. */
export function compareDecimal(a: Decimal, b: Decimal): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The larger of a and b. */
export function maxDecimal(a: Decimal, b: Decimal): Decimal {
  return a >= b ? a : b;
}

/** The smaller of a and b. */
export function minDecimal(a: Decimal, b: Decimal): Decimal {
  return a <= b ? a : b;
}

/**
 * a × b rounded to 12 places with `mode` (the exact product has 24). Used for derived quantities
 * such as `units × credit_cost`; money lines use {@link multiplyToInteger} instead.
 */
export function multiplyDecimal(a: Decimal, b: Decimal, mode: RoundingMode): Decimal {
  return divide(a * b, DECIMAL_SCALE, mode) as Decimal;
}

/**
 * a × b rounded once to a whole number with `mode`: an invoice line's amount in minor units from a
 * quantity and a decimal unit price (ADR 0004: half-up, once per line). Example: 3 456 789 tokens ×
 * 0.000015 minor units = 51.851835 → 52.
 */
export function multiplyToInteger(a: Decimal, b: Decimal, mode: RoundingMode): bigint {
  return divide(a * b, DECIMAL_SCALE * DECIMAL_SCALE, mode);
}

/**
 * `d` rounded to a whole number with `mode` (e.g. `ceil` for whole packages).
 */
export function roundDecimalToInteger(d: Decimal, mode: RoundingMode): bigint {
  return divide(d, DECIMAL_SCALE, mode);
}

/**
 * a ÷ b rounded to 12 places with `mode`.
 *
 * @throws {RangeError} when `b` ≤ 0 (a caller bug: divisors are package sizes and similar positives)
 */
export function divideDecimal(a: Decimal, b: Decimal, mode: RoundingMode): Decimal {
  return divide(a * DECIMAL_SCALE, b, mode) as Decimal;
}
