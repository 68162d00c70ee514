/**
 * Live entitlements: per (tenant, app, customer, feature) a cached entitlement snapshot (feature
 * type, limit, soft limit, included, aggregation, current period) and a live usage counter for the
 * current period, with an atomic check-and-consume.
 *
 * Two stores implement {@link LiveEntitlementStore} with the same semantics:
 * - {@link MemoryLiveEntitlements} (this module): in-process, for the embedded default (one process);
 * - `RedisLiveEntitlements` (`src/entitlements/live_store_redis.ts`): Lua scripts on Redis through
 *   `@upstash/redis`, shared by every process and edge isolate.
 *
 * ## State of one entry
 * - `gen`: the invalidation generation the snapshot was built under, `"<app gen>:<customer gen>"`.
 *   Invalidation bumps a generation (plan change → app, subscription change → customer); an entry
 *   whose `gen` differs from the current one is **stale** and is reloaded from libSQL. So is an
 *   entry whose period has ended (rollover).
 * - `used`: the live counter, in the feature's units for the period `[pstart, pend)`. Absent =
 *   **cold**: it is rebuilt from the stored usage events (libSQL is the source of truth).
 * - `psum`, `pcount`, `ver`: running totals of ingested events counted for this entry, and
 *   `epoch`, bumped whenever the counter is dropped. A rebuild reads them first (snapshot), then
 *   aggregates libSQL, then seeds `used = libSQL value + events ingested since the snapshot`
 *   (for `sum` / `count`; for `max`, `latest`, `unique_count` it seeds only if nothing was
 *   ingested in between, else answers without caching). Events counted twice in that window make
 *   the counter too high, never too low: a race can deny early, never allow past a hard limit.
 *
 * ## Rules (the same in every store)
 * - check (`consume = 0`): answers from the entry; never changes it.
 * - check-and-consume (`consume = n > 0`): in one atomic step, if the feature counts usage and
 *   `cap` (the hard limit, see `consumptionCap`) is set and `used + n > cap` → denied, nothing
 *   added; else `used += n`. This is `decideConsumption`'s rule (`src/domain/entitlement.ts`).
 *   Only `sum` features, and `count` features with `n = 1`, are consumed; otherwise nothing is
 *   added and the service answers `consume_not_supported`.
 * - ingestion: events whose timestamp falls in the entry's period add `value` (`sum`) or 1 (`count`)
 *   to `used`; for `max`, `latest`, `unique_count` they drop `used` (recomputed from libSQL on the
 *   next check, then cached).
 * - quantities are exact decimals (`domain/quantity.ts`): counters, consumptions and caps are
 *   {@link Decimal}s here; the Redis store keeps each as a whole part and a 10^-12 fraction.
 * - entries expire one day after their period ends; snapshots without a subscription after
 *   {@link UNSUBSCRIBED_TTL_MS}.
 *
 * @module
 */
import { consumptionCap } from "../domain/entitlement.ts";
import { type Decimal, decimalFromInteger } from "../domain/decimal.ts";
import type { Aggregation, Feature } from "../domain/plan.ts";
import type { Scope } from "../domain/scope.ts";

/** What the cache holds about one customer's feature. */
export interface FeatureEntitlement {
  /** Whether the customer had a live subscription when the snapshot was taken. */
  subscribed: boolean;
  /** The plan's feature, `null` when the plan lacks it (or there is no subscription). */
  feature: Feature | null;
  /** Start of the current billing period (inclusive), epoch ms; `null` without a subscription. */
  period_start_ms: number | null;
  /** End of the current billing period (exclusive), epoch ms; `null` without a subscription. */
  period_end_ms: number | null;
  /** For a credit system: the plan's features that draw from it (its usage is derived from theirs). */
  consumers?: Feature[];
}

/** Address of one entry. `customerId` is the `cus_…` id, never an external id. */
export interface LiveKey {
  /** Tenant and app. */
  scope: Scope;
  /** `cus_…` id. */
  customerId: string;
  /** Feature key. */
  feature: string;
}

/** Counters read by a check on a cold entry, handed back to {@link LiveEntitlementStore.seed}. */
export interface SeedSnapshot {
  /** Sum of the values of events counted for the entry so far. */
  psum: Decimal;
  /** Number of events counted for the entry so far. */
  pcount: number;
  /** Number of counting steps applied so far. */
  ver: number;
  /** Times the counter was dropped or its identity changed. */
  epoch: number;
  /** Period of the counter, epoch ms. */
  period_start_ms: number;
}

/** Outcome of {@link LiveEntitlementStore.check}. `used` is the usage before this call. */
export type LiveCheck =
  | { status: "stale"; gen: string }
  | { status: "cold"; entitlement: FeatureEntitlement; snapshot: SeedSnapshot }
  | {
    status: "ok";
    entitlement: FeatureEntitlement;
    used: Decimal;
    consumed: Decimal;
    /**
     * Set only by a store that ties reservations to idempotency keys (Redis, ADR 0009), for a
     * consumption made with a `reservation`: `new` — this call reserved and recorded the units
     * under the key; `reused` — the key's own reservation was found (a retry, or a concurrent
     * attempt) and nothing was added. Absent: a plain reservation (give it back by amount).
     */
    held?: "new" | "reused";
  }
  | { status: "denied"; entitlement: FeatureEntitlement; used: Decimal };

/** A usage event newly stored in libSQL, to be counted by live counters. */
export interface CountedEvent {
  /** `cus_…` id. */
  customer_id: string;
  /** Feature key. */
  feature: string;
  /** Units (exact). */
  value: Decimal;
  /** When the usage happened (decides the period it counts in). */
  timestamp: Date;
}

/** Thrown by a store that cannot be reached; callers fall back to libSQL. */
export class LiveStoreUnavailable extends Error {
  /** Error name. */
  override name = "LiveStoreUnavailable";
}

/** How long a snapshot without a subscription is trusted (a future-dated start becomes visible). */
export const UNSUBSCRIBED_TTL_MS = 60_000;
/** Entries outlive their period by this margin (late reads, clock skew). */
export const PERIOD_MARGIN_MS = 24 * 60 * 60 * 1000;

/**
 * A store of live entitlements. Every method may throw {@link LiveStoreUnavailable}.
 */
export interface LiveEntitlementStore {
  /** Which implementation this is. */
  readonly kind: "memory" | "redis";
  /**
   * One round trip: reads the entry and, with `consume > 0`, atomically checks and adds.
   * `stale` carries the current generation to store the reloaded snapshot under.
   * `reservation` (the consumption's idempotency key) lets a store tie the reserved units to the
   * key, so that a retry finds them instead of reserving again; stores that cannot ignore it.
   */
  check(key: LiveKey, consume: Decimal, nowMs: number, reservation?: string): Promise<LiveCheck>;
  /** Stores a snapshot loaded from libSQL under `gen` (from a `stale` answer). */
  put(key: LiveKey, gen: string, entitlement: FeatureEntitlement, nowMs: number): Promise<void>;
  /**
   * Seeds a cold counter with `value` aggregated from libSQL after `snapshot` was read.
   * @returns the counter now cached, or `null` when it could not be cached safely (answer with `value`)
   */
  seed(key: LiveKey, snapshot: SeedSnapshot, value: Decimal): Promise<Decimal | null>;
  /**
   * Gives back `consume` units whose usage event was not stored (duplicate or failed write).
   * With `reservation` (a check answered `held`), gives back the key's own reservation, and only
   * when no other attempt took it over (a store without reservations ignores it and releases by
   * amount).
   */
  release(key: LiveKey, consume: Decimal, periodStartMs: number, reservation?: string): Promise<void>;
  /**
   * The usage event of consumption `reservation` (its idempotency key) is committed: a store
   * that tied units to the key keeps them for good and stops tracking the key as held, so held
   * reservations stay only those whose write is still in flight or was lost (ADR 0009,
   * "Settling stored reservations"). Never throws and does not wait for the store: a
   * confirmation that cannot be delivered leaves the reservation held for the reconciler, which
   * reaches the same result later. Stores without reservations do nothing.
   */
  confirm(key: LiveKey, reservation: string): void;
  /** Counts newly stored usage events (after their transaction committed). */
  count(scope: Scope, events: readonly CountedEvent[]): Promise<void>;
  /** Drops counters so they are rebuilt from libSQL (after writes that bypassed the store). */
  forget(keys: readonly LiveKey[]): Promise<void>;
  /** Invalidates every snapshot of one customer (subscription created, canceled, changed). */
  invalidateCustomer(scope: Scope, customerId: string): Promise<void>;
  /** Invalidates every snapshot of an app (plan updated, archived). */
  invalidateApp(scope: Scope): Promise<void>;
}

/** Fields of a snapshot a store keeps beside the JSON (what the atomic step needs). */
export interface EntryFields {
  /** Hard cap for consumption, `null` = any amount (see `consumptionCap`). */
  cap: Decimal | null;
  /** Whether the feature counts usage (subscribed, in plan, not boolean). */
  counted: boolean;
  /** Start of the counter's period, epoch ms (0 without a subscription). */
  period_start_ms: number;
  /** End of the counter's period, epoch ms; `null` without a subscription. */
  period_end_ms: number | null;
  /** Aggregation of the feature, `""` when nothing is counted. */
  aggregation: Aggregation | "";
  /** When the entry may be forgotten, epoch ms (business clock). */
  expires_at_ms: number;
}

/** Derives the fields a store keeps from a snapshot. */
export function entryFields(entitlement: FeatureEntitlement, nowMs: number): EntryFields {
  const f = entitlement.feature;
  // A feature drawing from a credit system keeps no counter: its checks settle on the pool's.
  const counted = entitlement.subscribed && f !== null && f.type !== "boolean" && !f.credit_system;
  const cap = counted ? consumptionCap(f!) : null;
  const periodEnd = entitlement.period_end_ms;
  return {
    cap,
    counted,
    period_start_ms: entitlement.period_start_ms ?? 0,
    period_end_ms: periodEnd,
    aggregation: counted ? f!.aggregation : "",
    expires_at_ms: periodEnd !== null ? periodEnd + PERIOD_MARGIN_MS : nowMs + UNSUBSCRIBED_TTL_MS,
  };
}

/** The key of an entry inside one store (tenant and app first, always). */
export function entryKey(key: LiveKey): string {
  return `${key.scope.tenantId}:${key.scope.appId}:${key.customerId}:${key.feature}`;
}

interface MemoryEntry extends EntryFields {
  gen: string;
  entitlement: FeatureEntitlement;
  used: Decimal | undefined;
  psum: Decimal;
  pcount: number;
  ver: number;
  epoch: number;
}

/**
 * The in-process store: the same state machine as the Lua scripts, on a bounded `Map`. JavaScript
 * runs each method's synchronous body without interleaving, which makes every step atomic
 * within the process (and only there: use Redis when several processes serve one database).
 */
export class MemoryLiveEntitlements implements LiveEntitlementStore {
  /** Always `memory`. */
  readonly kind = "memory" as const;
  readonly #entries = new Map<string, MemoryEntry>();
  readonly #gens = new Map<string, number>();
  readonly #maxEntries: number;

  /**
   * Creates an empty store.
   *
   * @param options.maxEntries bound on cached entries (oldest dropped first; default 100 000)
   */
  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000;
  }

  #gen(key: LiveKey): string {
    const app = `${key.scope.tenantId}:${key.scope.appId}`;
    return `${this.#gens.get(app) ?? 0}:${this.#gens.get(`${app}:${key.customerId}`) ?? 0}`;
  }

  #live(k: string, nowMs: number): MemoryEntry | undefined {
    const entry = this.#entries.get(k);
    if (entry && entry.expires_at_ms <= nowMs) {
      this.#entries.delete(k);
      return undefined;
    }
    return entry;
  }

  check(key: LiveKey, consume: Decimal, nowMs: number): Promise<LiveCheck> {
    const gen = this.#gen(key);
    const entry = this.#live(entryKey(key), nowMs);
    if (!entry || entry.gen !== gen || (entry.period_end_ms !== null && nowMs >= entry.period_end_ms)) {
      return Promise.resolve({ status: "stale", gen });
    }
    const entitlement = entry.entitlement;
    const zero = decimalFromInteger(0);
    if (!entry.counted) return Promise.resolve({ status: "ok", entitlement, used: zero, consumed: zero });
    if (entry.used === undefined) {
      const snapshot = {
        psum: entry.psum,
        pcount: entry.pcount,
        ver: entry.ver,
        epoch: entry.epoch,
        period_start_ms: entry.period_start_ms,
      };
      return Promise.resolve({ status: "cold", entitlement, snapshot });
    }
    const used = entry.used;
    if (consume > 0n) {
      const consumable = entry.aggregation === "sum" ||
        (entry.aggregation === "count" && consume === decimalFromInteger(1));
      if (!consumable) return Promise.resolve({ status: "ok", entitlement, used, consumed: zero });
      if (entry.cap !== null && used + consume > entry.cap) {
        return Promise.resolve({ status: "denied", entitlement, used });
      }
      entry.used = (used + consume) as Decimal;
    }
    return Promise.resolve({ status: "ok", entitlement, used, consumed: consume });
  }

  put(key: LiveKey, gen: string, entitlement: FeatureEntitlement, nowMs: number): Promise<void> {
    const k = entryKey(key);
    const fields = entryFields(entitlement, nowMs);
    const old = this.#live(k, nowMs);
    const sameCounter = old !== undefined && old.period_start_ms === fields.period_start_ms &&
      old.aggregation === fields.aggregation;
    const entry: MemoryEntry = {
      ...fields,
      gen,
      entitlement,
      used: sameCounter ? old.used : undefined,
      psum: old?.psum ?? decimalFromInteger(0),
      pcount: old?.pcount ?? 0,
      ver: old?.ver ?? 0,
      epoch: (old?.epoch ?? 0) + (sameCounter ? 0 : 1),
    };
    this.#entries.delete(k);
    this.#entries.set(k, entry);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return Promise.resolve();
  }

  seed(key: LiveKey, snapshot: SeedSnapshot, value: Decimal): Promise<Decimal | null> {
    const entry = this.#entries.get(entryKey(key));
    if (!entry || entry.period_start_ms !== snapshot.period_start_ms || entry.epoch !== snapshot.epoch) {
      return Promise.resolve(null);
    }
    if (entry.used !== undefined) return Promise.resolve(entry.used);
    let seeded: Decimal;
    if (entry.aggregation === "sum") seeded = (value + entry.psum - snapshot.psum) as Decimal;
    else if (entry.aggregation === "count") {
      seeded = (value + decimalFromInteger(entry.pcount - snapshot.pcount)) as Decimal;
    } else if (entry.ver === snapshot.ver) seeded = value;
    else return Promise.resolve(null);
    entry.used = seeded;
    return Promise.resolve(seeded);
  }

  release(key: LiveKey, consume: Decimal, periodStartMs: number): Promise<void> {
    const entry = this.#entries.get(entryKey(key));
    if (entry && entry.used !== undefined && entry.period_start_ms === periodStartMs) {
      entry.used = (entry.used - consume) as Decimal;
    }
    return Promise.resolve();
  }

  /** Nothing to settle: this store ties no units to idempotency keys. */
  confirm(): void {}

  count(scope: Scope, events: readonly CountedEvent[]): Promise<void> {
    for (const e of events) {
      const entry = this.#entries.get(entryKey({ scope, customerId: e.customer_id, feature: e.feature }));
      if (!entry || !entry.counted || entry.period_end_ms === null) continue;
      const ts = e.timestamp.getTime();
      if (ts < entry.period_start_ms || ts >= entry.period_end_ms) continue;
      entry.psum = (entry.psum + e.value) as Decimal;
      entry.pcount += 1;
      entry.ver += 1;
      if (entry.used === undefined) continue;
      if (entry.aggregation === "sum") entry.used = (entry.used + e.value) as Decimal;
      else if (entry.aggregation === "count") entry.used = (entry.used + decimalFromInteger(1)) as Decimal;
      else entry.used = undefined;
    }
    return Promise.resolve();
  }

  forget(keys: readonly LiveKey[]): Promise<void> {
    for (const key of keys) {
      const entry = this.#entries.get(entryKey(key));
      if (!entry) continue;
      entry.used = undefined;
      entry.epoch += 1;
    }
    return Promise.resolve();
  }

  invalidateCustomer(scope: Scope, customerId: string): Promise<void> {
    const k = `${scope.tenantId}:${scope.appId}:${customerId}`;
    this.#gens.set(k, (this.#gens.get(k) ?? 0) + 1);
    return Promise.resolve();
  }

  invalidateApp(scope: Scope): Promise<void> {
    const k = `${scope.tenantId}:${scope.appId}`;
    this.#gens.set(k, (this.#gens.get(k) ?? 0) + 1);
    return Promise.resolve();
  }
}

/**
 * No live store: every check answers from libSQL (fresh entitlement, aggregated usage) and every
 * consumption decides and writes in one write transaction. The right choice for a runtime with
 * several isolates sharing one database and no Redis (Deno Deploy without Upstash), where an
 * in-process store per isolate would let consumers in different isolates overshoot a hard limit
 * and would miss invalidations made by other isolates. Never use {@link MemoryLiveEntitlements}
 * there.
 */
export class DatabaseOnlyEntitlements implements LiveEntitlementStore {
  /** Reported as `memory` (nothing external); every read goes to libSQL. */
  readonly kind = "memory" as const;

  check(): Promise<LiveCheck> {
    return Promise.reject(new LiveStoreUnavailable("No live store: answering from libSQL"));
  }
  put(): Promise<void> {
    return Promise.resolve();
  }
  seed(): Promise<Decimal | null> {
    return Promise.resolve(null);
  }
  release(): Promise<void> {
    return Promise.resolve();
  }
  confirm(): void {}
  count(): Promise<void> {
    return Promise.resolve();
  }
  forget(): Promise<void> {
    return Promise.resolve();
  }
  invalidateCustomer(): Promise<void> {
    return Promise.resolve();
  }
  invalidateApp(): Promise<void> {
    return Promise.resolve();
  }
}
