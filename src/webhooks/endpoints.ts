/**
 * Outgoing webhooks following the Standard Webhooks specification (standardwebhooks.com).
 *
 * - **Endpoints** (`POST /v1/webhook_endpoints`): a URL and the event types it wants (`"*"`, an
 *   exact type such as `invoice.paid`, or a resource wildcard such as `invoice.*`). The signing
 *   secret (`whsec_` + base64 of 32 random bytes) is returned once, on creation (and on an
 *   idempotent replay of that same creation, as Stripe replays a response).
 * - **Secret storage**: signing needs the secret itself (HMAC, not a verifier), so it cannot be
 *   hashed like API keys. It is sealed with AES-GCM under `BILLING_ENCRYPTION_KEY` in
 *   `webhook_endpoints.secret` (ADR 0012, `storage/secret_box.ts`) and opened only to sign a
 *   delivery or replay its creation; it is never returned after creation, logged, or put in
 *   events or audit rows.
 * - **Deliveries**: the worker reads the transactional outbox (`lifecycle/outbox.ts`), fans each message out
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
 * - **SSRF guard** (`url_guard.ts`): unless `WEBHOOK_ALLOW_PRIVATE_URLS`, creation refuses
 *   plain http and non-public literal hosts, and each attempt first resolves the host and refuses
 *   (attempt `network_error`, nothing sent, delivery `failed` without retries) when it resolves to
 *   a loopback, private, link-local, CGNAT, multicast or reserved address.
 * - **410 Gone**: as the specification asks, a receiver answering 410 disables its endpoint
 *   (event `webhook_endpoint.disabled`, actor `system`) and the delivery is not retried.
 * - **Time**: schedule instants come from the injectable `Clock`; the HTTP timeout is wall time.
 *
 * @module
 */
import { requireSecrets } from "../storage/secret_box.ts";
import { BillingError, notFound } from "../domain/errors.ts";
import { payloadHash } from "../domain/hash.ts";
import { keyReused, onceVerdict } from "../domain/idempotency.ts";
import { isId, newId } from "../domain/ids.ts";
import {
  attemptRows,
  deliveryPage,
  type DeliveryRow,
  deliveryRows,
  endpointPage,
  type EndpointRow,
  endpointRows,
} from "./repository.ts";
import type { Ctx } from "../context.ts";
import { mapPage, type Page, type PageRequest } from "../domain/paging.ts";
import { writeOp } from "../lifecycle/write.ts";
import type { DeliveryOutcome } from "../metrics/service.ts";
import { literalUrlRefusal, URL_NOT_ALLOWED } from "./url_guard.ts";
import type { WebhookEndpointView } from "../domain/views.ts";
export type { WebhookEndpointView };

/** Most endpoints one app may have enabled (a limit on everything). */
export const MAX_ENDPOINTS_PER_APP = 50;
/** Most event filters per endpoint. */
export const MAX_EVENT_FILTERS = 100;
/** Bytes of a receiver's response kept in the attempt log. */
export const RESPONSE_EXCERPT_BYTES = 1024;

/** The column the signing secret is sealed in (the AES-GCM additional data, ADR 0012). */
export const ENDPOINT_SECRET_COLUMN = "webhook_endpoints.secret";

/** Creation result: the endpoint and its signing secret, shown only here. */
export interface CreatedWebhookEndpoint extends WebhookEndpointView {
  /** `whsec_…` Standard Webhooks secret. */
  secret: string;
}

/** One HTTP attempt of a delivery. */
export interface WebhookAttemptView {
  /** 1 for the first attempt, counting on across manual redeliveries. */
  attempt: number;
  /** How the attempt ended (`succeeded`, `failed`, `timeout`, …). */
  outcome: Exclude<DeliveryOutcome, "exhausted">;
  /** The receiver's HTTP status, or null when no answer came. */
  status_code: number | null;
  /** Why the attempt failed (network error, refused target), or null. */
  error: string | null;
  /** The first bytes of the receiver's answer ({@link RESPONSE_EXCERPT_BYTES}), or null. */
  response_body: string | null;
  /** Wall time of the attempt, in milliseconds. */
  duration_ms: number;
  /** When the attempt started (ISO 8601). */
  started_at: string;
}

/** A delivery of one message to one endpoint, with its attempt log. */
export interface WebhookDeliveryView {
  /** TypeID of the delivery (`wdl_…`). */
  id: string;
  /** The endpoint it goes to (`wep_…`). */
  endpoint_id: string;
  /** The message it carries (the lifecycle event's id, the `webhook-id` header). */
  message_id: string;
  /** The message's event type (`invoice.paid`, …). */
  event_type: string;
  /** `pending` until it succeeds or its attempts run out (`failed`). */
  status: "pending" | "succeeded" | "failed";
  /** HTTP attempts made since the last (re)delivery. */
  attempts: number;
  /** When the next attempt is due (ISO 8601), or null unless pending. */
  next_attempt_at: string | null;
  /** HTTP status of the last attempt, or null. */
  last_status_code: number | null;
  /** Error of the last attempt, or null. */
  last_error: string | null;
  /** When the delivery was created (ISO 8601). */
  created_at: string;
  /** When it last changed (ISO 8601). */
  updated_at: string;
  /** Every attempt, oldest first. */
  attempt_log: WebhookAttemptView[];
}

/** A stored webhook endpoint; a stored webhook delivery. */
export type { DeliveryRow, EndpointRow };

/** A stored endpoint → its view (never the secret). */
export function endpointView(row: EndpointRow): WebhookEndpointView {
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
 *   unless `ctx.webhookAllowPrivateUrls` (SSRF guard, `url_guard.ts`)
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
  const box = requireSecrets(ctx);
  const secret = generateWebhookSecret();
  const sealed = await box.seal(secret, ENDPOINT_SECRET_COLUMN);
  const events = [...new Set(input.events)];
  const hash = await payloadHash({ url: input.url, events, description: input.description ?? null });
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    if (idempotencyKey) {
      const prior = await endpointRows.first(tx, ctx.scope, { idempotency_key: idempotencyKey });
      const verdict = onceVerdict(idempotencyKey, hash, prior);
      if (verdict === "conflict") throw keyReused(`Idempotency key "${idempotencyKey}"`);
      if (prior && verdict === "replay") {
        return {
          endpoint: { ...endpointView(prior), secret: await box.open(prior.secret, ENDPOINT_SECRET_COLUMN) },
          replayed: true,
        };
      }
    }
    const n = await endpointRows.count(tx, ctx.scope, { status: "enabled" });
    if (n >= MAX_ENDPOINTS_PER_APP) {
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
      secret: sealed,
      status: "enabled",
      idempotency_key: idempotencyKey ?? null,
      payload_hash: hash,
      created_at: now,
      updated_at: now,
    };
    await endpointRows.insert(tx, ctx.scope, row);
    const view = endpointView(row);
    emit("webhook_endpoint.created", row.id, view);
    return { endpoint: { ...view, secret }, replayed: false };
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

/**
 * The app's endpoints, newest first, one page at a time (`domain/paging.ts`), optionally in one status.
 *
 * @throws {BillingError} `validation_failed` for a cursor this list did not hand out
 */
export async function listWebhookEndpoints(
  ctx: Ctx,
  filter: { status?: "enabled" | "disabled" } & PageRequest = {},
): Promise<Page<WebhookEndpointView>> {
  const page = await endpointPage(ctx.database.db, ctx.scope, { status: filter.status }, {
    limit: filter.limit,
    cursor: filter.cursor,
  });
  return await mapPage(page, endpointView);
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
    emit("webhook_endpoint.disabled", id, view);
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
