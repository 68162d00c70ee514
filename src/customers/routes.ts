/** Customer routes (`/v1/customers`). @module */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { createCustomer, getCustomer, listCustomers } from "./service.ts";
import { type AppEnv, body, errors, json, router, secured } from "../http/env.ts";
import { idParam, listQuery } from "../http/schemas.ts";
import { CreateCustomerBody, CustomerList, CustomerSchema } from "./schemas.ts";

const IdParam = idParam("The id (cus_ / sub_ TypeID), or the customer's external id", "user_42");

/** `POST /v1/customers`, `GET /v1/customers` (a page) and `GET /v1/customers/{id}`. */
export function customerRoutes(): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/customers",
      tags: ["customers"],
      summary: "Create a customer (an identical repeat returns it with 200)",
      security: secured,
      request: { body: body(CreateCustomerBody) },
      responses: {
        201: json(CustomerSchema, "Created"),
        200: json(CustomerSchema, "Already existed"),
        ...errors,
      },
    }),
    async (c) => {
      const { customer, replayed } = await createCustomer(c.var.ctx, c.req.valid("json"));
      return replayed ? c.json(customer, 200) : c.json(customer, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/customers",
      tags: ["customers"],
      summary: "List customers, newest first, one page at a time",
      security: secured,
      request: { query: listQuery("cus", {}) },
      responses: { 200: json(CustomerList), ...errors },
    }),
    async (c) => c.json(await listCustomers(c.var.ctx, c.req.valid("query")), 200),
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
  return app;
}
