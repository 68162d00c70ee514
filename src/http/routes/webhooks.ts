/**
 * Webhook endpoint routes: create (secret shown once), list, get, disable, delivery log and
 * manual redelivery. Deliveries themselves are sent by the worker (`services/webhooks.ts`).
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  createWebhookEndpoint,
  disableWebhookEndpoint,
  getDelivery,
  getWebhookEndpoint,
  listDeliveries,
  listWebhookEndpoints,
  MAX_EVENT_FILTERS,
  redeliver,
} from "../../services/webhooks.ts";
import { body, errors, json, router, secured } from "../env.ts";

const EndpointSchema = z.object({
  id: z.string().openapi({ example: "wep_01jd6…" }),
  url: z.string(),
  description: z.string().nullable(),
  events: z.array(z.string()),
  status: z.enum(["enabled", "disabled"]),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("WebhookEndpoint");

const CreatedEndpointSchema = EndpointSchema.extend({
  secret: z.string().openapi({ description: "Standard Webhooks signing secret, shown only on creation", example: "whsec_…" }),
}).openapi("WebhookEndpointCreated");

const CreateEndpointBody = z.object({
  url: z.string().min(1).max(2048).openapi({ example: "https://example.com/billing-hooks" }),
  events: z.array(z.string().min(1).max(130)).min(1).max(MAX_EVENT_FILTERS)
    .openapi({ description: '"*", an event type ("invoice.paid") or a resource wildcard ("invoice.*")', example: ["invoice.*"] }),
  description: z.string().max(500).nullable().optional(),
}).strict().openapi("CreateWebhookEndpoint");

const AttemptSchema = z.object({
  attempt: z.int(),
  outcome: z.enum(["succeeded", "http_error", "timeout", "network_error"]),
  status_code: z.int().nullable(),
  error: z.string().nullable(),
  response_body: z.string().nullable(),
  duration_ms: z.int(),
  started_at: z.string(),
});

const DeliverySchema = z.object({
  id: z.string(),
  endpoint_id: z.string(),
  message_id: z.string().openapi({ description: "The webhook-id header value (stable across retries)" }),
  event_type: z.string(),
  status: z.enum(["pending", "succeeded", "failed"]),
  attempts: z.int(),
  next_attempt_at: z.string().nullable(),
  last_status_code: z.int().nullable(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  attempt_log: z.array(AttemptSchema),
}).openapi("WebhookDelivery");

const EndpointParam = z.object({ id: z.string().min(1).max(128) });
const DeliveryParam = z.object({ id: z.string().min(1).max(128), delivery_id: z.string().min(1).max(128) });
const IdempotencyHeader = z.object({
  "idempotency-key": z.string().min(1).max(128).optional()
    .openapi({ description: "Makes a retried creation return the same endpoint and secret" }),
});

/** `/v1/webhook-endpoints` routes. */
export function webhookRoutes() {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/webhook-endpoints",
      tags: ["webhooks"],
      summary: "Create a webhook endpoint; the signing secret is returned only in this response",
      security: secured,
      request: { body: body(CreateEndpointBody), headers: IdempotencyHeader },
      responses: { 201: json(CreatedEndpointSchema, "Created"), 200: json(CreatedEndpointSchema, "Idempotent replay"), ...errors },
    }),
    async (c) => {
      const { endpoint, replayed } = await createWebhookEndpoint(c.var.ctx, c.req.valid("json"), c.req.valid("header")["idempotency-key"]);
      return replayed ? c.json(endpoint, 200) : c.json(endpoint, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/webhook-endpoints",
      tags: ["webhooks"],
      summary: "List webhook endpoints",
      security: secured,
      responses: { 200: json(z.object({ data: z.array(EndpointSchema) })), ...errors },
    }),
    async (c) => c.json({ data: await listWebhookEndpoints(c.var.ctx) }, 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/webhook-endpoints/{id}",
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
      path: "/v1/webhook-endpoints/{id}",
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
      path: "/v1/webhook-endpoints/{id}/deliveries",
      tags: ["webhooks"],
      summary: "Delivery log of an endpoint, newest message first, with every attempt",
      security: secured,
      request: {
        params: EndpointParam,
        query: z.object({
          status: z.enum(["pending", "succeeded", "failed"]).optional(),
          cursor: z.string().min(1).max(128).optional(),
          limit: z.coerce.number().int().min(1).max(100).optional(),
        }),
      },
      responses: { 200: json(z.object({ data: z.array(DeliverySchema), next_cursor: z.string().nullable() })), ...errors },
    }),
    async (c) => c.json(await listDeliveries(c.var.ctx, c.req.valid("param").id, c.req.valid("query")), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}",
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
      path: "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver",
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
  return app;
}
