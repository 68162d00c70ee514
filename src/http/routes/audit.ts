/** `GET /v1/audit-events`: the app's append-only audit trail, filtered, newest first. @module */
import { createRoute, z } from "@hono/zod-openapi";
import { listAuditEvents } from "../../services/audit.ts";
import { errors, json, router, secured } from "../env.ts";

const AuditEventSchema = z.object({
  id: z.string().openapi({ example: "aud_01jd6…" }),
  actor: z.string().openapi({ description: "API key id (key_…), admin, stripe or system" }),
  action: z.string().openapi({ example: "invoice.finalized" }),
  resource_type: z.string().openapi({ example: "invoice" }),
  resource_id: z.string(),
  before_digest: z.string().nullable().openapi({ description: "SHA-256 hex of the resource before the change" }),
  after_digest: z.string().openapi({ description: "SHA-256 hex of the resource after the change" }),
  request_id: z.string().nullable(),
  message_id: z.string().openapi({ description: "Outbox message (webhook-id) of the same change" }),
  created_at: z.string(),
}).openapi("AuditEvent");

const Instant = z.iso.datetime({ offset: true });

/** Audit routes. */
export function auditRoutes() {
  const app = router();
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/audit-events",
      tags: ["audit"],
      summary: "List audit events, newest first",
      security: secured,
      request: {
        query: z.object({
          resource_id: z.string().min(1).max(128).optional(),
          resource_type: z.string().min(1).max(64).optional(),
          action: z.string().min(1).max(130).optional(),
          actor: z.string().min(1).max(128).optional(),
          request_id: z.string().min(1).max(200).optional(),
          since: Instant.optional(),
          until: Instant.optional(),
          cursor: z.string().min(1).max(128).optional(),
          limit: z.coerce.number().int().min(1).max(100).optional(),
        }),
      },
      responses: { 200: json(z.object({ data: z.array(AuditEventSchema), next_cursor: z.string().nullable() })), ...errors },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(
        await listAuditEvents(c.var.ctx, {
          ...q,
          since: q.since ? new Date(q.since) : undefined,
          until: q.until ? new Date(q.until) : undefined,
        }),
        200,
      );
    },
  );
  return app;
}
