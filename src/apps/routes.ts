/** The calling key's app: its settings, such as the browser origins of its publishable key. @module */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { getCurrentApp, type OriginPolicy, setAllowedOrigins } from "./service.ts";
import { type AppEnv, body, errors, json, router, secured } from "../http/env.ts";
import { AppSchema, UpdateAppBody } from "./schemas.ts";

/** `GET /v1/apps/current` and `PATCH /v1/apps/current` (secret key). */
export function appRoutes(policy: OriginPolicy): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/apps/current",
      tags: ["apps"],
      summary: "The app of the calling secret key, with its allowed browser origins",
      security: secured,
      responses: { 200: json(AppSchema), 401: errors[401], 403: errors[403], 404: errors[404] },
    }),
    async (c) => c.json(await getCurrentApp(c.var.ctx), 200),
  );
  app.openapi(
    createRoute({
      method: "patch",
      path: "/v1/apps/current",
      tags: ["apps"],
      summary: "Set the origins whose pages may call the publishable-key routes (CORS); idempotent",
      security: secured,
      request: { body: body(UpdateAppBody) },
      responses: { 200: json(AppSchema), ...errors },
    }),
    async (c) => c.json(await setAllowedOrigins(c.var.ctx, c.req.valid("json").allowed_origins, policy), 200),
  );
  return app;
}
