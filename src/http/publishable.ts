/**
 * What the routes open to publishable keys (`POST /v1/events`, `POST /v1/entitlements/check`)
 * share: their security requirement, the customer-session check, their 429 response and the
 * per-customer rate limit of publishable keys (see `rate_limit.ts`).
 *
 * A publishable key is public (it ships in every browser bundle), so on its own it may do nothing:
 * each request also carries a customer session token (`Customer-Session: cs_…`, minted by the
 * customer's backend with `POST /v1/customer_sessions`), verified by the authentication middleware.
 * {@link authorizeCustomers} then lets the request name only that customer (and, when the token
 * lists features, only those features).
 *
 * @module
 */
import type { Context } from "hono";
import type { AppEnv } from "./env.ts";
import { problem } from "./problem.ts";
import type { RateDecision } from "./rate_limit.ts";

/** Security requirement of routes that accept a secret or a publishable key. */
export const anyKey: Record<string, string[]>[] = [{ bearerAuth: [] }, { publishableKey: [] }];

/** Request header that carries a customer session token next to the publishable key. */
export const CUSTOMER_SESSION_HEADER = "customer-session";

/**
 * Refuses a publishable-key request that names a customer other than its session's, or a feature
 * the session does not list: 403 `customer_not_allowed` / `feature_not_allowed`. The answer does
 * not depend on whether the other customer exists, and nothing is read before it. Secret keys pass.
 *
 * @param items each customer reference (`cus_…` or external id) and feature the request acts on
 * @returns the 403 response, or `null` when every item is the session's customer
 */
export function authorizeCustomers(
  c: Context<AppEnv>,
  items: readonly { customer_id: string; feature: string }[],
): Response | null {
  if (c.var.principal.kind !== "publishable") return null;
  const session = c.var.session;
  if (!session) {
    return problem(c, 401, "customer_session_required", "Publishable keys need a Customer-Session token");
  }
  for (const item of items) {
    if (item.customer_id !== session.cus && item.customer_id !== session.ext) {
      return problem(
        c,
        403,
        "customer_not_allowed",
        "This customer session may only act on its own customer",
      );
    }
    if (session.ftr && !session.ftr.includes(item.feature)) {
      return problem(
        c,
        403,
        "feature_not_allowed",
        `This customer session does not cover feature "${item.feature}"`,
      );
    }
  }
  return null;
}

/** The 429 response of a publishable key over its per-customer rate limit. */
export const rateLimited = {
  429: {
    description: "Publishable key over its per-customer rate limit (see Retry-After)",
    content: { "application/problem+json": { schema: { type: "object" } } },
  },
} as const;

/**
 * Applies the per-customer limit to publishable keys; returns the 429 response when exceeded.
 * Every limited answer (the 2xx as well as the 429) carries the IETF draft headers
 * `RateLimit-Limit` (requests per window), `RateLimit-Remaining` and `RateLimit-Reset` (seconds
 * until the window frees a request); the 429 also carries `Retry-After` (seconds). Secret keys,
 * and answers let through because the limiter failed, carry none.
 */
export async function limitPublishable(
  c: Context<AppEnv>,
  customerRefs: readonly string[],
): Promise<Response | null> {
  const limiter = c.var.ctx.rateLimiter;
  if (!limiter || c.var.principal.kind !== "publishable") return null;
  // Counted per session customer, so naming it by cus_ id or external id shares one budget
  const refs = c.var.session ? [c.var.session.cus] : customerRefs;
  const decision = await limiter.limit(c.var.ctx.scope, refs);
  if (decision.success) {
    for (const [name, value] of Object.entries(rateLimitHeaders(decision))) c.header(name, value);
    return null;
  }
  return rateLimitedResponse(c, decision);
}

/** The `RateLimit-*` headers of a decision (none when the limiter failed open: `limit` 0). */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  if (decision.limit <= 0) return {};
  return {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(Math.max(0, Math.ceil((decision.reset_ms - Date.now()) / 1000))),
  };
}

/**
 * The 429 `rate_limited` problem of a publishable key over its limit, with `Retry-After`
 * (seconds, at least 1) and the `RateLimit-*` headers of the decision. Shared by the app and the
 * Worker's edge path.
 */
export function rateLimitedResponse(c: Context, decision: RateDecision): Response {
  const res = problem(
    c,
    429,
    "rate_limited",
    `Too many requests for this customer with a publishable key; retry after the window resets`,
  );
  for (const [name, value] of Object.entries(rateLimitHeaders(decision))) res.headers.set(name, value);
  const resetSeconds = Math.max(0, Math.ceil((decision.reset_ms - Date.now()) / 1000));
  res.headers.set("retry-after", String(Math.max(1, resetSeconds)));
  return res;
}
