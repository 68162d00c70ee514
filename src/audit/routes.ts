/** `GET /v1/audit_events`: the app's append-only audit trail, filtered, newest first. @module */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { AUDIT_PAGE_LIMIT, listAuditEvents } from "./service.ts";
import { type AppEnv, errors, json, router, secured } from "../http/env.ts";
import { listOf, listQuery } from "../http/schemas.ts";

const AuditEventSchema = z.object({
  id: z.string().openapi({ description: "TypeID of the audit event (time-ordered)", example: "aud_01jd6…" }),
  actor: z.string().openapi({
    description: "API key id (key_…), admin, stripe or system",
    example: "key_01jd0000000000000000000000",
  }),
  action: z.string().openapi({
    description: "Lifecycle event type of the change",
    example: "invoice.finalized",
  }),
  resource_type: z.string().openapi({ description: "Kind of resource changed", example: "invoice" }),
  resource_id: z.string().openapi({
    description: "Id of the resource changed",
    example: "inv_01jd0000000000000000000000",
  }),
  before_digest: z.string().nullable().openapi({
    description: "SHA-256 hex of the resource before the change",
    example: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  }),
  after_digest: z.string().openapi({
    description: "SHA-256 hex of the resource after the change",
    example: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
  }),
  request_id: z.string().nullable().openapi({
    description: "Request that made the change; null for background jobs",
    example: "0b6f1c2e-4d1a-4f7e-9d55-2a8b4d1f9e01",
  }),
  message_id: z.string().openapi({
    description: "Outbox message (webhook-id) of the same change",
    example: "msg_01jd0000000000000000000000",
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("AuditEvent");

const Instant = z.iso.datetime({ offset: true });
const AuditEventList = listOf(AuditEventSchema, "AuditEventList", "audit events");

/**
 * Where the audit route lives: `/v1/audit_events` (snake_case), and the earlier
 * `/v1/audit-events`, kept as an alias marked deprecated.
 */
export const AUDIT_EVENT_PATHS: readonly { base: string; deprecated: boolean }[] = [
  { base: "/v1/audit_events", deprecated: false },
  { base: "/v1/audit-events", deprecated: true },
];

/** Audit routes: `/v1/audit_events` (and the deprecated `/v1/audit-events`). */
export function auditRoutes(): OpenAPIHono<AppEnv> {
  const app = router();
  for (const { base, deprecated } of AUDIT_EVENT_PATHS) {
    app.openapi(
      createRoute({
        method: "get",
        deprecated,
        path: base,
        tags: ["audit"],
        summary: "List audit events, newest first",
        security: secured,
        request: {
          query: listQuery("aud", {
            resource_id: z.string().min(1).max(128).optional().openapi({
              description: "Only events of this resource",
              example: "inv_01jd0000000000000000000000",
            }),
            resource_type: z.string().min(1).max(64).optional().openapi({
              description: "Only this kind of resource",
              example: "invoice",
            }),
            action: z.string().min(1).max(130).optional().openapi({
              description: "Only this action",
              example: "invoice.finalized",
            }),
            actor: z.string().min(1).max(128).optional().openapi({
              description: "Only changes by this actor",
              example: "system",
            }),
            request_id: z.string().min(1).max(200).optional().openapi({
              description: "Only changes of this request",
              example: "0b6f1c2e-4d1a-4f7e-9d55-2a8b4d1f9e01",
            }),
            since: Instant.optional().openapi({
              description: "Created at or after (ISO 8601)",
              example: "2026-11-01T00:00:00Z",
            }),
            until: Instant.optional().openapi({
              description: "Created before (ISO 8601)",
              example: "2026-12-01T00:00:00Z",
            }),
          }, AUDIT_PAGE_LIMIT),
        },
        responses: {
          200: json(AuditEventList),
          ...errors,
        },
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
  }
  return app;
}
