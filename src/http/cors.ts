/**
 * CORS of the API, built on hono's `cors` middleware.
 *
 * - Publishable-key routes (`PUBLISHABLE_ROUTES`: usage and entitlement checks) answer browsers on
 *   the origins their app allows (`PATCH /v1/apps/current { allowed_origins }`).
 *   - A preflight (`OPTIONS`) carries no key, so it is approved for an origin that at least one app
 *     allows; other origins get no `Access-Control-Allow-*` headers and the browser stops there.
 *   - The real request carries the key: a publishable key used from an origin its own app does not
 *     list is refused with 403 `origin_not_allowed` before anything runs (nothing is written), and
 *     the response carries no `Access-Control-Allow-Origin`.
 *   - Same-origin requests (the `Origin` equals the API's own origin, e.g. from `/docs`) are not
 *     cross-origin and pass.
 * - Every other route is for secret keys on servers: a preflight is answered 403
 *   `cors_not_allowed` without any CORS header, so browsers never send the real request.
 * - Requests without an `Origin` header (servers, edge functions, curl) are not affected.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import type { OriginPolicy } from "../apps/service.ts";
import type { KeyResolver } from "../tenants/service.ts";
import type { AppEnv } from "./env.ts";
import { problem } from "./problem.ts";

/** How long browsers may cache an approved preflight, in seconds. */
export const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** Response headers a page may read: the request id, replays, and the rate limit (so clients can pace themselves). */
export const EXPOSED_HEADERS: readonly string[] = [
  "x-request-id",
  "x-correlation-id",
  "idempotent-replayed",
  "ratelimit-limit",
  "ratelimit-remaining",
  "ratelimit-reset",
  "retry-after",
];

function bearer(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match ? match[1] : null;
}

/**
 * The CORS middleware for `/v1/*`; mount it before authentication (preflights carry no key).
 *
 * @param publishablePaths paths whose routes accept publishable keys (`/v1/events`, …)
 */
export function browserCors(
  keys: KeyResolver,
  policy: OriginPolicy,
  publishablePaths: ReadonlySet<string>,
): MiddlewareHandler<AppEnv> {
  const sameOrigin = (origin: string, url: string) => origin === new URL(url).origin;
  const publishableCors = cors({
    origin: async (origin, c) => {
      if (!origin) return null;
      if (sameOrigin(origin, c.req.url)) return origin;
      if (c.req.method === "OPTIONS") return (await policy.allowedByAnyApp(origin)) ? origin : null;
      const token = bearer(c.req.header("authorization"));
      const principal = token ? await keys.resolve(token) : null;
      if (principal?.kind !== "publishable") return null;
      return (await policy.allowsForApp(principal, origin)) ? origin : null;
    },
    allowMethods: ["POST"],
    allowHeaders: ["authorization", "content-type", "customer-session"],
    exposeHeaders: [...EXPOSED_HEADERS],
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  });

  return createMiddleware<AppEnv>(async (c, next) => {
    const origin = c.req.header("origin");
    if (!publishablePaths.has(c.req.path)) {
      if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method")) {
        return problem(
          c,
          403,
          "cors_not_allowed",
          `${c.req.path} is for secret keys on servers; browsers may only call the publishable-key routes`,
        );
      }
      return await next();
    }
    if (origin && c.req.method !== "OPTIONS" && !sameOrigin(origin, c.req.url)) {
      const token = bearer(c.req.header("authorization"));
      const principal = token ? await keys.resolve(token) : null;
      if (principal?.kind === "publishable" && !(await policy.allowsForApp(principal, origin))) {
        return problem(
          c,
          403,
          "origin_not_allowed",
          `Origin "${origin}" is not in this app's allowed_origins`,
        );
      }
    }
    if (!origin && c.req.method !== "OPTIONS") {
      // Not a browser's cross-origin call (servers and edge functions, the hot path). Only
      // `Vary: Origin` concerns it (the answer differs for a request with an Origin); CORS
      // answer headers are read by browsers on CORS requests only (Fetch standard), so
      // `Access-Control-Expose-Headers` is not sent: hono's cors() sends it anyway, and its
      // 140 bytes pushed a check's head and body into two socket writes (ADR 0015, the check
      // over HTTP). The Worker's edge path never sent it. Set on the final response: cors()
      // sets headers on c.res before the handler, which makes Hono build a placeholder
      // response and copy its headers afterwards (about a third of a check's CPU, issue 14).
      await next();
      c.res.headers.append("Vary", "Origin");
      return;
    }
    return await publishableCors(c, next);
  });
}
