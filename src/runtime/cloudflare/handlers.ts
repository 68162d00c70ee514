/**
 * The Worker's handlers (entry: `worker.ts`). The Worker is stateless: it authenticates
 * the caller's API key against the directory, forwards the request to the tenant's Durable Object
 * (which serves the same `createApp` as the Deno server, on its own SQLite), accepts
 * `Prefer: respond-async` usage batches of secret keys onto the usage queue, consumes that queue, and fans the
 * cron trigger out to every tenant object. Design: docs/adr/0005-where-data-lives-on-workers.md.
 *
 * Routing of a request:
 * - `/__internal/*` → 404 (only the Worker calls those paths on objects);
 * - `POST /v1/admin/tenants` with the admin token → the object `tenant:<name>` of the body's name;
 * - a well-formed `sk_`/`pk_` key known to the directory → that key's tenant object;
 * - `POST /v1/providers/stripe/webhook/{app_id}` (Stripe sends no API key; the signature is checked
 *   in the object) → the tenant object of that app, looked up in the directory;
 * - a CORS preflight (`OPTIONS` with `Origin`, no key) → an object whose app allows that origin
 *   (published by the object after each `PATCH /v1/apps/current`);
 * - anything else (no or unknown key, `/openapi.json`, `/docs`, `/healthz`, other admin routes)
 *   → the object `public`, which holds no tenant and answers with the app's own 401/404/docs.
 *
 * @module
 */
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { timingSafeEqual } from "hono/utils/buffer";
import { sha256Hex } from "../../domain/hash.ts";
import { ConfigError } from "../../config.ts";
import { scopeAllows } from "../../tenants/scopes.ts";
import { workerConfig } from "./env.ts";
import { DEFAULT_MAX_BODY_BYTES } from "../../http/app.ts";
import { problem } from "../../http/problem.ts";
import { CreateTenantBody } from "../../tenants/schemas.ts";
import { IngestBody } from "../../usage/schemas.ts";
import { type DirectoryEntry, directoryStub, MAX_TENANT_PAGE } from "./directory_object.ts";
import type { DeadLetterInput } from "../../usage/dead_letters.ts";
import { edgeHotPath } from "./edge_checks.ts";
import {
  INTERNAL_PREFIX,
  type UsageMessageEnvelope,
  type UsageMessageResult,
  workerLogger,
} from "./tenant_object.ts";
import type {
  DurableObjectStub,
  Env,
  ExecutionContext,
  MessageBatch,
  ScheduledController,
  UsageMessage,
} from "./types.ts";

/** Name of the object that answers requests belonging to no tenant. */
export const PUBLIC_OBJECT = "public";
/** Largest serialized body of one queue message (Queues allow 128 KB; keep headroom). */
export const MAX_QUEUE_MESSAGE_BYTES = 96 * 1024;
/** Tenant objects maintained in parallel by one cron run (a limit on everything). */
export const MAINTENANCE_CONCURRENCY = 8;
/** Seconds before a usage message whose tenant object failed is delivered again. */
export const USAGE_RETRY_DELAY_SECONDS = 5;
/**
 * Deliveries after which a usage message that still fails is recorded as a dead letter (in the
 * `public` object, listed by `GET /v1/admin/dead_letters`) and acknowledged, instead of going on
 * to the queue's dead-letter queue. Below `max_retries` (10, `wrangler.toml`), so a failure to
 * record it still has deliveries left.
 */
export const RECORD_DEAD_LETTER_AFTER_ATTEMPTS = 5;
/**
 * Most directory answers one isolate caches (the cache is cleared when full); each is reused for
 * at most {@link EDGE_KEY_CACHE_TTL_MS}.
 */
export const MAX_CACHED_KEYS = 10_000;

/**
 * How long an isolate reuses a directory answer: 750 ms, below the processes' `KEY_CACHE_TTL_MS`
 * (1 s). The tenant object updates the directory before it answers a revoke, so a revoked key
 * stops being served at the edge within this TTL plus one directory round trip; at a full second
 * the revocation test measured 1.0–1.2 s on a loaded machine, over issue 20's one-second bound.
 */
export const EDGE_KEY_CACHE_TTL_MS = 750;

const KEY_PATTERN = /^(sk|pk)_[0-9a-f]{64}$/;
/** The inbound Stripe webhook; its app id selects the tenant object. */
const STRIPE_WEBHOOK_PATH = /^\/v1\/providers\/stripe\/webhook\/([a-z0-9_]{1,128})$/;

function bearer(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match ? match[1] : null;
}

/** The Durable Object stub of a tenant object name. */
function tenantStub(env: Env, name: string): DurableObjectStub {
  return env.TENANTS.get(env.TENANTS.idFromName(name));
}

/**
 * Reads a request body completely, up to `maxBytes`.
 *
 * @returns the bytes, `null` for a request without a body, or `"too_large"`
 */
async function readBounded(
  request: Request,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer> | null | "too_large"> {
  if (request.body === null) return null;
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await request.body.cancel().catch(() => {});
    return "too_large";
  }
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return "too_large";
    }
    parts.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}

/**
 * Forwards a request to an object with its body already read (`bytes`): the object may answer
 * without reading the body (a 401/403 before validation), and a streamed body left unread by
 * the object broke the Worker's next request ("Can't read from request stream after response
 * has been sent").
 */
function forward(
  stub: DurableObjectStub,
  request: Request,
  bytes: Uint8Array<ArrayBuffer> | null,
): Promise<Response> {
  return stub.fetch(
    new Request(request.url, { method: request.method, headers: request.headers, body: bytes }),
  );
}

/** Parses buffered JSON; `null` when absent or not JSON. */
function parseJson(bytes: Uint8Array | null): unknown {
  if (!bytes) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/** Splits events into chunks whose JSON stays under {@link MAX_QUEUE_MESSAGE_BYTES}; null if one event alone is larger. */
function chunkEvents(events: unknown[]): unknown[][] | null {
  const chunks: unknown[][] = [];
  let current: unknown[] = [];
  let size = 0;
  for (const event of events) {
    const bytes = new TextEncoder().encode(JSON.stringify(event)).length + 1;
    if (bytes > MAX_QUEUE_MESSAGE_BYTES - 1024) return null;
    if (size + bytes > MAX_QUEUE_MESSAGE_BYTES - 1024 && current.length > 0) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(event);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * The Worker's event handlers, as workerd calls them on the entry module's default export
 * (Cloudflare's `ExportedHandler` shape, limited to the three events this Worker serves).
 */
export interface WorkerHandlers {
  /**
   * HTTP requests: routed to the tenant object of the API key (looked up in the directory), to the
   * `public` object without one, or answered at the edge (checks and usage on Redis, ADR 0009).
   */
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response>;
  /**
   * Usage queue consumer: appends each message's events to its tenant object; refused, malformed
   * and repeatedly failing messages become dead letters in the `public` object.
   */
  queue(batch: MessageBatch<UsageMessage>, env: Env): Promise<void>;
  /** Cron trigger: runs `runMaintenance` in every tenant object as of the scheduled time. */
  scheduled(controller: ScheduledController, env: Env): Promise<void>;
}

/**
 * Builds the Worker's handlers (`worker.ts` exports them as the default export); the key cache
 * lives as long as the isolate.
 */
export function createWorker(): WorkerHandlers {
  const keyCache = new Map<string, { entry: DirectoryEntry | null; until_ms: number }>();

  async function lookupKey(env: Env, key: string): Promise<DirectoryEntry | null> {
    const hash = await sha256Hex(key);
    const now = Date.now();
    const cached = keyCache.get(hash);
    if (cached && cached.until_ms > now) return cached.entry;
    const response = await directoryStub(env).fetch(`https://directory/keys/${hash}`);
    if (!response.ok && response.status !== 404) {
      throw new Error(`Directory lookup failed: ${response.status}`);
    }
    const entry = response.status === 404 ? null : await response.json() as DirectoryEntry;
    if (keyCache.size >= MAX_CACHED_KEYS) keyCache.clear();
    keyCache.set(hash, { entry, until_ms: now + EDGE_KEY_CACHE_TTL_MS });
    return entry;
  }

  const front = new Hono<{ Bindings: Env; Variables: { requestId: string } }>();
  front.use("*", requestId());
  front.all("*", async (c) => {
    const env = c.env;
    const url = new URL(c.req.url);
    try {
      workerConfig(env);
    } catch (error) {
      // A short BILLING_ADMIN_TOKEN, a malformed BILLING_ENCRYPTION_KEY…: every request fails
      // with a problem naming the variable (never its value) until the operator fixes it.
      if (!(error instanceof ConfigError)) throw error;
      return problem(c, 503, "server_misconfigured", error.message.replaceAll("\n", " "));
    }
    if (url.pathname.startsWith(INTERNAL_PREFIX)) {
      return problem(c, 404, "route_not_found", `No route ${c.req.method} ${url.pathname}`);
    }
    const body = await readBounded(c.req.raw, DEFAULT_MAX_BODY_BYTES);
    if (body === "too_large") return problem(c, 413, "payload_too_large", "The request body is too large");
    const pass = (stub: DurableObjectStub) => forward(stub, c.req.raw, body);
    const token = bearer(c.req.header("authorization"));
    if (url.pathname.startsWith("/v1/admin/")) {
      if (
        c.req.method === "POST" && url.pathname === "/v1/admin/tenants" && token && env.BILLING_ADMIN_TOKEN &&
        (await timingSafeEqual(token, env.BILLING_ADMIN_TOKEN))
      ) {
        const parsed = CreateTenantBody.safeParse(parseJson(body));
        if (parsed.success) return await pass(tenantStub(env, `tenant:${parsed.data.name}`));
      }
      return await pass(tenantStub(env, PUBLIC_OBJECT));
    }
    const stripeApp = url.pathname.match(STRIPE_WEBHOOK_PATH);
    if (stripeApp) {
      const found = await directoryStub(env).fetch(`https://directory/apps/${stripeApp[1]}`);
      if (found.ok) {
        return await pass(tenantStub(env, ((await found.json()) as { tenant_object: string }).tenant_object));
      }
      return await pass(tenantStub(env, PUBLIC_OBJECT));
    }
    const origin = c.req.header("origin");
    if (c.req.method === "OPTIONS" && origin && url.pathname.startsWith("/v1/")) {
      // A preflight carries no key: any object whose app allows the origin answers it like the app does.
      const owner = await directoryStub(env).fetch(
        `https://directory/origins?origin=${encodeURIComponent(origin)}`,
      );
      if (owner.ok) {
        return await pass(tenantStub(env, ((await owner.json()) as { tenant_object: string }).tenant_object));
      }
      return await pass(tenantStub(env, PUBLIC_OBJECT));
    }
    const entry = token && KEY_PATTERN.test(token) ? await lookupKey(env, token) : null;
    if (!entry) return await pass(tenantStub(env, PUBLIC_OBJECT));
    // An expired key, or a route outside the key's scope, is answered by the tenant object (the
    // canonical 401/403 of the app); only the rest may take the edge path or the queue.
    const usable = (entry.expires_at_ms == null || entry.expires_at_ms > Date.now()) &&
      (entry.kind !== "secret" || scopeAllows(entry.scope ?? "full", c.req.method, url.pathname));
    if (!usable) return await pass(tenantStub(env, entry.tenant_object));
    const edge = edgeHotPath(env, workerLogger(env.LOG_LEVEL));
    // Publishable keys act only with a customer session, which the tenant object verifies (signature,
    // customer, minting key): they take the synchronous path there, never the edge or the queue.
    if (edge && entry.kind === "secret") {
      const answered = await edge.handle(c, entry, {
        json: parseJson(body),
        forward: () => pass(tenantStub(env, entry.tenant_object)),
        internal: (path) =>
          tenantStub(env, entry.tenant_object).fetch(`https://tenant${INTERNAL_PREFIX}${path}`),
        enqueue: (message) =>
          env.USAGE_QUEUE.send({ ...message, tenant_object: entry.tenant_object }, { contentType: "json" }),
        enqueueBatch: () => enqueueUsage(env, entry, parseJson(body)),
      });
      if (answered) return answered;
    }
    if (
      entry.kind === "secret" && c.req.method === "POST" && url.pathname === "/v1/events" &&
      /\brespond-async\b/i.test(c.req.header("prefer") ?? "")
    ) {
      const queued = await enqueueUsage(env, entry, parseJson(body));
      if (queued) {
        return c.json({ queued_events: queued.events, messages: queued.messages }, 202, {
          "preference-applied": "respond-async",
        });
      }
    }
    return await pass(tenantStub(env, entry.tenant_object));
  });
  front.onError((error, c) => {
    workerLogger(c.env.LOG_LEVEL)({ level: "error", msg: "worker routing failed", error: String(error) });
    return problem(
      c,
      503,
      "upstream_unavailable",
      "The tenant's storage did not answer; retry with the same idempotency keys",
    );
  });

  /**
   * Puts a valid usage batch on the queue, split into messages under the size limit.
   *
   * @returns what was queued, or `null` when the batch must be processed synchronously (invalid
   *   body: the tenant object answers with the canonical 400; an event too large for a message)
   */
  async function enqueueUsage(
    env: Env,
    entry: DirectoryEntry,
    json: unknown,
  ): Promise<{ events: number; messages: number } | null> {
    const parsed = IngestBody.safeParse(json);
    if (!parsed.success) return null;
    const raw = (json as { events: unknown[] }).events;
    const chunks = chunkEvents(raw);
    if (!chunks) return null;
    const received_at = new Date().toISOString();
    for (const events of chunks) {
      const message: UsageMessage = {
        v: 1,
        tenant_object: entry.tenant_object,
        scope: { tenantId: entry.tenant_id, appId: entry.app_id },
        key_id: entry.key_id,
        received_at,
        events,
      };
      await env.USAGE_QUEUE.send(message, { contentType: "json" });
    }
    return { events: raw.length, messages: chunks.length };
  }

  return {
    /** HTTP requests. */
    fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
      return front.fetch(request, env, ctx);
    },

    /**
     * Usage queue consumer: groups a batch by tenant object and appends each group in one call
     * to that object; when that call fails, each message of the group is appended on its own, so
     * one bad message cannot hold back the others. Per message:
     * - counted (or a duplicate: event ids are idempotency keys) → ack; events the tenant refused
     *   are recorded as a `rejected` dead letter first;
     * - malformed (can never be appended) → recorded as a `malformed` dead letter, ack;
     * - failed → retried after {@link USAGE_RETRY_DELAY_SECONDS}; from the
     *   {@link RECORD_DEAD_LETTER_AFTER_ATTEMPTS}th delivery on it is recorded as a `failed` dead
     *   letter and acked instead.
     * Dead letters live in the `public` object (`GET /v1/admin/dead_letters`); a message whose
     * dead letter could not be recorded is retried, never acked unrecorded.
     */
    async queue(batch: MessageBatch<UsageMessage>, env: Env): Promise<void> {
      const log = workerLogger(env.LOG_LEVEL);
      type Delivery = typeof batch.messages[number];
      const letters: { message: Delivery; letter: DeadLetterInput }[] = [];
      const letterOf = (
        m: Delivery,
        reason: DeadLetterInput["reason"],
        error: string,
        refused?: NonNullable<UsageMessageResult["refused"]>,
      ) => {
        const body = (m.body ?? {}) as Partial<UsageMessage>;
        const text = (v: unknown) => (typeof v === "string" ? v : null);
        letters.push({
          message: m,
          letter: {
            message_id: m.id,
            reason,
            tenant_object: text(body.tenant_object),
            tenant_id: text(body.scope?.tenantId),
            app_id: text(body.scope?.appId),
            key_id: text(body.key_id),
            received_at: text(body.received_at),
            events: refused ? refused.map((r) => r.event) : Array.isArray(body.events) ? body.events : [],
            error,
            refusals: refused ? refused.map((r) => r.reason) : null,
            attempts: m.attempts,
          },
        });
      };
      const groups = new Map<string, Delivery[]>();
      for (const message of batch.messages) {
        const name = message.body?.tenant_object;
        if (typeof name !== "string" || !name.startsWith("tenant:")) {
          letterOf(message, "malformed", "Message names no tenant object");
          continue;
        }
        groups.set(name, [...(groups.get(name) ?? []), message]);
      }
      const append = async (name: string, messages: Delivery[]): Promise<UsageMessageResult[]> => {
        const envelopes: UsageMessageEnvelope[] = messages.map((m) => ({ id: m.id, body: m.body }));
        const response = await tenantStub(env, name).fetch(`https://tenant${INTERNAL_PREFIX}usage`, {
          method: "POST",
          body: JSON.stringify(envelopes),
        });
        if (!response.ok) {
          throw new Error(`Tenant object answered ${response.status}: ${await response.text()}`);
        }
        return await response.json() as UsageMessageResult[];
      };
      const retry: Delivery[] = [];
      for (const [name, messages] of groups) {
        let results: UsageMessageResult[];
        try {
          results = await append(name, messages);
        } catch (error) {
          log({
            level: "error",
            msg: "usage batch failed; appending its messages one by one",
            tenant_object: name,
            messages: messages.length,
            error: String(error),
          });
          results = [];
          for (const m of messages) {
            try {
              results.push(...await append(name, [m]));
            } catch (single) {
              results.push({ id: m.id, outcome: "retry", error: String(single) });
            }
          }
        }
        const byId = new Map(results.map((r) => [r.id, r]));
        for (const m of messages) {
          const result = byId.get(m.id) ?? { id: m.id, outcome: "retry", error: "No result for the message" };
          if (result.outcome === "done") {
            if (result.refused && result.refused.length > 0) {
              const byCode = Map.groupBy(result.refused, (r) => r.reason.code);
              const counts = [...byCode].map(([code, list]) => `${code} ×${list.length}`).join(", ");
              letterOf(m, "rejected", `${result.refused.length} events refused: ${counts}`, result.refused);
            } else m.ack();
          } else if (result.outcome === "rejected") {
            letterOf(m, "malformed", result.error ?? "Rejected by the tenant object");
          } else if (m.attempts >= RECORD_DEAD_LETTER_AFTER_ATTEMPTS) {
            letterOf(m, "failed", result.error ?? "Failed");
          } else {
            retry.push(m);
          }
        }
        log({ level: "info", msg: "usage batch appended", tenant_object: name, results });
      }
      if (letters.length > 0) {
        let recorded = false;
        try {
          const response = await tenantStub(env, PUBLIC_OBJECT).fetch(
            `https://tenant${INTERNAL_PREFIX}dead_letters`,
            { method: "POST", body: JSON.stringify(letters.map((l) => l.letter)) },
          );
          recorded = response.ok;
          if (!recorded) log({ level: "error", msg: "dead letters not recorded", status: response.status });
        } catch (error) {
          log({ level: "error", msg: "dead letters not recorded", error: String(error) });
        }
        for (const { message } of letters) {
          if (recorded) message.ack();
          else retry.push(message);
        }
      }
      for (const m of retry) m.retry({ delaySeconds: USAGE_RETRY_DELAY_SECONDS });
    },

    /**
     * Cron trigger: runs the periodic jobs (`runMaintenance`: hold expiry, period rollover,
     * webhook delivery) in every tenant object as of the scheduled time.
     */
    async scheduled(controller: ScheduledController, env: Env): Promise<void> {
      const log = workerLogger(env.LOG_LEVEL);
      const now = new Date(controller.scheduledTime).toISOString();
      let after = "";
      let failures = 0;
      for (;;) {
        const page = await directoryStub(env).fetch(
          `https://directory/tenants?limit=${MAX_TENANT_PAGE}${
            after ? `&after=${encodeURIComponent(after)}` : ""
          }`,
        );
        const { tenants } = await page.json() as { tenants: string[] };
        for (let i = 0; i < tenants.length; i += MAINTENANCE_CONCURRENCY) {
          await Promise.all(
            tenants.slice(i, i + MAINTENANCE_CONCURRENCY).map(async (name) => {
              try {
                const response = await tenantStub(env, name).fetch(
                  `https://tenant${INTERNAL_PREFIX}maintenance`,
                  {
                    method: "POST",
                    body: JSON.stringify({ scheduled_time: now }),
                  },
                );
                if (!response.ok) throw new Error(`status ${response.status}: ${await response.text()}`);
                log({
                  level: "info",
                  msg: "maintenance",
                  tenant_object: name,
                  report: await response.json(),
                });
              } catch (error) {
                failures++;
                log({ level: "error", msg: "maintenance failed", tenant_object: name, error: String(error) });
              }
            }),
          );
        }
        if (tenants.length < MAX_TENANT_PAGE) break;
        after = tenants[tenants.length - 1];
      }
      // A failed object is retried by the next trigger; fail the invocation so it shows in the dashboard.
      if (failures > 0) throw new Error(`Maintenance failed for ${failures} tenant object(s)`);
    },
  };
}
