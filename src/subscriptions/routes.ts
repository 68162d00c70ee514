/**
 * Subscription routes (`/v1/subscriptions`): subscribe, get, cancel, change plan, pause, resume,
 * apply a coupon, and the admin trigger of the billing cycle job (`POST /v1/admin/billing_cycle/run`).
 *
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import {
  cancelSubscription,
  changePlan,
  createSubscription,
  getSubscription,
  listSubscriptions,
  pauseSubscription,
  resumeSubscription,
  setSubscriptionTaxRates,
} from "./service.ts";
import { runBillingCycle } from "./billing_cycle.ts";
import { applyDiscount } from "../coupons/service.ts";
import type { Services } from "../context.ts";
import { type AppEnv, body, errors, json, router, secured } from "../http/env.ts";
import { idParam, listQuery, ResourceIdParam } from "../http/schemas.ts";
import { z } from "@hono/zod-openapi";
import { ApplyDiscountBody, DiscountSchema } from "../coupons/schemas.ts";
import {
  BillingCycleReportSchema,
  CancelSubscriptionBody,
  ChangePlanBody,
  CreateSubscriptionBody,
  SetSubscriptionTaxRatesBody,
  SubscriptionList,
  SubscriptionSchema,
} from "./schemas.ts";

const IdParam = idParam("The id (cus_ / sub_ TypeID), or the customer's external id", "user_42");

/** The subscription routes; `services` is used by the admin trigger of the billing cycle job. */
export function subscriptionRoutes(services: Services): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/subscriptions",
      tags: ["subscriptions"],
      summary: "Subscribe a customer to a plan",
      security: secured,
      request: { body: body(CreateSubscriptionBody) },
      responses: {
        201: json(SubscriptionSchema, "Created"),
        200: json(SubscriptionSchema, "Already existed"),
        ...errors,
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { subscription, replayed } = await createSubscription(c.var.ctx, {
        customer_id: input.customer_id,
        plan_id: input.plan_id,
        start_at: input.start_at ? new Date(input.start_at) : undefined,
        end_at: input.end_at ? new Date(input.end_at) : undefined,
        tax_rate_ids: input.tax_rate_ids,
      });
      return replayed ? c.json(subscription, 200) : c.json(subscription, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/subscriptions",
      tags: ["subscriptions"],
      summary: "List subscriptions, newest first, one page at a time",
      security: secured,
      request: {
        query: listQuery("sub", {
          customer_id: z.string().min(1).max(128).optional().openapi({
            description: "Only this customer's subscriptions (cus_ or external id)",
            example: "user_42",
          }),
          status: z.enum(["trialing", "active", "paused", "canceled", "expired"]).optional().openapi({
            description: "Only subscriptions in this status now",
            example: "active",
          }),
        }),
      },
      responses: { 200: json(SubscriptionList), ...errors },
    }),
    async (c) => c.json(await listSubscriptions(c.var.ctx, c.req.valid("query")), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/subscriptions/{id}",
      tags: ["subscriptions"],
      summary: "Get a subscription",
      security: secured,
      request: { params: IdParam },
      responses: { 200: json(SubscriptionSchema), ...errors },
    }),
    async (c) => c.json(await getSubscription(c.var.ctx, c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "put",
      path: "/v1/subscriptions/{id}/tax_rates",
      tags: ["subscriptions"],
      summary:
        "Set the subscription's own tax rates (up to 5; they replace the customer's); null clears them",
      security: secured,
      request: { params: IdParam, body: body(SetSubscriptionTaxRatesBody) },
      responses: { 200: json(SubscriptionSchema), ...errors },
    }),
    async (c) =>
      c.json(
        await setSubscriptionTaxRates(c.var.ctx, c.req.valid("param").id, c.req.valid("json").tax_rate_ids),
        200,
      ),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/subscriptions/{id}/cancel",
      tags: ["subscriptions"],
      summary: "Cancel now or at the end of the current period",
      security: secured,
      request: { params: IdParam, body: body(CancelSubscriptionBody) },
      responses: { 200: json(SubscriptionSchema), ...errors },
    }),
    async (c) =>
      c.json(await cancelSubscription(c.var.ctx, c.req.valid("param").id, c.req.valid("json")), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/subscriptions/{id}/change",
      tags: ["subscriptions"],
      summary:
        "Change the plan (upgrade now with proration, downgrade at period end by default; an interval change resets the billing anchor)",
      security: secured,
      request: { params: ResourceIdParam, body: body(ChangePlanBody) },
      responses: { 200: json(SubscriptionSchema), ...errors },
    }),
    async (c) => {
      const { proration_date, ...input } = c.req.valid("json");
      const change = await changePlan(c.var.ctx, c.req.valid("param").id, {
        ...input,
        proration_date: proration_date ? new Date(proration_date) : undefined,
      });
      return c.json(change.subscription, 200);
    },
  );
  for (
    const [verb, summary, run] of [
      [
        "pause",
        "Pause now: no base fee, no usage and no entitlements while paused (idempotent)",
        pauseSubscription,
      ],
      ["resume", "Resume now; the billing cycle keeps its anchor (idempotent)", resumeSubscription],
    ] as const
  ) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/v1/subscriptions/{id}/${verb}`,
        tags: ["subscriptions"],
        summary,
        security: secured,
        request: { params: ResourceIdParam },
        responses: { 200: json(SubscriptionSchema), ...errors },
      }),
      async (c) => c.json(await run(c.var.ctx, c.req.valid("param").id), 200),
    );
  }
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/subscriptions/{id}/discount",
      tags: ["subscriptions"],
      summary: "Apply a coupon (by code or id) to a subscription",
      security: secured,
      request: { params: ResourceIdParam, body: body(ApplyDiscountBody) },
      responses: {
        201: json(DiscountSchema, "Applied"),
        200: json(DiscountSchema, "Already applied"),
        ...errors,
      },
    }),
    async (c) => {
      const { discount, replayed } = await applyDiscount(
        c.var.ctx,
        c.req.valid("param").id,
        c.req.valid("json"),
      );
      return replayed ? c.json(discount, 200) : c.json(discount, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/billing_cycle/run",
      tags: ["admin"],
      summary: "Run the billing cycle job once now (it also runs on an interval in the server)",
      security: [{ adminAuth: [] }],
      responses: { 200: json(BillingCycleReportSchema), ...errors },
    }),
    async (c) => c.json(await runBillingCycle(services), 200),
  );
  return app;
}
