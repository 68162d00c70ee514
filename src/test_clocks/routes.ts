/**
 * Test clock routes (`/v1/test_clocks`): create, get, list, delete, advance (Stripe's semantics;
 * see `service.ts`).
 *
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { type AppEnv, body, errors, json, router, secured } from "../http/env.ts";
import { idParam } from "../http/schemas.ts";
import {
  advanceTestClock,
  createTestClock,
  deleteTestClock,
  getTestClock,
  listTestClocks,
} from "./service.ts";
import {
  AdvanceTestClockBody,
  CreateTestClockBody,
  DeletedTestClockSchema,
  ListTestClocksQuery,
  TestClockListSchema,
  TestClockSchema,
} from "./schemas.ts";

const ClockParam = idParam("The test clock's id (clock_ TypeID)", "clock_01jd0000000000000000000000");

/** The test clock routes. */
export function testClockRoutes(): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/test_clocks",
      tags: ["test_clocks"],
      summary: "Create a test clock; customers created with test_clock live on its frozen time",
      security: secured,
      request: { body: body(CreateTestClockBody) },
      responses: { 201: json(TestClockSchema, "Created"), ...errors },
    }),
    async (c) => {
      const input = c.req.valid("json");
      return c.json(
        await createTestClock(c.var.ctx, { frozen_time: new Date(input.frozen_time), name: input.name }),
        201,
      );
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/test_clocks",
      tags: ["test_clocks"],
      summary: "List test clocks, oldest first",
      security: secured,
      request: { query: ListTestClocksQuery },
      responses: { 200: json(TestClockListSchema), ...errors },
    }),
    async (c) => c.json(await listTestClocks(c.var.ctx, c.req.valid("query")), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/test_clocks/{id}",
      tags: ["test_clocks"],
      summary: "Get a test clock",
      security: secured,
      request: { params: ClockParam },
      responses: { 200: json(TestClockSchema), ...errors },
    }),
    async (c) => c.json(await getTestClock(c.var.ctx, c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: "/v1/test_clocks/{id}",
      tags: ["test_clocks"],
      summary:
        "Delete a test clock with its customers and their subscriptions, usage, invoices and credits (ledger entries, audit and webhook history are kept)",
      security: secured,
      request: { params: ClockParam },
      responses: { 200: json(DeletedTestClockSchema), ...errors },
    }),
    async (c) => {
      const { clock, deleted_customers } = await deleteTestClock(c.var.ctx, c.req.valid("param").id);
      return c.json({ id: clock.id, deleted: true as const, deleted_customers }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/test_clocks/{id}/advance",
      tags: ["test_clocks"],
      summary:
        "Move the clock forward, running what came due for its customers in time order (period rollovers, invoices, trial ends, coupons, credit expiry); idempotent",
      security: secured,
      request: { params: ClockParam, body: body(AdvanceTestClockBody) },
      responses: { 200: json(TestClockSchema), ...errors },
    }),
    async (c) =>
      c.json(
        await advanceTestClock(
          c.var.ctx,
          c.req.valid("param").id,
          new Date(c.req.valid("json").frozen_time),
        ),
        200,
      ),
  );
  return app;
}
