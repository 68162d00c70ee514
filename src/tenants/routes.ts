/** Tenant routes: tenant and app provisioning with the admin token. @module */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { createTenantApp } from "./service.ts";
import type { Services } from "../context.ts";
import { type AppEnv, body, errors, json, router } from "../http/env.ts";
import { CreateTenantBody, TenantCreated } from "./schemas.ts";

/** `POST /v1/admin/tenants` (admin token required by the app's middleware). */
export function tenantRoutes(services: Services): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/tenants",
      tags: ["admin"],
      summary: "Create a tenant app and its API keys",
      security: [{ adminAuth: [] }],
      request: { body: body(CreateTenantBody) },
      responses: {
        201: json(TenantCreated, "Created"),
        400: errors[400],
        401: errors[401],
        409: errors[409],
      },
    }),
    async (c) =>
      c.json(await createTenantApp(services, c.req.valid("json"), { requestId: c.get("requestId") }), 201),
  );
  return app;
}
