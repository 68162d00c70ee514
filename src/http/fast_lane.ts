/**
 * The fast lane (issue 14, ADR 0015 "Fast lane"): the common case of the hottest POST routes
 * (`/v1/entitlements/check`, `/v1/ledger/entries`, its batch route, `/v1/events`) answered before the Hono chain,
 * with the same answer the chain gives, and everything else handed to the full app unchanged.
 *
 * The full app stays the single source of truth for every unusual answer: the lane handles only a
 * request it can answer exactly as the chain would and FALLS THROUGH (hands the request, body
 * intact, to the full app) on any doubt:
 *
 * - not `POST` of a lane route's exact path (a query string, a trailing slash: through);
 * - no `Content-Length` or one over the body limit; a `Content-Type` other than `application/json`
 *   (optionally `; charset=utf-8`); an `Origin` (CORS is the chain's);
 * - an address currently throttled for failed authentication, a missing or malformed bearer, a key
 *   the resolver does not know (the chain refuses it and counts the failure), a publishable key
 *   (sessions, origins and the per-customer rate limit are the chain's), a scope that does not
 *   reach the route (`scopeAllows`, the chain's 403);
 * - a body with the escape `\u0000` (the U+0000 guard answers it), JSON that does not parse, or a
 *   body the route's validator does not accept (the zod schema answers the canonical 400).
 *
 * What the lane does give a handled request is what the chain's middleware gives it: a fresh
 * request id (`X-Request-Id`, and in problems), the client's usable `X-Request-Id` kept as
 * `X-Correlation-Id`, the CORS header of a request without `Origin` (`Vary: Origin`, on the
 * publishable-key routes), the request metrics (route label = the route's
 * path) and the check counters, the request log line, and errors of the service rendered by the
 * app's own `errorToResponse`.
 * A request with an `Idempotency-Key` header (our SDK sends one on every POST) goes through the
 * idempotency middleware's own core, `runIdempotent` in `idempotency.ts`, after validation: key
 * length, body key mismatch, conflict, replay, and the stored answer of an executed request are
 * decided by the same code as in the chain (a body the validator doubts falls through first, and the
 * chain then applies the same rules).
 * Key resolution goes through the app's `KeyResolver`, so revocation staleness is the same
 * (`KEY_CACHE_TTL_MS`, ADR 0013). `tests/http/fast_lane_test.ts` compares lane and chain answers
 * and stored state on generated requests.
 *
 * @module
 */
import type { Context } from "hono";
import type { Ctx, Services } from "../context.ts";
import type { Principal } from "../tenants/service.ts";
import { scopeAllows } from "../tenants/scopes.ts";
import { errorToResponse, problem } from "./problem.ts";
import { runIdempotent } from "./idempotency.ts";

/** What a lane route's handler answers: a JSON body with its status (and extra headers). */
export interface LaneAnswer {
  /** HTTP status of the answer (200, 201). */
  status: number;
  /** The JSON body, serialized with `JSON.stringify` as Hono's `c.json` does. */
  body: unknown;
  /** Extra response headers (lower-case names), e.g. `idempotent-replayed`. */
  headers?: Record<string, string>;
  /** For the entitlement check: whether it allowed (the `entitlement_checks` counter); else absent. */
  checkAllowed?: boolean;
}

/** One route of the lane: its exact path, a strict-subset validator and the route's service call. */
export interface LaneRoute<I = unknown> {
  /** The exact request path (`/v1/entitlements/check`); also the metrics route label. */
  path: string;
  /**
   * The validated input of a parsed JSON body, or `null` to fall through. Must accept only bodies
   * the route's zod schema accepts, and give the input the schema would give (a subset: on any
   * doubt `null`, so the schema answers the canonical problem).
   */
  validate(body: unknown): I | null | Promise<I | null>;
  /** The route's handler for a secret key after validation: the same service call as the route. */
  handle(ctx: Ctx, input: I): Promise<LaneAnswer>;
}

/** What the lane shares with the app it fronts. */
export interface LaneDeps {
  /** The process's services (the same object the app serves). */
  services: Services;
  /** The app's key resolver (its cache and single flight are shared with the chain). */
  resolveKey(token: string): Promise<Principal | null>;
  /**
   * The resolver's answer when its cache has it, without a promise (`KeyResolver.cached`):
   * `undefined` sends the lane to {@link LaneDeps.resolveKey}. Absent: always ask `resolveKey`.
   */
  cachedKey?(token: string): Principal | null | undefined;
  /** Whether the client's address is throttled for failed authentication now (the app's throttle). */
  throttled(request: Request, env: unknown): boolean;
  /** Largest body in bytes the app accepts (`maxBodyBytes`). */
  maxBodyBytes: number;
  /**
   * Paths whose answers carry the CORS headers of a request without `Origin` (the publishable-key
   * routes: `browserCors` in `cors.ts` sets them there only).
   */
  corsPaths: ReadonlySet<string>;
}

/** Counters of the lane (tests assert the lane actually answered; not exported as metrics). */
export interface LaneStats {
  /** Requests answered by the lane. */
  handled: number;
  /** Requests of a lane route handed to the full app. */
  fellThrough: number;
  /** Of {@link LaneStats.handled}: requests with an `Idempotency-Key` header (executed, replayed or refused). */
  keyed: number;
}

const STATS = new WeakMap<object, LaneStats>();

/** Records the counters of the lane in front of `app` (for {@link laneStats}). */
export function rememberLane(app: object, stats: LaneStats): void {
  STATS.set(app, stats);
}

/** The counters of the lane in front of `app`, or `undefined` when it has none (`fastLane: false`). */
export function laneStats(app: object): LaneStats | undefined {
  return STATS.get(app);
}

/** The app's `fetch`: the Hono chain. */
export type FetchHandler = (
  request: Request,
  env?: unknown,
  executionCtx?: unknown,
) => Response | Promise<Response>;

/** The bearer token of an `Authorization` header, as the app's middleware reads it. */
const BEARER = /^Bearer\s+(\S+)\s*$/i;
/** A client's correlation id worth keeping (as `app.ts`): 1–200 visible ASCII characters. */
const CORRELATION_ID = /^[\x21-\x7e]{1,200}$/;

/**
 * The body as text when it has at most `max` bytes; else a stream of the whole body (the bytes read
 * so far, then the rest), for the chain's body limit to answer. Reads at most `max` + one chunk.
 */
async function readAtMost(
  body: ReadableStream<Uint8Array> | null,
  max: number,
): Promise<string | ReadableStream<Uint8Array>> {
  if (body === null) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > max) {
      return new ReadableStream<Uint8Array>({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(chunk);
        },
        async pull(controller) {
          const next = await reader.read();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
        cancel(reason) {
          return reader.cancel(reason);
        },
      });
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** The path of an absolute request URL (`http://h/p?q` → `/p?q`), without parsing the URL. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  return start < 0 ? "/" : url.slice(start);
}

function jsonContentType(type: string | null): boolean {
  if (type === null) return false;
  if (type === "application/json") return true; // what clients send: no lower-casing copy
  const t = type.toLowerCase();
  return t === "application/json" || t === "application/json; charset=utf-8";
}

/** The part of Hono's context that `problem()` and `errorToResponse` read: the request id. */
function appContext(requestId: string): Context {
  return { get: (name: string) => (name === "requestId" ? requestId : undefined) } as unknown as Context;
}

/** `response` with the CORS headers of a request without `Origin` when `cors` (as `browserCors`). */
function withCors(response: Response, cors: boolean): Response {
  if (cors) {
    response.headers.append("vary", "Origin");
  }
  return response;
}

/**
 * Builds the lane in front of `full` (the app's Hono `fetch`).
 *
 * @returns a `fetch` handler that answers the lane's common case and hands everything else to
 *   `full`, and the lane's counters
 */
export function fastLane(
  deps: LaneDeps,
  // deno-lint-ignore no-explicit-any -- each route validates its own input type
  routes: readonly LaneRoute<any>[],
  full: FetchHandler,
): { fetch: FetchHandler; stats: LaneStats } {
  const byPath = new Map(routes.map((r) => [r.path, r]));
  const stats: LaneStats = { handled: 0, fellThrough: 0, keyed: 0 };
  const { services } = deps;

  /** Hands a request whose body was read to the chain, body intact. */
  const through = (request: Request, text: string | null, env: unknown, executionCtx: unknown) => {
    stats.fellThrough++;
    if (text === null) return full(request, env, executionCtx);
    return full(
      new Request(request.url, { method: request.method, headers: request.headers, body: text }),
      env,
      executionCtx,
    );
  };

  const serve = async (
    route: LaneRoute,
    request: Request,
    env: unknown,
    executionCtx: unknown,
  ): Promise<Response> => {
    const headers = request.headers;
    const length = headers.get("content-length");
    if (
      (length !== null && !(Number(length) <= deps.maxBodyBytes)) ||
      !jsonContentType(headers.get("content-type")) ||
      headers.has("origin") || deps.throttled(request, env)
    ) {
      return await through(request, null, env, executionCtx);
    }
    const token = headers.get("authorization")?.match(BEARER)?.[1];
    // A cached key costs no promise (issue 14); otherwise the resolver's single flight.
    let principal = token ? deps.cachedKey?.(token) : null;
    if (principal === undefined) {
      try {
        principal = await deps.resolveKey(token!);
      } catch {
        // The key store failed: the chain asks again and renders what fails.
        return await through(request, null, env, executionCtx);
      }
    }
    if (principal?.kind !== "secret" || !scopeAllows(principal.scope, "POST", route.path)) {
      return await through(request, null, env, executionCtx);
    }
    let text: string;
    try {
      if (length !== null) {
        text = await request.text(); // the server reads exactly Content-Length bytes
      } else {
        const read = await readAtMost(request.body, deps.maxBodyBytes);
        if (typeof read !== "string") {
          stats.fellThrough++;
          return await full(
            new Request(request.url, { method: "POST", headers, body: read }),
            env,
            executionCtx,
          );
        }
        text = read;
      }
    } catch {
      // The body could not be read (the client went away): the chain's reading fails the same way.
      return await through(request, null, env, executionCtx);
    }
    if (text.includes("\\u0000")) return await through(request, text, env, executionCtx);
    let input: unknown;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
      const validated = route.validate(parsed);
      // A synchronous validator (the check's) costs no microtask.
      input = validated instanceof Promise ? await validated : validated;
    } catch {
      input = null; // malformed JSON: the chain's validator answers it
    }
    if (input === null) return await through(request, text, env, executionCtx);

    stats.handled++;
    const started = performance.now();
    const requestId = crypto.randomUUID();
    const client = headers.get("x-request-id");
    const correlationId = client !== null && CORRELATION_ID.test(client) ? client : undefined;
    const ctx: Ctx = {
      ...services,
      scope: { tenantId: principal.tenantId, appId: principal.appId },
      actor: principal.keyId,
      requestId,
    };
    const cors = deps.corsPaths.has(route.path);
    let allowed: boolean | undefined;
    const execute = async (): Promise<Response> => {
      try {
        const answer = await route.handle(ctx, input);
        allowed = answer.checkAllowed;
        // Every header in one go (each later `headers.set` validates and copies again), as a
        // record: Deno converts a record with less work than a list of pairs (issue 14).
        const out: Record<string, string> = { "content-type": "application/json", "x-request-id": requestId };
        if (correlationId) out["x-correlation-id"] = correlationId;
        if (cors) out["vary"] = "Origin";
        if (answer.headers) Object.assign(out, answer.headers);
        return new Response(JSON.stringify(answer.body), { status: answer.status, headers: out });
      } catch (error) {
        // The app's own rendering of errors; `problem()` reads the request id through `c.get` and
        // sets `x-request-id`. As in the chain, a problem rendered by `onError` carries no
        // correlation id (Hono's headers prepared with `c.header()` reach only the handler's answer).
        return withCors(errorToResponse(error, appContext(requestId), services.log), cors);
      }
    };
    const key = headers.get("idempotency-key");
    let response: Response;
    if (key === null) {
      response = await execute();
    } else {
      // The idempotency middleware's own core: a problem or a replay is an answer returned by a
      // middleware, which in the chain carries neither the handler's prepared headers nor a
      // correlation id, only what the answer itself sets (and the CORS headers).
      stats.keyed++;
      let executed = false;
      const answer = await runIdempotent(ctx, { method: "POST", path: route.path, key, body: parsed }, {
        execute: () => {
          executed = true;
          return execute();
        },
        problem: (status, code, detail, fields) =>
          problem(appContext(requestId), status, code, detail, fields),
      });
      response = executed ? answer : withCors(answer, cors);
    }
    const status = response.status;
    // One clock read for the histogram and the log line (each read is an op call).
    const elapsedMs = performance.now() - started;
    services.metrics?.observeRequest("POST", route.path, status, elapsedMs / 1000);
    if (allowed !== undefined && status === 200) services.metrics?.recordEntitlementCheck(allowed);
    services.log({
      level: "info",
      msg: "request",
      request_id: requestId,
      ...(correlationId ? { correlation_id: correlationId } : {}),
      method: "POST",
      path: route.path,
      status,
      duration_ms: Math.round(elapsedMs * 100) / 100,
    });
    return response;
  };

  const fetch: FetchHandler = (request, env, executionCtx) => {
    if (request.method !== "POST") return full(request, env, executionCtx);
    const route = byPath.get(pathOf(request.url));
    if (!route) return full(request, env, executionCtx);
    return serve(route, request, env, executionCtx);
  };
  return { fetch, stats };
}
