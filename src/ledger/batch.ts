/**
 * One batch of ledger and inventory commands of one scope, inside one write transaction:
 * load everything the batch touches once (setup), apply the commands in order on the pure books
 * (`domain/ledger_book.ts`, `domain/inventory.ts`: compute), write the changed rows with a few
 * multi-row statements (execute). Expired holds of the scope are released first, so a capture of
 * a due hold answers `hold_expired` and the release happens exactly once.
 *
 * Used by the per-tenant writer (`writer.ts`) for every batch, and by billing's `postEntry` with
 * a batch of one inside the invoice's own transaction.
 *
 * @module
 */
import { and, eq, lte, max } from "drizzle-orm";
import type { BillingError } from "../domain/errors.ts";
import { payloadHashSync } from "../domain/hash.ts";
import {
  type InventoryBalance,
  InventoryBook,
  type InventoryCommand,
  type InventoryHold,
  type InventoryOperation,
  inventoryPayload,
  inventoryTouch,
} from "../domain/inventory.ts";
import type { BalanceCounters, LedgerAccount } from "../domain/ledger.ts";
import {
  commandPayload,
  type CommandRecord,
  LedgerBook,
  type LedgerCommand,
  type LedgerEntry,
  type LedgerHold,
  type LedgerResult,
  ledgerTouch,
  type Outcome,
} from "../domain/ledger_book.ts";
import type { InventoryResult } from "../domain/inventory.ts";
import type { Executor, Tx } from "../storage/db.ts";
import {
  inventoryBalances,
  inventoryHolds,
  inventoryOperations,
  ledgerAccounts,
  ledgerBalances,
  ledgerCommands,
  ledgerEntries,
  ledgerHolds,
  ledgerPostings,
} from "../storage/schema.ts";
import { anyOf, inChunks, textIn } from "../storage/limits.ts";
import { runStatement, statementValues, TableShape } from "../storage/shapes.ts";
import type { AccountRow, HoldRow } from "./repository.ts";
import type { InventoryHoldRow } from "../inventory/repository.ts";
import { tenancy } from "../storage/scoped.ts";
import type { Scope } from "../domain/scope.ts";

/** Any command the writer serializes. */
export type Command = LedgerCommand | InventoryCommand;

/** The result type of a command. */
export type ResultOf<C extends Command> = C extends InventoryCommand ? InventoryResult : LedgerResult;

/** A command with the hash of its payload (computed before the transaction). */
export interface BatchItem {
  /** The command. */
  command: Command;
  /** SHA-256 of its idempotency payload ({@link hashCommand}). */
  hash: string;
}

/** Whether a command belongs to the inventory ledger. */
export function isInventoryCommand(command: Command): command is InventoryCommand {
  return command.kind.startsWith("inventory_");
}

/** SHA-256 of a command's idempotency payload. */
export function hashCommand(command: Command): Promise<string> {
  return Promise.resolve(hashCommandSync(command));
}

/** {@link hashCommand}, synchronously (the writer hashes a whole batch without yielding). */
export function hashCommandSync(command: Command): string {
  return payloadHashSync(isInventoryCommand(command) ? inventoryPayload(command) : commandPayload(command));
}

/** Most due holds a batch expires (the rest go in the next batch or sweep): a limit on everything. */
export const MAX_EXPIRIES_PER_BATCH = 1000;
// Fixed-shape statements of the ledger batch (storage/shapes.ts), built once per process.
const ACCOUNTS = new TableShape(ledgerAccounts);
const BALANCES = new TableShape(ledgerBalances);
const COMMANDS = new TableShape(ledgerCommands);
const ENTRIES = new TableShape(ledgerEntries);
const HOLDS = new TableShape(ledgerHolds);
const POSTINGS = new TableShape(ledgerPostings);
const INVENTORY_BALANCES = new TableShape(inventoryBalances);
const INVENTORY_HOLDS = new TableShape(inventoryHolds);
const INVENTORY_OPERATIONS = new TableShape(inventoryOperations);
/** An inventory balance row replaces its earlier counts. */
const INVENTORY_BALANCE_UPSERT = INVENTORY_BALANCES.upsertSuffix(
  ["tenant_id", "app_id", "subject", "item"],
  ["free", "on_hold", "updated_at"],
);
/** An inventory hold row replaces its earlier state: only what a transition changes. */
const INVENTORY_HOLD_UPSERT = INVENTORY_HOLDS.upsertSuffix(["id"], ["status", "updated_at"]);
/** Pending holds of the scope due at `?`, at most `?` of them. */
const DUE_HOLDS_TEXT = HOLDS.selectWhereText(
  `and ${HOLDS.column("status")} = 'pending' and ${HOLDS.column("expires_at")} <= ? limit ?`,
);
/** The scope's last journal sequence number. */
const LAST_SEQ_TEXT = `select max(${ENTRIES.column("seq")}) from ${ENTRIES.name} where ${
  ENTRIES.column("tenant_id")
} = ? and ${ENTRIES.column("app_id")} = ?`;
/** A hold row replaces its earlier state: only the fields a transition changes. */
const HOLD_UPSERT = HOLDS.upsertSuffix(["id"], [
  "status",
  "captured_amount",
  "capture_entry_id",
  "updated_at",
]);
/** A balance row replaces its earlier counters (the book computed them from the loaded ones). */
const BALANCE_UPSERT = BALANCES.upsertSuffix(
  ["tenant_id", "app_id", "account_id", "currency"],
  ["debits_posted", "credits_posted", "debits_pending", "credits_pending", "held", "updated_at"],
);

/** The columns of a balance row the book needs, in select order (not the scope, not `updated_at`). */
const BALANCE_READ = [
  "account_id",
  "currency",
  "debits_posted",
  "credits_posted",
  "debits_pending",
  "credits_pending",
  "held",
] as const;
/** A balance row as the batch reads it ({@link BALANCE_READ}). */
type BalanceRead = { [K in (typeof BALANCE_READ)[number]]: (typeof ledgerBalances.$inferSelect)[K] };
const balanceReadTexts = new Map<string, string>();

/**
 * The balances of `accountIds` in `scope`, only the columns the book uses: every batch reads the
 * balances of all accounts it touches (about 1.3 rows per two-posting entry), and the driver's
 * per-column work on the other four columns was a visible share of the writer's CPU (issue 14).
 * Values are decoded by their columns (`mapFromDriverValue`) as `TableShape.decode` does.
 *
 * @throws the driver's error
 */
async function balancesOf(tx: Tx, scope: Scope, accountIds: Iterable<string>): Promise<BalanceRead[]> {
  const out: BalanceRead[] = [];
  for (const chunk of inChunks(tx, new Set(accountIds), SELECT_RESERVED_PARAMETERS)) {
    // `in (?, …)` per count, or one `= any(?)` text on PostgreSQL (storage/limits.ts).
    const list = textIn(tx, chunk);
    let text = balanceReadTexts.get(list.sql);
    if (text === undefined) {
      text = `select ${BALANCE_READ.map((k) => BALANCES.column(k)).join(", ")} from ${BALANCES.name} where ${
        BALANCES.column("tenant_id")
      } = ? and ${BALANCES.column("app_id")} = ? and ${BALANCES.column("account_id")}${list.sql}`;
      if (balanceReadTexts.size < 1000) balanceReadTexts.set(list.sql, text);
    }
    for (const values of await statementValues(tx, text, [scope.tenantId, scope.appId, ...list.params])) {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < BALANCE_READ.length; i++) {
        const raw = values[i];
        row[BALANCE_READ[i]] = raw === null || raw === undefined
          ? null
          : ledgerBalances[BALANCE_READ[i]].mapFromDriverValue(raw);
      }
      out.push(row as BalanceRead);
    }
  }
  return out;
}

/** Parameters besides the `IN (…)` list in a scoped select of this module (scope + margin). */
const SELECT_RESERVED_PARAMETERS = 8;

/** Runs `run` once per chunk of distinct `values` sized for `tx`'s store (`storage/limits.ts`). */
async function selectIn<T>(
  exec: Executor,
  values: Iterable<string>,
  run: (chunk: string[]) => Promise<T[]>,
): Promise<T[]> {
  const out: T[] = [];
  for (const chunk of inChunks(exec, new Set(values), SELECT_RESERVED_PARAMETERS)) {
    out.push(...(await run(chunk)));
  }
  return out;
}

/** What a batch produced: one outcome per item (same order) and the entries it committed. */
export interface BatchResult {
  /** One per item, in item order. */
  outcomes: Outcome<LedgerResult | InventoryResult>[];
  /** New entries in journal order, with the index of the item that produced each. */
  entries: { item: number; entry: LedgerEntry }[];
  /** Holds expired by this batch (due holds noticed by it, or a sweep command), money then inventory. */
  expired: ExpiredHold[];
  /**
   * Every ledger account the batch read or created: once the batch committed, the writer keeps
   * them in its {@link AccountCache} (accounts are immutable).
   */
  accounts: LedgerAccount[];
}

/** Accounts an {@link AccountCache} keeps at most (a limit on everything): about 50 MB at most. */
export const MAX_CACHED_ACCOUNTS = 100_000;

/**
 * Ledger accounts of one store that committed transactions read or created, by scope and id.
 * A ledger account row is written once and never updated or deleted (nothing in the code base
 * updates `ledger_accounts`), so an entry stays true for as long as the store lives, whichever
 * process or path writes afterwards; only the balances change, and those are always read from
 * storage. The writer adds a batch's accounts only after its commit: an account of a rolled-back
 * transaction never enters. Bounded by {@link MAX_CACHED_ACCOUNTS} (oldest first out).
 */
export class AccountCache {
  readonly #accounts = new Map<string, LedgerAccount>();
  readonly #capacity: number;

  /** An empty cache of at most `capacity` accounts. */
  constructor(capacity = MAX_CACHED_ACCOUNTS) {
    this.#capacity = capacity;
  }

  /** The account `id` of `scope`, when a committed transaction read or created it. */
  get(scope: Scope, id: string): LedgerAccount | undefined {
    return this.#accounts.get(`${scope.tenantId}\u0000${scope.appId}\u0000${id}`);
  }

  /** Remembers committed accounts of `scope` (call after the commit). */
  add(scope: Scope, accounts: Iterable<LedgerAccount>): void {
    for (const account of accounts) {
      const key = `${scope.tenantId}\u0000${scope.appId}\u0000${account.id}`;
      if (this.#accounts.has(key)) continue;
      this.#accounts.set(key, account);
      if (this.#accounts.size > this.#capacity) {
        this.#accounts.delete(this.#accounts.keys().next().value!);
      }
    }
  }

  /** Accounts held. */
  get size(): number {
    return this.#accounts.size;
  }
}

/** A hold released by expiry in a batch: a money hold or an inventory hold. */
export type ExpiredHold = { ledger: "money"; hold: LedgerHold } | {
  ledger: "inventory";
  hold: InventoryHold;
};

/**
 * Runs a batch inside `tx`. Rejected commands write nothing; the accepted ones and the expiries
 * are written before this resolves. The caller commits.
 *
 * @param alongside statements of the caller that belong to the batch's transaction and depend on
 *   its outcomes only (the writer's outbox and audit rows): called once the books are applied and
 *   the batch's own writes are sent, and awaited with them, so on PostgreSQL they go out in the same
 *   flight instead of one round trip each after the batch (libSQL and a Durable Object run them
 *   after the batch's writes, as before)
 * @throws {Error} for storage failures and broken invariants (the caller rolls back); the first
 *   failing statement's error when writes fail
 */
export async function runBatch(
  tx: Tx,
  scope: Scope,
  now: Date,
  items: readonly BatchItem[],
  known?: AccountCache,
  alongside?: (result: BatchResult) => Promise<void>,
): Promise<BatchResult> {
  const outcomes: Outcome<LedgerResult | InventoryResult>[] = new Array(items.length);
  const writes: Promise<void>[] = [];
  const entries: { item: number; entry: LedgerEntry }[] = [];
  const expired: ExpiredHold[] = [];
  let accounts: LedgerAccount[] = [];
  const ledgerIndexes = items.flatMap((it, i) => (isInventoryCommand(it.command) ? [] : [i]));
  const inventoryIndexes = items.flatMap((it, i) => (isInventoryCommand(it.command) ? [i] : []));
  if (ledgerIndexes.length > 0) {
    const commands = ledgerIndexes.map((i) => items[i].command as LedgerCommand);
    const snapshot = await loadLedger(tx, scope, now, commands, known);
    const book = new LedgerBook(snapshot, now);
    book.expireDue();
    for (const i of ledgerIndexes) {
      const outcome = book.apply(items[i].command as LedgerCommand, items[i].hash);
      outcomes[i] = outcome;
      if (outcome.ok && !outcome.replayed && outcome.value.entry) {
        entries.push({ item: i, entry: outcome.value.entry });
      }
    }
    writes.push(writeLedger(tx, scope, now, book));
    for (const hold of book.expiredHolds) expired.push({ ledger: "money", hold });
    accounts = [...snapshot.accounts, ...book.changes().accounts];
  }
  if (inventoryIndexes.length > 0) {
    // The inventory loads read after the ledger's writes: let those fail first, with their own error.
    await pipelined(writes.splice(0));
    const commands = inventoryIndexes.map((i) => items[i].command as InventoryCommand);
    const book = new InventoryBook(await loadInventory(tx, scope, now, commands), now);
    book.expireDue();
    for (const i of inventoryIndexes) {
      outcomes[i] = book.apply(items[i].command as InventoryCommand, items[i].hash);
    }
    await writeInventory(tx, scope, now, book);
    for (const hold of book.expiredHolds) expired.push({ ledger: "inventory", hold });
  }
  const result = { outcomes, entries, expired, accounts };
  // Sent in order on one connection: the batch's writes, then the caller's. The first failure
  // rejects (PostgreSQL refuses every later statement of the transaction).
  if (alongside) writes.push(alongside(result));
  await pipelined(writes);
  return result;
}

// ---- ledger: load ----

/** Domain account of a row. */
export function accountOf(row: AccountRow): LedgerAccount {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    currency: row.currency,
    normal_balance: row.normal_balance,
    metadata: (row.metadata as Record<string, unknown> | null) ?? null,
    debits_must_not_exceed_credits: row.debits_must_not_exceed_credits,
    credits_must_not_exceed_debits: row.credits_must_not_exceed_debits,
    created_at: row.created_at,
  };
}

/** Domain hold of a row. */
export function holdOf(row: HoldRow): LedgerHold {
  return {
    id: row.id,
    account_id: row.account_id,
    destination_account_id: row.destination_account_id,
    currency: row.currency,
    amount: row.amount,
    captured_amount: row.captured_amount,
    status: row.status,
    idempotency_key: row.idempotency_key,
    capture_entry_id: row.capture_entry_id,
    metadata: (row.metadata as Record<string, unknown> | null) ?? null,
    expires_at: row.expires_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** The one tenancy filter (`storage/scoped.ts`), for the book store's bulk loads. */
const inScope = tenancy;

/** Loads entries with their postings (postings in id order, which is creation order). */
export async function loadEntries(
  exec: Executor,
  scope: Scope,
  ids: Iterable<string>,
): Promise<LedgerEntry[]> {
  const rows = await selectIn(exec, ids, (chunk) =>
    exec.select().from(ledgerEntries).where(
      and(inScope(ledgerEntries, scope), anyOf(exec, ledgerEntries.id, chunk)),
    ));
  if (rows.length === 0) return [];
  const postings = await selectIn(
    exec,
    rows.map((r) => r.id),
    (chunk) =>
      exec.select().from(ledgerPostings).where(
        and(inScope(ledgerPostings, scope), anyOf(exec, ledgerPostings.entry_id, chunk)),
      ).orderBy(ledgerPostings.id),
  );
  const byEntry = new Map<string, LedgerEntry["postings"]>();
  for (const p of postings) {
    let list = byEntry.get(p.entry_id);
    if (!list) byEntry.set(p.entry_id, list = []);
    list.push({ id: p.id, account_id: p.account_id, amount: p.amount, currency: p.currency });
  }
  return rows.map((r) => ({
    id: r.id,
    seq: r.seq,
    idempotency_key: r.idempotency_key,
    payload_hash: r.payload_hash,
    description: r.description,
    reverses_entry_id: r.reverses_entry_id,
    metadata: (r.metadata as Record<string, unknown> | null) ?? null,
    payment_intent_id: r.payment_intent_id,
    refund_id: r.refund_id,
    payout_id: r.payout_id,
    dispute_id: r.dispute_id,
    postings: byEntry.get(r.id) ?? [],
    created_at: r.created_at,
  }));
}

/**
 * Loads what a ledger batch touches in waves of independent selects run together
 * ({@link pipelined}: one round trip per wave on PostgreSQL): first everything the commands name
 * (command records, holds, entries, accounts by id and by name, their balances, due holds, the
 * last sequence number); then only what those rows name and the first wave did not load (holds
 * and entries of replayed commands, accounts of holds and entries, balances of accounts found by
 * name). A batch of postings between known accounts needs the first wave alone.
 */
async function loadLedger(
  tx: Tx,
  scope: Scope,
  now: Date,
  commands: LedgerCommand[],
  known?: AccountCache,
) {
  const touch = ledgerTouch(commands);
  // Accounts a committed batch already read (immutable rows): not read again.
  const cached = new Map<string, LedgerAccount>();
  if (known) {
    for (const id of touch.accountIds) {
      const account = known.get(scope, id);
      if (account) cached.set(id, account);
    }
  }
  const wanted = new Set(touch.names.map((n) => `${n.currency}\u0000${n.name}`));
  const accountRows = (ids: Iterable<string>) => ACCOUNTS.selectIn(tx, scope, "id", ids);
  const balanceRows = (ids: Iterable<string>) => balancesOf(tx, scope, ids);
  const holdRowsOf = (ids: Iterable<string>) => HOLDS.selectIn(tx, scope, "id", ids);
  // Wave 1: everything the commands name. Fixed-shape statements (storage/shapes.ts): the text of
  // each is built once per size and reused by every batch.
  const [
    recordRows,
    keyedEntries,
    holdRows,
    due,
    touchedEntries,
    byId,
    byName,
    balanceRows1,
    reversedRows,
    [last],
  ] = await pipelinedAll(
    [
      COMMANDS.selectIn(tx, scope, "idempotency_key", touch.keys),
      // A `post_entry` has no command record: its entry row holds its key and payload hash.
      ENTRIES.selectIn(tx, scope, "idempotency_key", touch.keys),
      holdRowsOf(touch.holdIds),
      statementValues(tx, DUE_HOLDS_TEXT, [
        scope.tenantId,
        scope.appId,
        ledgerHolds.expires_at.mapToDriverValue(now),
        MAX_EXPIRIES_PER_BATCH,
      ]).then((rows) => rows.map((r) => HOLDS.decode(r))),
      loadEntries(tx, scope, touch.entryIds),
      accountRows(
        cached.size > 0 ? [...touch.accountIds].filter((id) => !cached.has(id)) : touch.accountIds,
      ),
      touch.names.length > 0
        ? ACCOUNTS.selectIn(tx, scope, "name", touch.names.map((n) => n.name))
        : Promise.resolve([]),
      balanceRows(touch.accountIds),
      touch.entryIds.size > 0
        ? selectIn(
          tx,
          touch.entryIds,
          (chunk) =>
            tx.select({ id: ledgerEntries.reverses_entry_id }).from(ledgerEntries).where(
              and(inScope(ledgerEntries, scope), anyOf(tx, ledgerEntries.reverses_entry_id, chunk)),
            ),
        )
        : Promise.resolve([]),
      statementValues(tx, LAST_SEQ_TEXT, [scope.tenantId, scope.appId]).then((rows) =>
        rows.map((r) => ({ seq: r[0] as number | string | null }))
      ),
    ] as const,
  );
  const records: CommandRecord[] = recordRows.map((r) => ({ ...r, kind: r.kind as CommandRecord["kind"] }));
  const recorded = new Set(records.map((r) => r.idempotency_key));
  for (const e of keyedEntries) {
    if (recorded.has(e.idempotency_key)) continue;
    records.push({
      idempotency_key: e.idempotency_key,
      kind: "post_entry",
      payload_hash: e.payload_hash,
      entry_id: e.id,
      hold_id: null,
      created_at: e.created_at,
    });
  }
  // Wave 2: holds and entries of replayed commands the commands did not name.
  const moreHoldIds = new Set<string>();
  const moreEntryIds = new Set<string>();
  for (const r of records) {
    if (r.hold_id && !touch.holdIds.has(r.hold_id)) moreHoldIds.add(r.hold_id);
    if (r.entry_id && !touch.entryIds.has(r.entry_id)) moreEntryIds.add(r.entry_id);
  }
  const [moreHoldRows, moreEntries] = await pipelinedAll(
    [
      holdRowsOf(moreHoldIds),
      loadEntries(tx, scope, moreEntryIds),
    ] as const,
  );
  const holds = new Map<string, LedgerHold>();
  for (const row of [...holdRows, ...moreHoldRows, ...due]) holds.set(row.id, holdOf(row));
  const entries = [...touchedEntries, ...moreEntries];
  // Wave 3: accounts of holds and of the entries the commands name, then balances not loaded yet.
  const accounts = new Map<string, LedgerAccount>(cached);
  for (const row of byId) accounts.set(row.id, accountOf(row));
  const accountIds = new Set<string>();
  for (const h of holds.values()) accountIds.add(h.account_id).add(h.destination_account_id);
  for (const e of entries) {
    if (touch.entryIds.has(e.id)) { for (const p of e.postings) accountIds.add(p.account_id); }
  }
  const missing: string[] = [];
  for (const id of accountIds) {
    if (touch.accountIds.has(id)) continue;
    const account = known?.get(scope, id);
    if (account) accounts.set(id, account);
    else missing.push(id);
  }
  for (const row of await accountRows(missing)) accounts.set(row.id, accountOf(row));
  for (const row of byName) {
    if (wanted.has(`${row.currency}\u0000${row.name}`)) accounts.set(row.id, accountOf(row));
  }
  const balanceRowsMore = await balanceRows([...accounts.keys()].filter((id) => !touch.accountIds.has(id)));
  const balances = new Map<string, BalanceCounters>();
  for (const row of [...balanceRows1, ...balanceRowsMore]) {
    if (accounts.get(row.account_id)?.currency !== row.currency) continue;
    balances.set(row.account_id, {
      debits_posted: row.debits_posted,
      credits_posted: row.credits_posted,
      debits_pending: row.debits_pending,
      credits_pending: row.credits_pending,
      held: row.held,
    });
  }
  const reversed = new Set<string>();
  for (const r of reversedRows) if (r.id) reversed.add(r.id);
  return {
    accounts: [...accounts.values()],
    balances,
    holds: [...holds.values()],
    records,
    entries,
    reversedEntryIds: reversed,
    lastSeq: Number(last?.seq ?? 0),
  };
}

// ---- ledger: write ----

/**
 * Runs independent statements of one transaction (no statement reads what another writes, and
 * the tables have no foreign keys) and waits for all. Each drizzle builder starts when awaited, in
 * array order, so a client that pipelines (`postgres` on one transaction's connection) sends them
 * back to back and waits about one round trip instead of one per statement; libSQL and a Durable
 * Object's SQLite run them one after another as before. The first failure rejects (the caller's
 * transaction rolls back); PostgreSQL refuses the statements after a failed one in the same
 * transaction, so nothing after it is written either.
 *
 * @throws the first failing statement's error
 */
export async function pipelined(statements: readonly PromiseLike<unknown>[]): Promise<void> {
  await Promise.all(statements);
}

/** {@link pipelined} for reads: the results, in the order of `statements`. */
function pipelinedAll<T extends readonly unknown[]>(
  statements: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  return Promise.all(statements);
}

async function writeLedger(tx: Tx, scope: Scope, now: Date, book: LedgerBook): Promise<void> {
  const changes = book.changes();
  const s = { tenant_id: scope.tenantId, app_id: scope.appId };
  // Fixed-shape multi-row statements (storage/shapes.ts): texts built once per size, values bound
  // in column order, chunked by the store's parameter limit; run together by `pipelined`.
  const statements: { text: string; params: unknown[] }[] = [];
  statements.push(...ACCOUNTS.inserts(tx, changes.accounts.map((a) => ({ ...s, ...a }))));
  statements.push(...ENTRIES.inserts(
    tx,
    changes.entries.map((e) => ({
      ...s,
      id: e.id,
      seq: e.seq,
      idempotency_key: e.idempotency_key,
      payload_hash: e.payload_hash,
      description: e.description,
      reverses_entry_id: e.reverses_entry_id,
      metadata: e.metadata,
      payment_intent_id: e.payment_intent_id,
      refund_id: e.refund_id,
      payout_id: e.payout_id,
      dispute_id: e.dispute_id,
      created_at: e.created_at,
    })),
  ));
  const postings: Record<string, unknown>[] = [];
  for (const e of changes.entries) {
    for (const p of e.postings) {
      postings.push({
        ...s,
        id: p.id,
        entry_id: e.id,
        account_id: p.account_id,
        amount: p.amount,
        currency: p.currency,
        created_at: e.created_at,
        entry_seq: e.seq,
      });
    }
  }
  statements.push(...POSTINGS.inserts(tx, postings));
  statements.push(...HOLDS.inserts(tx, changes.holds.map((h) => ({ ...s, ...h })), HOLD_UPSERT));
  const balances = [...changes.balances.values()].map(({ account, counters }) => ({
    ...s,
    account_id: account.id,
    currency: account.currency,
    ...counters,
    updated_at: now,
  }));
  statements.push(...BALANCES.inserts(tx, balances, BALANCE_UPSERT));
  // A `post_entry`'s record would repeat its entry row (same key, same payload hash, the entry's id):
  // loadLedger rebuilds it from the entry, so only the other kinds are stored (ADR 0015).
  const records = changes.records.filter((r) => r.kind !== "post_entry");
  statements.push(...COMMANDS.inserts(tx, records.map((r) => ({ ...s, ...r }))));
  await pipelined(statements.map((st) => runStatement(tx, st.text, st.params)));
}

// ---- inventory ----

/** Domain inventory hold of a row. */
export function inventoryHoldOf(row: InventoryHoldRow): InventoryHold {
  return {
    id: row.id,
    subject: row.subject,
    item: row.item,
    quantity: row.quantity,
    status: row.status,
    idempotency_key: row.idempotency_key,
    expires_at: row.expires_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

async function loadInventory(tx: Tx, scope: Scope, now: Date, commands: InventoryCommand[]) {
  const touch = inventoryTouch(commands);
  const operations: InventoryOperation[] = await selectIn(
    tx,
    touch.keys,
    (chunk) =>
      tx.select().from(inventoryOperations).where(
        and(inScope(inventoryOperations, scope), anyOf(tx, inventoryOperations.idempotency_key, chunk)),
      ),
  );
  const holdIds = new Set(touch.holdIds);
  const pairs = [...touch.pairs];
  for (const op of operations) {
    if (op.hold_id) holdIds.add(op.hold_id);
    pairs.push({ subject: op.subject, item: op.item });
    if (op.counterparty) pairs.push({ subject: op.counterparty, item: op.item });
  }
  const holdRows = await selectIn(tx, holdIds, (chunk) =>
    tx.select().from(inventoryHolds).where(
      and(inScope(inventoryHolds, scope), anyOf(tx, inventoryHolds.id, chunk)),
    ));
  const due = await tx.select().from(inventoryHolds)
    .where(
      and(
        inScope(inventoryHolds, scope),
        eq(inventoryHolds.status, "pending"),
        lte(inventoryHolds.expires_at, now),
      ),
    )
    .limit(MAX_EXPIRIES_PER_BATCH);
  const holds = new Map<string, InventoryHold>();
  for (const row of [...holdRows, ...due]) holds.set(row.id, inventoryHoldOf(row));
  for (const h of holds.values()) pairs.push({ subject: h.subject, item: h.item });
  const wanted = new Set(pairs.map((p) => `${p.subject}\u0000${p.item}`));
  const rows = await selectIn(
    tx,
    pairs.map((p) => p.subject),
    (chunk) =>
      tx.select().from(inventoryBalances).where(
        and(inScope(inventoryBalances, scope), anyOf(tx, inventoryBalances.subject, chunk)),
      ),
  );
  const balances: InventoryBalance[] = rows.filter((r) => wanted.has(`${r.subject}\u0000${r.item}`))
    .map((r) => ({ subject: r.subject, item: r.item, free: r.free, on_hold: r.on_hold }));
  const [last] = await tx.select({ seq: max(inventoryOperations.seq) }).from(inventoryOperations).where(
    inScope(inventoryOperations, scope),
  );
  return { balances, holds: [...holds.values()], operations, lastSeq: Number(last?.seq ?? 0) };
}

async function writeInventory(tx: Tx, scope: Scope, now: Date, book: InventoryBook): Promise<void> {
  const changes = book.changes();
  const s = { tenant_id: scope.tenantId, app_id: scope.appId };
  // Fixed-shape statements, as for the money ledger (`writeLedger`): one text per table on
  // PostgreSQL whatever the count, run together by `pipelined`.
  const statements: { text: string; params: unknown[] }[] = [
    ...INVENTORY_BALANCES.inserts(
      tx,
      changes.balances.map((b) => ({
        ...s,
        subject: b.subject,
        item: b.item,
        free: b.free,
        on_hold: b.on_hold,
        updated_at: now,
      })),
      INVENTORY_BALANCE_UPSERT,
    ),
    ...INVENTORY_HOLDS.inserts(tx, changes.holds.map((h) => ({ ...s, ...h })), INVENTORY_HOLD_UPSERT),
    ...INVENTORY_OPERATIONS.inserts(tx, changes.operations.map((o) => ({ ...s, ...o }))),
  ];
  await pipelined(statements.map((st) => runStatement(tx, st.text, st.params)));
}

/** Narrowing helper: the error of a rejected outcome. */
export function rejection(outcome: Outcome<unknown>): BillingError | null {
  return outcome.ok ? null : outcome.error;
}
