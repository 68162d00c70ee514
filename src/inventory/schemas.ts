/**
 * Request and response schemas of the inventory routes (`/v1/inventory/*`). Quantities accept any
 * number here so the domain answers `invalid_quantity` with its own code.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { Key } from "../http/schemas.ts";
import { Replayed, Ttl } from "../ledger/schemas.ts";

/** Subject or item of the inventory ledger: 1–128 characters of letters, digits, `_ . : -`. */
export const InventoryName: z.ZodString = Key;
/** Any number: the domain checks it is a positive integer (`invalid_quantity`). */
const Quantity = z.number().openapi({ description: "Positive integer", example: 5 });

/** Body of `POST /v1/inventory/acquire` and `/consume`. */
export const InventoryMoveBody: z.ZodObject<
  { idempotency_key: z.ZodString; subject: z.ZodString; item: z.ZodString; quantity: z.ZodNumber },
  z.core.$strict
> = z.object({
  idempotency_key: Key.openapi({
    description: "A retry with the same key returns the first result",
    example: "po_881_receive",
  }),
  subject: InventoryName.openapi({ description: "Who holds the units", example: "warehouse_berlin" }),
  item: InventoryName.openapi({ description: "What is counted", example: "sku_4711" }),
  quantity: Quantity.openapi({ description: "Positive integer", example: 5 }),
}).strict().openapi("InventoryMove");

/** Body of `POST /v1/inventory/transfer`. */
export const InventoryTransferBody: z.ZodObject<
  {
    idempotency_key: z.ZodString;
    from: z.ZodString;
    to: z.ZodString;
    item: z.ZodString;
    quantity: z.ZodNumber;
  },
  z.core.$strict
> = z.object({
  idempotency_key: Key.openapi({
    description: "A retry with the same key returns the first result",
    example: "move_881",
  }),
  from: InventoryName.openapi({ description: "Subject giving the units", example: "warehouse_berlin" }),
  to: InventoryName.openapi({ description: "Subject receiving the units", example: "store_munich" }),
  item: InventoryName.openapi({ description: "What is counted", example: "sku_4711" }),
  quantity: Quantity.openapi({ description: "Positive integer", example: 5 }),
}).strict().openapi("InventoryTransfer");

/** Body of `POST /v1/inventory/holds`. */
export const InventoryHoldBody: z.ZodObject<
  {
    idempotency_key: z.ZodString;
    subject: z.ZodString;
    item: z.ZodString;
    quantity: z.ZodNumber;
    ttl_seconds: z.ZodInt;
  },
  z.core.$strict
> = z.object({
  idempotency_key: Key.openapi({
    description: "A retry with the same key returns the same hold",
    example: "cart_77_hold",
  }),
  subject: InventoryName.openapi({ description: "Who holds the units", example: "warehouse_berlin" }),
  item: InventoryName.openapi({ description: "What is reserved", example: "sku_4711" }),
  quantity: Quantity.openapi({ description: "Positive integer", example: 2 }),
  ttl_seconds: Ttl.openapi({ description: "Seconds until the hold expires (1 to 2592000)", example: 900 }),
}).strict().openapi("CreateInventoryHold");

/** Body of `POST /v1/inventory/holds/{id}/commit|release` (optional). */
export const InventoryHoldActionBody: z.ZodObject<
  { idempotency_key: z.ZodOptional<z.ZodString> },
  z.core.$strict
> = z.object({
  idempotency_key: Key.optional().openapi({
    description: "Default: {hold_id}:commit or {hold_id}:release",
    example: "cart_77_commit",
  }),
}).strict().openapi("InventoryHoldAction");

/** Balance of a subject in one item. */
export const InventoryBalanceSchema: z.ZodObject<
  { subject: z.ZodString; item: z.ZodString; free: z.ZodInt; on_hold: z.ZodInt; total: z.ZodInt },
  z.core.$strip
> = z.object({
  subject: z.string().openapi({ description: "Who holds the units", example: "warehouse_berlin" }),
  item: z.string().openapi({ description: "What is counted", example: "sku_4711" }),
  free: z.int().openapi({ description: "Units not on hold", example: 8 }),
  on_hold: z.int().openapi({ description: "Units reserved by pending holds", example: 2 }),
  total: z.int().openapi({ description: "free + on_hold", example: 10 }),
}).openapi("InventoryBalance", { description: "What a subject has of an item" });

/** An inventory reservation. */
export const InventoryHoldSchema: z.ZodObject<
  {
    id: z.ZodString;
    subject: z.ZodString;
    item: z.ZodString;
    quantity: z.ZodInt;
    status: z.ZodEnum<
      { pending: "pending"; expired: "expired"; committed: "committed"; released: "released" }
    >;
    idempotency_key: z.ZodString;
    expires_at: z.ZodString;
    created_at: z.ZodString;
    updated_at: z.ZodString;
  },
  z.core.$strip
> = z.object({
  id: z.string().openapi({ description: "TypeID of the hold", example: "ihl_01jd0000000000000000000000" }),
  subject: z.string().openapi({ description: "Who holds the units", example: "warehouse_berlin" }),
  item: z.string().openapi({ description: "What is reserved", example: "sku_4711" }),
  quantity: z.int().openapi({ description: "Units reserved", example: 2 }),
  status: z.enum(["pending", "committed", "released", "expired"]).openapi({
    description: "pending until committed, released or expired",
    example: "pending",
  }),
  idempotency_key: z.string().openapi({ description: "Key it was created with", example: "cart_77_hold" }),
  expires_at: z.string().openapi({
    description: "When a pending hold expires",
    example: "2026-11-01T00:15:00.000Z",
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
  updated_at: z.string().openapi({
    description: "ISO 8601 UTC instant of the last change",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("InventoryHold", { description: "Units reserved until committed, released or expired" });

/** One row of the inventory journal. */
export const InventoryOperationSchema: z.ZodObject<
  {
    id: z.ZodString;
    seq: z.ZodInt;
    kind: z.ZodEnum<
      {
        consume: "consume";
        hold: "hold";
        acquire: "acquire";
        transfer: "transfer";
        commit: "commit";
        release: "release";
        expire: "expire";
      }
    >;
    idempotency_key: z.ZodString;
    subject: z.ZodString;
    counterparty: z.ZodNullable<z.ZodString>;
    item: z.ZodString;
    quantity: z.ZodInt;
    hold_id: z.ZodNullable<z.ZodString>;
    created_at: z.ZodString;
  },
  z.core.$strip
> = z.object({
  id: z.string().openapi({
    description: "TypeID of the operation",
    example: "iop_01jd0000000000000000000000",
  }),
  seq: z.int().openapi({ description: "Position in the app's inventory journal", example: 17 }),
  kind: z.enum(["acquire", "consume", "transfer", "hold", "commit", "release", "expire"]).openapi({
    description: "What happened",
    example: "transfer",
  }),
  idempotency_key: z.string().openapi({ description: "Key it was made with", example: "move_881" }),
  subject: z.string().openapi({ description: "Subject changed", example: "warehouse_berlin" }),
  counterparty: z.string().nullable().openapi({
    description: "Other subject of a transfer",
    example: "store_munich",
  }),
  item: z.string().openapi({ description: "Item", example: "sku_4711" }),
  quantity: z.int().openapi({ description: "Units", example: 5 }),
  hold_id: z.string().nullable().openapi({
    description: "Hold of a hold/commit/release/expire",
    example: null,
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("InventoryOperation", { description: "One change of the inventory ledger" });

/** Reply of an inventory mutation: the operation, the balances after it, the hold when there is one. */
export const InventoryReplySchema: z.ZodObject<
  {
    operation: z.ZodNullable<typeof InventoryOperationSchema>;
    balances: z.ZodArray<typeof InventoryBalanceSchema>;
    hold: z.ZodOptional<typeof InventoryHoldSchema>;
    replayed: z.ZodBoolean;
  },
  z.core.$strip
> = z.object({
  operation: InventoryOperationSchema.nullable().openapi({
    description: "The operation written; null when nothing changed",
    example: null,
  }),
  balances: z.array(InventoryBalanceSchema).openapi({
    description: "Balances after the operation",
    example: [{ "subject": "warehouse_berlin", "item": "sku_4711", "free": 8, "on_hold": 2, "total": 10 }],
  }),
  hold: InventoryHoldSchema.optional().openapi({
    description: "The hold, for hold operations",
    example: null,
  }),
  replayed: Replayed,
}).openapi("InventoryReply");

/** Every non-zero balance of a subject. */
export const InventoryBalanceList: z.ZodObject<
  { data: z.ZodArray<typeof InventoryBalanceSchema> },
  z.core.$strip
> = z.object({
  data: z.array(InventoryBalanceSchema).openapi({
    description: "Balances of the subject, one per item",
    example: [],
  }),
}).openapi("InventoryBalanceList");
