/**
 * Builds the Redis-backed services of a process from its configuration: the live entitlement
 * store and the publishable-key rate limiter. Without Redis configured it returns nothing, and the
 * services fall back to their in-process defaults (`liveStore()`, and the per-process
 * `MemoryRateLimiter` that `buildServices` adds) — or, with `LIVE_ENTITLEMENTS=libsql`, no live
 * store at all (every check on the database).
 *
 * @module
 */
import { Redis } from "@upstash/redis";
import type { Config } from "../config.ts";
import type { Services } from "../context.ts";
import { DatabaseOnlyEntitlements } from "../entitlements/live_store.ts";
import { UpstashRateLimiter } from "../http/rate_limit.ts";
import { RedisLiveEntitlements } from "../entitlements/live_store_redis.ts";

/**
 * The Redis-backed services for a configuration.
 *
 * @returns `{ live, rateLimiter }` for a config with `redis` (no limiter when
 *   `publishableRateLimit` is off); without it `{ live: DatabaseOnlyEntitlements }` for
 *   `liveEntitlements: "libsql"`, else `{}`
 * @example
 * const services: Services = { database, clock, lifecycle, entitlementCache, log, ...redisServices(config, log) };
 */
export function redisServices(
  config: Pick<Config, "redis" | "publishableRateLimit" | "liveEntitlements">,
  log: (record: Record<string, unknown>) => void,
): Pick<Services, "live" | "rateLimiter"> {
  if (!config.redis) {
    return config.liveEntitlements === "libsql" ? { live: new DatabaseOnlyEntitlements() } : {};
  }
  const live = new RedisLiveEntitlements({
    url: config.redis.url,
    token: config.redis.token,
    prefix: config.redis.prefix,
    log,
  });
  const limit = config.publishableRateLimit;
  if (!limit) return { live };
  // The limiter's own client keeps @upstash/ratelimit's expected defaults (deserialization on).
  const redis = new Redis({
    url: config.redis.url,
    token: config.redis.token,
    retry: { retries: 0 },
    enableTelemetry: false,
  });
  const rateLimiter = new UpstashRateLimiter({
    redis,
    requests: limit.requests,
    windowSeconds: limit.windowSeconds,
    prefix: `${config.redis.prefix}rl`,
    log,
  });
  return { live, rateLimiter };
}
