/**
 * Cache of resolved entitlement contexts: a customer's live subscription, its plan's features and
 * the current period. Usage is not cached here (it is read live), so a stale entry can at worst
 * carry an outdated plan for its short TTL; every change that matters invalidates explicitly.
 *
 * Keys always carry tenant and app (`{tenant}:{app}:{customer}`) so tenants never share entries.
 *
 * @module
 */
import type { Feature } from "../domain/plan.ts";
import type { Scope } from "../domain/scope.ts";

/** What a check needs besides usage. `null` subscription = no live subscription. */
export interface EntitlementContext {
  /**
   * The customer's live (trialing or active) subscription and its current billing period
   * `[period_start, period_end)`; `null` when there is none.
   */
  subscription: {
    /** TypeID of the subscription (`sub_…`). */
    id: string;
    /** Plan the subscription is on now (`plan_…`). */
    plan_id: string;
    /** Start of the current period (inclusive). */
    period_start: Date;
    /** End of the current period (exclusive); cache entries expire here at the latest. */
    period_end: Date;
  } | null;
  /** Features of that plan; empty without a subscription. */
  features: Feature[];
}

/** A cache of {@link EntitlementContext} per customer. */
export interface EntitlementCache {
  /** The cached context of the customer, or `undefined` when absent or expired at `now`. */
  get(scope: Scope, customerId: string, now: Date): EntitlementContext | undefined;
  /** Stores the context; it expires after the cache's TTL or at `period_end`, whichever comes first. */
  set(scope: Scope, customerId: string, value: EntitlementContext, now: Date): void;
  /** Drops one customer's entry (subscription created / canceled). */
  invalidateCustomer(scope: Scope, customerId: string): void;
  /** Drops every entry of the app (plan updated / archived). */
  invalidateApp(scope: Scope): void;
}

/**
 * In-process LRU-ish map with a TTL, bounded in size. An entry also expires at its period end so
 * a rollover is never served from cache.
 */
export class MemoryEntitlementCache implements EntitlementCache {
  readonly #entries = new Map<string, { value: EntitlementContext; expires_ms: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  /**
   * Creates an empty cache.
   *
   * @param options.ttlMs lifetime of an entry in ms (default 30 000)
   * @param options.maxEntries bound on entries; the least recently written is dropped beyond it
   *   (default 50 000)
   */
  constructor(options: { ttlMs?: number; maxEntries?: number } = {}) {
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#maxEntries = options.maxEntries ?? 50_000;
  }

  /** The entry of the customer unless it expired at `now` (an expired entry is dropped). */
  get(scope: Scope, customerId: string, now: Date): EntitlementContext | undefined {
    const key = cacheKey(scope, customerId);
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    if (hit.expires_ms <= now.getTime()) {
      this.#entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  /** Stores the entry, expiring at `now + ttlMs` or the period end, whichever is first. */
  set(scope: Scope, customerId: string, value: EntitlementContext, now: Date): void {
    const key = cacheKey(scope, customerId);
    let expires = now.getTime() + this.#ttlMs;
    if (value.subscription) expires = Math.min(expires, value.subscription.period_end.getTime());
    this.#entries.delete(key);
    this.#entries.set(key, { value, expires_ms: expires });
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  invalidateCustomer(scope: Scope, customerId: string): void {
    this.#entries.delete(cacheKey(scope, customerId));
  }

  invalidateApp(scope: Scope): void {
    const prefix = `${scope.tenantId}:${scope.appId}:`;
    for (const key of [...this.#entries.keys()]) if (key.startsWith(prefix)) this.#entries.delete(key);
  }
}

/** Cache key of a customer: tenant and app first, always. */
export function cacheKey(scope: Scope, customerId: string): string {
  return `${scope.tenantId}:${scope.appId}:${customerId}`;
}
