/** Tax rate routes: `POST /v1/tax_rates`, `PUT /v1/customers/{id}/tax_rates` and `…/tax_rate`. @module */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { createTaxRate, setCustomerTaxRate, setCustomerTaxRates } from "./service.ts";
import { SetCustomerTaxRatesBody } from "../customers/schemas.ts";
import { type AppEnv, body, errors, json, router, secured } from "../http/env.ts";
import { ResourceIdParam } from "../http/schemas.ts";
import {
  CreateTaxRateBody,
  CustomerTaxRateSchema,
  CustomerTaxRatesSchema,
  SetCustomerTaxRateBody,
  TaxRateSchema,
} from "./schemas.ts";

/** `POST /v1/tax_rates`, `PUT /v1/customers/{id}/tax_rates` and the single-rate `PUT /v1/customers/{id}/tax_rate`. */
export function taxRoutes(): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/tax_rates",
      tags: ["tax"],
      summary: "Create a tax rate (an identical repeat returns it with 200)",
      security: secured,
      request: { body: body(CreateTaxRateBody) },
      responses: {
        201: json(TaxRateSchema, "Created"),
        200: json(TaxRateSchema, "Already existed"),
        ...errors,
      },
    }),
    async (c) => {
      const { tax_rate, replayed } = await createTaxRate(c.var.ctx, c.req.valid("json"));
      return replayed ? c.json(tax_rate, 200) : c.json(tax_rate, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "put",
      path: "/v1/customers/{id}/tax_rate",
      tags: ["tax"],
      summary:
        "Set (or clear with null) the one tax rate a customer is billed with (see PUT …/tax_rates for several)",
      security: secured,
      request: { params: ResourceIdParam, body: body(SetCustomerTaxRateBody) },
      responses: { 200: json(CustomerTaxRateSchema), ...errors },
    }),
    async (c) =>
      c.json(
        await setCustomerTaxRate(c.var.ctx, c.req.valid("param").id, c.req.valid("json").tax_rate_id),
        200,
      ),
  );
  app.openapi(
    createRoute({
      method: "put",
      path: "/v1/customers/{id}/tax_rates",
      tags: ["tax"],
      summary: "Set the tax rates (up to 5) a customer is billed with; [] clears them",
      security: secured,
      request: { params: ResourceIdParam, body: body(SetCustomerTaxRatesBody) },
      responses: { 200: json(CustomerTaxRatesSchema), ...errors },
    }),
    async (c) =>
      c.json(
        await setCustomerTaxRates(c.var.ctx, c.req.valid("param").id, c.req.valid("json").tax_rate_ids),
        200,
      ),
  );
  return app;
}
