/**
 * The one idempotency rule of every write (TigerBeetle's `exists`, Stripe's idempotent requests):
 *
 * - a key seen for the first time (or no key) → **execute**;
 * - a key already recorded with the same request hash → **replay** the recorded result;
 * - a key already recorded with another request hash → **conflict**: `idempotency_key_reused` (409).
 *
 * The request hash is the SHA-256 of the canonical JSON of what the caller asked for
 * (`payloadHash` in `hash.ts`), so key order and omitted optional fields do not matter. The
 * ledger and inventory books, usage events, consuming entitlement checks, credit grants, payment
 * and credit-note references, webhook endpoints and the HTTP `Idempotency-Key` header all decide
 * with these functions; only where the result is stored differs.
 *
 * @module
 */
import { BillingError } from "./errors.ts";

/** What the rule decides for one request. */
export type OnceVerdict = "execute" | "replay" | "conflict";

/** A request recorded earlier under the same key: the hash of what it asked for. */
export interface PriorRequest {
  /** SHA-256 (hex) of the canonical JSON of the recorded request. */
  payload_hash: string;
}

/**
 * The rule itself, without side effects.
 *
 * @param key the idempotency key (`null`: none, always executes)
 * @param hash SHA-256 of the request now
 * @param prior what was recorded under `key`, if anything
 */
export function onceVerdict(key: string | null, hash: string, prior: PriorRequest | undefined): OnceVerdict {
  if (key === null || prior === undefined) return "execute";
  return prior.payload_hash === hash ? "replay" : "conflict";
}

/**
 * The error of a conflicting reuse.
 *
 * @param what how the caller names the key: `Idempotency key "k"`, `Event id "e"`…
 * @returns `idempotency_key_reused` (conflict, 409)
 */
export function keyReused(what: string): BillingError {
  return new BillingError(
    "idempotency_key_reused",
    "conflict",
    `${what} was already used with a different payload`,
  );
}

/** Outcome of one command: its result (and whether it was a replay) or its rejection. */
export type Outcome<T> = { ok: true; replayed: boolean; value: T } | { ok: false; error: BillingError };

/**
 * Applies the rule to a synchronous command (the ledger and inventory books): replays, rejects
 * or executes. A `BillingError` thrown by `replay` or `execute` becomes a rejected outcome;
 * anything else (a broken invariant) propagates.
 */
export function applyOnce<T>(
  key: string | null,
  hash: string,
  prior: PriorRequest | undefined,
  replay: () => T,
  execute: () => T,
): Outcome<T> {
  try {
    const verdict = onceVerdict(key, hash, prior);
    if (verdict === "conflict") throw keyReused(`Idempotency key "${key}"`);
    return verdict === "replay"
      ? { ok: true, replayed: true, value: replay() }
      : { ok: true, replayed: false, value: execute() };
  } catch (error) {
    if (error instanceof BillingError) return { ok: false, error };
    throw error;
  }
}

/**
 * Applies the rule to an asynchronous write (a service inside its transaction).
 *
 * @param what how the caller names the key, for the conflict's message
 * @returns the value and whether it was a replay
 * @throws {BillingError} `idempotency_key_reused` (409) on a conflicting reuse; whatever
 *   `replay` or `execute` throw
 */
export async function applyOnceAsync<T>(
  what: string,
  key: string | null,
  hash: string,
  prior: PriorRequest | undefined,
  replay: () => Promise<T>,
  execute: () => Promise<T>,
): Promise<{ value: T; replayed: boolean }> {
  const verdict = onceVerdict(key, hash, prior);
  if (verdict === "conflict") throw keyReused(what);
  return verdict === "replay"
    ? { value: await replay(), replayed: true }
    : { value: await execute(), replayed: false };
}
