/** Usage ingestion and entitlement routes (open to publishable keys, which are rate-limited per customer). @module */
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { checkEntitlement, recordUsage } from "../../services/entitlements.ts";
import { type AppEnv, body, errors, json, router } from "../env.ts";
import { problem } from "../problem.ts";
import { CheckBody, DecisionSchema, IngestBody, IngestReportSchema } from "../schemas.ts";

const anyKey: Record<string, string[]>[] = [{ bearerAuth: [] }, { publishableKey: [] }];

const rateLimited = {
  429: {
    description: "Publishable key over its per-customer rate limit (see Retry-After)",
    content: { "application/problem+json": { schema: { type: "object" } } },
  },
} as const;

/**
 * Applies the per-customer limit to publishable keys; returns the 429 response when exceeded.
 * Secret keys, and servers without a limiter (no Redis), are not limited.
 */
async function limitPublishable(
  c: Context<AppEnv>,
  customerRefs: readonly string[],
): Promise<Response | null> {
  const limiter = c.var.ctx.rateLimiter;
  if (!limiter || c.var.principal.kind !== "publishable") return null;
  const decision = await limiter.limit(c.var.ctx.scope, customerRefs);
  if (decision.success) return null;
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

/** `POST /v1/events` and `POST /v1/entitlements/check`. */
export function usageRoutes() {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/events",
      tags: ["usage"],
      summary: "Ingest up to 1000 usage events; each id is an idempotency key",
      security: anyKey,
      request: { body: body(IngestBody) },
      responses: {
        200: json(IngestReportSchema, "Batch processed; see accepted / duplicates / rejected"),
        ...errors,
        ...rateLimited,
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const limited = await limitPublishable(c, input.events.map((e) => e.customer_id));
      if (limited) return limited as never;
      const report = await recordUsage(
        c.var.ctx,
        input.events.map((e) => ({ ...e, timestamp: e.timestamp ? new Date(e.timestamp) : undefined })),
      );
      return c.json(report, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/entitlements/check",
      tags: ["entitlements"],
      summary: "May this customer use this feature now? With consume: check and use atomically",
      description:
        "Without `consume` it only reads. With `consume: n` (and an `idempotency_key`) it atomically checks " +
        "and adds n units: with a hard limit only if used + n ≤ limit (nothing is added when denied); with a soft " +
        "limit always, flagged `over_soft_limit`. Consumed units are recorded as a usage event with the key as id.",
      security: anyKey,
      request: { body: body(CheckBody) },
      responses: { 200: json(DecisionSchema), ...errors, ...rateLimited },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const limited = await limitPublishable(c, [input.customer_id]);
      if (limited) return limited as never;
      return c.json(await checkEntitlement(c.var.ctx, input), 200);
    },
  );
  return app;
}
