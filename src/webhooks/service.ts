/**
 * Outgoing webhooks following the Standard Webhooks specification (standardwebhooks.com).
 *
 * - **Endpoints** (`POST /v1/webhook-endpoints`): a URL and the event types it wants (`"*"`, an
 *   exact type such as `invoice.paid`, or a resource wildcard such as `invoice.*`). The signing
 *   secret (`whsec_` + base64 of 32 random bytes) is returned once, on creation (and on an
 *   idempotent replay of that same creation, as Stripe replays a response).
 * - **Secret storage**: signing needs the secret itself (HMAC, not a verifier), so it cannot be
 *   hashed like API keys. It is stored as-is in `webhook_endpoints.secret`, inside the database
 *   that already holds every tenant's billing data and is the trust boundary; it is never
 *   returned after creation, logged, or put in events or audit rows.
 * - **Deliveries**: the worker reads the transactional outbox (`outbox.ts`), fans each message out
 *   to the subscribed endpoints of its app (only endpoints created before the event committed),
 *   and POSTs `{ id, type, timestamp, app_id, resource_id, data }` with the headers
 *   `webhook-id` (the message id, stable across retries, for receiver de-duplication),
 *   `webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature`
 *   (`v1,` + base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`, computed by the official
 *   `standardwebhooks` package).
 * - **Order**: per endpoint, only the pending delivery with the lowest outbox sequence is sent;
 *   the next waits until it succeeded or gave up. Endpoints are independent of each other.
 * - **Retries**: a non-2xx answer, a timeout ({@link WebhookWorkerOptions.timeoutMs}) or a network
 *   error schedules the next attempt after an exponential backoff with "equal jitter"
 *   ({@link backoffDelayMs}: base·2^(n−1) capped, then a uniform draw in [½, 1] of it, as in
 *   AWS's "Exponential Backoff And Jitter"), up to {@link WebhookWorkerOptions.maxAttempts};
 *   then the delivery is `failed` and the endpoint's queue moves on. At least once: a delivery is
 *   marked succeeded only after the receiver's 2xx was recorded, so a crash in between re-sends.
 * - **Log**: every attempt is a `webhook_attempts` row (outcome, status, error, first 1 KiB of the
 *   response, duration). Manual redelivery puts a delivery back at its place in the endpoint's
 *   queue with a fresh attempt budget.
 * - **SSRF guard** (`webhook_url_guard.ts`): unless `WEBHOOK_ALLOW_PRIVATE_URLS`, creation refuses
 *   plain http and non-public literal hosts, and each attempt first resolves the host and refuses
 *   (attempt `network_error`, nothing sent, delivery `failed` without retries) when it resolves to
 *   a loopback, private, link-local, CGNAT, multicast or reserved address.
 * - **410 Gone**: as the specification asks, a receiver answering 410 disables its endpoint
 *   (event `webhook_endpoint.disabled`, actor `system`) and the delivery is not retried.
 * - **Time**: schedule instants come from the injectable `Clock`; the HTTP timeout is wall time.
 *
 * @module
 */
import { Webhook } from "standardwebhooks";
import type { WebhookPayload } from "./events.ts";
import { BillingError, notFound } from "../domain/errors.ts";
import { payloadHash } from "../domain/hash.ts";
import { isId, newId } from "../domain/ids.ts";
import {
  attemptRows,
  claimableHeadsOfAllScopes,
  deliveryPage,
  type DeliveryRow,
  deliveryRows,
  enabledEndpointsOfApps,
  endpointBirths,
  type EndpointRow,
  endpointRows,
  insertDeliveriesIfAbsent,
  leaseDeliveries,
  markFannedOut,
  type MessageRow,
  pruneDeliveredMessagesOfAllScopes,
  pruneFinishedDeliveriesOfAllScopes,
  scopeOf,
  unfannedMessagesOfAllScopes,
} from "./repository.ts";
import type { Ctx, Services } from "../context.ts";
import { writeOp } from "../lifecycle/write.ts";
import type { LifecycleEvent } from "../domain/events.ts";
import { sweepTimedEvents } from "../lifecycle/sweeper.ts";
import { recordLifecycle } from "../lifecycle/outbox.ts";
import type { DeliveryOutcome } from "../metrics/service.ts";
import {
  checkDeliveryTarget,
  denoResolver,
  type HostResolver,
  literalUrlRefusal,
  URL_NOT_ALLOWED,
} from "./url_guard.ts";

/** Most endpoints one app may have enabled (a limit on everything). */
export const MAX_ENDPOINTS_PER_APP = 50;
/** Most event filters per endpoint. */
export const MAX_EVENT_FILTERS = 100;
/** Bytes of a receiver's response kept in the attempt log. */
export const RESPONSE_EXCERPT_BYTES = 1024;

/** An endpoint as the API shows it (never with its secret, except on creation). */
export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  status: "enabled" | "disabled";
  created_at: string;
  updated_at: string;
}

/** Creation result: the endpoint and its signing secret, shown only here. */
export interface CreatedWebhookEndpoint extends WebhookEndpointView {
  /** `whsec_…` Standard Webhooks secret. */
  secret: string;
}

/** One HTTP attempt of a delivery. */
export interface WebhookAttemptView {
  attempt: number;
  outcome: Exclude<DeliveryOutcome, "exhausted">;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
  duration_ms: number;
  started_at: string;
}

/** A delivery of one message to one endpoint, with its attempt log. */
export interface WebhookDeliveryView {
  id: string;
  endpoint_id: string;
  message_id: string;
  event_type: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  attempt_log: WebhookAttemptView[];
}

function endpointView(row: EndpointRow): WebhookEndpointView {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events as string[],
    status: row.status,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes (spec: 24–64 bytes). */
export function generateWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

/**
 * Whether an endpoint's filters select an event type: `*`, the exact type, or `resource.*`.
 */
export function eventMatches(filters: readonly string[], type: string): boolean {
  const resource = type.slice(0, type.indexOf("."));
  return filters.some((f) => f === "*" || f === type || f === `${resource}.*`);
}

/**
 * Creates an endpoint. With an `idempotencyKey`, a retry with the same body returns the same
 * endpoint and secret; another body fails.
 *
 * @param input.url `http(s)` URL without credentials, ≤ 2048 characters; `https` to a public host
 *   unless `ctx.webhookAllowPrivateUrls` (SSRF guard, `webhook_url_guard.ts`)
 * @param input.events 1…{@link MAX_EVENT_FILTERS} filters: `*`, `resource.verb` or `resource.*`
 * @throws {BillingError} `validation_failed` (400) for a bad URL or filter;
 *   `webhook_url_not_allowed` (422, field `url`) for plain http or a loopback, private,
 *   link-local, CGNAT, multicast or reserved host while private targets are not allowed;
 *   `webhook_endpoint_limit_reached` (409); `idempotency_key_reused` (409)
 */
export async function createWebhookEndpoint(
  ctx: Ctx,
  input: { url: string; events: string[]; description?: string | null },
  idempotencyKey?: string,
): Promise<{ endpoint: CreatedWebhookEndpoint; replayed: boolean }> {
  validateEndpoint(input);
  const refusal = literalUrlRefusal(new URL(input.url), ctx.webhookAllowPrivateUrls === true);
  if (refusal) {
    throw new BillingError(
      URL_NOT_ALLOWED,
      "unprocessable",
      "The webhook URL does not reach a public https address (a development server may allow private targets: WEBHOOK_ALLOW_PRIVATE_URLS=true)",
      {
        fields: [{ path: "url", message: refusal }],
      },
    );
  }
  const events = [...new Set(input.events)];
  const hash = await payloadHash({ url: input.url, events, description: input.description ?? null });
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    if (idempotencyKey) {
      const prior = await endpointRows.first(tx, ctx.scope, { idempotency_key: idempotencyKey });
      if (prior) {
        if (prior.payload_hash !== hash) {
          throw new BillingError(
            "idempotency_key_reused",
            "conflict",
            `Idempotency key "${idempotencyKey}" was used for a different endpoint`,
          );
        }
        return { endpoint: { ...endpointView(prior), secret: prior.secret }, replayed: true };
      }
    }
    const n = await endpointRows.count(tx, ctx.scope, { status: "enabled" });
    if (Number(n) >= MAX_ENDPOINTS_PER_APP) {
      throw new BillingError(
        "webhook_endpoint_limit_reached",
        "conflict",
        `An app may have at most ${MAX_ENDPOINTS_PER_APP} enabled webhook endpoints`,
      );
    }
    const row: EndpointRow = {
      id: newId("wep"),
      tenant_id: ctx.scope.tenantId,
      app_id: ctx.scope.appId,
      url: input.url,
      description: input.description ?? null,
      events,
      secret: generateWebhookSecret(),
      status: "enabled",
      idempotency_key: idempotencyKey ?? null,
      payload_hash: hash,
      created_at: now,
      updated_at: now,
    };
    await endpointRows.insert(tx, ctx.scope, row);
    const view = endpointView(row);
    emit("webhook_endpoint.created", row.id, view as unknown as Record<string, unknown>);
    return { endpoint: { ...view, secret: row.secret }, replayed: false };
  });
}

function validateEndpoint(input: { url: string; events: string[] }): void {
  const fields: { path: string; message: string }[] = [];
  let url: URL | null = null;
  try {
    url = new URL(input.url);
  } catch { /* reported below */ }
  if (!url || !["http:", "https:"].includes(url.protocol) || input.url.length > 2048) {
    fields.push({ path: "url", message: "Use an absolute http(s) URL of at most 2048 characters" });
  } else if (url.username || url.password) {
    fields.push({
      path: "url",
      message: "Credentials in the URL are not allowed; the signature authenticates the sender",
    });
  }
  if (input.events.length === 0 || input.events.length > MAX_EVENT_FILTERS) {
    fields.push({ path: "events", message: `List 1 to ${MAX_EVENT_FILTERS} event types` });
  }
  input.events.forEach((e, i) => {
    if (!/^(\*|[a-z_]{1,64}\.(\*|[a-z_]{1,64}))$/.test(e)) {
      fields.push({
        path: `events.${i}`,
        message: `"${e}" is not an event type; use "*", "resource.verb" or "resource.*"`,
      });
    }
  });
  if (fields.length > 0) {
    throw new BillingError("validation_failed", "invalid_request", "The webhook endpoint is invalid", {
      fields,
    });
  }
}

async function loadEndpoint(ctx: Ctx, id: string): Promise<EndpointRow> {
  if (!isId("wep", id)) throw notFound("webhook_endpoint", id);
  const row = await endpointRows.first(ctx.database.db, ctx.scope, { id });
  if (!row) throw notFound("webhook_endpoint", id);
  return row;
}

/** GET one endpoint. @throws {BillingError} `webhook_endpoint_not_found` (404) */
export async function getWebhookEndpoint(ctx: Ctx, id: string): Promise<WebhookEndpointView> {
  return endpointView(await loadEndpoint(ctx, id));
}

/** The app's endpoints, oldest first. */
export async function listWebhookEndpoints(ctx: Ctx): Promise<WebhookEndpointView[]> {
  const rows = await endpointRows.list(ctx.database.db, ctx.scope, {}, { orderBy: [["id", "asc"]] });
  return rows.map(endpointView);
}

/**
 * Disables an endpoint: nothing more is fanned out or sent to it (its log stays readable).
 * Disabling a disabled endpoint returns it unchanged.
 *
 * @throws {BillingError} `webhook_endpoint_not_found` (404)
 */
export async function disableWebhookEndpoint(ctx: Ctx, id: string): Promise<WebhookEndpointView> {
  const row = await loadEndpoint(ctx, id);
  if (row.status === "disabled") return endpointView(row);
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    await endpointRows.update(tx, ctx.scope, { id }, { status: "disabled", updated_at: now });
    const view = endpointView({ ...row, status: "disabled", updated_at: now });
    emit("webhook_endpoint.disabled", id, view as unknown as Record<string, unknown>);
    return view;
  });
}

async function deliveryView(ctx: Ctx, row: DeliveryRow): Promise<WebhookDeliveryView> {
  const attempts = await attemptRows.list(ctx.database.db, ctx.scope, { delivery_id: row.id }, {
    orderBy: [["started_at", "asc"], ["id", "asc"]],
  });
  return {
    id: row.id,
    endpoint_id: row.endpoint_id,
    message_id: row.message_id,
    event_type: row.event_type,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.status === "pending" ? row.next_attempt_at.toISOString() : null,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    attempt_log: attempts.map((a) => ({
      attempt: a.attempt,
      outcome: a.outcome,
      status_code: a.status_code,
      error: a.error,
      response_body: a.response_body,
      duration_ms: a.duration_ms,
      started_at: a.started_at.toISOString(),
    })),
  };
}

/**
 * The delivery log of an endpoint, newest message first, with each delivery's attempts.
 *
 * @param filter.limit 1…100 (default 20); `cursor` = last delivery id of the previous page
 * @throws {BillingError} `webhook_endpoint_not_found` (404)
 */
export async function listDeliveries(
  ctx: Ctx,
  endpointId: string,
  filter: { status?: "pending" | "succeeded" | "failed"; cursor?: string; limit?: number },
): Promise<{ data: WebhookDeliveryView[]; next_cursor: string | null }> {
  await loadEndpoint(ctx, endpointId);
  let beforeSeq: number | undefined;
  if (filter.cursor) {
    const cursorRow = await deliveryRows.first(ctx.database.db, ctx.scope, {
      endpoint_id: endpointId,
      status: filter.status,
      id: filter.cursor,
    });
    if (!cursorRow) {
      throw new BillingError(
        "invalid_cursor",
        "invalid_request",
        `Cursor "${filter.cursor}" is not a delivery of this endpoint`,
      );
    }
    beforeSeq = cursorRow.message_seq;
  }
  const limit = Math.max(1, Math.min(100, filter.limit ?? 20));
  const rows = await deliveryPage(ctx.database.db, ctx.scope, endpointId, {
    status: filter.status,
    before_seq: beforeSeq,
  }, limit + 1);
  const page = rows.slice(0, limit);
  return {
    data: await Promise.all(page.map((r) => deliveryView(ctx, r))),
    next_cursor: rows.length > limit ? page[page.length - 1].id : null,
  };
}

async function loadDelivery(ctx: Ctx, endpointId: string, deliveryId: string): Promise<DeliveryRow> {
  await loadEndpoint(ctx, endpointId);
  const row = isId("wdl", deliveryId)
    ? await deliveryRows.first(ctx.database.db, ctx.scope, { endpoint_id: endpointId, id: deliveryId })
    : undefined;
  if (!row) throw notFound("webhook_delivery", deliveryId);
  return row;
}

/** GET one delivery with its attempts. @throws {BillingError} `webhook_endpoint_not_found`, `webhook_delivery_not_found` (404) */
export async function getDelivery(
  ctx: Ctx,
  endpointId: string,
  deliveryId: string,
): Promise<WebhookDeliveryView> {
  return await deliveryView(ctx, await loadDelivery(ctx, endpointId, deliveryId));
}

/**
 * Manual redelivery: the delivery becomes pending again at its place in the endpoint's queue,
 * due now, with a fresh attempt budget (its attempt log is kept and continues). Redelivering a
 * delivery that is already pending only makes it due now (idempotent). Audited like every
 * change: the same transaction emits `webhook_delivery.redelivered` (resource = the delivery,
 * data = its state after the reset), so the outbox and the audit trail (actor = the API key,
 * request id) record who asked for it.
 *
 * @throws {BillingError} `webhook_endpoint_not_found`, `webhook_delivery_not_found` (404);
 *   `webhook_endpoint_disabled` (409)
 */
export async function redeliver(
  ctx: Ctx,
  endpointId: string,
  deliveryId: string,
): Promise<WebhookDeliveryView> {
  const endpoint = await loadEndpoint(ctx, endpointId);
  if (endpoint.status !== "enabled") {
    throw new BillingError(
      "webhook_endpoint_disabled",
      "conflict",
      `Webhook endpoint "${endpointId}" is disabled`,
    );
  }
  const row = await loadDelivery(ctx, endpointId, deliveryId);
  const now = ctx.clock.now();
  await writeOp(ctx, async (tx, emit) => {
    await deliveryRows.update(tx, ctx.scope, { id: row.id }, {
      status: "pending",
      attempts: 0,
      next_attempt_at: now,
      locked_until: null,
      updated_at: now,
    });
    emit("webhook_delivery.redelivered", row.id, {
      id: row.id,
      endpoint_id: row.endpoint_id,
      message_id: row.message_id,
      event_type: row.event_type,
      status: "pending",
      previous_status: row.status,
      previous_attempts: row.attempts,
      next_attempt_at: now.toISOString(),
    });
  });
  return await getDelivery(ctx, endpointId, deliveryId);
}

// ---------------------------------------------------------------------------------------------
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

/**
 * Delay before attempt `attempt + 1` after `attempt` failures: `min(maxDelayMs, baseDelayMs ·
 * 2^(attempt−1))`, then "equal jitter": half of it plus a uniform random share of the other half.
 * Always within [cap/2, cap], so retries of many endpoints spread out but never wait unbounded.
 *
 * @param attempt failed attempts so far, ≥ 1
 * @param random uniform in [0, 1)
 * @returns whole milliseconds
 */
export function backoffDelayMs(
  attempt: number,
  options: { baseDelayMs: number; maxDelayMs: number },
  random: number,
): number {
  const exponent = Math.min(attempt - 1, 40);
  const capped = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** exponent);
  return Math.floor(capped / 2 + random * (capped / 2));
}

/** What one drain did. */
export interface DrainReport {
  /** Outbox messages fanned out. */
  fanned_out: number;
  /** Deliveries created by the fan-out. */
  deliveries_created: number;
  /** HTTP attempts made. */
  attempted: number;
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
    for (let i = 0; i < rows.length; i += 200) await insertDeliveriesIfAbsent(tx, rows.slice(i, i + 200));
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
  const signature = new Webhook(claimed.endpoint.secret).sign(claimed.message.id, now, body);
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
    const results = await Promise.all(claimed.map((c) => send(c, startedAt, o.timeoutMs, http, policy)));
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

/** Default retention of delivered history (deliveries, attempts, fanned-out outbox rows): 30 days. */
export const DEFAULT_RETENTION_MS = 30 * 24 * 3_600_000;

/** What {@link pruneWebhookHistory} deleted. */
export interface PruneReport {
  deliveries: number;
  attempts: number;
  outbox_messages: number;
}

/**
 * Deletes finished history older than `retentionMs`: succeeded/failed deliveries (last changed
 * before the cutoff) with their attempt log, then outbox messages fanned out before the cutoff
 * that no delivery references any more. Pending deliveries and their messages are never touched;
 * audit rows are kept (they name the message id only). At most `limit` rows of each kind per call.
 */
export async function pruneWebhookHistory(
  services: Services,
  options: { retentionMs?: number; limit?: number } = {},
): Promise<PruneReport> {
  const cutoff = new Date(services.clock.now().getTime() - (options.retentionMs ?? DEFAULT_RETENTION_MS));
  const limit = Math.max(1, Math.min(10_000, options.limit ?? 1_000));
  return await services.database.write(async (tx) => {
    const { deliveries, attempts } = await pruneFinishedDeliveriesOfAllScopes(tx, cutoff, limit);
    const outboxMessages = await pruneDeliveredMessagesOfAllScopes(tx, cutoff, limit);
    return { deliveries, attempts, outbox_messages: outboxMessages };
  });
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
 * Starts the Deno background worker: a drain every `intervalMs` (default 1 000), never two at
 * once; errors are logged and the loop continues. With `sweep: true` each pass first emits the
 * due time-based lifecycle events (`lifecycle_sweeper.ts`), so they go out in the same pass.
 * Hourly it prunes history older than `retentionMs` ({@link pruneWebhookHistory}).
 */
export function startWebhookWorker(
  services: Services,
  options: WebhookWorkerOptions & { intervalMs?: number; sweep?: boolean; retentionMs?: number } = {},
): WebhookWorker {
  const intervalMs = options.intervalMs ?? 1_000;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<DrainReport> | null = null;
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
    while (running) await running.catch(() => undefined);
    const current = (async () => {
      if (options.sweep) await sweepTimedEvents(services);
      const report = await drainWebhooksOnce(services, options);
      const now = services.clock.now().getTime();
      if (now - lastPrune >= PRUNE_EVERY_MS) {
        lastPrune = now;
        await pruneWebhookHistory(services, { retentionMs: options.retentionMs });
      }
      return report;
    })();
    running = current;
    try {
      return await current;
    } finally {
      running = null;
    }
  };
  const tick = async () => {
    if (stopped) return;
    try {
      await drain();
    } catch (error) {
      services.log({ level: "error", msg: "webhook worker drain failed", error: String(error) });
    }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };
  timer = setTimeout(tick, intervalMs);
  return {
    drainNow: () => (stopped ? Promise.resolve(empty) : drain()),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      while (running) await running.catch(() => undefined);
    },
  };
}
