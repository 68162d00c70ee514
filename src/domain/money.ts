/**
 * Money: integer amounts in a currency's minor unit (ISO 4217 exponent), never floats.
 *
 * Rules (ADR 0001, docs/adr/0001-money-as-integer-minor-units.md):
 * - An amount is a JavaScript safe integer (|n| ≤ 2^53 − 1) of minor units (cents for USD,
 *   yen for JPY, fils for KWD). Anything bigger is refused with `amount_out_of_range`.
 * - Products that may overflow 2^53 are computed in `bigint` and checked on the way back.
 * - Every division names its rounding mode; there is no implicit rounding anywhere.
 *
 * @module
 */
import { BillingError } from "./errors.ts";

/**
 * Minor-unit exponents of the active ISO 4217 currencies (list of 2025; funds codes included,
 * precious metals and testing codes excluded because they have no minor unit).
 * Source: ISO 4217 table A.1, column "Minor unit".
 */
const EXPONENTS: Readonly<Record<string, number>> = (() => {
  const table: Record<string, number> = {};
  const zero = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
  const three = "BHD IQD JOD KWD LYD OMR TND";
  const four = "CLF UYW";
  const two = "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN " +
    "BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL " +
    "GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD " +
    "LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN " +
    "PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB " +
    "TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG";
  for (const [codes, exponent] of [[zero, 0], [two, 2], [three, 3], [four, 4]] as const) {
    for (const code of codes.split(" ")) table[code] = exponent;
  }
  return Object.freeze(table);
})();

/** Largest amount we store: 2^53 − 1 minor units. */
export const MAX_AMOUNT: number = Number.MAX_SAFE_INTEGER;

/** Whether `code` is an active ISO 4217 alphabetic code (upper case, e.g. `USD`). */
export function isCurrency(code: string): boolean {
  return Object.hasOwn(EXPONENTS, code);
}

/**
 * Minor-unit exponent of a currency: 2 for USD (1 USD = 100 cents), 0 for JPY, 3 for KWD.
 *
 * @throws {BillingError} `unsupported_currency` when `code` is not an ISO 4217 code
 */
export function currencyExponent(code: string): number {
  const exponent = EXPONENTS[code];
  if (exponent === undefined) {
    throw new BillingError(
      "unsupported_currency",
      "invalid_request",
      `Currency "${code}" is not an ISO 4217 code`,
    );
  }
  return exponent;
}

/** All supported currency codes, sorted. */
export function currencies(): string[] {
  return Object.keys(EXPONENTS).sort();
}

/**
 * Asserts `n` is a safe integer amount of minor units and returns it.
 *
 * @throws {BillingError} `amount_out_of_range` for fractions, NaN or |n| > 2^53 − 1
 */
export function assertAmount(n: number | bigint, what = "amount"): number {
  if (typeof n === "bigint") {
    if (n > BigInt(MAX_AMOUNT) || n < -BigInt(MAX_AMOUNT)) {
      throw new BillingError(
        "amount_out_of_range",
        "unprocessable",
        `The ${what} ${n} exceeds 2^53 - 1 minor units`,
      );
    }
    return Number(n);
  }
  if (!Number.isSafeInteger(n)) {
    throw new BillingError(
      "amount_out_of_range",
      "unprocessable",
      `The ${what} ${n} is not a safe integer of minor units`,
    );
  }
  return n;
}

/**
 * Exact product of two safe integers, checked back into the safe range.
 *
 * @throws {BillingError} `amount_out_of_range` when the product exceeds 2^53 − 1
 */
export function multiply(a: number, b: number, what = "amount"): number {
  return assertAmount(BigInt(a) * BigInt(b), what);
}

/** Sum of safe integers, checked. @throws {BillingError} `amount_out_of_range` on overflow */
export function sum(values: readonly number[], what = "amount"): number {
  let total = 0n;
  for (const v of values) total += BigInt(v);
  return assertAmount(total, what);
}

/** Rounding modes used by divisions. `half_up` rounds .5 away from zero. */
export type RoundingMode = "floor" | "ceil" | "half_up" | "half_even";

/**
 * `numerator / denominator` rounded with an explicit mode, in bigint (no precision loss).
 *
 * @param denominator must be > 0
 * @throws {RangeError} when `denominator` ≤ 0 (a programming error, not input)
 */
export function divide(numerator: bigint, denominator: bigint, mode: RoundingMode): bigint {
  if (denominator <= 0n) throw new RangeError("divide(): denominator must be positive");
  const q = numerator / denominator; // truncates toward zero
  const r = numerator % denominator;
  if (r === 0n) return q;
  const negative = numerator < 0n;
  switch (mode) {
    case "floor":
      return negative ? q - 1n : q;
    case "ceil":
      return negative ? q : q + 1n;
    case "half_up":
    case "half_even": {
      const twice = (r < 0n ? -r : r) * 2n;
      const away = negative ? q - 1n : q + 1n;
      if (twice > denominator) return away;
      if (twice < denominator) return q;
      if (mode === "half_up") return away;
      return q % 2n === 0n ? q : away;
    }
  }
}

/**
 * Renders an amount for humans, e.g. `format(123456, "USD")` → `"USD 1234.56"`.
 * Display only: never parse this back.
 */
export function format(amount: number, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = amount < 0;
  const digits = Math.abs(amount).toString().padStart(exponent + 1, "0");
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent);
  const fraction = exponent === 0 ? "" : "." + digits.slice(-exponent);
  return `${currency} ${negative ? "-" : ""}${whole}${fraction}`;
}
