/**
 * Webhook endpoint routes: create (secret shown once), list, get, disable, delivery log and
 * manual redelivery. Deliveries themselves are sent by the worker (`webhooks/delivery.ts`).
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import {
  createWebhookEndpoint,
  disableWebhookEndpoint,
  getDelivery,
  getWebhookEndpoint,
  listDeliveries,
  listWebhookEndpoints,
  MAX_EVENT_FILTERS,
  redeliver,
} from "./endpoints.ts";
import { type AppEnv, body, errors, json, router, secured } from "../http/env.ts";
import { listOf, listQuery } from "../http/schemas.ts";

const EndpointSchema = z.object({
  id: z.string().openapi({ description: "TypeID of the endpoint", example: "wep_01jd6…" }),
  url: z.string().openapi({
    description: "Where deliveries are POSTed",
    example: "https://example.com/billing-hooks",
  }),
  description: z.string().nullable().openapi({ description: "Your note", example: "Accounting sync" }),
  events: z.array(z.string()).openapi({
    description: "Event filters the endpoint receives",
    example: ["invoice.*"],
  }),
  status: z.enum(["enabled", "disabled"]).openapi({
    description: "disabled endpoints receive nothing",
    example: "enabled",
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
  updated_at: z.string().openapi({
    description: "ISO 8601 UTC instant of the last change",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("WebhookEndpoint");

const EndpointList = listOf(EndpointSchema, "WebhookEndpointList", "webhook endpoints");

const CreatedEndpointSchema = EndpointSchema.extend({
  secret: z.string().openapi({
    description: "Standard Webhooks signing secret, shown only on creation",
    example: "whsec_…",
  }),
}).openapi("WebhookEndpointCreated");

const CreateEndpointBody = z.object({
  url: z.string().min(1).max(2048).openapi({
    description:
      "https URL on a public host that receives the deliveries; plain http and loopback, private, link-local, " +
      "CGNAT, multicast or reserved hosts are refused (422 webhook_url_not_allowed) unless the server sets WEBHOOK_ALLOW_PRIVATE_URLS",
    example: "https://example.com/billing-hooks",
  }),
  events: z.array(z.string().min(1).max(130)).min(1).max(MAX_EVENT_FILTERS)
    .openapi({
      description: '"*", an event type ("invoice.paid") or a resource wildcard ("invoice.*")',
      example: ["invoice.*"],
    }),
  description: z.string().max(500).nullable().optional().openapi({
    description: "Your note",
    example: "Accounting sync",
  }),
}).strict().openapi("CreateWebhookEndpoint");

const AttemptSchema = z.object({
  attempt: z.int().openapi({ description: "1-based attempt number", example: 1 }),
  outcome: z.enum(["succeeded", "http_error", "timeout", "network_error"]).openapi({
    description: "How the attempt ended",
    example: "succeeded",
  }),
  status_code: z.int().nullable().openapi({ description: "HTTP status the endpoint answered", example: 200 }),
  error: z.string().nullable().openapi({ description: "Error text of a failed attempt", example: null }),
  response_body: z.string().nullable().openapi({
    description: "Start of the endpoint's answer",
    example: "ok",
  }),
  duration_ms: z.int().openapi({ description: "Milliseconds the attempt took", example: 42 }),
  started_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
});

const DeliverySchema = z.object({
  id: z.string().openapi({
    description: "TypeID of the delivery",
    example: "wdl_01jd0000000000000000000000",
  }),
  endpoint_id: z.string().openapi({
    description: "Endpoint it is delivered to",
    example: "wep_01jd0000000000000000000000",
  }),
  message_id: z.string().openapi({
    description: "The webhook-id header value (stable across retries)",
    example: "msg_01jd0000000000000000000000",
  }),
  event_type: z.string().openapi({ description: "Lifecycle event type", example: "invoice.paid" }),
  status: z.enum(["pending", "succeeded", "failed"]).openapi({
    description: "failed = attempts exhausted",
    example: "succeeded",
  }),
  attempts: z.int().openapi({ description: "Attempts made so far", example: 1 }),
  next_attempt_at: z.string().nullable().openapi({
    description: "When the next attempt is due; null when done",
    example: null,
  }),
  last_status_code: z.int().nullable().openapi({
    description: "HTTP status of the last attempt",
    example: 200,
  }),
  last_error: z.string().nullable().openapi({ description: "Error of the last attempt", example: null }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
  updated_at: z.string().openapi({
    description: "ISO 8601 UTC instant of the last attempt",
    example: "2026-11-01T00:00:00.000Z",
  }),
  attempt_log: z.array(AttemptSchema).openapi({
    description: "Every attempt, oldest first",
    example: [{
      attempt: 1,
      outcome: "succeeded",
      status_code: 200,
      error: null,
      response_body: "ok",
      duration_ms: 42,
      started_at: "2026-11-01T00:00:00.000Z",
    }],
  }),
}).openapi("WebhookDelivery");

const EndpointId = z.string().min(1).max(128).openapi({
  description: "wep_ id of the endpoint",
  example: "wep_01jd0000000000000000000000",
});
const EndpointParam = z.object({ id: EndpointId });
const DeliveryParam = z.object({
  id: EndpointId,
  delivery_id: z.string().min(1).max(128).openapi({
    description: "wdl_ id of the delivery",
    example: "wdl_01jd0000000000000000000000",
  }),
});
const IdempotencyHeader = z.object({
  "idempotency-key": z.string().min(1).max(128).optional()
    .openapi({
      description: "Makes a retried creation return the same endpoint and secret",
      example: "create-accounting-hook-1",
    }),
});

/**
 * Where the webhook endpoint routes live: `/v1/webhook_endpoints` (snake_case like every other
 * path, as Stripe's), and the earlier `/v1/webhook-endpoints`, kept as an alias marked deprecated.
 */
export const WEBHOOK_ENDPOINT_PATHS: readonly { base: string; deprecated: boolean }[] = [
  { base: "/v1/webhook_endpoints", deprecated: false },
  { base: "/v1/webhook-endpoints", deprecated: true },
];

/** `/v1/webhook_endpoints` routes (and their deprecated `/v1/webhook-endpoints` aliases). */
export function webhookRoutes(): OpenAPIHono<AppEnv> {
  const app = router();
  for (const { base, deprecated } of WEBHOOK_ENDPOINT_PATHS) {
    app.openapi(
      createRoute({
        method: "post",
        deprecated,
        path: base,
        tags: ["webhooks"],
        summary: "Create a webhook endpoint; the signing secret is returned only in this response",
        security: secured,
        request: { body: body(CreateEndpointBody), headers: IdempotencyHeader },
        responses: {
          201: json(CreatedEndpointSchema, "Created"),
          200: json(CreatedEndpointSchema, "Idempotent replay"),
          ...errors,
        },
      }),
      async (c) => {
        const { endpoint, replayed } = await createWebhookEndpoint(
          c.var.ctx,
          c.req.valid("json"),
          c.req.valid("header")["idempotency-key"],
        );
        if (replayed) c.header("Idempotent-Replayed", "true");
        return replayed ? c.json(endpoint, 200) : c.json(endpoint, 201);
      },
    );
    app.openapi(
      createRoute({
        method: "get",
        deprecated,
        path: base,
        tags: ["webhooks"],
        summary: "List webhook endpoints, newest first, one page at a time",
        security: secured,
        request: {
          query: listQuery("wep", {
            status: z.enum(["enabled", "disabled"]).optional().openapi({
              description: "Only endpoints in this status",
              example: "enabled",
            }),
          }),
        },
        responses: { 200: json(EndpointList), ...errors },
      }),
      async (c) => c.json(await listWebhookEndpoints(c.var.ctx, c.req.valid("query")), 200),
    );
    app.openapi(
      createRoute({
        method: "get",
        deprecated,
        path: `${base}/{id}`,
        tags: ["webhooks"],
        summary: "Get a webhook endpoint (without its secret)",
        security: secured,
        request: { params: EndpointParam },
        responses: { 200: json(EndpointSchema), ...errors },
      }),
      async (c) => c.json(await getWebhookEndpoint(c.var.ctx, c.req.valid("param").id), 200),
    );
    app.openapi(
      createRoute({
        method: "delete",
        deprecated,
        path: `${base}/{id}`,
        tags: ["webhooks"],
        summary: "Disable a webhook endpoint (its delivery log stays readable)",
        security: secured,
        request: { params: EndpointParam },
        responses: { 200: json(EndpointSchema), ...errors },
      }),
      async (c) => c.json(await disableWebhookEndpoint(c.var.ctx, c.req.valid("param").id), 200),
    );
    app.openapi(
      createRoute({
        method: "get",
        deprecated,
        path: `${base}/{id}/deliveries`,
        tags: ["webhooks"],
        summary: "Delivery log of an endpoint, newest message first, with every attempt",
        security: secured,
        request: {
          params: EndpointParam,
          query: z.object({
            status: z.enum(["pending", "succeeded", "failed"]).optional().openapi({
              description: "Only deliveries in this status",
              example: "failed",
            }),
            cursor: z.string().min(1).max(128).optional().openapi({
              description: "next_cursor of the previous page",
              example: "wdl_01jd0000000000000000000000",
            }),
            limit: z.coerce.number().int().min(1).max(100).optional().openapi({
              description: "Page size, 1–100 (default 20)",
              example: 20,
            }),
          }).strict(),
        },
        responses: {
          200: json(z.object({
            data: z.array(DeliverySchema).openapi({
              description: "A page of deliveries, newest first",
              example: [],
            }),
            next_cursor: z.string().nullable().openapi({
              description: "Pass as cursor for the next page; null on the last page",
              example: null,
            }),
          })),
          ...errors,
        },
      }),
      async (c) =>
        c.json(await listDeliveries(c.var.ctx, c.req.valid("param").id, c.req.valid("query")), 200),
    );
    app.openapi(
      createRoute({
        method: "get",
        deprecated,
        path: `${base}/{id}/deliveries/{delivery_id}`,
        tags: ["webhooks"],
        summary: "Get one delivery with its attempts",
        security: secured,
        request: { params: DeliveryParam },
        responses: { 200: json(DeliverySchema), ...errors },
      }),
      async (c) => {
        const p = c.req.valid("param");
        return c.json(await getDelivery(c.var.ctx, p.id, p.delivery_id), 200);
      },
    );
    app.openapi(
      createRoute({
        method: "post",
        deprecated,
        path: `${base}/{id}/deliveries/{delivery_id}/redeliver`,
        tags: ["webhooks"],
        summary: "Send a delivery again (back at its place in the endpoint's order, fresh attempt budget)",
        security: secured,
        request: { params: DeliveryParam },
        responses: { 202: json(DeliverySchema, "Scheduled"), ...errors },
      }),
      async (c) => {
        const p = c.req.valid("param");
        return c.json(await redeliver(c.var.ctx, p.id, p.delivery_id), 202);
      },
    );
  }
  return app;
}
