/**
 * Inventory balances and holds of one scope, through the one tenancy filter of
 * `storage/scoped.ts` (the writes go through the single writer, `ledger/batch.ts`).
 *
 * @module
 */
import { asc, eq, gt, lte, or } from "drizzle-orm";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import { inventoryBalances, inventoryHolds } from "../storage/schema.ts";
import { type Row, scoped, type TableRepository, tableRepository } from "../storage/scoped.ts";

/** An inventory balance row as stored. */
export type InventoryBalanceRow = Row<typeof inventoryBalances>;

/** An inventory hold (reservation) row as stored; `quantity` in whole units of the item. */
export type InventoryHoldRow = Row<typeof inventoryHolds>;

/** The scope's inventory balances. */
export const inventoryBalanceRows: TableRepository<typeof inventoryBalances> = tableRepository(
  inventoryBalances,
);
/** The scope's inventory holds. */
export const inventoryHoldRows: TableRepository<typeof inventoryHolds> = tableRepository(inventoryHolds);

/** Whether the subject (and item, when given) has a pending hold due at `now`. */
export async function hasDueInventoryHold(
  exec: Executor,
  scope: Scope,
  now: Date,
  subject: string,
  item?: string,
): Promise<boolean> {
  const s = scoped(exec, scope);
  const [due] = await exec.select({ id: inventoryHolds.id }).from(inventoryHolds).where(s.filter(
    inventoryHolds,
    eq(inventoryHolds.status, "pending"),
    lte(inventoryHolds.expires_at, now),
    eq(inventoryHolds.subject, subject),
    item === undefined ? undefined : eq(inventoryHolds.item, item),
  )).limit(1);
  return due !== undefined;
}

/** The subject's balances with something free or on hold, by item, at most `limit`. */
export function nonZeroBalancesOf(
  exec: Executor,
  scope: Scope,
  subject: string,
  limit: number,
): Promise<InventoryBalanceRow[]> {
  const s = scoped(exec, scope);
  return s.select(
    inventoryBalances,
    s.filter(
      inventoryBalances,
      eq(inventoryBalances.subject, subject),
      or(gt(inventoryBalances.free, 0), gt(inventoryBalances.on_hold, 0)),
    ),
    { orderBy: [asc(inventoryBalances.item)], limit },
  );
}
