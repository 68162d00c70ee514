/**
 * What the routes open to publishable keys (`POST /v1/events`, `POST /v1/entitlements/check`)
 * share: their security requirement, their 429 response and the per-customer rate limit of
 * publishable keys (see `rate_limit.ts`).
 *
 * @module
 */
import type { Context } from "hono";
import type { AppEnv } from "./env.ts";
import { problem } from "./problem.ts";
import type { RateDecision } from "./rate_limit.ts";

/** Security requirement of routes that accept a secret or a publishable key. */
export const anyKey: Record<string, string[]>[] = [{ bearerAuth: [] }, { publishableKey: [] }];

/** The 429 response of a publishable key over its per-customer rate limit. */
export const rateLimited = {
  429: {
    description: "Publishable key over its per-customer rate limit (see Retry-After)",
    content: { "application/problem+json": { schema: { type: "object" } } },
  },
} as const;

/**
 * Applies the per-customer limit to publishable keys; returns the 429 response when exceeded.
 * Secret keys, and servers without a limiter (no Redis), are not limited.
 */
export async function limitPublishable(
  c: Context<AppEnv>,
  customerRefs: readonly string[],
): Promise<Response | null> {
  const limiter = c.var.ctx.rateLimiter;
  if (!limiter || c.var.principal.kind !== "publishable") return null;
  const decision = await limiter.limit(c.var.ctx.scope, customerRefs);
  if (decision.success) return null;
  return rateLimitedResponse(c, decision);
}

/**
 * The 429 `rate_limited` problem of a publishable key over its limit, with `retry-after`
 * (seconds, at least 1) and the `ratelimit-*` headers of the decision.
 */
export function rateLimitedResponse(c: Context, decision: RateDecision): Response {
  const res = problem(
    c,
    429,
    "rate_limited",
    `Too many requests for this customer with a publishable key; retry after the window resets`,
  );
  res.headers.set("retry-after", String(Math.max(1, Math.ceil((decision.reset_ms - Date.now()) / 1000))));
  res.headers.set("ratelimit-limit", String(decision.limit));
  res.headers.set("ratelimit-remaining", String(decision.remaining));
  return res;
}
