/** Plan routes. @module */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { archivePlan, createPlan, getPlan, listPlans, updatePlan } from "./service.ts";
import { type AppEnv, body, errors, json, router, secured } from "../http/env.ts";
import { idParam, listQuery } from "../http/schemas.ts";
import { CreatePlanBody, PlanList, PlanSchema, UpdatePlanBody } from "./schemas.ts";

const IdParam = idParam("pln_ id or plan key", "pro");

/** `/v1/plans` routes. */
export function planRoutes(): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/plans",
      tags: ["plans"],
      summary: "Create a plan (an identical repeat returns the existing plan with 200)",
      security: secured,
      request: { body: body(CreatePlanBody) },
      responses: {
        201: json(PlanSchema, "Created"),
        200: json(PlanSchema, "Identical plan already existed"),
        ...errors,
      },
    }),
    async (c) => {
      const { plan, replayed } = await createPlan(c.var.ctx, c.req.valid("json"));
      return replayed ? c.json(plan, 200) : c.json(plan, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/plans",
      tags: ["plans"],
      summary: "List plans, newest first, one page at a time",
      security: secured,
      request: {
        query: listQuery("pln", {
          status: z.enum(["active", "archived"]).optional().openapi({
            description: "Only plans in this status",
            example: "active",
          }),
        }),
      },
      responses: { 200: json(PlanList), ...errors },
    }),
    async (c) => c.json(await listPlans(c.var.ctx, c.req.valid("query")), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/plans/{id}",
      tags: ["plans"],
      summary: "Get a plan",
      security: secured,
      request: { params: IdParam },
      responses: { 200: json(PlanSchema), ...errors },
    }),
    async (c) => c.json(await getPlan(c.var.ctx, c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "patch",
      path: "/v1/plans/{id}",
      tags: ["plans"],
      summary: "Update a plan's name, description, trial, base fee or features",
      security: secured,
      request: { params: IdParam, body: body(UpdatePlanBody) },
      responses: { 200: json(PlanSchema), ...errors },
    }),
    async (c) => c.json(await updatePlan(c.var.ctx, c.req.valid("param").id, c.req.valid("json")), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/plans/{id}/archive",
      tags: ["plans"],
      summary: "Archive a plan (no new subscriptions; idempotent)",
      security: secured,
      request: { params: IdParam },
      responses: { 200: json(PlanSchema), ...errors },
    }),
    async (c) => c.json(await archivePlan(c.var.ctx, c.req.valid("param").id), 200),
  );
  return app;
}
