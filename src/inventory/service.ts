/**
 * The inventory ledger service (seed package `inventory`): acquire, consume, transfer, holds,
 * balances. Rules live in `domain/inventory.ts`; every mutation goes through the scope's single
 * writer (`writer.ts`), in the same batches as the money ledger's commands.
 *
 * @module
 */
import { notFound } from "../domain/errors.ts";
import { isId } from "../domain/ids.ts";
import type {
  InventoryBalance,
  InventoryCommand,
  InventoryHold,
  InventoryOperation,
  InventoryResult,
} from "../domain/inventory.ts";
import {
  hasDueInventoryHold,
  inventoryBalanceRows,
  inventoryHoldRows,
  nonZeroBalancesOf,
} from "./repository.ts";
import type { Ctx } from "../context.ts";
import { inventoryHoldOf } from "../ledger/batch.ts";
import { writerFor } from "../ledger/writer.ts";

/** Balance as the API shows it: `free` + `on_hold` = `total`. */
export interface InventoryBalanceView {
  /** Owner. */
  subject: string;
  /** Item type. */
  item: string;
  /** Spendable units. */
  free: number;
  /** Units reserved by pending holds. */
  on_hold: number;
  /** free + on_hold. */
  total: number;
}

/** A journal operation as the API shows it. */
export interface InventoryOperationView {
  /** TypeID of the resource. */
  id: string;
  /** Position in the journal (1, 2, 3…). */
  seq: number;
  /** What happened. */
  kind: InventoryOperation["kind"];
  /** Key of the command that wrote it. */
  idempotency_key: string;
  /** Owner. */
  subject: string;
  /** Receiving subject of a transfer, else null. */
  counterparty: string | null;
  /** Item type. */
  item: string;
  /** Units, > 0. */
  quantity: number;
  /** Hold involved, if any. */
  hold_id: string | null;
  /** ISO 8601 instant. */
  created_at: string;
}

/** A hold as the API shows it. */
export interface InventoryHoldView {
  /** TypeID of the resource. */
  id: string;
  /** Owner. */
  subject: string;
  /** Item type. */
  item: string;
  /** Units, > 0. */
  quantity: number;
  /** Lifecycle state. */
  status: InventoryHold["status"];
  /** Key of the command that wrote it. */
  idempotency_key: string;
  /** ISO 8601 instant a pending hold expires. */
  expires_at: string;
  /** ISO 8601 instant. */
  created_at: string;
  /** ISO 8601 instant of the last transition. */
  updated_at: string;
}

/** Reply of a mutation: the operation, the balances after it, the hold when there is one. */
export interface InventoryReply {
  /** Journal row written (null for a sweep). */
  operation: InventoryOperationView | null;
  /** Balances after the operation (for a replay: now). */
  balances: InventoryBalanceView[];
  /** Hold created or moved. */
  hold?: InventoryHoldView;
  /** True when this is the stored result of an earlier request with the same key. */
  replayed: boolean;
}

/** View of a balance. */
export function inventoryBalanceView(b: InventoryBalance): InventoryBalanceView {
  return { subject: b.subject, item: b.item, free: b.free, on_hold: b.on_hold, total: b.free + b.on_hold };
}

/** View of a hold. */
export function inventoryHoldView(h: InventoryHold): InventoryHoldView {
  return {
    id: h.id,
    subject: h.subject,
    item: h.item,
    quantity: h.quantity,
    status: h.status,
    idempotency_key: h.idempotency_key,
    expires_at: h.expires_at.toISOString(),
    created_at: h.created_at.toISOString(),
    updated_at: h.updated_at.toISOString(),
  };
}

function operationView(o: InventoryOperation): InventoryOperationView {
  return {
    id: o.id,
    seq: o.seq,
    kind: o.kind,
    idempotency_key: o.idempotency_key,
    subject: o.subject,
    counterparty: o.counterparty,
    item: o.item,
    quantity: o.quantity,
    hold_id: o.hold_id,
    created_at: o.created_at.toISOString(),
  };
}

function reply(value: InventoryResult, replayed: boolean): InventoryReply {
  return {
    operation: value.operation ? operationView(value.operation) : null,
    balances: value.balances.map(inventoryBalanceView),
    ...(value.hold ? { hold: inventoryHoldView(value.hold) } : {}),
    replayed,
  };
}

/**
 * Applies an inventory mutation through the writer.
 *
 * @throws {BillingError} `invalid_quantity` (400), `validation_failed`, `insufficient_quantity`
 *   (422), `quantity_out_of_range` (422), `hold_not_found` (404), `hold_expired` /
 *   `hold_not_pending` (409), `idempotency_key_reused` (409)
 */
export async function mutateInventory(
  ctx: Ctx,
  command: Exclude<InventoryCommand, { kind: "inventory_sweep" }>,
): Promise<InventoryReply> {
  if (
    (command.kind === "inventory_commit" || command.kind === "inventory_release") &&
    !isId("ihl", command.hold_id)
  ) {
    throw notFound("hold", command.hold_id);
  }
  const { value, replayed } = await writerFor(ctx).submit(ctx.scope, command, {
    actor: ctx.actor,
    requestId: ctx.requestId,
  });
  return reply(value, replayed);
}

/** Sweeps due inventory holds of the scope through the writer when a read notices one. */
async function expireNoticed(ctx: Ctx, subject: string, item?: string): Promise<void> {
  const due = await hasDueInventoryHold(ctx.database.db, ctx.scope, ctx.clock.now(), subject, item);
  if (due) await writerFor(ctx).submit(ctx.scope, { kind: "inventory_sweep" });
}

/** Balance of a (subject, item); zeros when never touched. Due holds are expired first. */
export async function getInventoryBalance(
  ctx: Ctx,
  subject: string,
  item: string,
): Promise<InventoryBalanceView> {
  await expireNoticed(ctx, subject, item);
  const row = await inventoryBalanceRows.first(ctx.database.db, ctx.scope, { subject, item });
  return inventoryBalanceView(row ?? { subject, item, free: 0, on_hold: 0 });
}

/**
 * Every non-zero balance of a subject (free or on hold), by item (seed `List`; the seed's
 * "non-zero" looked at free only and hid fully-reserved items). At most 1000 items.
 */
export async function listInventoryBalances(ctx: Ctx, subject: string): Promise<InventoryBalanceView[]> {
  await expireNoticed(ctx, subject);
  const rows = await nonZeroBalancesOf(ctx.database.db, ctx.scope, subject, 1000);
  return rows.map(inventoryBalanceView);
}

/** GET an inventory hold (a due hold is expired first). @throws {BillingError} `hold_not_found` (404) */
export async function getInventoryHold(ctx: Ctx, id: string): Promise<InventoryHoldView> {
  if (!isId("ihl", id)) throw notFound("hold", id);
  const first = await inventoryHoldRows.first(ctx.database.db, ctx.scope, { id });
  if (!first) throw notFound("hold", id);
  if (first.status === "pending" && first.expires_at.getTime() <= ctx.clock.now().getTime()) {
    await writerFor(ctx).submit(ctx.scope, { kind: "inventory_sweep" });
    return inventoryHoldView(
      inventoryHoldOf((await inventoryHoldRows.first(ctx.database.db, ctx.scope, { id }))!),
    );
  }
  return inventoryHoldView(inventoryHoldOf(first));
}
