/**
 * `POST /v1/customer_sessions`: the customer's backend (secret key) mints a short-lived token that
 * lets a browser, with the publishable key, check entitlements and record usage for that one
 * customer only.
 *
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../http/env.ts";
import { body, errors, json, router, secured } from "../http/env.ts";
import { CreateSessionBody, CustomerSessionSchema } from "./schemas.ts";
import { createCustomerSession } from "./service.ts";
import type { SessionSigner } from "./token.ts";

/** `POST /v1/customer_sessions` (secret keys only). */
export function sessionRoutes(signer: SessionSigner): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/customer_sessions",
      tags: ["customers"],
      summary: "Mint a short-lived token that lets a browser act for one customer",
      description:
        "Call it from your backend with a secret key once the customer has signed in, and hand the token to the " +
        "page. The browser sends it as `Customer-Session: <token>` next to `Authorization: Bearer pk_…`; with it the " +
        "publishable-key routes act only on this customer (and only on `features` when given). The token is signed, " +
        "verified without a database read, ends at `expires_at` (at most one hour) and when the minting key is revoked.",
      security: secured,
      request: { body: body(CreateSessionBody) },
      responses: { 201: json(CustomerSessionSchema, "Minted"), ...errors },
    }),
    async (c) => c.json(await createCustomerSession(c.var.ctx, signer, c.req.valid("json")), 201),
  );
  return app;
}
