/**
 * Usage routes: event ingestion (`POST /v1/events`, open to publishable keys, which are
 * rate-limited per customer) and the aggregated usage query (`GET /v1/usage`).
 *
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { recordUsage } from "../entitlements/service.ts";
import { queryUsage } from "./windows.ts";
import { type AppEnv, body, errors, json, router, secured } from "../http/env.ts";
import { anyKey, authorizeCustomers, limitPublishable, rateLimited } from "../http/publishable.ts";
import type { Services } from "../context.ts";
import { DeadLetterPageSchema, DeadLetterQuery, listDeadLetters } from "./dead_letters.ts";
import { IngestBody, IngestReportSchema, UsageAggregateSchema, UsageQuery } from "./schemas.ts";

/** `POST /v1/events` and `GET /v1/usage`. */
export function usageRoutes(): OpenAPIHono<AppEnv> {
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
      const refused = authorizeCustomers(c, input.events);
      if (refused) return refused as never;
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
      method: "get",
      path: "/v1/usage",
      tags: ["usage"],
      summary: "Aggregated usage of a customer's feature over [from, to), optionally per UTC day",
      security: secured,
      request: { query: UsageQuery },
      responses: { 200: json(UsageAggregateSchema), ...errors },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(await queryUsage(c.var.ctx, { ...q, from: new Date(q.from), to: new Date(q.to) }), 200);
    },
  );
  return app;
}

/** `GET /v1/admin/dead_letters` (admin token required by the app's middleware). */
export function deadLetterRoutes(services: Services): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/admin/dead_letters",
      tags: ["admin"],
      summary: "Queued usage that could not be appended (failed, malformed or refused events), newest first",
      description:
        "Usage sent with `Prefer: respond-async` is appended by a queue consumer. A message that kept failing, " +
        "could never be appended, or whose events the tenant refused is recorded here instead of being dropped. " +
        "Event ids remain idempotency keys: re-sending the listed events counts each at most once.",
      security: [{ adminAuth: [] }],
      request: { query: DeadLetterQuery },
      responses: { 200: json(DeadLetterPageSchema), 400: errors[400], 401: errors[401] },
    }),
    async (c) => c.json(await listDeadLetters(services, c.req.valid("query")), 200),
  );
  return app;
}
