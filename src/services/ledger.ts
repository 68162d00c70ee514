/**
 * Ledger storage operations used by billing: find-or-create accounts, post balanced entries
 * idempotently, read balances. Rules live in `domain/ledger.ts`.
 *
 * Idempotency: `idempotency_key` is unique per tenant+app. The same key with the same payload
 * returns the original entry (`replayed: true`); with a different payload it fails with
 * `idempotency_key_reused` (409). Entries are immutable; corrections are reversal entries
 * (`reverses_entry_id`).
 *
 * @module
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { BillingError } from "../domain/errors.ts";
import { payloadHash } from "../domain/hash.ts";
import { newId } from "../domain/ids.ts";
import { type AccountType, checkPostings, normalBalanceOf, type NormalBalance, type PostingInput } from "../domain/ledger.ts";
import type { Executor, Tx } from "../storage/db.ts";
import { ledgerAccounts, ledgerEntries, ledgerPostings } from "../storage/schema.ts";
import type { Ctx, Scope } from "./context.ts";

/** A ledger account as the API shows it. */
export interface AccountView {
  id: string;
  name: string;
  type: AccountType;
  currency: string;
  normal_balance: NormalBalance;
  metadata: Record<string, unknown> | null;
  created_at: string;
}

/** A journal entry with its postings. */
export interface EntryView {
  id: string;
  idempotency_key: string;
  description: string | null;
  reverses_entry_id: string | null;
  metadata: Record<string, unknown> | null;
  postings: PostingInput[];
  created_at: string;
}

/** Posted balance of an account: debits − credits, and the same signed to its normal side. */
export interface AccountBalance extends AccountView {
  /** Σ postings (debits positive). */
  debits_minus_credits: number;
  /** Balance on the account's normal side (positive = normal). */
  balance: number;
}

type AccountRow = typeof ledgerAccounts.$inferSelect;

function accountView(row: AccountRow): AccountView {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    currency: row.currency,
    normal_balance: row.normal_balance,
    metadata: (row.metadata as Record<string, unknown> | null) ?? null,
    created_at: row.created_at.toISOString(),
  };
}

/**
 * Finds the account named `name` in `currency`, creating it when missing (seed `EnsureAccount`).
 *
 * @throws {BillingError} `account_type_mismatch` (409) when it exists with another type
 */
export async function ensureAccount(
  tx: Tx,
  scope: Scope,
  now: Date,
  input: { name: string; type: AccountType; currency: string },
): Promise<AccountView> {
  const where = and(
    eq(ledgerAccounts.tenant_id, scope.tenantId),
    eq(ledgerAccounts.app_id, scope.appId),
    eq(ledgerAccounts.name, input.name),
    eq(ledgerAccounts.currency, input.currency),
  );
  const existing = await tx.query.ledgerAccounts.findFirst({ where });
  if (existing) {
    if (existing.type !== input.type) {
      throw new BillingError("account_type_mismatch", "conflict", `Account "${input.name}" exists with type "${existing.type}"`);
    }
    return accountView(existing);
  }
  const row: AccountRow = {
    id: newId("acc"),
    tenant_id: scope.tenantId,
    app_id: scope.appId,
    name: input.name,
    type: input.type,
    currency: input.currency,
    normal_balance: normalBalanceOf(input.type),
    metadata: null,
    created_at: now,
  };
  await tx.insert(ledgerAccounts).values(row);
  return accountView(row);
}

/**
 * Posts a balanced entry inside the caller's transaction.
 *
 * @throws {BillingError} `validation_failed`, `postings_not_balanced` (422),
 *   `account_not_found` (404) for an account outside the scope or in another currency,
 *   `idempotency_key_reused` (409)
 */
export async function postEntry(
  tx: Tx,
  scope: Scope,
  now: Date,
  input: {
    idempotency_key: string;
    description?: string | null;
    postings: PostingInput[];
    metadata?: Record<string, unknown> | null;
    reverses_entry_id?: string | null;
  },
): Promise<{ entry: EntryView; replayed: boolean }> {
  checkPostings(input.postings);
  const hash = await payloadHash({
    description: input.description ?? null,
    postings: input.postings,
    metadata: input.metadata ?? null,
    reverses_entry_id: input.reverses_entry_id ?? null,
  });
  const prior = await tx.query.ledgerEntries.findFirst({
    where: and(eq(ledgerEntries.tenant_id, scope.tenantId), eq(ledgerEntries.app_id, scope.appId), eq(ledgerEntries.idempotency_key, input.idempotency_key)),
  });
  if (prior) {
    if (prior.payload_hash !== hash) {
      throw new BillingError("idempotency_key_reused", "conflict", `Idempotency key "${input.idempotency_key}" was used for a different entry`);
    }
    return { entry: (await loadEntry(tx, scope, prior.id))!, replayed: true };
  }
  const accountIds = [...new Set(input.postings.map((p) => p.account_id))];
  const accounts = await tx.select({ id: ledgerAccounts.id, currency: ledgerAccounts.currency }).from(ledgerAccounts)
    .where(and(eq(ledgerAccounts.tenant_id, scope.tenantId), eq(ledgerAccounts.app_id, scope.appId), inArray(ledgerAccounts.id, accountIds)));
  const currencyOf = new Map(accounts.map((a) => [a.id, a.currency]));
  for (const p of input.postings) {
    if (currencyOf.get(p.account_id) !== p.currency) {
      throw new BillingError("account_not_found", "not_found", `Account "${p.account_id}" in ${p.currency} was not found`);
    }
  }
  const id = newId("ent");
  await tx.insert(ledgerEntries).values({
    id,
    tenant_id: scope.tenantId,
    app_id: scope.appId,
    idempotency_key: input.idempotency_key,
    payload_hash: hash,
    description: input.description ?? null,
    reverses_entry_id: input.reverses_entry_id ?? null,
    metadata: input.metadata ?? null,
    created_at: now,
  });
  await tx.insert(ledgerPostings).values(input.postings.map((p) => ({
    id: newId("pst"),
    tenant_id: scope.tenantId,
    app_id: scope.appId,
    entry_id: id,
    account_id: p.account_id,
    amount: p.amount,
    currency: p.currency,
    created_at: now,
  })));
  return {
    entry: {
      id,
      idempotency_key: input.idempotency_key,
      description: input.description ?? null,
      reverses_entry_id: input.reverses_entry_id ?? null,
      metadata: input.metadata ?? null,
      postings: input.postings.map((p) => ({ ...p })),
      created_at: now.toISOString(),
    },
    replayed: false,
  };
}

/** Loads an entry with its postings (in posting order), or `undefined`. */
export async function loadEntry(exec: Executor, scope: Scope, id: string): Promise<EntryView | undefined> {
  const entry = await exec.query.ledgerEntries.findFirst({
    where: and(eq(ledgerEntries.tenant_id, scope.tenantId), eq(ledgerEntries.app_id, scope.appId), eq(ledgerEntries.id, id)),
  });
  if (!entry) return undefined;
  const postings = await exec.select().from(ledgerPostings)
    .where(and(eq(ledgerPostings.tenant_id, scope.tenantId), eq(ledgerPostings.app_id, scope.appId), eq(ledgerPostings.entry_id, id)))
    .orderBy(asc(ledgerPostings.id));
  return {
    id: entry.id,
    idempotency_key: entry.idempotency_key,
    description: entry.description,
    reverses_entry_id: entry.reverses_entry_id,
    metadata: (entry.metadata as Record<string, unknown> | null) ?? null,
    postings: postings.map((p) => ({ account_id: p.account_id, amount: p.amount, currency: p.currency })),
    created_at: entry.created_at.toISOString(),
  };
}

/** Every account of the app with its posted balance, by name. */
export async function listAccountBalances(ctx: Ctx): Promise<AccountBalance[]> {
  const scope = ctx.scope;
  const rows = await ctx.database.db.select({
    account: ledgerAccounts,
    total: sql<number>`coalesce(sum(${ledgerPostings.amount}), 0)`,
  }).from(ledgerAccounts)
    .leftJoin(ledgerPostings, and(
      eq(ledgerPostings.tenant_id, ledgerAccounts.tenant_id),
      eq(ledgerPostings.app_id, ledgerAccounts.app_id),
      eq(ledgerPostings.account_id, ledgerAccounts.id),
    ))
    .where(and(eq(ledgerAccounts.tenant_id, scope.tenantId), eq(ledgerAccounts.app_id, scope.appId)))
    .groupBy(ledgerAccounts.id)
    .orderBy(asc(ledgerAccounts.name), asc(ledgerAccounts.currency));
  return rows.map(({ account, total }) => {
    const net = Number(total);
    return { ...accountView(account), debits_minus_credits: net, balance: account.normal_balance === "debit" ? net : -net };
  });
}
