/**
 * `/v1/inventory/*` routes: the owned-item ledger (acquire, consume, transfer, holds, balances).
 * Every mutation is idempotent on `idempotency_key`: a new operation answers 201 (commit and
 * release 200), a replay 200 with `replayed: true` and `Idempotent-Replayed: true`.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { getInventoryBalance, getInventoryHold, listInventoryBalances, mutateInventory } from "./service.ts";
import { type AppEnv, body, errors, json, router, secured } from "../http/env.ts";
import { idParam } from "../http/schemas.ts";
import {
  InventoryBalanceList,
  InventoryBalanceSchema,
  InventoryHoldActionBody,
  InventoryHoldBody,
  InventoryHoldSchema,
  InventoryMoveBody,
  InventoryName,
  InventoryReplySchema,
  InventoryTransferBody,
} from "./schemas.ts";
import { markReplay } from "../ledger/routes.ts";

const IdParam = idParam("ihl_ id of the inventory hold", "ihl_01jd0000000000000000000000");
const Subject = InventoryName.openapi({ description: "Who holds the units", example: "warehouse_berlin" });
const Item = InventoryName.openapi({ description: "What is counted", example: "sku_4711" });

/** The inventory routes. */
export function inventoryRoutes(): OpenAPIHono<AppEnv> {
  const app = router();
  for (
    const [verb, summary] of [
      ["acquire", "Credit quantity of an item to a subject"],
      ["consume", "Debit free quantity (insufficient_quantity when short)"],
    ] as const
  ) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/v1/inventory/${verb}`,
        tags: ["inventory"],
        summary,
        security: secured,
        request: { body: body(InventoryMoveBody) },
        responses: {
          201: json(InventoryReplySchema, "Applied"),
          200: json(InventoryReplySchema, "Idempotent replay"),
          ...errors,
        },
      }),
      async (c) => {
        const result = await mutateInventory(c.var.ctx, {
          kind: `inventory_${verb}`,
          ...c.req.valid("json"),
        });
        markReplay(c, result.replayed);
        return result.replayed ? c.json(result, 200) : c.json(result, 201);
      },
    );
  }
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/inventory/transfer",
      tags: ["inventory"],
      summary: "Move free quantity from one subject to another atomically",
      security: secured,
      request: { body: body(InventoryTransferBody) },
      responses: {
        201: json(InventoryReplySchema, "Applied"),
        200: json(InventoryReplySchema, "Idempotent replay"),
        ...errors,
      },
    }),
    async (c) => {
      const result = await mutateInventory(c.var.ctx, { kind: "inventory_transfer", ...c.req.valid("json") });
      markReplay(c, result.replayed);
      return result.replayed ? c.json(result, 200) : c.json(result, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/inventory/holds",
      tags: ["inventory"],
      summary: "Reserve quantity for ttl_seconds (moves it from free to on hold)",
      security: secured,
      request: { body: body(InventoryHoldBody) },
      responses: {
        201: json(InventoryReplySchema, "Reserved"),
        200: json(InventoryReplySchema, "Idempotent replay"),
        ...errors,
      },
    }),
    async (c) => {
      const result = await mutateInventory(c.var.ctx, { kind: "inventory_hold", ...c.req.valid("json") });
      markReplay(c, result.replayed);
      return result.replayed ? c.json(result, 200) : c.json(result, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/inventory/holds/{id}",
      tags: ["inventory"],
      summary: "Get an inventory hold (expired first when past its expiry)",
      security: secured,
      request: { params: IdParam },
      responses: { 200: json(InventoryHoldSchema), ...errors },
    }),
    async (c) => c.json(await getInventoryHold(c.var.ctx, c.req.valid("param").id), 200),
  );
  for (
    const [verb, summary] of [
      ["commit", "Commit a pending hold: its quantity is consumed"],
      ["release", "Release a pending hold: its quantity returns to free"],
    ] as const
  ) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/v1/inventory/holds/{id}/${verb}`,
        tags: ["inventory"],
        summary,
        security: secured,
        request: {
          params: IdParam,
          body: { required: false, content: { "application/json": { schema: InventoryHoldActionBody } } },
        },
        responses: { 200: json(InventoryReplySchema, "Applied (or idempotent replay)"), ...errors },
      }),
      async (c) => {
        const input = c.req.valid("json") ?? {};
        const result = await mutateInventory(c.var.ctx, {
          kind: `inventory_${verb}`,
          hold_id: c.req.valid("param").id,
          ...input,
        });
        markReplay(c, result.replayed);
        return c.json(result, 200);
      },
    );
  }
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/inventory/balances/{subject}/{item}",
      tags: ["inventory"],
      summary: "Balance of a subject in one item (zeros when never touched)",
      security: secured,
      request: { params: z.object({ subject: Subject, item: Item }) },
      responses: { 200: json(InventoryBalanceSchema), ...errors },
    }),
    async (c) => {
      const { subject, item } = c.req.valid("param");
      return c.json(await getInventoryBalance(c.var.ctx, subject, item), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/inventory/balances/{subject}",
      tags: ["inventory"],
      summary: "Every non-zero balance of a subject (free or on hold), by item",
      security: secured,
      request: { params: z.object({ subject: Subject }) },
      responses: { 200: json(InventoryBalanceList), ...errors },
    }),
    async (c) => c.json({ data: await listInventoryBalances(c.var.ctx, c.req.valid("param").subject) }, 200),
  );
  return app;
}
