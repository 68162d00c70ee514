/** Prepaid credit grant routes (`/v1/customers/{id}/credit_grants`). @module */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { grantCredits, listCreditGrants } from "./service.ts";
import { type AppEnv, body, errors, json, router, secured } from "../http/env.ts";
import { listQuery, ResourceIdParam } from "../http/schemas.ts";
import { CreateCreditGrantBody, CreditGrantList, CreditGrantSchema } from "./schemas.ts";

/** `POST` and `GET /v1/customers/{id}/credit_grants`. */
export function creditRoutes(): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/customers/{id}/credit_grants",
      tags: ["credits"],
      summary: "Grant prepaid credit (monetary or units); `reference` makes it retry-safe",
      security: secured,
      request: { params: ResourceIdParam, body: body(CreateCreditGrantBody) },
      responses: {
        201: json(CreditGrantSchema, "Granted"),
        200: json(CreditGrantSchema, "Already granted"),
        ...errors,
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { grant, replayed } = await grantCredits(c.var.ctx, c.req.valid("param").id, {
        ...input,
        effective_at: input.effective_at ? new Date(input.effective_at) : undefined,
        expires_at: input.expires_at ? new Date(input.expires_at) : undefined,
      });
      return replayed ? c.json(grant, 200) : c.json(grant, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/customers/{id}/credit_grants",
      tags: ["credits"],
      summary: "A customer's credit grants with remaining balances, newest first, one page at a time",
      security: secured,
      request: { params: ResourceIdParam, query: listQuery("cgr", {}) },
      responses: { 200: json(CreditGrantList), ...errors },
    }),
    async (c) =>
      c.json(await listCreditGrants(c.var.ctx, c.req.valid("param").id, c.req.valid("query")), 200),
  );
  return app;
}
