/**
 * The dependency container: what every service operation receives: storage, the clock, the lifecycle dispatcher, the
 * entitlement cache, and the caller's scope (tenant + app). Built once per process
 * ({@link Services}) and narrowed per request ({@link Ctx}).
 *
 * @module
 */
import type { Clock, Scope } from "./domain/scope.ts";
import type { LifecycleDispatcher } from "./lifecycle/dispatcher.ts";
import type { Store } from "./storage/db.ts";
import type { EntitlementCache } from "./entitlements/cache.ts";
import type { LiveEntitlementStore } from "./entitlements/live_store.ts";
import type { PublishableRateLimiter } from "./http/rate_limit.ts";
import type { Metrics } from "./metrics/service.ts";
import type { CommandWriter } from "./ledger/writer.ts";
import type { UsageSink } from "./usage/sink.ts";
import type { SecretBox } from "./storage/secret_box.ts";

/** Process-wide dependencies. */
export interface Services {
  /** Storage: libSQL on Deno, the tenant Durable Object's SQLite on Workers (`Store`). */
  database: Store;
  /** Source of "now" for every rule that depends on time; tests pass a controllable clock. */
  clock: Clock;
  /** Hands committed lifecycle events to in-process subscribers (webhooks, metrics, plugins). */
  lifecycle: LifecycleDispatcher;
  /** Cache of customers' subscriptions and plan features for entitlement checks. */
  entitlementCache: EntitlementCache;
  /** Where structured logs go (JSON lines on stdout by default). */
  log: (record: Record<string, unknown>) => void;
  /** Prometheus metrics (`metrics/service.ts`); absent in code paths that do not export any. */
  metrics?: Metrics;
  /**
   * The single writer of ledger and inventory commands (ADR 0003). Absent: one in-process
   * `InProcessWriter` per store, created on first use (`writerFor` in `ledger/writer.ts`).
   */
  ledgerWriter?: CommandWriter;
  /**
   * Live entitlements and usage counters (`entitlements/live_store.ts`): Redis when
   * configured; absent = one in-process store per database (`liveStore()`).
   */
  live?: LiveEntitlementStore;
  /**
   * Where accepted usage is appended (`usage/sink.ts`): absent = the primary database, as on
   * every runtime by default; an edge node with a Turso replica appends to its outbox and
   * pushes it in the background (ADR 0014).
   */
  usageSink?: UsageSink;
  /** Rate limiter for publishable keys (`http/rate_limit.ts`); absent = no limit. */
  rateLimiter?: PublishableRateLimiter;
  /**
   * `WEBHOOK_ALLOW_PRIVATE_URLS`: webhook endpoints may be plain http and target loopback or
   * private addresses (local development, tests). Absent/false = the SSRF guard of
   * `webhooks/url_guard.ts` applies at creation and at delivery.
   */
  webhookAllowPrivateUrls?: boolean;
  /**
   * Seals and opens the secret columns (webhook signing secrets, Stripe keys; ADR 0012) under
   * `BILLING_ENCRYPTION_KEY`. Absent: those secrets can be neither stored nor read (503
   * `encryption_key_missing`), never stored in clear.
   */
  secrets?: SecretBox;
}

/** Dependencies plus the caller's scope. */
export interface Ctx extends Services {
  /** Tenant and app of the caller; every read and write is confined to it. */
  scope: Scope;
  /** Who acts, for the audit trail: the API key id (`key_…`), `admin`, `stripe`; default `system`. */
  actor?: string;
  /** Request id of the HTTP request (audit trail, logs); absent outside requests. */
  requestId?: string;
}
