/**
 * Live entitlements on Redis through `@upstash/redis` (REST: works on Workers, Deno Deploy and
 * here against the local endpoint `deno task upstash`). The state machine is the one documented
 * in `src/entitlements/live_store.ts`; each step is one Lua script, so a check (with or without
 * consumption) is one round trip and atomic across every process sharing the Redis.
 *
 * Keys (all of an app in one cluster slot thanks to the `{tenant:app}` hash tag):
 * - `<prefix>{<tenant>:<app>}:e:<customer>:<feature>` — hash: gen, ent (snapshot JSON), cap + capf,
 *   counted, pstart, pend, agg, used + usedf, psum + psumf, pcount, ver, epoch (each quantity a
 *   whole part and a 10^-12 fraction, see `DECIMAL_LUA`); expires one day after its period;
 * - `<prefix>{<tenant>:<app>}:gen` and `…:gen:<customer>` — invalidation generations;
 * - `<prefix>{<tenant>:<app>}:r:<idempotency key>` — a consumption's reservation, and `…:res` — the
 *   app's held reservations by Redis time, settled by {@link RedisLiveEntitlements.reconcile}
 *   (ADR 0009, "Reservations tied to idempotency keys").
 *
 * Failures: every Redis error or timeout opens a short circuit ({@link RedisLiveOptions.retryAfterMs})
 * and surfaces as {@link LiveStoreUnavailable}, so callers answer from libSQL. Invalidations and
 * counter updates that could not be delivered, and counters that libSQL-only writes made stale,
 * are remembered in this process and delivered before Redis is used again. (A process that dies
 * while Redis is unreachable loses that list; its stale counters then live until they are next
 * invalidated or expire — run Redis with `maxmemory-policy noeviction` and persistence.)
 *
 * @module
 */
import { Redis } from "@upstash/redis";
import type { Scope } from "../domain/scope.ts";
import type { Decimal } from "../domain/decimal.ts";
import { joinQuantity, splitQuantity } from "../domain/quantity.ts";
import {
  type CountedEvent,
  entryFields,
  type FeatureEntitlement,
  type LiveCheck,
  type LiveEntitlementStore,
  type LiveKey,
  LiveStoreUnavailable,
  type SeedSnapshot,
} from "./live_store.ts";

/**
 * Exact decimal quantities in Lua (issue 19). Lua numbers are doubles, exact only up to 2^53, and a
 * quantity scaled by 10^12 passes that at 9 007 units; `INCRBYFLOAT` is a float. So every quantity
 * (counter `used`/`usedf`, running sum `psum`/`psumf`, cap `cap`/`capf`, a consumption) is a pair:
 * whole units (as integer counters always were) and the fraction in 10^-12 units, 0 … 10^12 − 1.
 * Each part stays far below 2^53 (a batch of 1000 fractions sums to < 10^15), the pair is carried
 * and compared exactly, and integer features keep a zero fraction: their behaviour is unchanged.
 * Numbers are written back with `%.0f` (exact for integers below 2^53; Lua's default `%.14g`
 * would write large counters in exponent form).
 */
const DECIMAL_LUA = `
local S = 1000000000000
local function norm(w, f)
  local carry = math.floor(f / S)
  local r = f - carry * S
  if r >= S then carry, r = carry + 1, r - S elseif r < 0 then carry, r = carry - 1, r + S end
  return w + carry, r
end
local function num(v) return tonumber(v) or 0 end
local function str(v) return string.format('%.0f', v) end
local function above(w1, f1, w2, f2) return w1 > w2 or (w1 == w2 and f1 > f2) end
local function clock() local t = redis.call('TIME') return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
`;

/**
 * KEYS: entry, app gen, customer gen. ARGV: now_ms, consume (whole), consume (fraction). An entry
 * past its `exp` is deleted and reported stale. Consumes only for `sum`, or `count` with consume 1
 * (the caller turns other requests into `consume_not_supported`). Replies carry quantities as
 * (whole, fraction) pairs: ok → used, consumed, used_f, consumed_f; denied → used, used_f;
 * cold → psum, pcount, ver, epoch, pstart, psum_f.
 *
 * Reservations tied to idempotency keys (ADR 0009), with KEYS[4] (reservation record), KEYS[5]
 * (the app's reservation set) and ARGV[4] = K: a consumption checked with its key K reserves
 * under `<app>:r:<K>` — hash: e (entry key), n + nf (units, whole and fraction, as sent), ps + ep (the counter's period start and epoch when reserved), at
 * (Redis time, ms; re-armed by every reuse), ru (1 once another attempt reused it), st (`held`
 * until the reconciler saw the event stored, then `done`) — and indexes K in the app's sorted set
 * `<app>:res` by `at` while held. Redis' own clock (TIME) stamps `at`, so business time (test
 * clocks) and the reconciler's grace period never mix. A consumption whose record matches (same entry and units, same period and epoch) reserves
 * nothing and answers `ok` with the usage before it and a 7th element `reused`; one that reserves
 * records itself and answers `new`; a record of another payload leaves the call a plain
 * reservation (no 7th element: the store answers 409). A record of an older period or epoch
 * (the counter was rebuilt from the store since) is replaced.
 */
const CHECK = DECIMAL_LUA + `
local g = (redis.call('GET', KEYS[2]) or '0') .. ':' .. (redis.call('GET', KEYS[3]) or '0')
local h = redis.call('HMGET', KEYS[1], 'gen', 'ent', 'cap', 'counted', 'pend', 'used', 'psum', 'pcount', 'ver', 'epoch', 'pstart', 'agg', 'exp', 'usedf', 'capf', 'psumf')
local now = tonumber(ARGV[1])
if h[13] and now >= tonumber(h[13]) then
  redis.call('DEL', KEYS[1])
  return {'stale', g}
end
if h[1] ~= g or not h[2] then return {'stale', g} end
if h[5] ~= '' and now >= tonumber(h[5]) then return {'stale', g} end
if h[4] ~= '1' then return {'ok', h[2], 0, 0, 0, 0} end
if not h[6] then return {'cold', h[2], h[7], h[8], h[9], h[10], h[11], h[16] or '0'} end
local uw, uf = tonumber(h[6]), num(h[14])
local nw, nf = tonumber(ARGV[2]), tonumber(ARGV[3])
if nw > 0 or nf > 0 then
  if not (h[12] == 'sum' or (h[12] == 'count' and nw == 1 and nf == 0)) then return {'ok', h[2], str(uw), '0', str(uf), '0'} end
  local mode = false
  if KEYS[4] then
    mode = 'new'
    local r = redis.call('HMGET', KEYS[4], 'e', 'n', 'nf', 'ps', 'ep', 'st')
    if r[1] then
      if r[1] == KEYS[1] and r[2] == ARGV[2] and r[3] == ARGV[3] then
        if r[4] == h[11] and r[5] == (h[10] or '0') then
          local at = clock()
          redis.call('HSET', KEYS[4], 'ru', '1', 'at', str(at))
          if r[6] == 'held' then redis.call('ZADD', KEYS[5], at, ARGV[4]) end
          local bw, bf = norm(uw - nw, uf - nf)
          return {'ok', h[2], str(bw), str(nw), str(bf), str(nf), 'reused'}
        end
        redis.call('DEL', KEYS[4])
        redis.call('ZREM', KEYS[5], ARGV[4])
      else
        mode = false
      end
    end
  end
  local aw, af = norm(uw + nw, uf + nf)
  if h[3] ~= '' and above(aw, af, tonumber(h[3]), num(h[15])) then return {'denied', h[2], str(uw), str(uf)} end
  redis.call('HSET', KEYS[1], 'used', str(aw), 'usedf', str(af))
  if mode then
    local at = clock()
    redis.call('HSET', KEYS[4], 'e', KEYS[1], 'n', ARGV[2], 'nf', ARGV[3], 'ps', h[11], 'ep', h[10] or '0', 'at', str(at), 'ru', '0', 'st', 'held')
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl > 0 then
      redis.call('PEXPIRE', KEYS[4], ttl)
      if redis.call('PTTL', KEYS[5]) < ttl then redis.call('PEXPIRE', KEYS[5], ttl) end
    end
    redis.call('ZADD', KEYS[5], at, ARGV[4])
    return {'ok', h[2], str(uw), str(nw), str(uf), str(nf), 'new'}
  end
end
return {'ok', h[2], str(uw), str(nw), str(uf), str(nf)}
`;

/**
 * KEYS: entry, record, app reservation set. ARGV: member (the key K).
 * Gives back the key's reservation when it is still held and no other attempt reused it (a reuser
 * may have stored the event with those units: the reconciler decides then). Returns 1 if released.
 */
const RELEASE_HELD = DECIMAL_LUA + `
local r = redis.call('HMGET', KEYS[2], 'e', 'n', 'nf', 'ps', 'ep', 'ru', 'st')
if not r[1] or r[1] ~= KEYS[1] or r[6] ~= '0' or r[7] ~= 'held' then return 0 end
local h = redis.call('HMGET', KEYS[1], 'pstart', 'used', 'usedf', 'epoch')
if h[1] == r[4] and h[2] and (h[4] or '0') == r[5] then
  local w, f = norm(tonumber(h[2]) - tonumber(r[2]), num(h[3]) - tonumber(r[3]))
  redis.call('HSET', KEYS[1], 'used', str(w), 'usedf', str(f))
end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`;

/**
 * KEYS: app reservation set. ARGV: grace_ms, limit, record key prefix (`<app>:r:`).
 * Returns {cutoff_ms, K1, entry1, K2, entry2, …}: held reservations stamped at or before
 * Redis-now − grace (at most `limit`). Members whose record is gone (expired) are dropped.
 * Reads the records by name: they share the set's hash tag, so the same cluster slot.
 */
const DUE = DECIMAL_LUA + `
local cutoff = clock() - tonumber(ARGV[1])
local out = {str(cutoff)}
local ms = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff, 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(ms) do
  local e = redis.call('HGET', ARGV[3] .. m, 'e')
  if e then
    out[#out + 1] = m
    out[#out + 1] = e
  else
    redis.call('ZREM', KEYS[1], m)
  end
end
return out
`;

/**
 * KEYS: app reservation set, then (record, entry) per reservation. ARGV: cutoff_ms, keep_ms, then
 * (K, stored 1/0) per reservation. Settles each held reservation not re-armed since the cutoff:
 * stored → `done` (units kept; the record stays `keep_ms` so a late retry still finds it);
 * not stored → the units go back to the counter (same period and epoch only) and the record is
 * deleted. Returns {kept, released}.
 */
const SETTLE = DECIMAL_LUA + `
local cutoff, keep = tonumber(ARGV[1]), tonumber(ARGV[2])
local kept, released = 0, 0
for i = 0, (#KEYS - 1) / 2 - 1 do
  local rec, ent, m, stored = KEYS[2 + 2 * i], KEYS[3 + 2 * i], ARGV[3 + 2 * i], ARGV[4 + 2 * i]
  local r = redis.call('HMGET', rec, 'e', 'n', 'nf', 'ps', 'ep', 'at', 'st')
  if not r[1] or r[1] ~= ent or r[7] ~= 'held' then
    redis.call('ZREM', KEYS[1], m)
  elseif tonumber(r[6]) <= cutoff then
    redis.call('ZREM', KEYS[1], m)
    if stored == '1' then
      redis.call('HSET', rec, 'st', 'done')
      local ttl = redis.call('PTTL', rec)
      if ttl < 0 or ttl > keep then redis.call('PEXPIRE', rec, keep) end
      kept = kept + 1
    else
      local h = redis.call('HMGET', ent, 'pstart', 'used', 'usedf', 'epoch')
      if h[1] == r[4] and h[2] and (h[4] or '0') == r[5] then
        local w, f = norm(tonumber(h[2]) - tonumber(r[2]), num(h[3]) - tonumber(r[3]))
        redis.call('HSET', ent, 'used', str(w), 'usedf', str(f))
      end
      redis.call('DEL', rec)
      released = released + 1
    end
  end
end
return {kept, released}
`;

/**
 * KEYS: app reservation set. ARGV: keep_ms, record key prefix (`<app>:r:`), then K1, K2, … — the
 * keys of consumptions whose usage events are committed. Each held record becomes `done` (units
 * kept; the record stays at most `keep_ms` so a late retry still reuses it) and leaves the set.
 * Records already settled or gone are only removed from the set. Returns how many were held.
 * Reads the records by name, as DUE does (same hash tag, same cluster slot).
 */
const CONFIRM = `
local keep = tonumber(ARGV[1])
local n = 0
for i = 3, #ARGV do
  local rec = ARGV[2] .. ARGV[i]
  if redis.call('HGET', rec, 'st') == 'held' then
    redis.call('HSET', rec, 'st', 'done')
    local ttl = redis.call('PTTL', rec)
    if ttl < 0 or ttl > keep then redis.call('PEXPIRE', rec, keep) end
    n = n + 1
  end
  redis.call('ZREM', KEYS[1], ARGV[i])
end
return n
`;

/**
 * KEYS: entry. ARGV: gen, ent, cap (whole), counted, pstart, pend, agg, ttl_ms, expires_at_ms,
 * now_ms, cap (fraction).
 * From `expires_at_ms` on (business time) the entry is gone for CHECK and PUT (deleted on sight,
 * as the in-process store does); Redis itself drops it after `ttl_ms`. The TTL is relative
 * (PEXPIRE, not PEXPIREAT) so that business time (the injected clock) and Redis' own clock never
 * have to agree; staleness itself is decided by the script from `pend` and the caller's time.
 */
const PUT = `
local e = redis.call('HGET', KEYS[1], 'exp')
if e and tonumber(ARGV[10]) >= tonumber(e) then redis.call('DEL', KEYS[1]) end
local cur = redis.call('HMGET', KEYS[1], 'pstart', 'agg')
if cur[1] ~= ARGV[5] or cur[2] ~= ARGV[7] then
  redis.call('HDEL', KEYS[1], 'used', 'usedf')
  redis.call('HINCRBY', KEYS[1], 'epoch', 1)
end
redis.call('HSET', KEYS[1], 'gen', ARGV[1], 'ent', ARGV[2], 'cap', ARGV[3], 'counted', ARGV[4], 'pstart', ARGV[5], 'pend', ARGV[6], 'agg', ARGV[7], 'exp', ARGV[9], 'capf', ARGV[11])
redis.call('HSETNX', KEYS[1], 'psum', 0)
redis.call('HSETNX', KEYS[1], 'psumf', 0)
redis.call('HSETNX', KEYS[1], 'pcount', 0)
redis.call('HSETNX', KEYS[1], 'ver', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[8])
return 1
`;

/**
 * KEYS: entry. ARGV: pstart, value (whole), psum (whole), pcount, ver, epoch, value (fraction),
 * psum (fraction). Returns the counter as {whole, fraction}, or nil.
 */
const SEED = DECIMAL_LUA + `
local h = redis.call('HMGET', KEYS[1], 'pstart', 'agg', 'used', 'psum', 'pcount', 'ver', 'epoch', 'usedf', 'psumf')
if h[1] ~= ARGV[1] or h[7] ~= ARGV[6] then return false end
if h[3] then return {h[3], h[8] or '0'} end
local w, f = tonumber(ARGV[2]), tonumber(ARGV[7])
if h[2] == 'sum' then w, f = norm(w + num(h[4]) - tonumber(ARGV[3]), f + num(h[9]) - tonumber(ARGV[8]))
elseif h[2] == 'count' then w = w + tonumber(h[5]) - tonumber(ARGV[4])
elseif h[6] ~= ARGV[5] then return false end
redis.call('HSET', KEYS[1], 'used', str(w), 'usedf', str(f))
return {str(w), str(f)}
`;

/** KEYS: entry. ARGV: pstart, consume (whole), consume (fraction). */
const RELEASE = DECIMAL_LUA + `
local h = redis.call('HMGET', KEYS[1], 'pstart', 'used', 'usedf')
if h[1] == ARGV[1] and h[2] then
  local w, f = norm(tonumber(h[2]) - tonumber(ARGV[2]), num(h[3]) - tonumber(ARGV[3]))
  redis.call('HSET', KEYS[1], 'used', str(w), 'usedf', str(f))
end
return 1
`;

/**
 * KEYS: entry. ARGV: ts1, whole1, fraction1, ts2, whole2, fraction2, … Returns how many events
 * were counted.
 */
const COUNT = DECIMAL_LUA + `
local h = redis.call('HMGET', KEYS[1], 'pstart', 'pend', 'agg', 'used', 'counted', 'usedf', 'psum', 'psumf')
if h[5] ~= '1' or h[2] == '' then return 0 end
local ps, pe = tonumber(h[1]), tonumber(h[2])
local sw, sf, cnt = 0, 0, 0
for i = 1, #ARGV, 3 do
  local ts = tonumber(ARGV[i])
  if ts >= ps and ts < pe then
    sw = sw + tonumber(ARGV[i + 1])
    sf = sf + tonumber(ARGV[i + 2])
    cnt = cnt + 1
  end
end
if cnt == 0 then return 0 end
local pw, pf = norm(num(h[7]) + sw, num(h[8]) + sf)
redis.call('HSET', KEYS[1], 'psum', str(pw), 'psumf', str(pf))
redis.call('HINCRBY', KEYS[1], 'pcount', cnt)
redis.call('HINCRBY', KEYS[1], 'ver', cnt)
if h[4] then
  if h[3] == 'sum' then
    local uw, uf = norm(tonumber(h[4]) + sw, num(h[6]) + sf)
    redis.call('HSET', KEYS[1], 'used', str(uw), 'usedf', str(uf))
  elseif h[3] == 'count' then redis.call('HINCRBY', KEYS[1], 'used', cnt)
  else redis.call('HDEL', KEYS[1], 'used', 'usedf') end
end
return cnt
`;

/** KEYS: entry. Drops the counter (rebuilt from libSQL on the next check). */
const FORGET = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HDEL', KEYS[1], 'used', 'usedf')
  redis.call('HINCRBY', KEYS[1], 'epoch', 1)
end
return 1
`;

/** Options of {@link RedisLiveEntitlements}. */
export interface RedisLiveOptions {
  /** `UPSTASH_REDIS_REST_URL` */
  url: string;
  /** `UPSTASH_REDIS_REST_TOKEN` */
  token: string;
  /** Prepended to every key (tests use one per suite). Default `billing:`. */
  prefix?: string;
  /** Per-request timeout (default 1000 ms). */
  timeoutMs?: number;
  /** After a failure, Redis is not tried again for this long (default 1000 ms). */
  retryAfterMs?: number;
  /** Structured log sink. */
  log?: (record: Record<string, unknown>) => void;
}

type Script = ReturnType<Redis["createScript"]>;

/**
 * How long a reservation stays held before the reconciler settles it against the store (60 s):
 * far longer than a consumption's write (the consumption writer commits in milliseconds, a
 * request is cut at its timeout), so a write still in flight is not taken for a failed one.
 */
export const DEFAULT_RESERVATION_GRACE_MS = 60_000;
/**
 * How long a settled (stored) reservation record stays so that a late retry reuses it (10 min).
 * A retry after that still answers as a replay (the event is found in the store) but reserves
 * its units for the few milliseconds until it gives them back; a longer keep would cost Redis
 * about 200 bytes per consumption for the whole window (at 1000 consumptions/s, 10 min ≈ 120 MB,
 * 24 h ≈ 17 GB). Our SDK's retries end within seconds (`sdk/src/retry.ts`).
 */
export const DEFAULT_RESERVATION_KEEP_MS = 10 * 60 * 1000;
/** Most confirmations sent in one script call (one app's keys are split above this). */
export const CONFIRM_BATCH = 500;
/** Most reservations of one app settled per reconcile run (one script call each way). */
export const RECONCILE_BATCH = 500;

/** Options of {@link RedisLiveEntitlements.reconcile}. */
export interface ReconcileOptions {
  /** Held reservations younger than this (ms, Redis time) are left alone. Default 60 s. */
  graceMs?: number;
  /** How long a record stays after its event was seen stored (ms). Default 10 min. */
  keepMs?: number;
  /** Most reservations per app and run. Default {@link RECONCILE_BATCH}. */
  limit?: number;
  /**
   * Settle only these apps' reservations, without scanning the keyspace for reservation sets
   * (a database that lists its few apps: a tenant object, a small deployment). Default: every
   * app found by `SCAN`.
   */
  scopes?: readonly Scope[];
}

/** What one {@link RedisLiveEntitlements.reconcile} run did. */
export interface ReconcileReport {
  /** Reservations whose usage event was stored: units kept. */
  kept: number;
  /** Reservations whose usage event was never stored: units given back. */
  released: number;
  /** Apps with due reservations this process's database does not hold (left to their owner). */
  skipped_apps: number;
}

/** Most keys remembered for a later delivery while Redis is unreachable (a limit on everything). */
export const MAX_PENDING = 100_000;

/**
 * The Redis store. One instance per process; safe to share across requests.
 */
export class RedisLiveEntitlements implements LiveEntitlementStore {
  /** Always `redis`. */
  readonly kind = "redis" as const;
  /** The REST client (exposed for the rate limiter and tests). */
  readonly redis: Redis;
  readonly #prefix: string;
  readonly #retryAfterMs: number;
  readonly #log: (record: Record<string, unknown>) => void;
  readonly #scripts: Record<
    "check" | "put" | "seed" | "release" | "count" | "forget" | "releaseHeld" | "due" | "settle" | "confirm",
    Script
  >;
  /** Keys of committed consumptions not yet confirmed, per app (see {@link confirm}). */
  #toConfirm = new Map<string, { scope: Scope; keys: string[] }>();
  #queuedConfirmations = 0;
  #confirming: Promise<void> | null = null;
  #openUntil = 0;
  #failures = 0;
  /** Deliveries owed to Redis: gen keys to bump, counters to drop. */
  readonly #owedGens = new Set<string>();
  readonly #owedForget = new Set<string>();

  /** Creates the client and the scripts (nothing is sent until the first call). */
  constructor(options: RedisLiveOptions) {
    const timeoutMs = options.timeoutMs ?? 1000;
    this.redis = new Redis({
      url: options.url,
      token: options.token,
      retry: { retries: 0 },
      automaticDeserialization: false,
      enableTelemetry: false,
      readYourWrites: false,
      signal: () => AbortSignal.timeout(timeoutMs),
    });
    this.#prefix = options.prefix ?? "billing:";
    this.#retryAfterMs = options.retryAfterMs ?? 1000;
    this.#log = options.log ?? (() => {});
    const script = (lua: string) => this.redis.createScript(lua);
    this.#scripts = {
      check: script(CHECK),
      put: script(PUT),
      seed: script(SEED),
      release: script(RELEASE),
      count: script(COUNT),
      forget: script(FORGET),
      releaseHeld: script(RELEASE_HELD),
      due: script(DUE),
      settle: script(SETTLE),
      confirm: script(CONFIRM),
    };
  }

  #app(scope: Scope): string {
    return `${this.#prefix}{${scope.tenantId}:${scope.appId}}`;
  }

  /** Redis key of an entry. */
  entryKey(key: LiveKey): string {
    return `${this.#app(key.scope)}:e:${key.customerId}:${key.feature}`;
  }

  /** Redis key of the reservation record of idempotency key `reservation` (see `CHECK`). */
  reservationKey(scope: Scope, reservation: string): string {
    return `${this.#app(scope)}:r:${reservation}`;
  }

  /** Redis key of an app's sorted set of held reservations (see `CHECK`). */
  reservationSet(scope: Scope): string {
    return `${this.#app(scope)}:res`;
  }

  #genKeys(key: LiveKey): [string, string] {
    const app = this.#app(key.scope);
    return [`${app}:gen`, `${app}:gen:${key.customerId}`];
  }

  /** How many calls failed since start (each one answered from libSQL); for metrics and tests. */
  get failures(): number {
    return this.#failures;
  }

  /** Invalidations and counter drops owed to Redis (not yet delivered because it was unreachable). */
  get owed(): number {
    return this.#owedGens.size + this.#owedForget.size;
  }

  /**
   * Delivers what is owed to Redis now, instead of before the next call (a runtime whose other
   * readers of Redis cannot see this process's list, like the Worker's edge path, must not wait).
   *
   * @returns whether nothing is owed any more (false: Redis still unreachable; retry later)
   */
  async deliverOwed(): Promise<boolean> {
    if (this.owed === 0) return true;
    try {
      await this.#call(() => Promise.resolve());
    } catch {
      return false;
    }
    return this.owed === 0;
  }

  /** Whether the circuit is closed (Redis believed reachable). */
  get available(): boolean {
    return Date.now() >= this.#openUntil;
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.available) throw new LiveStoreUnavailable("Redis is unavailable (circuit open)");
    try {
      if (this.#owedGens.size > 0 || this.#owedForget.size > 0) await this.#deliverOwed();
      return await fn();
    } catch (error) {
      this.#failures++;
      this.#openUntil = Date.now() + this.#retryAfterMs;
      this.#log({ level: "error", msg: "redis unavailable; answering from libSQL", error: String(error) });
      throw new LiveStoreUnavailable(`Redis is unavailable: ${String(error)}`, { cause: error });
    }
  }

  async #deliverOwed(): Promise<void> {
    const gens = [...this.#owedGens];
    const forget = [...this.#owedForget];
    await Promise.all([
      ...gens.map((k) => this.redis.incr(k)),
      ...forget.map((k) => this.#scripts.forget.exec([k], [])),
    ]);
    for (const k of gens) this.#owedGens.delete(k);
    for (const k of forget) this.#owedForget.delete(k);
  }

  #owe(set: Set<string>, keys: readonly string[]): void {
    for (const k of keys) if (set.size < MAX_PENDING) set.add(k);
  }

  check(key: LiveKey, consume: Decimal, nowMs: number, reservation?: string): Promise<LiveCheck> {
    const n = splitQuantity(consume);
    const held = reservation !== undefined && consume > 0n;
    const keys = [this.entryKey(key), ...this.#genKeys(key)];
    const args = [String(nowMs), String(n.whole), String(n.frac)];
    if (held) {
      keys.push(this.reservationKey(key.scope, reservation), this.reservationSet(key.scope));
      args.push(reservation);
    }
    return this.#call(async () => {
      const reply = await this.#scripts.check.exec(keys, args) as unknown[];
      const status = String(reply[0]);
      if (status === "stale") return { status: "stale", gen: String(reply[1]) };
      const entitlement = JSON.parse(String(reply[1])) as FeatureEntitlement;
      if (status === "cold") {
        const [pcount, ver, epoch, pstart] = reply.slice(3, 7).map(Number);
        const psum = joinQuantity(BigInt(String(reply[2])), BigInt(String(reply[7])));
        return {
          status: "cold",
          entitlement,
          snapshot: { psum, pcount, ver, epoch, period_start_ms: pstart },
        };
      }
      const pair = (w: unknown, f: unknown) => joinQuantity(BigInt(String(w)), BigInt(String(f)));
      if (status === "denied") return { status: "denied", entitlement, used: pair(reply[2], reply[3]) };
      const mode = reply[6] === "new" || reply[6] === "reused" ? reply[6] : undefined;
      return {
        status: "ok",
        entitlement,
        used: pair(reply[2], reply[4]),
        consumed: pair(reply[3], reply[5]),
        ...(mode ? { held: mode } : {}),
      };
    });
  }

  put(key: LiveKey, gen: string, entitlement: FeatureEntitlement, nowMs: number): Promise<void> {
    const f = entryFields(entitlement, nowMs);
    const cap = f.cap === null ? null : splitQuantity(f.cap);
    return this.#call(async () => {
      await this.#scripts.put.exec([this.entryKey(key)], [
        gen,
        JSON.stringify(entitlement),
        cap === null ? "" : String(cap.whole),
        f.counted ? "1" : "0",
        String(f.period_start_ms),
        f.period_end_ms === null ? "" : String(f.period_end_ms),
        f.aggregation,
        String(Math.max(1000, f.expires_at_ms - nowMs)),
        String(f.expires_at_ms),
        String(nowMs),
        cap === null ? "0" : String(cap.frac),
      ]);
    });
  }

  seed(key: LiveKey, snapshot: SeedSnapshot, value: Decimal): Promise<Decimal | null> {
    const v = splitQuantity(value);
    const p = splitQuantity(snapshot.psum);
    return this.#call(async () => {
      const reply = await this.#scripts.seed.exec([this.entryKey(key)], [
        String(snapshot.period_start_ms),
        String(v.whole),
        String(p.whole),
        String(snapshot.pcount),
        String(snapshot.ver),
        String(snapshot.epoch),
        String(v.frac),
        String(p.frac),
      ]) as unknown[] | null | undefined;
      return reply === null || reply === undefined
        ? null
        : joinQuantity(BigInt(String(reply[0])), BigInt(String(reply[1])));
    });
  }

  release(key: LiveKey, consume: Decimal, periodStartMs: number, reservation?: string): Promise<void> {
    if (reservation !== undefined) {
      return this.#call(async () => {
        await this.#scripts.releaseHeld.exec(
          [this.entryKey(key), this.reservationKey(key.scope, reservation), this.reservationSet(key.scope)],
          [reservation],
        );
      });
      // A failed give-back of a held reservation is not lost: the reconciler settles it.
    }
    const n = splitQuantity(consume);
    return this.#call(async () => {
      await this.#scripts.release.exec([this.entryKey(key)], [
        String(periodStartMs),
        String(n.whole),
        String(n.frac),
      ]);
    });
    // Nothing is owed when this fails: the reservation stays counted (too high, never too low). A
    // later drop would rebuild the counter from the store, which misses the reservations other
    // requests still have on their way there (consumption writer, usage queue): the hard limit
    // could then be overshot (ADR 0009). Its outcome is also unknown after a timeout, so it is
    // not retried either (two releases would leave the counter low).
  }

  /**
   * Queues the confirmation of a committed consumption's reservation (see
   * {@link LiveEntitlementStore.confirm}). Confirmations of the same moment share one script call
   * per app, sent after the current task; the answer to the consumption never waits for it. Held
   * back at most {@link MAX_PENDING} keys (beyond, the reconciler settles the rest); a failed
   * call is left to the reconciler too (it settles every held reservation against the store).
   */
  confirm(key: LiveKey, reservation: string): void {
    if (this.#queuedConfirmations >= MAX_PENDING) return;
    const set = this.reservationSet(key.scope);
    let queued = this.#toConfirm.get(set);
    if (!queued) this.#toConfirm.set(set, queued = { scope: key.scope, keys: [] });
    queued.keys.push(reservation);
    this.#queuedConfirmations++;
    this.#confirming ??= this.#sendConfirmations().finally(() => this.#confirming = null);
  }

  /**
   * Resolves once every confirmation queued so far was sent (or failed and was left to the
   * reconciler); for an orderly stop and for tests. Never rejects.
   */
  async confirmed(): Promise<void> {
    while (this.#confirming) await this.#confirming;
  }

  async #sendConfirmations(): Promise<void> {
    // After the current task: the consumptions committed by one group commit arrive together.
    await new Promise((resolve) => setTimeout(resolve, 0));
    while (this.#toConfirm.size > 0) {
      const apps = this.#toConfirm;
      this.#toConfirm = new Map();
      this.#queuedConfirmations = 0;
      const calls: Promise<unknown>[] = [];
      for (const [set, { scope, keys }] of apps) {
        for (let i = 0; i < keys.length; i += CONFIRM_BATCH) {
          const args = [String(DEFAULT_RESERVATION_KEEP_MS), `${this.#app(scope)}:r:`];
          for (const k of keys.slice(i, i + CONFIRM_BATCH)) args.push(k);
          calls.push(this.#call(() => this.#scripts.confirm.exec([set], args)));
        }
      }
      // A failure (Redis unreachable: the circuit opened and was logged) leaves them held.
      await Promise.allSettled(calls);
    }
  }

  /**
   * Settles reservations still held `graceMs` after they were made or last reused (Redis time):
   * for each, `stored` says whether the usage event of its idempotency key is in the store; a
   * stored one is kept (`done`, the record stays `keepMs` for late retries), an unstored one is
   * given back to its counter (same period and epoch only) and its record deleted. Visits the
   * apps of `options.scopes`, else finds them by scanning `<prefix>{*}:res` (bounded by `limit`
   * reservations per app and run).
   *
   * @param stored the ids among `ids` stored in `scope`, or `null` when this process's database
   *   does not hold the scope (its reservations are left to the process that does)
   * @returns how many reservations were kept and released, and how many apps were skipped
   * @throws {LiveStoreUnavailable} when Redis cannot be reached (nothing half-settled: each app's
   *   settlement is one script)
   */
  async reconcile(
    stored: (scope: Scope, ids: readonly string[]) => Promise<ReadonlySet<string> | null>,
    options: ReconcileOptions = {},
  ): Promise<ReconcileReport> {
    const graceMs = options.graceMs ?? DEFAULT_RESERVATION_GRACE_MS;
    const keepMs = options.keepMs ?? DEFAULT_RESERVATION_KEEP_MS;
    const limit = options.limit ?? RECONCILE_BATCH;
    const report: ReconcileReport = { kept: 0, released: 0, skipped_apps: 0 };
    const sets: string[] = options.scopes?.map((scope) => this.reservationSet(scope)) ?? [];
    if (!options.scopes) {
      await this.#scanReservationSets(sets);
    }
    for (const set of new Set(sets)) {
      const m = /^\{([^:{}]+):([^:{}]+)\}:res$/.exec(set.slice(this.#prefix.length));
      if (!m) continue;
      const scope: Scope = { tenantId: m[1], appId: m[2] };
      const due = await this.#call(() =>
        this.#scripts.due.exec([set], [String(graceMs), String(limit), `${this.#app(scope)}:r:`])
      ) as unknown[];
      if (due.length < 3) continue;
      const ids: string[] = [];
      const keys = [set];
      for (let i = 1; i < due.length; i += 2) {
        ids.push(String(due[i]));
        keys.push(this.reservationKey(scope, String(due[i])), String(due[i + 1]));
      }
      const found = await stored(scope, ids);
      if (found === null) {
        report.skipped_apps++;
        continue;
      }
      const args = [String(due[0]), String(keepMs)];
      for (const id of ids) args.push(id, found.has(id) ? "1" : "0");
      const [kept, released] = await this.#call(() => this.#scripts.settle.exec(keys, args)) as number[];
      report.kept += Number(kept);
      report.released += Number(released);
    }
    return report;
  }

  /** Adds the name of every app's reservation set to `sets` (`SCAN` of the whole keyspace). */
  async #scanReservationSets(sets: string[]): Promise<void> {
    await this.#call(async () => {
      let cursor = "0";
      do {
        const [next, keys] = await this.redis.scan(cursor, {
          match: `${this.#prefix}{*}:res`,
          count: 1000,
        }) as unknown as [string, string[]];
        cursor = String(next);
        sets.push(...keys);
      } while (cursor !== "0");
    });
  }

  count(scope: Scope, events: readonly CountedEvent[]): Promise<void> {
    const byKey = new Map<string, string[]>();
    for (const e of events) {
      const k = this.entryKey({ scope, customerId: e.customer_id, feature: e.feature });
      let args = byKey.get(k);
      if (!args) byKey.set(k, args = []);
      const v = splitQuantity(e.value);
      args.push(String(e.timestamp.getTime()), String(v.whole), String(v.frac));
    }
    if (byKey.size === 0) return Promise.resolve();
    return this.#call(async () => {
      await Promise.all([...byKey].map(([k, args]) => this.#scripts.count.exec([k], args)));
    }).catch((error) => {
      this.#owe(this.#owedForget, [...byKey.keys()]);
      throw error;
    });
  }

  forget(keys: readonly LiveKey[]): Promise<void> {
    const ks = keys.map((k) => this.entryKey(k));
    if (ks.length === 0) return Promise.resolve();
    return this.#call(async () => {
      await Promise.all(ks.map((k) => this.#scripts.forget.exec([k], [])));
    }).catch((error) => {
      this.#owe(this.#owedForget, ks);
      throw error;
    });
  }

  invalidateCustomer(scope: Scope, customerId: string): Promise<void> {
    const k = `${this.#app(scope)}:gen:${customerId}`;
    return this.#call(async () => void await this.redis.incr(k)).catch((error) => {
      this.#owe(this.#owedGens, [k]);
      throw error;
    });
  }

  invalidateApp(scope: Scope): Promise<void> {
    const k = `${this.#app(scope)}:gen`;
    return this.#call(async () => void await this.redis.incr(k)).catch((error) => {
      this.#owe(this.#owedGens, [k]);
      throw error;
    });
  }
}
