/**
 * Canonical JSON and SHA-256, used to tell an idempotent retry (same payload) from a
 * conflicting reuse of an idempotency key (different payload).
 *
 * @module
 */

/**
 * Serializes a JSON value with object keys sorted at every depth and `undefined` members dropped,
 * so that two equal payloads always produce the same text regardless of key order.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) {
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(",")}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** Lower-case hex SHA-256 of a UTF-8 string (Web Crypto: Deno, Workers and browsers). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 of the canonical JSON of `value`. */
export function payloadHash(value: unknown): Promise<string> {
  return sha256Hex(canonicalJson(value));
}
