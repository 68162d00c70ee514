/**
 * `POST /v1/entitlements/check`: may a customer use a feature now, optionally consuming units
 * atomically. Open to publishable keys, which are rate-limited per customer.
 *
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { checkEntitlement } from "./service.ts";
import { type AppEnv, body, errors, json, router } from "../http/env.ts";
import { anyKey, authorizeCustomers, limitPublishable, rateLimited } from "../http/publishable.ts";
import { CheckBody, DecisionSchema } from "./schemas.ts";

/** `POST /v1/entitlements/check`. */
export function entitlementRoutes(): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/entitlements/check",
      tags: ["entitlements"],
      summary: "May this customer use this feature now? With consume: check and use atomically",
      description:
        "Without `consume` it only reads. With `consume: n` (and an `idempotency_key`) it atomically checks " +
        "and adds n units: with a hard limit only if used + n ≤ limit (nothing is added when denied); with a soft " +
        "limit always, flagged `over_soft_limit`. Consumed units are recorded as a usage event with the key as id.",
      security: anyKey,
      request: { body: body(CheckBody) },
      responses: { 200: json(DecisionSchema), ...errors, ...rateLimited },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const refused = authorizeCustomers(c, [input]);
      if (refused) return refused as never;
      const limited = await limitPublishable(c, [input.customer_id]);
      if (limited) return limited as never;
      const decision = await checkEntitlement(c.var.ctx, input);
      c.set("checkAllowed", decision.allowed);
      return c.json(decision, 200);
    },
  );
  return app;
}
