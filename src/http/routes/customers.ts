/** Customer and subscription routes. @module */
import { createRoute, z } from "@hono/zod-openapi";
import { createCustomer, getCustomer } from "../../services/customers.ts";
import { cancelSubscription, createSubscription, getSubscription } from "../../services/subscriptions.ts";
import { body, errors, json, router, secured } from "../env.ts";
import {
  CancelSubscriptionBody,
  CreateCustomerBody,
  CreateSubscriptionBody,
  CustomerSchema,
  SubscriptionSchema,
} from "../schemas.ts";

const IdParam = z.object({
  id: z.string().min(1).max(128).openapi({ description: "The id (cus_ / sub_ TypeID), or the customer's external id", example: "user_42" }),
});

/** `/v1/customers` and `/v1/subscriptions` routes. */
export function customerRoutes() {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/customers",
      tags: ["customers"],
      summary: "Create a customer (an identical repeat returns it with 200)",
      security: secured,
      request: { body: body(CreateCustomerBody) },
      responses: { 201: json(CustomerSchema, "Created"), 200: json(CustomerSchema, "Already existed"), ...errors },
    }),
    async (c) => {
      const { customer, replayed } = await createCustomer(c.var.ctx, c.req.valid("json"));
      return replayed ? c.json(customer, 200) : c.json(customer, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/customers/{id}",
      tags: ["customers"],
      summary: "Get a customer by cus_ id or external id",
      security: secured,
      request: { params: IdParam },
      responses: { 200: json(CustomerSchema), ...errors },
    }),
    async (c) => c.json(await getCustomer(c.var.ctx, c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/subscriptions",
      tags: ["subscriptions"],
      summary: "Subscribe a customer to a plan",
      security: secured,
      request: { body: body(CreateSubscriptionBody) },
      responses: { 201: json(SubscriptionSchema, "Created"), 200: json(SubscriptionSchema, "Already existed"), ...errors },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { subscription, replayed } = await createSubscription(c.var.ctx, {
        customer_id: input.customer_id,
        plan_id: input.plan_id,
        start_at: input.start_at ? new Date(input.start_at) : undefined,
        end_at: input.end_at ? new Date(input.end_at) : undefined,
      });
      return replayed ? c.json(subscription, 200) : c.json(subscription, 201);
    },
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
      method: "post",
      path: "/v1/subscriptions/{id}/cancel",
      tags: ["subscriptions"],
      summary: "Cancel now or at the end of the current period",
      security: secured,
      request: { params: IdParam, body: body(CancelSubscriptionBody) },
      responses: { 200: json(SubscriptionSchema), ...errors },
    }),
    async (c) => c.json(await cancelSubscription(c.var.ctx, c.req.valid("param").id, c.req.valid("json")), 200),
  );
  return app;
}
