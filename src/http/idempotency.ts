/**
 * The `Idempotency-Key` header on every POST that creates or changes something, with Stripe's
 * semantics and the one rule of `domain/idempotency.ts`:
 *
 * - the first request with a key executes; its status and body are stored (per app, at least
 *   {@link IDEMPOTENCY_RETENTION_MS});
 * - a retry with the same key and the same request (method, path and canonical JSON body) gets
 *   the stored status and body back with `Idempotent-Replayed: true`, and nothing runs again;
 * - the same key with another request answers 409 `idempotency_key_reused`;
 * - a body that also names an `idempotency_key` different from the header answers 400
 *   `idempotency_key_mismatch` (the header and the body key must agree when both are given).
 *
 * Answers that say nothing about the request (5xx, 429) are not stored, so a retry executes.
 * Two concurrent first requests with one key may both execute (the first stored answer wins);
 * every creating route is also idempotent on its own natural or body key, so the effect happens
 * once. Routes that handle the header themselves ({@link SELF_IDEMPOTENT_ROUTES}) are left alone.
 *
 * @module
 */
import { createMiddleware } from "hono/factory";
import type { MiddlewareHandler } from "hono";
import { canonicalJson, payloadHash } from "../domain/hash.ts";
import { keyReused, onceVerdict } from "../domain/idempotency.ts";
import { findStoredAnswer, pruneStoredAnswers, storeAnswer } from "../storage/idempotent_requests.ts";
import type { AppEnv } from "./env.ts";
import type { Ctx, Services } from "../context.ts";
import { problem } from "./problem.ts";
import type { FieldIssue } from "../domain/errors.ts";
import { requireSecrets } from "../storage/secret_box.ts";

/** Name of the request header. */
export const IDEMPOTENCY_HEADER = "Idempotency-Key";
/** Name of the response header set on a replayed answer. */
export const REPLAYED_HEADER = "Idempotent-Replayed";
/** How long a stored answer is kept at least: 24 hours (Stripe's window), ms. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 3_600_000;
/** Longest key accepted (Stripe: 255 characters). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** Largest answer stored, bytes of its body; a larger one is not stored (a retry executes). */
export const MAX_STORED_BODY_BYTES = 1024 * 1024;

/**
 * POST routes whose handler takes the header itself (the service stores the resource under the
 * key): webhook endpoints, whose replay must return the signing secret from the endpoint row.
 */
export const SELF_IDEMPOTENT_ROUTES: ReadonlySet<string> = new Set([
  "/v1/webhook-endpoints",
  "/v1/webhook_endpoints",
]);

/** The column a stored answer holding a secret is sealed in (the AES-GCM additional data, ADR 0012). */
export const STORED_ANSWER_COLUMN = "idempotent_requests.body";

/**
 * Whether the answer of `path` carries a credential (a new API key, a customer session token):
 * such an answer is stored sealed under `BILLING_ENCRYPTION_KEY` (ADR 0012), or not at all
 * without one (a retry then executes again).
 */
export function answerHoldsSecret(path: string): boolean {
  return path === "/v1/api_keys" || path === "/v1/customer_sessions" ||
    /^\/v1\/api_keys\/[^/]+\/roll$/.test(path);
}

/** One request that carries a valid-looking `Idempotency-Key`, as {@link runIdempotent} reads it. */
export interface IdempotentRequest {
  /** HTTP method (`POST`). */
  method: string;
  /** Request path without query (`/v1/events`): part of what a key is bound to. */
  path: string;
  /** The `Idempotency-Key` header's value, unchecked (the core answers a bad length). */
  key: string;
  /**
   * The body: the parsed JSON value, or the raw text when it does not parse (hashed as text; the
   * route's validator answers the malformed body), `null` for an empty body.
   */
  body: unknown;
}

/** What {@link runIdempotent} needs from its caller (the middleware, the fast lane). */
export interface IdempotencyHooks {
  /** Runs the route and gives its final answer (handler or rendered error), to be stored. */
  execute(): Promise<Response>;
  /** Renders a problem exactly as the caller's pipeline does (`problem()` with its request id). */
  problem(status: number, code: string, detail: string, fields?: FieldIssue[]): Response;
}

/**
 * The body of a request as the idempotency rules hash it: the parsed JSON, the raw text when it
 * does not parse, `null` when empty.
 */
export function idempotentBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text; // hashed as text; validation answers the malformed body
  }
}

/**
 * The one implementation of the `Idempotency-Key` rules (module doc), shared by
 * {@link idempotencyMiddleware} and the fast lane (`fast_lane.ts`, ADR 0015): checks the key
 * (1–{@link MAX_IDEMPOTENCY_KEY_LENGTH} characters, else 400 `validation_failed`) and the body's
 * own `idempotency_key` (400 `idempotency_key_mismatch`), looks the key up in the app's scope
 * (`ctx.scope`), answers 409 `idempotency_key_reused` for another request under the key, replays a
 * stored answer (status, content type and body, `Idempotent-Replayed: true`; a secret-holding
 * answer opened from its seal, ADR 0012), or executes and stores the answer (not 5xx or 429, not
 * over {@link MAX_STORED_BODY_BYTES}, a secret-holding one only sealed).
 *
 * @returns the answer to give: a problem, a replay, or the one `hooks.execute` gave
 */
export async function runIdempotent(
  ctx: Ctx,
  request: IdempotentRequest,
  hooks: IdempotencyHooks,
): Promise<Response> {
  const { key, body, path } = request;
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    return hooks.problem(400, "validation_failed", "The Idempotency-Key header is invalid", [{
      path: "header.idempotency-key",
      message: `Use 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
    }]);
  }
  const bodyKey = body && typeof body === "object" && !Array.isArray(body)
    ? (body as { idempotency_key?: unknown }).idempotency_key
    : undefined;
  if (typeof bodyKey === "string" && bodyKey !== key) {
    return hooks.problem(
      400,
      "idempotency_key_mismatch",
      `The Idempotency-Key header "${key}" and the body's idempotency_key "${bodyKey}" differ`,
      [{ path: "idempotency_key", message: "Must equal the Idempotency-Key header when both are given" }],
    );
  }
  const what = `${request.method} ${path}`;
  const hash = await payloadHash({ request: what, body: canonicalJson(body) });
  const now = ctx.clock.now();
  const found = await findStoredAnswer(ctx.database, ctx.scope, key);
  const prior = found && now.getTime() - found.created_at.getTime() < IDEMPOTENCY_RETENTION_MS
    ? found
    : undefined;
  const verdict = onceVerdict(key, hash, prior);
  if (verdict === "conflict") {
    const error = keyReused(`Idempotency key "${key}"`);
    return hooks.problem(409, error.code, `${error.message} (first used on ${prior!.request})`);
  }
  const secret = answerHoldsSecret(path);
  if (verdict === "replay") {
    const headers = new Headers({ [REPLAYED_HEADER]: "true" });
    if (prior!.content_type) headers.set("content-type", prior!.content_type);
    const stored = secret && prior!.body !== null
      ? await requireSecrets(ctx).open(prior!.body, STORED_ANSWER_COLUMN)
      : prior!.body;
    return new Response(prior!.status === 204 ? null : stored, { status: prior!.status, headers });
  }
  const response = await hooks.execute();
  const status = response.status;
  if (status >= 500 || status === 429) return response;
  const answer = await response.clone().text();
  if (new TextEncoder().encode(answer).length > MAX_STORED_BODY_BYTES) return response;
  if (secret && !ctx.secrets) return response;
  const row = {
    tenant_id: ctx.scope.tenantId,
    app_id: ctx.scope.appId,
    idempotency_key: key,
    request: what,
    payload_hash: hash,
    status,
    content_type: response.headers.get("content-type"),
    body: secret ? await ctx.secrets!.seal(answer, STORED_ANSWER_COLUMN) : answer,
    created_at: now,
  };
  // An expired answer under the key is replaced; one stored meanwhile by a concurrent first
  // request is kept (the first stored answer wins).
  await storeAnswer(ctx.database, row, found !== undefined && !prior);
  return response;
}

/**
 * The middleware, for `/v1/*` after authentication (it needs the app scope from `c.var.ctx`):
 * {@link runIdempotent} around the rest of the chain. Requests without the header, other methods,
 * admin and provider routes pass through.
 */
export function idempotencyMiddleware(): MiddlewareHandler<AppEnv> {
  return createMiddleware<AppEnv>(async (c, next) => {
    const key = c.req.header(IDEMPOTENCY_HEADER);
    const ctx = c.get("ctx");
    if (c.req.method !== "POST" || key === undefined || !ctx || SELF_IDEMPOTENT_ROUTES.has(c.req.path)) {
      return await next();
    }
    const body = key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH
      ? null // not read: the key is refused first
      : idempotentBody(await c.req.text());
    let executed = false;
    const answer = await runIdempotent(ctx, { method: c.req.method, path: c.req.path, key, body }, {
      execute: async () => {
        executed = true;
        await next();
        return c.res;
      },
      problem: (status, code, detail, fields) => problem(c, status, code, detail, fields),
    });
    // After `next()` the chain's answer is `c.res` already (Hono keeps it).
    if (!executed) return answer;
  });
}

/** The OpenAPI 3.1 document as `@hono/zod-openapi` produces it (only the parts read here). */
interface OpenApiDocument {
  /** Operations by path and method. */
  paths?: Record<string, Record<string, OpenApiOperation | undefined> | undefined>;
}

/** One operation of {@link OpenApiDocument}. */
interface OpenApiOperation {
  /** Parameters (path, query, header). */
  parameters?: { name: string; in: string }[];
  /** Responses by status. */
  responses?: Record<string, { headers?: Record<string, unknown> }>;
  /** Security requirements (absent: the route is not called with an API key). */
  security?: unknown[];
}

/**
 * Adds the `Idempotency-Key` header parameter and the `Idempotent-Replayed` response header to
 * every POST operation called with an API key (not admin or provider routes), in place.
 *
 * @returns the same document
 */
export function documentIdempotency<T>(document: T): T {
  const paths = (document as OpenApiDocument).paths ?? {};
  for (const [path, item] of Object.entries(paths)) {
    const post = item?.post;
    if (!post || path.startsWith("/v1/admin/") || path.startsWith("/v1/providers/stripe/webhook")) continue;
    post.parameters ??= [];
    if (!post.parameters.some((p) => p.in === "header" && p.name.toLowerCase() === "idempotency-key")) {
      post.parameters.push({
        name: IDEMPOTENCY_HEADER,
        in: "header",
        required: false,
        description: "Makes a retry safe: the first request executes; a retry with the same key and " +
          "body (within 24 hours, per app) returns the same status and body with " +
          "`Idempotent-Replayed: true`; the same key with another body answers 409 " +
          "`idempotency_key_reused`. Where the body has an `idempotency_key` too, both must agree (400).",
        schema: { type: "string", minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY_LENGTH },
        example: "order-7f3a-attempt",
      } as { name: string; in: string });
    }
    for (const [status, response] of Object.entries(post.responses ?? {})) {
      if (!status.startsWith("2")) continue;
      response.headers = {
        ...response.headers,
        [REPLAYED_HEADER]: {
          description: "`true` when this answer is the stored answer of an earlier request with the same " +
            "Idempotency-Key",
          schema: { type: "string", enum: ["true"] },
        },
      };
    }
  }
  return document;
}

/**
 * Deletes stored answers older than {@link IDEMPOTENCY_RETENTION_MS} (all tenants of the
 * database), at most `limit` per call.
 *
 * @returns rows deleted
 */
export async function pruneIdempotentRequests(
  services: Pick<Services, "database" | "clock">,
  limit = 10_000,
): Promise<number> {
  const cutoff = new Date(services.clock.now().getTime() - IDEMPOTENCY_RETENTION_MS);
  return await pruneStoredAnswers(services.database, cutoff, limit);
}
