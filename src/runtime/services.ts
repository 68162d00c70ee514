/**
 * The services of every runtime (the local Deno server, each Deno Deploy isolate and each tenant
 * Durable Object on Workers): one place that decides the logger, the live entitlement store, the
 * publishable-key rate limit and metrics from the validated configuration (`config.ts`).
 *
 * @module
 */
import type { Config } from "../config.ts";
import { LifecycleDispatcher } from "../lifecycle/dispatcher.ts";
import type { Services } from "../context.ts";
import { systemClock } from "../domain/scope.ts";
import { MemoryEntitlementCache } from "../entitlements/cache.ts";
import { DatabaseOnlyEntitlements } from "../entitlements/live_store.ts";
import { Metrics } from "../metrics/service.ts";
import { MemoryRateLimiter } from "../http/rate_limit.ts";
import type { Store } from "../storage/db.ts";
import { redisServices } from "./redis.ts";
import { jsonLogger } from "./log.ts";

export { jsonLogger } from "./log.ts";

/**
 * Builds the services over an open store.
 *
 * Live entitlements: Redis when `UPSTASH_REDIS_REST_URL` is set; otherwise, when
 * `sharedByIsolates` (Deno Deploy: many isolates, one database), every check goes to libSQL,
 * because per-isolate counters could let isolates overshoot a hard limit together (ADR 0006);
 * otherwise `LIVE_ENTITLEMENTS` decides (in-process by default). Publishable keys are rate-limited
 * on Redis when it is configured, else per process ({@link MemoryRateLimiter}); metrics count every
 * lifecycle event; `WEBHOOK_ALLOW_PRIVATE_URLS` switches the webhook SSRF guard off.
 */
export function buildServices(
  config: Config,
  database: Store,
  options: { sharedByIsolates?: boolean } = {},
): Services {
  const log = jsonLogger(config.logLevel);
  const services: Services = {
    database,
    clock: systemClock,
    lifecycle: new LifecycleDispatcher(log),
    entitlementCache: new MemoryEntitlementCache(),
    log,
    metrics: new Metrics(),
    webhookAllowPrivateUrls: config.webhookAllowPrivateUrls === true,
    ...(options.sharedByIsolates && !config.redis
      ? { live: new DatabaseOnlyEntitlements() }
      : redisServices(config, log)),
  };
  if (!services.rateLimiter && config.publishableRateLimit) {
    services.rateLimiter = new MemoryRateLimiter(config.publishableRateLimit);
  }
  services.lifecycle.subscribe(services.metrics!.subscriber());
  return services;
}
