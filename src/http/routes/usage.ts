/** Usage ingestion and entitlement routes (open to publishable keys). @module */
import { createRoute } from "@hono/zod-openapi";
import { checkEntitlement } from "../../services/entitlements.ts";
import { ingestEvents } from "../../services/usage.ts";
import { body, errors, json, router } from "../env.ts";
import { CheckBody, DecisionSchema, IngestBody, IngestReportSchema } from "../schemas.ts";

const anyKey: Record<string, string[]>[] = [{ bearerAuth: [] }, { publishableKey: [] }];

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
      responses: { 200: json(IngestReportSchema, "Batch processed; see accepted / duplicates / rejected"), ...errors },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { stored: _stored, ...report } = await ingestEvents(
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
      summary: "May this customer use this feature now?",
      security: anyKey,
      request: { body: body(CheckBody) },
      responses: { 200: json(DecisionSchema), ...errors },
    }),
    async (c) => c.json(await checkEntitlement(c.var.ctx, c.req.valid("json")), 200),
  );
  return app;
}
