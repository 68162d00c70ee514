/**
 * The double-entry ledger service: accounts, entries, holds, balances, high-level operations.
 * Rules live in `domain/ledger.ts` and `domain/ledger_book.ts`; writes go through the scope's
 * single writer (`writer.ts`), except billing's {@link postEntry}, which posts inside the
 * invoice's own write transaction with the same batch code.
 *
 * Idempotency (ADR 0007): keys are unique per tenant **and app** (one namespace for entries,
 * holds and their transitions). The same key with the same payload returns the original result
 * with `replayed: true`; with a different payload it fails `idempotency_key_reused` (409).
 * Entries are immutable; corrections are reversal entries (`reverses_entry_id`).
 *
 * @module
 */
import { BillingError, notFound } from "../domain/errors.ts";
import { isId, newId } from "../domain/ids.ts";
import {
  type AccountType,
  emptyBalance,
  type LedgerAccount,
  MAX_ENTRIES_PER_REQUEST,
  type NormalBalance,
  normalBalanceOf,
  type PostingInput,
  summarizeBalance,
} from "../domain/ledger.ts";
import type {
  ExternalIds,
  LedgerCommand,
  LedgerEntry,
  LedgerHold,
  LedgerResult,
} from "../domain/ledger_book.ts";
import type { Executor, Tx } from "../storage/db.ts";
import {
  accountIdsByName,
  accountRows,
  accountsWithBalances,
  balanceRows,
  entryPage,
  hasDueLedgerHold,
  holdRows,
  insertAccountIfAbsent,
  scopesWithDueHolds,
} from "./repository.ts";
import type { Ctx } from "../context.ts";
import type { Emit } from "../lifecycle/write.ts";
import type { Scope } from "../domain/scope.ts";
import { recordLifecycle } from "../lifecycle/outbox.ts";
import { accountOf, hashCommand, holdOf, loadEntries, MAX_EXPIRIES_PER_BATCH, runBatch } from "./batch.ts";
import { type Accepted, batchEvents, writerFor } from "./writer.ts";
import type { Outcome } from "../domain/idempotency.ts";
import type { EntryView } from "../domain/views.ts";
export type { EntryView };

/** A ledger account as the API shows it. */
export interface AccountView {
  /** TypeID of the resource. */
  id: string;
  /** Account name, unique per (app, currency). */
  name: string;
  /** Class in the chart of accounts. */
  type: AccountType;
  /** ISO 4217 code. */
  currency: string;
  /** Side on which the balance grows. */
  normal_balance: NormalBalance;
  /** Free-form JSON. */
  metadata: Record<string, unknown> | null;
  /** TigerBeetle constraint flag. */
  debits_must_not_exceed_credits: boolean;
  /** TigerBeetle constraint flag. */
  credits_must_not_exceed_debits: boolean;
  /** ISO 8601 instant. */
  created_at: string;
}

/** Posted balance of an account: debits − credits, and the same signed to its normal side. */
export interface AccountBalance extends AccountView {
  /** Σ postings (debits positive). */
  debits_minus_credits: number;
  /** Balance on the account's normal side (positive = normal). */
  balance: number;
}

/**
 * Balance of an (account, currency), minor units. `posted`, `pending`, `held`, `available` are
 * signed to the account's normal side (`domain/ledger.ts` `BalanceSummary`): available = posted −
 * held for debit- and credit-normal accounts alike. The four TigerBeetle counters are raw.
 */
export interface BalanceView {
  /** TypeID `acc_…`. */
  account_id: string;
  /** ISO 4217 code. */
  currency: string;
  /** Side on which the balance grows. */
  normal_balance: NormalBalance;
  /** Posted balance on the normal side, minor units. */
  posted: number;
  /** What pending holds into the account add on capture, minor units. */
  pending: number;
  /** Σ pending holds authorized against the account, minor units. */
  held: number;
  /** posted − held, minor units. */
  available: number;
  /** Σ debit postings, minor units. */
  debits_posted: number;
  /** Σ credit postings, minor units. */
  credits_posted: number;
  /** Σ pending holds that will debit it, minor units. */
  debits_pending: number;
  /** Σ pending holds that will credit it, minor units. */
  credits_pending: number;
}

/** A hold as the API shows it. */
export interface HoldView {
  /** TypeID of the resource. */
  id: string;
  /** TypeID `acc_…`. */
  account_id: string;
  /** Account the capture moves the money into. */
  destination_account_id: string;
  /** Authorized amount, minor units. */
  amount: number;
  /** ISO 4217 code. */
  currency: string;
  /** Lifecycle state. */
  status: LedgerHold["status"];
  /** Captured amount (≤ amount), minor units, once captured. */
  captured_amount: number | null;
  /** Entry posted by the capture. */
  capture_entry_id: string | null;
  /** Key of the command that wrote it. */
  idempotency_key: string;
  /** Free-form JSON. */
  metadata: Record<string, unknown> | null;
  /** ISO 8601 instant a pending hold expires. */
  expires_at: string;
  /** ISO 8601 instant. */
  created_at: string;
  /** ISO 8601 instant of the last transition. */
  updated_at: string;
}

/** View of a domain account. */
export function accountView(a: LedgerAccount): AccountView {
  return {
    id: a.id,
    name: a.name,
    type: a.type,
    currency: a.currency,
    normal_balance: a.normal_balance,
    metadata: a.metadata,
    debits_must_not_exceed_credits: a.debits_must_not_exceed_credits,
    credits_must_not_exceed_debits: a.credits_must_not_exceed_debits,
    created_at: a.created_at.toISOString(),
  };
}

/** View of a domain entry. */
export function entryView(e: LedgerEntry): EntryView {
  return {
    id: e.id,
    seq: e.seq,
    idempotency_key: e.idempotency_key,
    description: e.description,
    reverses_entry_id: e.reverses_entry_id,
    metadata: e.metadata,
    payment_intent_id: e.payment_intent_id,
    refund_id: e.refund_id,
    payout_id: e.payout_id,
    dispute_id: e.dispute_id,
    postings: e.postings.map((p) => ({ account_id: p.account_id, amount: p.amount, currency: p.currency })),
    created_at: e.created_at.toISOString(),
  };
}

/** View of a domain hold. */
export function holdView(h: LedgerHold): HoldView {
  return {
    id: h.id,
    account_id: h.account_id,
    destination_account_id: h.destination_account_id,
    amount: h.amount,
    currency: h.currency,
    status: h.status,
    captured_amount: h.captured_amount,
    capture_entry_id: h.capture_entry_id,
    idempotency_key: h.idempotency_key,
    metadata: h.metadata,
    expires_at: h.expires_at.toISOString(),
    created_at: h.created_at.toISOString(),
    updated_at: h.updated_at.toISOString(),
  };
}

// ---- billing's in-transaction API (invoices) ----

/**
 * Finds the account named `name` in `currency`, creating it when missing (seed `EnsureAccount`),
 * inside the caller's write transaction. Race-free: the insert is `ON CONFLICT DO NOTHING` on the
 * unique (scope, name, currency) index and the row is read back, so two callers get one account
 * (the seed's find-then-create could create two).
 *
 * @throws {BillingError} `account_type_mismatch` (409) when it exists with another type,
 *   `account_constraints_mismatch` (409) when it exists with other balance constraints
 */
export async function ensureAccount(
  tx: Tx,
  scope: Scope,
  now: Date,
  input: {
    name: string;
    type: AccountType;
    currency: string;
    debits_must_not_exceed_credits?: boolean;
    credits_must_not_exceed_debits?: boolean;
  },
): Promise<AccountView> {
  const flags = {
    debits_must_not_exceed_credits: input.debits_must_not_exceed_credits ?? false,
    credits_must_not_exceed_debits: input.credits_must_not_exceed_debits ?? false,
  };
  const row = await insertAccountIfAbsent(tx, scope, {
    id: newId("acc"),
    name: input.name,
    type: input.type,
    currency: input.currency,
    normal_balance: normalBalanceOf(input.type),
    metadata: null,
    ...flags,
    created_at: now,
  });
  if (!row) throw new Error(`invariant: account ${input.name} vanished after insert`);
  if (row.type !== input.type) {
    throw new BillingError(
      "account_type_mismatch",
      "conflict",
      `Account "${input.name}" exists with type "${row.type}"`,
    );
  }
  if (
    row.debits_must_not_exceed_credits !== flags.debits_must_not_exceed_credits ||
    row.credits_must_not_exceed_debits !== flags.credits_must_not_exceed_debits
  ) {
    throw new BillingError(
      "account_constraints_mismatch",
      "conflict",
      `Account "${input.name}" exists with other balance constraints`,
    );
  }
  return accountView(accountOf(row));
}

/**
 * Posts a balanced entry inside the caller's write transaction (billing flows), with the same
 * rules and materialized balances as the writer: a batch of one. Due holds the batch notices are
 * expired with it and reported as `hold.expired`: through `emit` when the caller passes its
 * operation's emitter, else written straight to the outbox and audit trail of `tx`.
 *
 * @throws {BillingError} `validation_failed`, `postings_not_balanced` (422), `account_not_found`
 *   (404), `currency_mismatch` (422), `insufficient_balance` (422), `idempotency_key_reused` (409),
 *   `entry_already_reversed` (409)
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
    external?: ExternalIds;
  },
  emit?: Emit,
): Promise<{ entry: EntryView; replayed: boolean }> {
  const command: LedgerCommand = { kind: "post_entry", ...input };
  const { outcomes, expired } = await runBatch(tx, scope, now, [{
    command,
    hash: await hashCommand(command),
  }]);
  // Due holds this write noticed were expired with it; report each in this same transaction.
  if (expired.length > 0) {
    const events = batchEvents(scope, now, [], { outcomes: [], entries: [], expired, accounts: [] });
    if (emit) { for (const { event } of events) emit(event.type, event.resource_id, event.data); }
    else await recordLifecycle(tx, { actor: "system", requestId: null }, events.map((e) => e.event));
  }
  const outcome = outcomes[0];
  if (!outcome.ok) throw outcome.error;
  const entry = (outcome.value as LedgerResult).entry!;
  return { entry: entryView(entry), replayed: outcome.replayed };
}

/** Loads an entry with its postings, or `undefined`. */
export async function loadEntry(exec: Executor, scope: Scope, id: string): Promise<EntryView | undefined> {
  const [entry] = await loadEntries(exec, scope, [id]);
  return entry ? entryView(entry) : undefined;
}

/** Largest page of `GET /v1/ledger/balances`; the default is 100. */
export const MAX_BALANCE_PAGE = 500;

function encodeBalanceCursor(name: string, currency: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify([name, currency]))))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeBalanceCursor(cursor: string): { name: string; currency: string } {
  try {
    const bytes = Uint8Array.from(
      atob(cursor.replaceAll("-", "+").replaceAll("_", "/")),
      (c) => c.charCodeAt(0),
    );
    const [name, currency] = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof name === "string" && typeof currency === "string") return { name, currency };
  } catch { /* answered below */ }
  throw new BillingError(
    "validation_failed",
    "invalid_request",
    `Cursor "${cursor}" is not a next_cursor of this list`,
    {
      fields: [{ path: "query.cursor", message: "Use next_cursor of the previous page" }],
    },
  );
}

/**
 * One page of the app's accounts with their posted balances, by name and currency.
 *
 * @param page.cursor `next_cursor` of the previous page; `page.limit` 1–500 (default 100)
 * @returns `data` and `next_cursor` (`null` on the last page)
 * @throws {BillingError} `validation_failed` (400) for a cursor this list did not hand out
 */
export async function listAccountBalances(
  ctx: Ctx,
  page: { cursor?: string; limit?: number } = {},
): Promise<{ data: AccountBalance[]; next_cursor: string | null }> {
  const limit = Math.max(1, Math.min(MAX_BALANCE_PAGE, page.limit ?? 100));
  const after = page.cursor ? decodeBalanceCursor(page.cursor) : undefined;
  const rows = await accountsWithBalances(ctx.database.db, ctx.scope, { after, limit: limit + 1 });
  const data = rows.slice(0, limit).map(({ account, balance }) => {
    const net = (balance?.debits_posted ?? 0) - (balance?.credits_posted ?? 0);
    return {
      ...accountView(accountOf(account)),
      debits_minus_credits: net,
      balance: account.normal_balance === "debit" ? net : -net,
    };
  });
  const last = data[data.length - 1];
  return { data, next_cursor: rows.length > limit ? encodeBalanceCursor(last.name, last.currency) : null };
}

// ---- the public ledger API (through the writer) ----

async function submit(ctx: Ctx, command: LedgerCommand): Promise<{ value: LedgerResult; replayed: boolean }> {
  return await writerFor(ctx).submit(ctx.scope, command, { actor: ctx.actor, requestId: ctx.requestId });
}

/**
 * Finds or creates an account by (name, currency) (seed `EnsureAccount`). Type and constraints
 * must match an existing account; metadata is the first creation's.
 *
 * @throws {BillingError} `unsupported_currency` (400), `validation_failed` (both constraints),
 *   `account_type_mismatch` / `account_constraints_mismatch` (409)
 */
export async function createAccount(
  ctx: Ctx,
  input: {
    name: string;
    type: AccountType;
    currency: string;
    metadata?: Record<string, unknown> | null;
    debits_must_not_exceed_credits?: boolean;
    credits_must_not_exceed_debits?: boolean;
  },
): Promise<{ account: AccountView; created: boolean }> {
  const { value } = await submit(ctx, { kind: "ensure_account", ...input });
  return { account: accountView(value.account!), created: value.created! };
}

/** GET an account. @throws {BillingError} `account_not_found` (404) */
export async function getAccount(ctx: Ctx, id: string): Promise<AccountView> {
  if (!isId("acc", id)) throw notFound("account", id);
  const row = await accountRows.first(ctx.database.db, ctx.scope, { id });
  if (!row) throw notFound("account", id);
  return accountView(accountOf(row));
}

/**
 * Releases holds of the scope that are due, through the writer, when a read notices one (so a
 * read never shows an expired hold as held, and the release still happens exactly once).
 */
async function expireNoticedHolds(ctx: Ctx): Promise<void> {
  if (!await hasDueLedgerHold(ctx.database.db, ctx.scope, ctx.clock.now())) return;
  // A sweep expires at most MAX_EXPIRIES_PER_BATCH holds; a backlog takes a few (bounded) rounds.
  for (let round = 0; round < 10; round++) {
    const { value } = await submit(ctx, { kind: "sweep_holds" });
    if ((value.expired ?? 0) < MAX_EXPIRIES_PER_BATCH) return;
  }
}

/**
 * Balance of an account in a currency (default: the account's currency).
 *
 * @throws {BillingError} `account_not_found` (404), `currency_mismatch` (422) for another currency
 */
export async function getBalance(ctx: Ctx, id: string, currency?: string): Promise<BalanceView> {
  const account = await getAccount(ctx, id);
  if (currency !== undefined && currency !== account.currency) {
    throw new BillingError(
      "currency_mismatch",
      "unprocessable",
      `Account "${id}" holds ${account.currency}, not ${currency}`,
    );
  }
  await expireNoticedHolds(ctx);
  const row = await balanceRows.first(ctx.database.db, ctx.scope, {
    account_id: id,
    currency: account.currency,
  });
  const counters = row
    ? {
      debits_posted: row.debits_posted,
      credits_posted: row.credits_posted,
      debits_pending: row.debits_pending,
      credits_pending: row.credits_pending,
      held: row.held,
    }
    : emptyBalance();
  const summary = summarizeBalance(account.normal_balance, counters);
  return {
    account_id: id,
    currency: account.currency,
    normal_balance: account.normal_balance,
    ...summary,
    debits_posted: counters.debits_posted,
    credits_posted: counters.credits_posted,
    debits_pending: counters.debits_pending,
    credits_pending: counters.credits_pending,
  };
}

/**
 * The `acc_` id of an account reference as a client may send it: an `acc_` id stays as it is (the
 * writer checks it exists, as before); anything else is the account's name, looked up in the
 * caller's tenant and app with `currency` (an account is unique per name and currency). Resolved
 * here, before the command reaches the writer, so the writer, its batches and the idempotency
 * payload only ever see ids: a retry by name and one by id are the same entry.
 *
 * @throws {BillingError} `account_not_found` (404) for a name with no account in that currency
 */
async function resolveAccountRef(ctx: Ctx, ref: string, currency: string): Promise<string> {
  if (isId("acc", ref)) return ref;
  const row = await accountRows.first(ctx.database.db, ctx.scope, { name: ref, currency });
  if (!row) throw unknownAccountName(ref, currency);
  return row.id;
}

/** The refusal of a posting to a name with no account in its currency: `account_not_found` (404). */
function unknownAccountName(name: string, currency: string): BillingError {
  return new BillingError(
    "account_not_found",
    "not_found",
    `No account named "${name}" in ${currency}; create it with POST /v1/ledger/accounts`,
  );
}

/**
 * Resolves the account names of `inputs`' postings (see {@link resolveAccountRef}) in one select
 * per currency and chunk of names (`accountIdsByName`), not one per posting; each distinct
 * reference is parsed as a TypeID once. Returns, for the postings of any of those inputs, the
 * postings with every reference an `acc_` id, or the `account_not_found` (404) refusal of the
 * first posting naming no account in its currency.
 *
 * @throws the driver's error
 */
async function accountResolver(
  ctx: Ctx,
  inputs: readonly { postings: readonly PostingInput[] }[],
): Promise<(postings: readonly PostingInput[]) => PostingInput[] | BillingError> {
  const idRefs = new Map<string, boolean>();
  const isAccountId = (ref: string) => {
    let known = idRefs.get(ref);
    if (known === undefined) idRefs.set(ref, known = isId("acc", ref));
    return known;
  };
  const namesByCurrency = new Map<string, Set<string>>();
  for (const input of inputs) {
    for (const p of input.postings) {
      if (isAccountId(p.account_id)) continue;
      let names = namesByCurrency.get(p.currency);
      if (!names) namesByCurrency.set(p.currency, names = new Set());
      names.add(p.account_id);
    }
  }
  const idsByCurrency = new Map<string, Map<string, string>>();
  for (const [currency, names] of namesByCurrency) {
    idsByCurrency.set(currency, await accountIdsByName(ctx.database.db, ctx.scope, currency, names));
  }
  return (postings) => {
    if (namesByCurrency.size === 0) return postings as PostingInput[];
    const out: PostingInput[] = [];
    for (const p of postings) {
      if (isAccountId(p.account_id)) {
        out.push(p);
        continue;
      }
      const id = idsByCurrency.get(p.currency)?.get(p.account_id);
      if (id === undefined) return unknownAccountName(p.account_id, p.currency);
      out.push({ ...p, account_id: id });
    }
    return out;
  };
}

/**
 * Posts a client entry. @see LedgerBook for the rules. A posting's `account_id` is an `acc_` id
 * or an account name (resolved in the scope with the posting's currency).
 *
 * @throws {BillingError} as {@link postEntry}; `account_not_found` (404) for an unknown name
 */
export async function createEntry(
  ctx: Ctx,
  input: EntryInput,
): Promise<{ entry: EntryView; replayed: boolean }> {
  const postings = (await accountResolver(ctx, [input]))(input.postings);
  if (postings instanceof BillingError) throw postings;
  const { value, replayed } = await submit(ctx, { kind: "post_entry", ...input, postings });
  return { entry: entryView(value.entry!), replayed };
}

/** What {@link createEntry} takes: one client entry, accounts by `acc_` id or by name. */
export interface EntryInput {
  /** The client's key: a retry with the same key and payload replays the first result. */
  idempotency_key: string;
  /** Free text. */
  description?: string;
  /** 2 to 128 postings summing to zero per currency, minor units (debit > 0, credit < 0). */
  postings: PostingInput[];
  /** Free-form JSON object. */
  metadata?: Record<string, unknown>;
  /** Payment provider ids the entry belongs to. */
  external?: ExternalIds;
}

/**
 * Posts many client entries at once (`POST /v1/ledger/entries/batch`), each judged on its own as
 * {@link createEntry} would judge it alone: one entry's refusal does not stop the others. Account
 * names are resolved once for the whole batch (one select per currency and chunk of names, not
 * one per posting), then every entry is submitted to the scope's writer together, in request
 * order, so the writer commits them in as few transactions as its batch size allows (one for up
 * to `DEFAULT_MAX_BATCH_SIZE` entries when no other command of the scope is waiting).
 *
 * The writer applies the entries in request order, so an idempotency key repeated in one batch is
 * decided as two requests one after the other: the same payload replays the first result
 * (`replayed: true`), another payload is refused `idempotency_key_reused` (409). An entry that is
 * all-or-nothing over several legs is one entry with several postings; entries of one batch are
 * independent of each other.
 *
 * @param inputs 1 to {@link MAX_ENTRIES_PER_REQUEST} entries (the route's schema bounds them)
 * @returns one outcome per input, in order: the entry and whether it was a replay, or the
 *   {@link BillingError} it would have failed with alone (`account_not_found` for an unknown name,
 *   `insufficient_balance`, `idempotency_key_reused`, `postings_not_balanced`, …)
 * @throws {BillingError} `validation_failed` (400) for an empty or oversized list; a retryable
 *   `unavailable` error (503) of the store or `writer_overloaded` (503) when any entry met one:
 *   some entries may have been written, and a retry of the same batch replays them
 */
export async function createEntries(
  ctx: Ctx,
  inputs: readonly EntryInput[],
): Promise<Outcome<EntryView>[]> {
  if (inputs.length < 1 || inputs.length > MAX_ENTRIES_PER_REQUEST) {
    throw new BillingError(
      "validation_failed",
      "invalid_request",
      `A batch holds 1 to ${MAX_ENTRIES_PER_REQUEST} entries, not ${inputs.length}`,
      { fields: [{ path: "entries", message: `Send 1 to ${MAX_ENTRIES_PER_REQUEST} entries` }] },
    );
  }
  const resolve = await accountResolver(ctx, inputs);
  // Every entry whose names resolved goes to the writer now, in request order.
  const writer = writerFor(ctx);
  const who = { actor: ctx.actor, requestId: ctx.requestId };
  const pending = inputs.map((input): Promise<Accepted<LedgerResult>> | BillingError => {
    const postings = resolve(input.postings);
    if (postings instanceof BillingError) return postings;
    return writer.submit(ctx.scope, { kind: "post_entry", ...input, postings }, who);
  });
  const settled = await Promise.allSettled(pending);
  return settled.map((s): Outcome<EntryView> => {
    if (s.status === "fulfilled") {
      const value = s.value;
      if (value instanceof BillingError) return { ok: false, error: value };
      return { ok: true, replayed: value.replayed, value: entryView(value.value.entry!) };
    }
    const error = s.reason;
    // Only a business refusal belongs to one entry; a store or writer failure fails the request.
    if (error instanceof BillingError && error.kind !== "unavailable") return { ok: false, error };
    throw error;
  });
}

/**
 * Posts the reversal of an entry (its postings negated, `reverses_entry_id` set). An entry is
 * reversed at most once.
 *
 * @throws {BillingError} `entry_not_found` (404), `entry_already_reversed` (409),
 *   `insufficient_balance` (422) when the reversal would break a constraint
 */
export async function reverseEntry(
  ctx: Ctx,
  entryId: string,
  input: { idempotency_key: string; description?: string },
): Promise<{ entry: EntryView; replayed: boolean }> {
  const { value, replayed } = await submit(ctx, { kind: "reverse_entry", entry_id: entryId, ...input });
  return { entry: entryView(value.entry!), replayed };
}

/** GET an entry. @throws {BillingError} `entry_not_found` (404) */
export async function getEntry(ctx: Ctx, id: string): Promise<EntryView> {
  const entry = await loadEntry(ctx.database.db, ctx.scope, id);
  if (!entry) throw notFound("entry", id);
  return entry;
}

/** Filters of {@link listEntries}. `cursor` is the `seq` of the last entry of the previous page. */
export interface EntryFilter extends ExternalIds {
  /** TypeID `acc_…`. */
  account_id?: string;
  /** Inclusive lower bound of created_at. */
  created_after?: Date;
  /** Exclusive upper bound of created_at. */
  created_before?: Date;
  /** `next_cursor` of the previous page. */
  cursor?: string;
  /** Page size, 1…100 (default 50). */
  limit?: number;
  /** Journal order, default `asc`. */
  order?: "asc" | "desc";
}

/**
 * Lists entries in journal order (`seq`, oldest first by default), filtered by account, external
 * ids and creation time (`created_after` inclusive, `created_before` exclusive), paginated by an
 * opaque cursor that stays valid while entries are added (entries are immutable and `seq` only grows).
 *
 * @throws {BillingError} `validation_failed` for a malformed cursor
 */
export async function listEntries(
  ctx: Ctx,
  filter: EntryFilter,
): Promise<{ data: EntryView[]; next_cursor: string | null }> {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 100);
  const order = filter.order ?? "asc";
  let afterSeq: number | undefined;
  if (filter.cursor !== undefined) {
    if (!/^[0-9]{1,15}$/.test(filter.cursor)) {
      throw new BillingError("validation_failed", "invalid_request", "The cursor is not valid", {
        fields: [{ path: "query.cursor", message: "Use next_cursor of a previous page" }],
      });
    }
    afterSeq = Number(filter.cursor);
  }
  const rows = await entryPage(
    ctx.database.db,
    ctx.scope,
    {
      after_seq: afterSeq,
      payment_intent_id: filter.payment_intent_id,
      refund_id: filter.refund_id,
      payout_id: filter.payout_id,
      dispute_id: filter.dispute_id,
      created_after: filter.created_after,
      created_before: filter.created_before,
      account_id: filter.account_id,
    },
    order,
    limit + 1,
  );
  const page = rows.slice(0, limit);
  const entries = new Map(
    (await loadEntries(ctx.database.db, ctx.scope, page.map((r) => r.id))).map((e) => [e.id, e]),
  );
  return {
    data: page.map((r) => entryView(entries.get(r.id)!)),
    next_cursor: rows.length > limit ? String(page[page.length - 1].seq) : null,
  };
}

/**
 * Authorizes a hold of `amount` against an account's available balance for `ttl_seconds`.
 *
 * `account_id` and `destination_account_id` are `acc_` ids or account names (resolved in the scope
 * with the hold's currency).
 *
 * @throws {BillingError} `invalid_amount` (400), `validation_failed` (ttl), `account_not_found`
 *   (404, also for an unknown name), `currency_mismatch` (422), `insufficient_balance` (422),
 *   `idempotency_key_reused` (409)
 */
export async function createHold(
  ctx: Ctx,
  input: {
    idempotency_key: string;
    account_id: string;
    destination_account_id?: string;
    amount: number;
    currency: string;
    ttl_seconds: number;
    metadata?: Record<string, unknown>;
  },
): Promise<{ hold: HoldView; replayed: boolean }> {
  const account_id = await resolveAccountRef(ctx, input.account_id, input.currency);
  const destination_account_id = input.destination_account_id === undefined
    ? undefined
    : await resolveAccountRef(ctx, input.destination_account_id, input.currency);
  const { value, replayed } = await submit(ctx, {
    kind: "create_hold",
    ...input,
    account_id,
    ...(destination_account_id === undefined ? {} : { destination_account_id }),
  });
  return { hold: holdView(value.hold!), replayed };
}

/**
 * Captures a pending hold (all of it by default, or `amount` ≤ held; the rest is released) and
 * posts the capture entry. Idempotent on `idempotency_key` (default `{hold_id}:capture`).
 *
 * @throws {BillingError} `hold_not_found` (404), `hold_expired` / `hold_not_pending` (409),
 *   `capture_exceeds_hold` (422), `invalid_amount` (400), `idempotency_key_reused` (409)
 */
export async function captureHold(
  ctx: Ctx,
  holdId: string,
  input: { amount?: number; idempotency_key?: string },
): Promise<{ hold: HoldView; entry: EntryView; replayed: boolean }> {
  if (!isId("hld", holdId)) throw notFound("hold", holdId);
  const { value, replayed } = await submit(ctx, { kind: "capture_hold", hold_id: holdId, ...input });
  return { hold: holdView(value.hold!), entry: entryView(value.entry!), replayed };
}

/**
 * Voids a pending hold (releases all of it). Idempotent on `idempotency_key` (default `{hold_id}:void`).
 *
 * @throws {BillingError} `hold_not_found` (404), `hold_expired` / `hold_not_pending` (409)
 */
export async function voidHold(
  ctx: Ctx,
  holdId: string,
  input: { idempotency_key?: string },
): Promise<{ hold: HoldView; replayed: boolean }> {
  if (!isId("hld", holdId)) throw notFound("hold", holdId);
  const { value, replayed } = await submit(ctx, { kind: "void_hold", hold_id: holdId, ...input });
  return { hold: holdView(value.hold!), replayed };
}

/** GET a hold (a due hold is expired first). @throws {BillingError} `hold_not_found` (404) */
export async function getHold(ctx: Ctx, id: string): Promise<HoldView> {
  if (!isId("hld", id)) throw notFound("hold", id);
  await expireNoticedHolds(ctx);
  const row = await holdRows.first(ctx.database.db, ctx.scope, { id });
  if (!row) throw notFound("hold", id);
  return holdView(holdOf(row));
}

/** High-level operations (seed `RecordPayment` …), each idempotent on its external id. */
export type OperationCommand = Extract<
  LedgerCommand,
  { kind: "record_payment" | "record_refund" | "record_payout" | "record_dispute" }
>;

/**
 * Records a payment, refund, payout or dispute with the chart's postings (`LEDGER_CHART`).
 *
 * @throws {BillingError} `invalid_amount` (400), `unsupported_currency` (400),
 *   `fees_exceed_amount` (422), `insufficient_balance` (422: a refund beyond the customer's
 *   balance), `idempotency_key_reused` (409: same external id, other payload)
 */
export async function recordOperation(
  ctx: Ctx,
  command: OperationCommand,
): Promise<{ entry: EntryView; replayed: boolean }> {
  // Omitted fees and fees of 0 are the same payment (one idempotency payload).
  const normalized: OperationCommand = command.kind === "record_payment"
    ? { ...command, fees: command.fees ?? 0 }
    : command;
  const { value, replayed } = await submit(ctx, normalized);
  return { entry: entryView(value.entry!), replayed };
}

/** Expires due holds of every scope once (the periodic sweep); returns how many scopes were swept. */
export async function sweepAllScopes(services: Omit<Ctx, "scope">): Promise<number> {
  const now = services.clock.now();
  const { ledger: scopes, inventory: inventoryScopes } = await scopesWithDueHolds(
    services.database.db,
    now,
    1000,
  );
  const writer = writerFor(services);
  for (const scope of scopes) await writer.submit(scope, { kind: "sweep_holds" });
  for (const scope of inventoryScopes) await writer.submit(scope, { kind: "inventory_sweep" });
  return scopes.length + inventoryScopes.length;
}
