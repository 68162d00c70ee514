/**
 * What every service operation receives: storage, the clock, the lifecycle dispatcher, the
 * entitlement cache, and the caller's scope (tenant + app). Built once per process
 * ({@link Services}) and narrowed per request ({@link Ctx}).
 *
 * @module
 */
import type { LifecycleEvent, LifecycleEventType, LifecycleSubscriber } from "../domain/events.ts";
import type { Store, Tx } from "../storage/db.ts";
import type { EntitlementCache } from "./entitlement_cache.ts";
import type { LiveEntitlementStore } from "./live_entitlements.ts";
import type { PublishableRateLimiter } from "./rate_limit.ts";
import type { Metrics } from "./metrics.ts";
import type { CommandWriter } from "./writer.ts";
import { recordLifecycle } from "./outbox.ts";

/** Source of time. Tests inject a fixed or steppable clock. */
export interface Clock {
  now(): Date;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() };

/** The tenancy scope of a request: every row read or written carries both ids. */
export interface Scope {
  tenantId: string;
  appId: string;
}

/** Process-wide dependencies. */
export interface Services {
  /** Storage: libSQL on Deno, the tenant Durable Object's SQLite on Workers (`Store`). */
  database: Store;
  clock: Clock;
  lifecycle: LifecycleDispatcher;
  entitlementCache: EntitlementCache;
  /** Where structured logs go (JSON lines on stdout by default). */
  log: (record: Record<string, unknown>) => void;
  /** Prometheus metrics (`services/metrics.ts`); absent in code paths that do not export any. */
  metrics?: Metrics;
  /**
   * The single writer of ledger and inventory commands (ADR 0003). Absent: one in-process
   * `InProcessWriter` per store, created on first use (`writerFor` in `services/writer.ts`).
   */
  ledgerWriter?: CommandWriter;
  /**
   * Live entitlements and usage counters (`services/live_entitlements.ts`): Redis when
   * configured; absent = one in-process store per database (`liveStore()`).
   */
  live?: LiveEntitlementStore;
  /** Rate limiter for publishable keys (`services/rate_limit.ts`); absent = no limit. */
  rateLimiter?: PublishableRateLimiter;
  /**
   * `WEBHOOK_ALLOW_PRIVATE_URLS`: webhook endpoints may be plain http and target loopback or
   * private addresses (local development, tests). Absent/false = the SSRF guard of
   * `services/webhook_url_guard.ts` applies at creation and at delivery.
   */
  webhookAllowPrivateUrls?: boolean;
}

/** Dependencies plus the caller's scope. */
export interface Ctx extends Services {
  scope: Scope;
  /** Who acts, for the audit trail: the API key id (`key_…`), `admin`, `stripe`; default `system`. */
  actor?: string;
  /** Request id of the HTTP request (audit trail, logs); absent outside requests. */
  requestId?: string;
}

/** Emits an event from inside a write; it is dispatched only after the write commits. */
export type Emit = (type: LifecycleEventType, resourceId: string, data: Record<string, unknown>) => void;

/**
 * Runs `fn` in one write transaction and dispatches the lifecycle events it emitted once the
 * transaction has committed (a rolled-back change emits nothing). Before the commit, the same
 * transaction writes each event to the outbox and appends its audit row (`outbox.ts`), so an
 * event exists exactly when its change does.
 */
export async function writeOp<T>(ctx: Ctx, fn: (tx: Tx, emit: Emit) => Promise<T>): Promise<T> {
  const events: LifecycleEvent[] = [];
  const result = await ctx.database.write(async (tx) => {
    events.length = 0; // a retried transaction starts over
    const emit: Emit = (type, resourceId, data) =>
      events.push({
        type,
        tenant_id: ctx.scope.tenantId,
        app_id: ctx.scope.appId,
        resource_id: resourceId,
        occurred_at: ctx.clock.now(),
        data,
      });
    const value = await fn(tx, emit);
    await recordLifecycle(tx, { actor: ctx.actor ?? "system", requestId: ctx.requestId ?? null }, events);
    return value;
  });
  await ctx.lifecycle.dispatch(events);
  return result;
}

/**
 * Delivers lifecycle events to in-process subscribers. A failing subscriber is logged and never
 * breaks the operation that emitted the event.
 */
export class LifecycleDispatcher {
  readonly #subscribers: LifecycleSubscriber[] = [];
  readonly #log: (record: Record<string, unknown>) => void;

  constructor(log: (record: Record<string, unknown>) => void = () => {}) {
    this.#log = log;
  }

  /** Adds a subscriber; returns a function that removes it. */
  subscribe(subscriber: LifecycleSubscriber): () => void {
    this.#subscribers.push(subscriber);
    return () => {
      const i = this.#subscribers.indexOf(subscriber);
      if (i >= 0) this.#subscribers.splice(i, 1);
    };
  }

  /** Hands each event to every subscriber, in order; errors are logged, not thrown. */
  async dispatch(events: readonly LifecycleEvent[]): Promise<void> {
    for (const event of events) {
      for (const subscriber of this.#subscribers) {
        try {
          await subscriber.handle(event);
        } catch (error) {
          this.#log({ level: "error", msg: "lifecycle subscriber failed", subscriber: subscriber.name, event: event.type, error: String(error) });
        }
      }
    }
  }
}
