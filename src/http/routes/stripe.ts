/**
 * Stripe routes: per-app configuration, invoice collection, and the inbound Stripe webhook.
 *
 * `POST /v1/providers/stripe/webhook/{app_id}` is called by Stripe, not by a client: it carries
 * no API key (the app's middleware lets it through) and is authenticated only by the
 * `Stripe-Signature` header, checked against the webhook secret configured for `app_id`.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Services } from "../../services/context.ts";
import { collectInvoice, configureStripe, getStripeConfig, handleStripeWebhook, type StripeOptions } from "../../services/payments/stripe.ts";
import { body, errors, json, router, secured } from "../env.ts";

/** Path prefix of the inbound webhook; the auth middleware skips it. */
export const STRIPE_WEBHOOK_PREFIX = "/v1/providers/stripe/webhook/";

const ConfigSchema = z.object({
  provider: z.literal("stripe"),
  livemode: z.boolean(),
  api_key_last4: z.string(),
  webhook_path: z.string().openapi({ description: "Register this path (on your public host) as a Stripe webhook endpoint" }),
  updated_at: z.string(),
}).openapi("StripeConfig");

const ConfigureBody = z.object({
  secret_key: z.string().min(1).max(300).openapi({ example: "sk_test_…" }),
  webhook_secret: z.string().min(1).max(300).openapi({ example: "whsec_…" }),
}).strict().openapi("ConfigureStripe");

const CollectionSchema = z.object({
  invoice_id: z.string(),
  provider: z.literal("stripe"),
  provider_customer_id: z.string(),
  provider_invoice_id: z.string(),
  payment: z.object({
    id: z.string().openapi({ example: "pi_…" }),
    client_secret: z.string().nullable(),
    status: z.string(),
    amount: z.int(),
    currency: z.string(),
  }),
}).openapi("InvoiceCollection");

const WebhookResult = z.object({
  received: z.literal(true),
  event_id: z.string(),
  type: z.string(),
  duplicate: z.boolean(),
  effect: z.string(),
}).openapi("StripeWebhookResult");

/** Stripe routes; `options.apiBase` points the client at another Stripe API host (tests, stripe-mock). */
export function stripeRoutes(services: Services, options: StripeOptions = {}) {
  const app = router();
  app.openapi(
    createRoute({
      method: "put",
      path: "/v1/providers/stripe",
      tags: ["payments"],
      summary: "Set the app's Stripe secret key and webhook signing secret",
      security: secured,
      request: { body: body(ConfigureBody) },
      responses: { 200: json(ConfigSchema), ...errors },
    }),
    async (c) => c.json(await configureStripe(c.var.ctx, c.req.valid("json")), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/providers/stripe",
      tags: ["payments"],
      summary: "Get the app's Stripe configuration (without secrets)",
      security: secured,
      responses: { 200: json(ConfigSchema), ...errors },
    }),
    async (c) => c.json(await getStripeConfig(c.var.ctx), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/invoices/{id}/collect",
      tags: ["payments"],
      summary: "Sync the customer and invoice to Stripe and create a PaymentIntent for the amount due",
      security: secured,
      request: { params: z.object({ id: z.string().min(1).max(128) }) },
      responses: { 200: json(CollectionSchema), ...errors, 503: { ...errors[400], description: "Stripe failed or refused the request; retry" } },
    }),
    async (c) => c.json(await collectInvoice(c.var.ctx, c.req.valid("param").id, options), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/providers/stripe/webhook/{app_id}",
      tags: ["payments"],
      summary: "Inbound Stripe webhook (signed with the app's Stripe webhook secret; no API key)",
      request: { params: z.object({ app_id: z.string().min(1).max(128) }) },
      responses: { 200: json(WebhookResult), 400: errors[400], 404: errors[404] },
    }),
    async (c) => {
      const raw = await c.req.text();
      const result = await handleStripeWebhook(services, c.req.valid("param").app_id, raw, c.req.header("stripe-signature"), {
        requestId: c.get("requestId"),
        options,
      });
      return c.json(result, 200);
    },
  );
  return app;
}
