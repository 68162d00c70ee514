/**
 * Ledger reads of one scope (accounts, balances, holds, the journal), through the one tenancy
 * filter of `storage/scoped.ts`. The ledger's writes go through the single writer (`batch.ts`).
 *
 * @module
 */
import { and, asc, desc, eq, gt, gte, inArray, lt, lte, or, type SQL } from "drizzle-orm";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import {
  inventoryHolds,
  ledgerAccounts,
  ledgerBalances,
  ledgerEntries,
  ledgerHolds,
  ledgerPostings,
} from "../storage/schema.ts";
import { type NewRow, type Row, scoped, type TableRepository, tableRepository } from "../storage/scoped.ts";
import { anyOf, inChunks } from "../storage/limits.ts";

/** A ledger account row as stored. */
export type AccountRow = Row<typeof ledgerAccounts>;
/** An authorization hold row as stored (amounts in minor units, instants as `Date`). */
export type HoldRow = Row<typeof ledgerHolds>;
/** A materialized balance row as stored. */
export type BalanceRow = Row<typeof ledgerBalances>;

/** The scope's ledger accounts. */
export const accountRows: TableRepository<typeof ledgerAccounts> = tableRepository(ledgerAccounts);
/** The scope's materialized balances. */
export const balanceRows: TableRepository<typeof ledgerBalances> = tableRepository(ledgerBalances);
/** The scope's authorization holds. */
export const holdRows: TableRepository<typeof ledgerHolds> = tableRepository(ledgerHolds);

/**
 * Inserts the account unless one with its (name, currency) exists, then reads that account back
 * (race-free: `ON CONFLICT DO NOTHING` on the unique scoped index).
 */
export async function insertAccountIfAbsent(
  exec: Executor,
  scope: Scope,
  row: NewRow<typeof ledgerAccounts>,
): Promise<AccountRow | undefined> {
  await scoped(exec, scope).insert(ledgerAccounts, row).onConflictDoNothing();
  return await accountRows.first(exec, scope, { name: row.name, currency: row.currency });
}

/** A page of the scope's accounts with their balance rows (absent when never posted), by name and currency, after `page.after`. */
export async function accountsWithBalances(
  exec: Executor,
  scope: Scope,
  page: { after?: { name: string; currency: string }; limit: number },
): Promise<{ account: AccountRow; balance: BalanceRow | null }[]> {
  const after = page.after
    ? or(
      gt(ledgerAccounts.name, page.after.name),
      and(eq(ledgerAccounts.name, page.after.name), gt(ledgerAccounts.currency, page.after.currency)),
    )
    : undefined;
  return await exec.select({ account: ledgerAccounts, balance: ledgerBalances }).from(ledgerAccounts)
    .leftJoin(
      ledgerBalances,
      and(
        eq(ledgerBalances.tenant_id, ledgerAccounts.tenant_id),
        eq(ledgerBalances.app_id, ledgerAccounts.app_id),
        eq(ledgerBalances.account_id, ledgerAccounts.id),
        eq(ledgerBalances.currency, ledgerAccounts.currency),
      ),
    )
    .where(scoped(exec, scope).filter(ledgerAccounts, after))
    .orderBy(asc(ledgerAccounts.name), asc(ledgerAccounts.currency))
    .limit(page.limit);
}

/** Whether the scope has a pending hold due at `now`. */
export async function hasDueLedgerHold(exec: Executor, scope: Scope, now: Date): Promise<boolean> {
  const s = scoped(exec, scope);
  const [due] = await exec.select({ id: ledgerHolds.id }).from(ledgerHolds)
    .where(s.filter(ledgerHolds, eq(ledgerHolds.status, "pending"), lte(ledgerHolds.expires_at, now)))
    .limit(1);
  return due !== undefined;
}

/**
 * The ids of the scope's accounts named `names` in `currency`, by name (a name with no account in
 * that currency is absent). One select per chunk of names sized for the store's statement limits
 * (`storage/limits.ts`: at most 100 bound parameters on Durable Object SQLite), so a batch of
 * entries resolves all of its names in a few statements.
 *
 * @throws the driver's error
 */
export async function accountIdsByName(
  exec: Executor,
  scope: Scope,
  currency: string,
  names: Iterable<string>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const s = scoped(exec, scope);
  // Besides the names: tenant, app and currency, with a margin.
  for (const chunk of inChunks(exec, new Set(names), 8)) {
    const rows = await exec.select({ id: ledgerAccounts.id, name: ledgerAccounts.name }).from(ledgerAccounts)
      .where(
        s.filter(
          ledgerAccounts,
          eq(ledgerAccounts.currency, currency),
          anyOf(exec, ledgerAccounts.name, chunk),
        ),
      );
    for (const row of rows) out.set(row.name, row.id);
  }
  return out;
}

/** Filters of {@link entryPage}; each one optional. */
export interface EntryPageFilter {
  /** Entries after (asc) or before (desc) this journal sequence. */
  after_seq?: number;
  /** Entries of this payment intent. */
  payment_intent_id?: string;
  /** Entries of this refund. */
  refund_id?: string;
  /** Entries of this payout. */
  payout_id?: string;
  /** Entries of this dispute. */
  dispute_id?: string;
  /** Inclusive lower bound of created_at. */
  created_after?: Date;
  /** Exclusive upper bound of created_at. */
  created_before?: Date;
  /** Entries with a posting on this account. */
  account_id?: string;
}

/** Ids and sequences of the scope's entries matching `filter`, in journal `order`, at most `limit`. */
export async function entryPage(
  exec: Executor,
  scope: Scope,
  filter: EntryPageFilter,
  order: "asc" | "desc",
  limit: number,
): Promise<{ id: string; seq: number }[]> {
  const s = scoped(exec, scope);
  const where: SQL[] = [];
  if (filter.after_seq !== undefined) {
    where.push(
      order === "asc" ? gt(ledgerEntries.seq, filter.after_seq) : lt(ledgerEntries.seq, filter.after_seq),
    );
  }
  if (filter.payment_intent_id) where.push(eq(ledgerEntries.payment_intent_id, filter.payment_intent_id));
  if (filter.refund_id) where.push(eq(ledgerEntries.refund_id, filter.refund_id));
  if (filter.payout_id) where.push(eq(ledgerEntries.payout_id, filter.payout_id));
  if (filter.dispute_id) where.push(eq(ledgerEntries.dispute_id, filter.dispute_id));
  if (filter.created_after) where.push(gte(ledgerEntries.created_at, filter.created_after));
  if (filter.created_before) where.push(lt(ledgerEntries.created_at, filter.created_before));
  if (filter.account_id) {
    where.push(inArray(
      ledgerEntries.seq,
      exec.select({ seq: ledgerPostings.entry_seq }).from(ledgerPostings)
        .where(s.filter(ledgerPostings, eq(ledgerPostings.account_id, filter.account_id))),
    ));
  }
  return await exec.select({ id: ledgerEntries.id, seq: ledgerEntries.seq }).from(ledgerEntries)
    .where(s.filter(ledgerEntries, ...where))
    .orderBy(order === "asc" ? asc(ledgerEntries.seq) : desc(ledgerEntries.seq))
    .limit(limit);
}

/**
 * Scopes with a pending ledger hold and scopes with a pending inventory hold due at `now`, at most
 * `limit` of each. Global on purpose: the periodic sweep then expires them scope by scope.
 */
export async function scopesWithDueHolds(
  exec: Executor,
  now: Date,
  limit: number,
): Promise<{ ledger: Scope[]; inventory: Scope[] }> {
  const ledger = await exec.selectDistinct({ tenantId: ledgerHolds.tenant_id, appId: ledgerHolds.app_id })
    .from(ledgerHolds)
    .where(and(eq(ledgerHolds.status, "pending"), lte(ledgerHolds.expires_at, now)))
    .limit(limit);
  const inventory = await exec.selectDistinct({
    tenantId: inventoryHolds.tenant_id,
    appId: inventoryHolds.app_id,
  })
    .from(inventoryHolds)
    .where(and(eq(inventoryHolds.status, "pending"), lte(inventoryHolds.expires_at, now)))
    .limit(limit);
  return { ledger, inventory };
}
