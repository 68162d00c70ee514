/**
 * Webhook delivery (Standard Webhooks): the worker fans outbox messages out to the subscribed
 * endpoints, sends each endpoint's queue in order, retries with backoff and logs every attempt.
 * Endpoints and the delivery log are in `endpoints.ts`, pruning of old history in `retention.ts`;
 * the rules (order, retries, SSRF guard, 410 Gone) are described there.
 *
 * @module
 */
import { requireSecrets, type SecretBox } from "../storage/secret_box.ts";
import { Webhook } from "standardwebhooks";
import type { WebhookPayload } from "./events.ts";
import { newId } from "../domain/ids.ts";
import { backoffDelayMs } from "../storage/retry.ts";
import {
  attemptRows,
  claimableHeadsOfAllScopes,
  deliveryRows,
  enabledEndpointsOfApps,
  endpointBirths,
  endpointRows,
  insertDeliveriesIfAbsent,
  leaseDeliveries,
  markFannedOut,
  type MessageRow,
  scopeOf,
  unfannedMessagesOfAllScopes,
} from "./repository.ts";
import type { Services } from "../context.ts";
import type { LifecycleEvent } from "../domain/events.ts";
import { sweepTimedEvents } from "../lifecycle/sweeper.ts";
import { startScheduler } from "../lifecycle/scheduler.ts";
import { recordLifecycle } from "../lifecycle/outbox.ts";
import type { DeliveryOutcome } from "../metrics/service.ts";
import { checkDeliveryTarget, denoResolver, type HostResolver } from "./url_guard.ts";
import {
  type DeliveryRow,
  ENDPOINT_SECRET_COLUMN,
  type EndpointRow,
  endpointView,
  eventMatches,
  RESPONSE_EXCERPT_BYTES,
} from "./endpoints.ts";
import { pruneWebhookHistory } from "./retention.ts";

// Worker

/** Tuning of the delivery worker; every field has a default. */
export interface WebhookWorkerOptions {
  /** Attempts per delivery before it is `failed` (default 8). */
  maxAttempts?: number;
  /** Backoff before the 2nd attempt, ms (default 5 000); doubles each attempt. */
  baseDelayMs?: number;
  /** Cap of one backoff, ms (default 3 600 000 = 1 h). */
  maxDelayMs?: number;
  /** Wall-clock timeout of one HTTP attempt, ms (default 10 000). */
  timeoutMs?: number;
  /** Outbox messages fanned out per drain (default 500). */
  fanOutBatch?: number;
  /** Endpoints sent to per round (default 50). */
  endpointsPerRound?: number;
  /**
   * Rounds per drain: each sends at most one message per endpoint (default 200: on Workers a
   * drain runs once per cron tick, and a burst of a few hundred events to one endpoint must not
   * take hours to go out).
   */
  roundsPerDrain?: number;
  /** No new round starts once a drain has run this long, ms (default 60 000): a bound on one drain. */
  drainBudgetMs?: number;
  /** Uniform random in [0, 1) for jitter (default `Math.random`). */
  random?: () => number;
  /** HTTP client (default global `fetch`). */
  fetch?: typeof fetch;
  /**
   * Resolver of endpoint host names for the delivery-time SSRF check (default `Deno.resolveDns`
   * where it exists; none on Workers). Not used when `services.webhookAllowPrivateUrls`.
   */
  resolveHost?: HostResolver;
}

const DEFAULTS = {
  maxAttempts: 8,
  baseDelayMs: 5_000,
  maxDelayMs: 3_600_000,
  timeoutMs: 10_000,
  fanOutBatch: 500,
  endpointsPerRound: 50,
  roundsPerDrain: 200,
  drainBudgetMs: 60_000,
} as const;

export { backoffDelayMs };

/** What one drain did. */
export interface DrainReport {
  /** Outbox messages fanned out. */
  fanned_out: number;
  /** Deliveries created by the fan-out. */
  deliveries_created: number;
  /** HTTP attempts made. */
  attempted: number;
  /** Attempts the receiver accepted (2xx). */
  succeeded: number;
  /** Attempts that failed and were rescheduled. */
  retried: number;
  /** Deliveries that failed their last attempt and gave up. */
  exhausted: number;
}

/**
 * Fans new outbox messages out to deliveries, in one write transaction, oldest first.
 *
 * @returns messages processed and deliveries created
 */
export async function fanOut(
  services: Services,
  batch: number = DEFAULTS.fanOutBatch,
): Promise<{ messages: number; deliveries: number }> {
  const now = services.clock.now();
  return await services.database.write(async (tx) => {
    const messages = await unfannedMessagesOfAllScopes(tx, batch);
    if (messages.length === 0) return { messages: 0, deliveries: 0 };
    const apps = [...new Set(messages.map((m) => m.app_id))];
    const endpoints = await enabledEndpointsOfApps(tx, apps);
    // An endpoint receives the messages committed after its own creation (exact, by sequence).
    const createdAt = await endpointBirths(tx, endpoints);
    const rows: DeliveryRow[] = [];
    for (const m of messages) {
      for (const e of endpoints) {
        if (e.tenant_id !== m.tenant_id || e.app_id !== m.app_id) continue;
        if (m.seq <= (createdAt.get(e.id) ?? Number.MAX_SAFE_INTEGER)) continue;
        if (!eventMatches(e.events as string[], m.type)) continue;
        rows.push({
          id: newId("wdl"),
          tenant_id: m.tenant_id,
          app_id: m.app_id,
          endpoint_id: e.id,
          message_id: m.id,
          message_seq: m.seq,
          event_type: m.type,
          status: "pending",
          attempts: 0,
          next_attempt_at: now,
          locked_until: null,
          last_status_code: null,
          last_error: null,
          created_at: now,
          updated_at: now,
        });
      }
    }
    await insertDeliveriesIfAbsent(tx, rows);
    await markFannedOut(tx, messages.map((m) => m.seq), now);
    return { messages: messages.length, deliveries: rows.length };
  });
}

interface Claimed {
  delivery: DeliveryRow;
  endpoint: EndpointRow;
  message: MessageRow;
}

/** Claims the due head delivery of up to `limit` endpoints (lease = timeout + 30 s). */
async function claimHeads(services: Services, limit: number, timeoutMs: number): Promise<Claimed[]> {
  const now = services.clock.now();
  const lease = new Date(now.getTime() + timeoutMs + 30_000);
  return await services.database.write(async (tx) => {
    const heads = await claimableHeadsOfAllScopes(tx, now, limit);
    await leaseDeliveries(tx, heads.map((h) => h.delivery.id), lease);
    return heads;
  });
}

/**
 * The JSON body of a message (Standard Webhooks payload: `type`, `timestamp`, `data`), shaped by
 * {@link WebhookPayload}, the envelope the OpenAPI `webhooks` document (`events.ts`).
 */
export function webhookBody(
  message: {
    id: string;
    type: string;
    occurred_at: Date;
    app_id: string;
    resource_id: string;
    data: unknown;
  },
): string {
  const payload: WebhookPayload = {
    id: message.id,
    type: message.type,
    timestamp: message.occurred_at.toISOString(),
    app_id: message.app_id,
    resource_id: message.resource_id,
    data: message.data,
  };
  return JSON.stringify(payload);
}

interface AttemptResult {
  outcome: Exclude<DeliveryOutcome, "exhausted">;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
  duration_ms: number;
  /** The SSRF guard refused the target: nothing was sent and the delivery is not retried. */
  refused?: boolean;
}

/** Where a delivery may go: the SSRF setting and the host resolver of the delivery-time check. */
interface TargetPolicy {
  allowPrivate: boolean;
  resolve: HostResolver | undefined;
}

async function send(
  claimed: Claimed,
  now: Date,
  timeoutMs: number,
  http: typeof fetch,
  policy: TargetPolicy,
  secrets: SecretBox | undefined,
): Promise<AttemptResult> {
  const checkStarted = performance.now();
  const target = await checkDeliveryTarget(
    claimed.endpoint.url,
    policy.allowPrivate,
    policy.resolve,
    timeoutMs,
  );
  if (!target.ok) {
    return {
      outcome: "network_error",
      status_code: null,
      error: target.error,
      response_body: null,
      duration_ms: Math.round(performance.now() - checkStarted),
      refused: target.permanent,
    };
  }
  const body = webhookBody(claimed.message);
  let secret: string;
  try {
    secret = await requireSecrets({ secrets }).open(claimed.endpoint.secret, ENDPOINT_SECRET_COLUMN);
  } catch (error) {
    // Nothing was sent: the attempt is logged and retried once the operator fixed the key.
    return {
      outcome: "network_error",
      status_code: null,
      error: `The signing secret could not be opened: ${(error as Error).message}`,
      response_body: null,
      duration_ms: 0,
    };
  }
  const signature = new Webhook(secret).sign(claimed.message.id, now, body);
  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const res = await http(claimed.endpoint.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "edge-billing-webhooks/1",
        "webhook-id": claimed.message.id,
        "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
        "webhook-signature": signature,
      },
      body,
      signal: controller.signal,
      redirect: "manual",
    });
    const text = (await res.text()).slice(0, RESPONSE_EXCERPT_BYTES);
    const ok = res.status >= 200 && res.status < 300;
    return {
      outcome: ok ? "succeeded" : "http_error",
      status_code: res.status,
      error: ok ? null : `HTTP ${res.status}`,
      response_body: text,
      duration_ms: elapsed(),
    };
  } catch (error) {
    if (controller.signal.aborted) {
      return {
        outcome: "timeout",
        status_code: null,
        error: `No response within ${timeoutMs} ms`,
        response_body: null,
        duration_ms: elapsed(),
      };
    }
    return {
      outcome: "network_error",
      status_code: null,
      error: String(error).slice(0, 500),
      response_body: null,
      duration_ms: elapsed(),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One pass of the delivery worker: fan out new outbox messages, then up to `roundsPerDrain`
 * rounds of "send the due head of each endpoint". Safe to call concurrently from several
 * processes (deliveries are leased). Used by the Deno background loop
 * ({@link startWebhookWorker}), by tests, and by a Workers queue consumer.
 */
export async function drainWebhooksOnce(
  services: Services,
  options: WebhookWorkerOptions = {},
): Promise<DrainReport> {
  const o = { ...DEFAULTS, ...options };
  const random = options.random ?? Math.random;
  const http = options.fetch ?? fetch;
  const policy: TargetPolicy = {
    allowPrivate: services.webhookAllowPrivateUrls === true,
    resolve: options.resolveHost ?? denoResolver(),
  };
  const report: DrainReport = {
    fanned_out: 0,
    deliveries_created: 0,
    attempted: 0,
    succeeded: 0,
    retried: 0,
    exhausted: 0,
  };
  const fan = await fanOut(services, o.fanOutBatch);
  report.fanned_out = fan.messages;
  report.deliveries_created = fan.deliveries;
  const started = Date.now();
  for (let round = 0; round < o.roundsPerDrain && Date.now() - started < o.drainBudgetMs; round++) {
    const claimed = await claimHeads(services, o.endpointsPerRound, o.timeoutMs);
    if (claimed.length === 0) break;
    const startedAt = services.clock.now();
    const results = await Promise.all(
      claimed.map((c) => send(c, startedAt, o.timeoutMs, http, policy, services.secrets)),
    );
    const now = services.clock.now();
    const disabled: LifecycleEvent[] = [];
    await services.database.write(async (tx) => {
      disabled.length = 0;
      for (let i = 0; i < claimed.length; i++) {
        const { delivery } = claimed[i];
        const r = results[i];
        const attempt = delivery.attempts + 1;
        await attemptRows.insert(tx, scopeOf(delivery), {
          id: newId("wat"),
          delivery_id: delivery.id,
          endpoint_id: delivery.endpoint_id,
          attempt,
          outcome: r.outcome,
          status_code: r.status_code,
          error: r.error,
          response_body: r.response_body,
          duration_ms: r.duration_ms,
          started_at: startedAt,
        });
        let status: DeliveryRow["status"] = "pending";
        let next = delivery.next_attempt_at;
        const gone = r.status_code === 410;
        if (r.outcome === "succeeded") status = "succeeded";
        else if (attempt >= o.maxAttempts || gone || r.refused) status = "failed";
        else next = new Date(now.getTime() + backoffDelayMs(attempt, o, random()));
        if (gone) {
          // Standard Webhooks: 410 Gone means the receiver wants no more messages.
          const endpoint: EndpointRow = { ...claimed[i].endpoint, status: "disabled", updated_at: now };
          await endpointRows.update(tx, scopeOf(endpoint), { id: endpoint.id }, {
            status: "disabled",
            updated_at: now,
          });
          disabled.push({
            type: "webhook_endpoint.disabled",
            tenant_id: endpoint.tenant_id,
            app_id: endpoint.app_id,
            resource_id: endpoint.id,
            occurred_at: now,
            data: { ...endpointView(endpoint), reason: "receiver answered 410 Gone" },
          });
        }
        await deliveryRows.update(tx, scopeOf(delivery), { id: delivery.id }, {
          status,
          attempts: attempt,
          next_attempt_at: next,
          locked_until: null,
          last_status_code: r.status_code,
          last_error: r.error,
          updated_at: now,
        });
        services.metrics?.recordWebhookDelivery(r.outcome);
        if (status === "succeeded") report.succeeded++;
        else if (status === "failed") {
          report.exhausted++;
          services.metrics?.recordWebhookDelivery("exhausted");
        } else report.retried++;
        services.log({
          level: status === "failed" ? "error" : "info",
          msg: "webhook attempt",
          endpoint_id: delivery.endpoint_id,
          delivery_id: delivery.id,
          message_id: delivery.message_id,
          attempt,
          outcome: r.outcome,
          status_code: r.status_code,
          delivery_status: status,
        });
      }
      await recordLifecycle(tx, { actor: "system", requestId: null }, disabled);
    });
    await services.lifecycle.dispatch(disabled);
    report.attempted += claimed.length;
  }
  return report;
}

/** A running background delivery loop. */
export interface WebhookWorker {
  /** Runs one drain now (waits for a running one first). */
  drainNow(): Promise<DrainReport>;
  /** Stops the loop after the drain in progress (if any) has finished. */
  stop(): Promise<void>;
}

/** How often the background worker prunes old history, ms (hourly). */
export const PRUNE_EVERY_MS = 3_600_000;

/**
 * Starts a webhook-only worker on the one scheduler (`lifecycle/scheduler.ts`): a drain every
 * `intervalMs` (default 1 000), never two at once; errors are logged and the loop continues.
 * The Deno server runs the same work as its `webhooks` maintenance job. With `sweep: true` each
 * pass first emits the due time-based lifecycle events (`lifecycle/sweeper.ts`), so they go out
 * in the same pass.
 * Hourly it prunes history older than `retentionMs` ({@link pruneWebhookHistory}).
 */
export function startWebhookWorker(
  services: Services,
  options: WebhookWorkerOptions & { intervalMs?: number; sweep?: boolean; retentionMs?: number } = {},
): WebhookWorker {
  let stopped = false;
  let lastPrune = Number.NEGATIVE_INFINITY;
  const empty: DrainReport = {
    fanned_out: 0,
    deliveries_created: 0,
    attempted: 0,
    succeeded: 0,
    retried: 0,
    exhausted: 0,
  };
  const drain = async (): Promise<DrainReport> => {
    if (options.sweep) await sweepTimedEvents(services);
    const report = await drainWebhooksOnce(services, options);
    const now = services.clock.now().getTime();
    if (now - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = now;
      await pruneWebhookHistory(services, { retentionMs: options.retentionMs });
    }
    return report;
  };
  const scheduler = startScheduler(services, [{
    name: "webhooks",
    intervalMs: options.intervalMs ?? 1_000,
    run: drain,
  }]);
  return {
    drainNow: () => (stopped ? Promise.resolve(empty) : scheduler.exclusive(drain)),
    async stop() {
      stopped = true;
      await scheduler.stop();
    },
  };
}
