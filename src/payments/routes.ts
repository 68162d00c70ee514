/**
 * Stripe routes: per-app configuration, invoice collection, and the inbound Stripe webhook.
 *
 * `POST /v1/providers/stripe/webhook/{app_id}` is called by Stripe, not by a client: it carries
 * no API key (the app's middleware lets it through) and is authenticated only by the
 * `Stripe-Signature` header, checked against the webhook secret configured for `app_id`.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Services } from "../context.ts";
import type { StripeOptions } from "./stripe.ts";
import { configureStripe, getStripeConfig } from "./stripe_config.ts";
import { collectInvoice } from "./stripe_collection.ts";
import { handleStripeWebhook } from "./stripe_webhooks.ts";
import { type AppEnv, body, errors, json, router, secured } from "../http/env.ts";

/** Path prefix of the inbound webhook; the auth middleware skips it. */
export const STRIPE_WEBHOOK_PREFIX = "/v1/providers/stripe/webhook/";

const ConfigSchema = z.object({
  provider: z.literal("stripe").openapi({ description: "Payment provider", example: "stripe" }),
  livemode: z.boolean().openapi({
    description: "true for a live key (sk_live_…), false for test mode",
    example: false,
  }),
  api_key_last4: z.string().openapi({
    description: "Last four characters of the configured secret key",
    example: "4242",
  }),
  webhook_path: z.string().openapi({
    description: "Register this path (on your public host) as a Stripe webhook endpoint",
    example: "/v1/providers/stripe/webhook/app_01jd0000000000000000000000",
  }),
  updated_at: z.string().openapi({
    description: "ISO 8601 UTC instant of the last change",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("StripeConfig");

const ConfigureBody = z.object({
  secret_key: z.string().min(1).max(300).openapi({
    description: "Your Stripe secret key (stored, never shown again)",
    example: "sk_test_…",
  }),
  webhook_secret: z.string().min(1).max(300).openapi({
    description: "Signing secret of your Stripe webhook endpoint",
    example: "whsec_…",
  }),
}).strict().openapi("ConfigureStripe");

const CollectionSchema = z.object({
  invoice_id: z.string().openapi({
    description: "inv_ id being collected",
    example: "inv_01jd0000000000000000000000",
  }),
  provider: z.literal("stripe").openapi({ description: "Payment provider", example: "stripe" }),
  provider_customer_id: z.string().openapi({
    description: "Stripe customer id",
    example: "cus_Q1w2e3r4t5y6u7",
  }),
  provider_invoice_id: z.string().openapi({
    description: "Stripe invoice id",
    example: "in_1Q2w3e4r5t6y7u8i",
  }),
  payment: z.object({
    id: z.string().openapi({ description: "Stripe PaymentIntent id", example: "pi_…" }),
    client_secret: z.string().nullable().openapi({
      description: "For confirming the payment in the browser (Stripe.js)",
      example: "pi_…_secret_…",
    }),
    status: z.string().openapi({
      description: "Stripe PaymentIntent status",
      example: "requires_payment_method",
    }),
    amount: z.int().openapi({ description: "Amount in minor units", example: 7400 }),
    currency: z.string().openapi({
      description: "ISO 4217 currency (lower case, as Stripe writes it)",
      example: "usd",
    }),
  }).openapi({
    description: "The PaymentIntent collecting the invoice",
    example: { id: "pi_…", client_secret: null, status: "succeeded", amount: 7400, currency: "usd" },
  }),
}).openapi("InvoiceCollection");

const WebhookResult = z.object({
  received: z.literal(true).openapi({ description: "Always true: the event was accepted", example: true }),
  event_id: z.string().openapi({ description: "Stripe event id", example: "evt_1Q2w3e4r5t6y7u8i" }),
  type: z.string().openapi({ description: "Stripe event type", example: "payment_intent.succeeded" }),
  duplicate: z.boolean().openapi({
    description: "The event had been processed before (no second effect)",
    example: false,
  }),
  effect: z.string().openapi({
    description:
      "What it did: payment_recorded, unapplied, payment_failed, refund_recorded, dispute_recorded, ignored or duplicate",
    example: "payment_recorded",
  }),
}).openapi("StripeWebhookResult");

/** Stripe routes; `options.apiBase` points the client at another Stripe API host (tests, stripe-mock). */
export function stripeRoutes(services: Services, options: StripeOptions = {}): OpenAPIHono<AppEnv> {
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
      request: {
        params: z.object({
          id: z.string().min(1).max(128).openapi({
            description: "inv_ id",
            example: "inv_01jd0000000000000000000000",
          }),
        }),
      },
      responses: {
        200: json(CollectionSchema),
        ...errors,
        503: { ...errors[400], description: "Stripe failed or refused the request; retry" },
      },
    }),
    async (c) => c.json(await collectInvoice(c.var.ctx, c.req.valid("param").id, options), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/providers/stripe/webhook/{app_id}",
      tags: ["payments"],
      summary: "Inbound Stripe webhook (signed with the app's Stripe webhook secret; no API key)",
      request: {
        params: z.object({
          app_id: z.string().min(1).max(128).openapi({
            description: "app_ id the webhook belongs to (from webhook_path)",
            example: "app_01jd0000000000000000000000",
          }),
        }),
      },
      responses: { 200: json(WebhookResult), 400: errors[400], 404: errors[404] },
    }),
    async (c) => {
      const raw = await c.req.text();
      const result = await handleStripeWebhook(
        services,
        c.req.valid("param").app_id,
        raw,
        c.req.header("stripe-signature"),
        {
          requestId: c.get("requestId"),
          options,
        },
      );
      return c.json(result, 200);
    },
  );
  return app;
}
