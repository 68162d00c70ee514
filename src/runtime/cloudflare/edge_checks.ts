/**
 * The edge hot path of the Worker (ADR 0009): with `UPSTASH_REDIS_REST_URL` set, the stateless
 * Worker answers `POST /v1/entitlements/check` (read and `consume`) and `POST /v1/events` itself,
 * against the same Redis live store and Lua scripts as the Deno server
 * (`entitlements/live_store_redis.ts`), without calling the tenant's Durable Object.
 *
 * Check: resolve the customer reference (isolate cache → Redis → once per isolate the object),
 * then one CHECK script run. A snapshot the object invalidated (plan or subscription change,
 * period rollover: its generation or period moved on) answers `stale`, a counter not yet built
 * answers `cold`: both go to the object, which reloads them into Redis from its store — the
 * Worker never decides from an entitlement the object has replaced.
 *
 * Consume: the idempotency key is recorded in Redis first (`SET NX`, value = what was consumed),
 * so a retry answers as a replay and another payload under the key is a 409; the CHECK script
 * then reserves the units atomically (the hard limit holds across every isolate); the usage event
 * goes onto the usage queue, and the Worker answers only once the queue accepted it. The queue
 * consumer stores it in the object without counting it again (the counter already holds it);
 * the event id is the idempotency key, so a redelivery stores nothing twice, and a duplicate or
 * rejected consumption drops the counter so it is rebuilt from the store. Once the queue has
 * drained, counters and the store agree exactly.
 *
 * Events: validated, rate-limited for publishable keys, queued; the consumer stores them and
 * counts them in Redis (`recordUsage`), exactly as a synchronous request to the object would.
 *
 * Redis unreachable (error, timeout, open circuit): the request goes to the object unchanged,
 * which answers from its own store (ADR 0006's fallback) — never more permissive.
 *
 * @module
 */
import { type Decimal, decimalFromInteger, formatDecimal, tryParseDecimal } from "../../domain/decimal.ts";
import { parseQuantity } from "../../domain/quantity.ts";
import type { Context } from "hono";
import type { Config } from "../../config.ts";
import type { ConsumptionDecision } from "../../domain/entitlement.ts";
import { BillingError } from "../../domain/errors.ts";
import type { Scope } from "../../domain/scope.ts";
import { CheckBody } from "../../entitlements/schemas.ts";
import { type LiveCheck, type LiveKey, LiveStoreUnavailable } from "../../entitlements/live_store.ts";
import type { RedisLiveEntitlements } from "../../entitlements/live_store_redis.ts";
import { consumptionEvent, crossingOf, decide, replayAnswer } from "../../entitlements/service.ts";
import { errorToResponse, problem } from "../../http/problem.ts";
import { rateLimitedResponse, rateLimitHeaders } from "../../http/publishable.ts";
import type { PublishableRateLimiter } from "../../http/rate_limit.ts";
import { IngestBody } from "../../usage/schemas.ts";
import type { LogSink } from "../log.ts";
import { redisServices } from "../redis.ts";
import type { DirectoryEntry } from "./directory_object.ts";
import { workerConfig } from "./env.ts";
import type { Env, UsageMessage } from "./types.ts";

/** How long a consumption's idempotency key is remembered in Redis (40 days, in ms). */
export const CONSUMPTION_RECORD_TTL_MS = 40 * 24 * 60 * 60 * 1000;
/** How long a customer reference → `cus_…` mapping is kept in Redis (30 days, in s). */
export const CUSTOMER_REF_TTL_SECONDS = 30 * 24 * 60 * 60;
/** Suffix of a consumption record whose outcome is not known yet (queue not reached). */
const PENDING = "\npending";
/** Customer references cached per isolate (a limit on everything). */
export const MAX_CACHED_CUSTOMERS = 10_000;

/** What the hot path needs from the Worker around it. */
export interface EdgeRoute {
  /** The request's JSON body (already read by the Worker), `null` when absent or not JSON. */
  json: unknown;
  /** Sends the original request to the tenant's object (today's path). */
  forward(): Promise<Response>;
  /** Asks the tenant's object one internal question (`/__internal/<path>`). */
  internal(path: string): Promise<Response>;
  /** Sends one message to the usage queue (for the tenant's object); resolves once the queue accepted it. */
  enqueue(message: Omit<UsageMessage, "tenant_object">): Promise<void>;
  /**
   * Queues a validated usage batch (split under the message size limit).
   * @returns what was queued, `null` when the batch must go to the object (too large an event)
   */
  enqueueBatch(): Promise<{ events: number; messages: number } | null>;
}

const paths = new WeakMap<object, EdgeHotPath | null>();

/**
 * The hot path of a Worker env, or `null` when Redis is not configured (every request then goes
 * to the objects, as before). Built once per env object (per isolate).
 *
 * @throws {import("../../config.ts").ConfigError} when the env is invalid
 */
export function edgeHotPath(env: Env, log: LogSink): EdgeHotPath | null {
  if (paths.has(env)) return paths.get(env)!;
  const config = workerConfig(env);
  const path = config.redis ? new EdgeHotPath(config, log) : null;
  paths.set(env, path);
  return path;
}

/** The Worker's Redis-backed answers to checks and usage (one per isolate). */
export class EdgeHotPath {
  /** The live store (same scripts as the Deno server). */
  readonly live: RedisLiveEntitlements;
  readonly #limiter: PublishableRateLimiter | undefined;
  readonly #prefix: string;
  readonly #log: LogSink;
  readonly #customers = new Map<string, string>();

  /**
   * Builds the Redis clients (nothing is sent until the first request).
   *
   * @param config a validated configuration with `redis` set
   * @throws {Error} when `config.redis` is absent
   */
  constructor(config: Config, log: LogSink) {
    if (!config.redis) throw new Error("The edge hot path needs UPSTASH_REDIS_REST_URL");
    const services = redisServices(config, log);
    this.live = services.live as RedisLiveEntitlements;
    this.#limiter = services.rateLimiter;
    this.#prefix = config.redis.prefix;
    this.#log = log;
  }

  #app(scope: Scope): string {
    return `${this.#prefix}{${scope.tenantId}:${scope.appId}}`;
  }

  /**
   * Answers a request on the hot path when it is one (`POST /v1/entitlements/check`,
   * `POST /v1/events`).
   *
   * @returns the answer, or `null` when the request is not for the hot path (the caller forwards
   *   it to the object). A request the hot path cannot settle is forwarded by `route.forward`.
   */
  async handle(c: Context, entry: DirectoryEntry, route: EdgeRoute): Promise<Response | null> {
    if (c.req.method !== "POST") return null;
    const path = new URL(c.req.url).pathname;
    // A browser call needs the app's CORS answer, which only the object knows.
    if (c.req.header("origin")) return null;
    if (path === "/v1/entitlements/check") return await this.#check(c, entry, route);
    if (path === "/v1/events" && !/\breturn=representation\b/i.test(c.req.header("prefer") ?? "")) {
      return await this.#events(c, entry, route);
    }
    return null;
  }

  /** Takes one token per customer for a publishable key; the 429 when over the limit. */
  async #limited(c: Context, entry: DirectoryEntry, refs: readonly string[]): Promise<Response | null> {
    if (!this.#limiter || entry.kind !== "publishable") return null;
    const decision = await this.#limiter.limit({ tenantId: entry.tenant_id, appId: entry.app_id }, refs);
    if (!decision.success) return rateLimitedResponse(c, decision);
    // Like the app: every limited answer carries the RateLimit-* headers.
    for (const [name, value] of Object.entries(rateLimitHeaders(decision))) c.header(name, value);
    return null;
  }

  async #events(c: Context, entry: DirectoryEntry, route: EdgeRoute): Promise<Response | null> {
    const parsed = IngestBody.safeParse(route.json);
    if (!parsed.success) return null; // the object answers the canonical 400
    const limited = await this.#limited(c, entry, [...new Set(parsed.data.events.map((e) => e.customer_id))]);
    if (limited) return limited;
    const queued = await route.enqueueBatch();
    if (!queued) return null;
    const headers: Record<string, string> = {};
    if (/\brespond-async\b/i.test(c.req.header("prefer") ?? "")) {
      headers["preference-applied"] = "respond-async";
    }
    return c.json({ queued_events: queued.events, messages: queued.messages }, 202, headers);
  }

  /** The `cus_…` id of a reference, `null` when the customer does not exist (the object answers the 404). */
  async #customerId(scope: Scope, ref: string, route: EdgeRoute): Promise<string | null> {
    const cacheKey = `${scope.tenantId}:${scope.appId}:${ref}`;
    const cached = this.#customers.get(cacheKey);
    if (cached) return cached;
    const redisKey = `${this.#app(scope)}:cref:${ref}`;
    let id = await this.live.redis.get<string>(redisKey);
    if (!id) {
      const response = await route.internal(
        `customer?tenant_id=${encodeURIComponent(scope.tenantId)}&app_id=${
          encodeURIComponent(scope.appId)
        }&ref=${encodeURIComponent(ref)}`,
      );
      if (response.status === 404) return null;
      if (!response.ok) throw new Error(`Tenant object could not resolve a customer: ${response.status}`);
      id = (await response.json() as { id: string }).id;
      await this.live.redis.set(redisKey, id, { ex: CUSTOMER_REF_TTL_SECONDS });
    }
    if (this.#customers.size >= MAX_CACHED_CUSTOMERS) this.#customers.clear();
    this.#customers.set(cacheKey, id);
    return id;
  }

  async #check(c: Context, entry: DirectoryEntry, route: EdgeRoute): Promise<Response> {
    const parsed = CheckBody.safeParse(route.json);
    if (!parsed.success) return await route.forward(); // the canonical 400
    const input = parsed.data;
    const scope: Scope = { tenantId: entry.tenant_id, appId: entry.app_id };
    const consume = parseQuantity(input.consume ?? 0);
    let recordKey: string | null = null;
    let key: LiveKey;
    let r: LiveCheck;
    if (!this.live.available) return await route.forward(); // circuit open: Redis failed a moment ago
    try {
      const limited = await this.#limited(c, entry, [input.customer_id]);
      if (limited) return limited;
      const customerId = await this.#customerId(scope, input.customer_id, route);
      if (!customerId) return await route.forward();
      key = { scope, customerId, feature: input.feature };
      if (consume > 0n) {
        const fingerprint = `${customerId}\n${input.feature}\n${formatDecimal(consume)}`;
        const candidate = `${this.#app(scope)}:ck:${input.idempotency_key}`;
        // Recorded as pending until the queue accepted the event: a record left behind by an
        // attempt whose outcome is unknown (a Redis timeout) is never mistaken for a consumption.
        const set = await this.live.redis.set(candidate, `${fingerprint}${PENDING}`, {
          nx: true,
          px: CONSUMPTION_RECORD_TTL_MS,
        });
        if (set === null) {
          const seen = await this.live.redis.get<string>(candidate);
          if (seen === `${fingerprint}${PENDING}`) {
            // An earlier attempt is in progress or ended without an answer: the object decides
            // (it stores the event once; the counter can only come out too high).
            return await this.#forwardRecording(route, candidate, key, consume, input.feature);
          }
          if (seen !== null && seen !== fingerprint) {
            return problem(
              c,
              409,
              "idempotency_key_reused",
              `Idempotency key "${input.idempotency_key}" was already used with a different consumption`,
            );
          }
          if (seen !== null) {
            const current = await this.live.check(key, decimalFromInteger(0), Date.now());
            // A feature drawing credits is answered on its pool: the object settles its replays.
            if (current.status !== "ok" || current.entitlement.feature?.credit_system) {
              return await route.forward();
            }
            return c.json(replayAnswer(input, current.entitlement, current.used, consume), 200);
          }
        }
        recordKey = candidate;
      }
      r = await this.live.check(key, consume, Date.now());
    } catch (error) {
      if (error instanceof BillingError) return errorToResponse(error, c, this.#log);
      if (!(error instanceof LiveStoreUnavailable)) {
        this.#log({
          level: "error",
          msg: "edge check failed; asking the tenant object",
          error: String(error),
        });
      }
      await this.#unrecord(recordKey);
      return await route.forward();
    }
    // Stale or cold entries, and features drawing from a credit system (their checks settle on the
    // pool, whose cost may depend on the check's properties), are settled by the tenant object.
    if (
      r.status === "stale" || r.status === "cold" ||
      (r.status === "ok" && r.entitlement.feature?.credit_system)
    ) {
      await this.#unrecord(recordKey);
      return await this.#forwardRecording(route, recordKey, key, consume, input.feature);
    }
    if (r.status === "denied") {
      await this.#unrecord(recordKey);
      const decision = decide(input, r.entitlement, r.used, consume);
      if (decision.allowed) throw new Error(`Live store denied what the rule allows (used ${r.used})`);
      return c.json(decision, 200);
    }
    let decision: ConsumptionDecision;
    try {
      decision = decide(input, r.entitlement, r.used, consume);
      if (r.consumed > 0n && (!decision.allowed || parseQuantity(decision.consumed) !== r.consumed)) {
        throw new Error(`Live store consumed what the rule denies (used ${r.used}, consume ${consume})`);
      }
    } catch (error) {
      await this.#giveBack(key, r.consumed, r.entitlement.period_start_ms, recordKey);
      if (error instanceof BillingError) return errorToResponse(error, c, this.#log);
      throw error;
    }
    if (r.consumed === 0n) {
      await this.#unrecord(recordKey);
      return c.json(decision, 200);
    }
    let done: Promise<unknown> = Promise.resolve();
    try {
      // The record turns from pending to consumed alongside the send (no extra round trip); if
      // the queue refuses, the record is deleted below (after this write landed).
      done = this.live.redis.set(
        recordKey!,
        `${key.customerId}\n${input.feature}\n${formatDecimal(consume)}`,
        {
          px: CONSUMPTION_RECORD_TTL_MS,
        },
      ).catch(() => {/* stays pending: a retry goes to the object, which stores the event once */});
      await route.enqueue({
        v: 1,
        scope,
        key_id: entry.key_id,
        received_at: new Date().toISOString(),
        events: [consumptionEvent(input, consume, crossingOf(input, r.entitlement, r.used, r.consumed))],
        consumption: {
          customer_id: key.customerId,
          feature: input.feature,
          period_start_ms: r.entitlement.period_start_ms!,
        },
      });
      await done;
    } catch (error) {
      await done;
      await this.#giveBack(key, r.consumed, r.entitlement.period_start_ms, recordKey);
      this.#log({ level: "error", msg: "usage queue refused a consumption", error: String(error) });
      return problem(
        c,
        503,
        "upstream_unavailable",
        "The consumption could not be recorded; retry with the same idempotency key",
      );
    }
    return c.json(decision, 200);
  }

  /**
   * Forwards a check the object must settle; when it consumed, records the idempotency key so a
   * retry through the hot path answers as a replay instead of consuming again.
   */
  async #forwardRecording(
    route: EdgeRoute,
    recordKey: string | null,
    key: LiveKey,
    consume: Decimal,
    feature: string,
  ): Promise<Response> {
    const response = await route.forward();
    if (!recordKey || response.status !== 200) return response;
    const body = await response.clone().json().catch(() => null) as { consumed?: number | string } | null;
    const consumed = body?.consumed === undefined ? undefined : tryParseDecimal(body.consumed);
    if (consumed !== undefined && consumed > 0n) {
      await this.live.redis.set(recordKey, `${key.customerId}\n${feature}\n${formatDecimal(consume)}`, {
        px: CONSUMPTION_RECORD_TTL_MS,
      }).catch(() => {/* the object's store still answers a retry as a duplicate */});
    }
    return response;
  }

  async #unrecord(recordKey: string | null): Promise<void> {
    if (!recordKey) return;
    await this.live.redis.del(recordKey).catch(() => {/* expires; a retry then replays a denial */});
  }

  async #giveBack(key: LiveKey, units: Decimal, periodStartMs: number | null, recordKey: string | null) {
    if (units > 0n && periodStartMs !== null) {
      await this.live.release(key, units, periodStartMs).catch(() => {});
    }
    await this.#unrecord(recordKey);
  }
}
