/**
 * The idempotency payload of a usage event, built for the ingestion path (issue 14): what
 * `hashEvents` hashes for each event of a batch, exactly the text {@link canonicalJson} gives for
 * `{ customer_id, feature, value, timestamp, properties }`, without its generic work stack for the
 * five fixed keys; and the quantity of an event, with integers (nearly every event) read without the
 * decimal parser.
 *
 * Pure: no clock, no I/O.
 *
 * @module
 */
import { canonicalJson } from "./hash.ts";
import { sha256HexSync } from "./hash.ts";
import { type Decimal, DECIMAL_SCALE } from "./decimal.ts";
import { canonicalQuantity, parseQuantity, type QuantityJson, splitQuantity } from "./quantity.ts";

/** The fields of a usage event its idempotency hash covers (what the client sent). */
export interface UsagePayload {
  /** `cus_…` id or external id, as sent. */
  customer_id: string;
  /** Feature key. */
  feature: string;
  /** Canonical JSON of the quantity ({@link eventQuantity}'s `canonical`; 1 when not sent). */
  value: QuantityJson;
  /** The sent timestamp in ms since the epoch, or `null` when the client left it out. */
  timestamp: number | null;
  /** Properties as sent, or `null`. */
  properties: Record<string, unknown> | null;
}

/**
 * The canonical JSON of a payload: keys in code-unit order (`customer_id`, `feature`,
 * `properties`, `timestamp`, `value`), the properties through {@link canonicalJson}. Equal to
 * `canonicalJson(payload)` for every payload (tests/domain/usage_payload_test.ts compares them).
 */
export function usagePayloadText(p: UsagePayload): string {
  return `{"customer_id":${JSON.stringify(p.customer_id)},"feature":${
    JSON.stringify(p.feature)
  },"properties":${p.properties === null ? "null" : canonicalJson(p.properties)},"timestamp":${
    p.timestamp === null ? "null" : JSON.stringify(p.timestamp)
  },"value":${JSON.stringify(p.value)}}`;
}

/** Lower-case hex SHA-256 of {@link usagePayloadText}: equal hash = retry, other = key reused. */
export function usagePayloadHash(p: UsagePayload): string {
  return sha256HexSync(usagePayloadText(p));
}

/** A client quantity read once: its exact value, its canonical JSON (hashed), its two stored integers. */
export interface EventQuantity {
  /** The exact value (10^-12 units). */
  value: Decimal;
  /** Canonical JSON: a number when whole and safe, else the canonical decimal string. */
  canonical: QuantityJson;
  /** Whole units (the `value` column). */
  whole: number;
  /** Fraction in 10^-12 units (the `value_frac` column). */
  frac: number;
}

/**
 * Reads a client quantity as `parseQuantity`, `canonicalQuantity` and `splitQuantity` together
 * would; a non-negative safe integer (JSON number) skips the decimal parser and gives itself back
 * (`-0` as `0`).
 *
 * @throws {DecimalError} as `parseQuantity` for anything that is not a quantity
 */
export function eventQuantity(input: QuantityJson): EventQuantity {
  if (typeof input === "number" && Number.isSafeInteger(input) && input >= 0) {
    const whole = input + 0; // -0 → 0
    return { value: (BigInt(whole) * DECIMAL_SCALE) as Decimal, canonical: whole, whole, frac: 0 };
  }
  const value = parseQuantity(input);
  const { whole, frac } = splitQuantity(value);
  return { value, canonical: canonicalQuantity(input), whole, frac };
}
