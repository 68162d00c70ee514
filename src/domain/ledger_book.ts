/**
 * The ledger's state machine for one scope (tenant + app), pure and synchronous.
 *
 * A {@link LedgerBook} is built from a snapshot of everything a batch of commands touches
 * (accounts, balances, holds, prior idempotency records, entries to replay or reverse), applies
 * the commands one by one in the order given, and hands back the rows to write. Each command
 * either succeeds and changes the book, or is rejected with a {@link BillingError} and changes
 * nothing: every check happens before the first mutation (validate, then commit).
 *
 * This follows the setup / compute / execute split (Autumn) and TigerBeetle's state machine:
 * storage loads the snapshot and writes the changes in one transaction; the rules live here.
 *
 * Rules (ADR 0007; the single writer that runs this: ADR 0003):
 * - Idempotency: one namespace of keys per scope. The same key with the same payload replays the
 *   original result (`replayed: true`); with another payload it fails `idempotency_key_reused`.
 *   Only accepted commands are recorded, so a rejected command can be retried later.
 * - Postings: positive = debit, negative = credit, sum to zero per currency, every account
 *   exists in the scope and is in the posting's currency (`currency_mismatch`).
 * - Constraints: TigerBeetle's `debits_must_not_exceed_credits` / `credits_must_not_exceed_debits`,
 *   pending included; a breach fails `insufficient_balance`.
 * - Holds: authorize against `available = posted − held`; capture ≤ authorized, the rest is
 *   released; void releases; a due hold is expired (released) exactly once by {@link LedgerBook.expireDue}.
 *
 * @module
 */
import { BillingError, invalid, notFound } from "./errors.ts";
import { applyOnce, type Outcome } from "./idempotency.ts";
import { newId } from "./ids.ts";
import { isCurrency } from "./money.ts";
import {
  type AccountConstraints,
  type AccountType,
  addToSide,
  type BalanceCounters,
  checkPositiveAmount,
  checkPostings,
  checkTtl,
  disputePostings,
  emptyBalance,
  heldSide,
  LEDGER_CHART,
  type LedgerAccount,
  type NamedAccount,
  type NamedPosting,
  type NormalBalance,
  normalBalanceOf,
  paymentPostings,
  payoutPostings,
  type PostingInput,
  refundPostings,
  satisfiesConstraints,
  summarizeBalance,
} from "./ledger.ts";

/** External references an entry may carry (seed `Entry.PaymentIntentID` …); each is filterable. */
export interface ExternalIds {
  /** Processor payment intent (seed `PaymentIntentID`). */
  payment_intent_id?: string;
  /** Processor refund id. */
  refund_id?: string;
  /** Processor payout id. */
  payout_id?: string;
  /** Processor dispute id. */
  dispute_id?: string;
}

/** A committed journal entry with its postings (in the order given). */
export interface LedgerEntry {
  /** TypeID `ent_…`. */
  id: string;
  /** Position in the scope's journal: 1, 2, 3… (listing order and cursor). */
  seq: number;
  /** Key of the command that posted it (unique per scope). */
  idempotency_key: string;
  /** SHA-256 of the command payload (replay vs conflict). */
  payload_hash: string;
  /** Free text. */
  description: string | null;
  /** The entry this one reverses, if any. */
  reverses_entry_id: string | null;
  /** Free-form JSON. */
  metadata: Record<string, unknown> | null;
  /** External id (filterable). */
  payment_intent_id: string | null;
  /** External id (filterable). */
  refund_id: string | null;
  /** External id (filterable). */
  payout_id: string | null;
  /** External id (filterable). */
  dispute_id: string | null;
  /** Legs in order; amount in minor units, debit > 0, credit < 0. */
  postings: (PostingInput & { id: string })[];
  /** Commit instant of its batch. */
  created_at: Date;
}

/** Lifecycle state of a hold: `pending` → `captured` | `voided` | `expired`, never back. */
export type HoldStatus = "pending" | "captured" | "voided" | "expired";

/** An authorization hold of `amount` against `account_id`, captured into `destination_account_id`. */
export interface LedgerHold {
  /** TypeID `hld_…`. */
  id: string;
  /** Account authorized against. */
  account_id: string;
  /** Account a capture moves the money into. */
  destination_account_id: string;
  /** ISO 4217, the accounts' currency. */
  currency: string;
  /** Authorized amount, minor units, > 0. */
  amount: number;
  /** Captured amount (≤ amount) once captured, else null. */
  captured_amount: number | null;
  /** Lifecycle state. */
  status: HoldStatus;
  /** Key of the command that created it. */
  idempotency_key: string;
  /** Entry posted by the capture. */
  capture_entry_id: string | null;
  /** Free-form JSON. */
  metadata: Record<string, unknown> | null;
  /** When a pending hold expires. */
  expires_at: Date;
  /** Creation instant. */
  created_at: Date;
  /** Last transition instant. */
  updated_at: Date;
}

/** Record of an accepted command (`ledger_commands`): what a replay returns. */
export interface CommandRecord {
  /** The key. */
  idempotency_key: string;
  /** Which command it was. */
  kind: LedgerCommand["kind"];
  /** SHA-256 of its payload. */
  payload_hash: string;
  /** Entry it posted, if any. */
  entry_id: string | null;
  /** Hold it created or moved, if any. */
  hold_id: string | null;
  /** Commit instant. */
  created_at: Date;
}

/** Constraint flags as clients send them (both default to false). */
export type ConstraintInput = Partial<AccountConstraints>;

/** Commands of the money ledger. `idempotency_key` is the client's; see {@link commandKey} for the rest. */
export type LedgerCommand =
  | {
    kind: "ensure_account";
    name: string;
    type: AccountType;
    currency: string;
    metadata?: Record<string, unknown> | null;
  } & ConstraintInput
  | {
    kind: "post_entry";
    idempotency_key: string;
    description?: string | null;
    postings: PostingInput[];
    metadata?: Record<string, unknown> | null;
    /** Set by billing flows that post their own reversal (invoice void). */
    reverses_entry_id?: string | null;
    external?: ExternalIds;
  }
  | { kind: "reverse_entry"; idempotency_key: string; entry_id: string; description?: string | null }
  | {
    kind: "create_hold";
    idempotency_key: string;
    account_id: string;
    /** Account credited/debited on capture; default: the scope's `hold_captures` liability. */
    destination_account_id?: string;
    amount: number;
    currency: string;
    ttl_seconds: number;
    metadata?: Record<string, unknown> | null;
  }
  | { kind: "capture_hold"; hold_id: string; amount?: number; idempotency_key?: string }
  | { kind: "void_hold"; hold_id: string; idempotency_key?: string }
  | {
    kind: "record_payment";
    payment_intent_id: string;
    amount: number;
    currency: string;
    customer_id: string;
    fees?: number;
  }
  | {
    kind: "record_refund";
    refund_id: string;
    amount: number;
    currency: string;
    customer_id: string;
    payment_intent_id?: string;
  }
  | { kind: "record_payout"; payout_id: string; amount: number; currency: string; merchant_id: string }
  | {
    kind: "record_dispute";
    dispute_id: string;
    amount: number;
    currency: string;
    customer_id: string;
    payment_intent_id?: string;
  }
  | { kind: "sweep_holds" };

/** What an accepted command returns. */
export interface LedgerResult {
  /** `ensure_account`: the account. */
  account?: LedgerAccount;
  /** `ensure_account`: whether the account was created now. */
  created?: boolean;
  /** Entry posted (or replayed). */
  entry?: LedgerEntry;
  /** Hold created or moved (for a replay: as it is now). */
  hold?: LedgerHold;
  /** `sweep_holds`: holds expired by this sweep. */
  expired?: number;
}

/** Re-exported: the books' outcome type and rule live in `idempotency.ts`. */
export { applyOnce, type Outcome };

/**
 * The idempotency key of a command: the client's key, or a natural key for operations on an
 * external id (`payment:{payment_intent_id}` …) or on a hold (`{hold_id}:capture`, a hold is
 * captured at most once). `null` for commands that are idempotent by nature (ensure, sweep).
 */
export function commandKey(command: LedgerCommand): string | null {
  switch (command.kind) {
    case "post_entry":
    case "reverse_entry":
    case "create_hold":
      return command.idempotency_key;
    case "capture_hold":
      return command.idempotency_key ?? `${command.hold_id}:capture`;
    case "void_hold":
      return command.idempotency_key ?? `${command.hold_id}:void`;
    case "record_payment":
      return `payment:${command.payment_intent_id}`;
    case "record_refund":
      return `refund:${command.refund_id}`;
    case "record_payout":
      return `payout:${command.payout_id}`;
    case "record_dispute":
      return `dispute:${command.dispute_id}`;
    case "ensure_account":
    case "sweep_holds":
      return null;
  }
}

/**
 * The payload whose hash tells a retry from a conflicting reuse of a key. For `post_entry` it is
 * the shape billing has always hashed (`description, postings, metadata, reverses_entry_id` and
 * external ids when present) so keys stored before the command log keep replaying; every other
 * kind includes its `kind`, so one key can never be replayed as a different operation.
 */
export function commandPayload(command: LedgerCommand): unknown {
  if (command.kind === "post_entry") {
    return {
      description: command.description ?? null,
      postings: command.postings,
      metadata: command.metadata ?? null,
      reverses_entry_id: command.reverses_entry_id ?? null,
      ...(command.external ?? {}),
    };
  }
  const { idempotency_key: _ignored, ...rest } = command as LedgerCommand & { idempotency_key?: string };
  return rest;
}

/** Everything a batch may touch, loaded by storage before the book is built. */
export interface LedgerSnapshot {
  /** Accounts by id and by name that the batch touches. */
  accounts: LedgerAccount[];
  /** Stored counters by account id (accounts without a row have {@link emptyBalance}). */
  balances: Map<string, BalanceCounters>;
  /** Holds the batch names, holds of replayed records, and due holds. */
  holds: LedgerHold[];
  /** Prior records of the batch's keys. */
  records: CommandRecord[];
  /** Entries referenced by records (replays) or by reversals. */
  entries: LedgerEntry[];
  /** Ids of entries that already have a reversal. */
  reversedEntryIds: Set<string>;
  /** Highest `seq` of the scope's journal so far. */
  lastSeq: number;
}

/** Rows a book asks storage to write. */
export interface LedgerChanges {
  /** Accounts to insert. */
  accounts: LedgerAccount[];
  /** Entries (with postings) to insert, in journal order. */
  entries: LedgerEntry[];
  /** Holds created or changed (upsert by id). */
  holds: LedgerHold[];
  /** New counters by account id (upsert). */
  balances: Map<string, { account: LedgerAccount; counters: BalanceCounters }>;
  /** Command records to insert. */
  records: CommandRecord[];
}

/** Largest number of commands one book (one batch) applies: a limit on everything. */
export const MAX_COMMANDS_PER_BOOK = 10_000;

/**
 * The in-memory ledger of one scope during one batch. See the module documentation for the rules.
 *
 * @example
 * const book = new LedgerBook(snapshot, now);
 * book.expireDue();
 * const outcome = book.apply(command, hash);
 * const rows = book.changes();
 */
export class LedgerBook {
  /** The batch's instant: created_at of everything written, and the expiry reference. */
  readonly now: Date;
  readonly #expired: LedgerHold[] = [];
  readonly #accounts = new Map<string, LedgerAccount>();
  readonly #byName = new Map<string, LedgerAccount>();
  readonly #balances: Map<string, BalanceCounters>;
  readonly #holds = new Map<string, LedgerHold>();
  readonly #records = new Map<string, CommandRecord>();
  readonly #entries = new Map<string, LedgerEntry>();
  readonly #reversed: Set<string>;
  #seq: number;
  #applied = 0;
  readonly #newAccounts: LedgerAccount[] = [];
  readonly #newEntries: LedgerEntry[] = [];
  readonly #dirtyHolds = new Set<string>();
  readonly #dirtyBalances = new Set<string>();
  readonly #newRecords: CommandRecord[] = [];

  /** Builds the book of one batch from what storage loaded. */
  constructor(snapshot: LedgerSnapshot, now: Date) {
    this.now = now;
    for (const a of snapshot.accounts) this.#addAccount(a);
    this.#balances = new Map(snapshot.balances);
    for (const h of snapshot.holds) this.#holds.set(h.id, { ...h });
    for (const r of snapshot.records) this.#records.set(r.idempotency_key, r);
    for (const e of snapshot.entries) this.#entries.set(e.id, e);
    this.#reversed = new Set(snapshot.reversedEntryIds);
    this.#seq = snapshot.lastSeq;
  }

  #addAccount(a: LedgerAccount): void {
    this.#accounts.set(a.id, a);
    this.#byName.set(`${a.currency}\u0000${a.name}`, a);
  }

  /** Counters of an account (zeros when it has none yet). */
  balanceOf(accountId: string): BalanceCounters {
    return this.#balances.get(accountId) ?? emptyBalance();
  }

  /** A hold the book knows, or undefined. */
  hold(id: string): LedgerHold | undefined {
    return this.#holds.get(id);
  }

  /**
   * Expires every pending hold of the snapshot whose `expires_at` ≤ now: releases its pending
   * amounts and marks it `expired`. A hold is expired once: afterwards it is no longer pending.
   *
   * @returns the number of holds expired
   */
  expireDue(): number {
    let expired = 0;
    for (const hold of this.#holds.values()) {
      if (hold.status !== "pending" || hold.expires_at.getTime() > this.now.getTime()) continue;
      const released = this.#release(hold);
      for (const [id, counters] of released) this.#setBalance(id, counters);
      const done: LedgerHold = { ...hold, status: "expired", updated_at: this.now };
      this.#setHold(done);
      this.#expired.push(done);
      expired++;
    }
    return expired;
  }

  /** Holds this book expired (by {@link LedgerBook.expireDue} or a `sweep_holds`), in order. */
  get expiredHolds(): readonly LedgerHold[] {
    return this.#expired;
  }

  /**
   * Applies one command. Never throws for a business failure: a rejection is returned and the
   * book is unchanged.
   *
   * @param hash SHA-256 of the canonical JSON of {@link commandPayload}
   * @throws {Error} only for broken invariants (bugs), or past {@link MAX_COMMANDS_PER_BOOK}
   */
  apply(command: LedgerCommand, hash: string): Outcome<LedgerResult> {
    if (++this.#applied > MAX_COMMANDS_PER_BOOK) {
      throw new Error(`invariant: more than ${MAX_COMMANDS_PER_BOOK} commands in one batch`);
    }
    const key = commandKey(command);
    const prior = key === null ? undefined : this.#records.get(key);
    return applyOnce(
      key,
      hash,
      prior,
      () => this.#replay(prior!),
      () => this.#execute(command, key ?? "", hash),
    );
  }

  /** The rows to write for everything applied so far. */
  changes(): LedgerChanges {
    const balances = new Map<string, { account: LedgerAccount; counters: BalanceCounters }>();
    for (const id of this.#dirtyBalances) {
      balances.set(id, { account: this.#accounts.get(id)!, counters: this.balanceOf(id) });
    }
    return {
      accounts: [...this.#newAccounts],
      entries: [...this.#newEntries],
      holds: [...this.#dirtyHolds].map((id) => this.#holds.get(id)!),
      balances,
      records: [...this.#newRecords],
    };
  }

  #replay(record: CommandRecord): LedgerResult {
    const result: LedgerResult = {};
    if (record.entry_id) {
      const entry = this.#entries.get(record.entry_id);
      if (!entry) {
        throw new Error(
          `invariant: entry ${record.entry_id} of key ${record.idempotency_key} was not loaded`,
        );
      }
      result.entry = entry;
    }
    if (record.hold_id) {
      const hold = this.#holds.get(record.hold_id);
      if (!hold) {
        throw new Error(`invariant: hold ${record.hold_id} of key ${record.idempotency_key} was not loaded`);
      }
      result.hold = { ...hold };
    }
    return result;
  }

  #execute(command: LedgerCommand, key: string, hash: string): LedgerResult {
    switch (command.kind) {
      case "ensure_account":
        return this.#ensureAccount(command);
      case "post_entry":
        return this.#postEntry(command, key, hash);
      case "reverse_entry":
        return this.#reverseEntry(command, key, hash);
      case "create_hold":
        return this.#createHold(command, key, hash);
      case "capture_hold":
        return this.#captureHold(command, key, hash);
      case "void_hold":
        return this.#voidHold(command, key, hash);
      case "record_payment":
        checkCurrency(command.currency);
        return this.#postNamed(command.kind, key, hash, paymentPostings(command), {
          description: `Payment ${command.payment_intent_id}`,
          external: { payment_intent_id: command.payment_intent_id },
          metadata: { customer_id: command.customer_id, fees: command.fees ?? 0 },
        });
      case "record_refund":
        checkCurrency(command.currency);
        return this.#postNamed(command.kind, key, hash, refundPostings(command), {
          description: `Refund ${command.refund_id}`,
          external: { refund_id: command.refund_id, payment_intent_id: command.payment_intent_id },
          metadata: { customer_id: command.customer_id },
        });
      case "record_payout":
        checkCurrency(command.currency);
        return this.#postNamed(command.kind, key, hash, payoutPostings(command), {
          description: `Payout ${command.payout_id}`,
          external: { payout_id: command.payout_id },
          metadata: { merchant_id: command.merchant_id },
        });
      case "record_dispute":
        checkCurrency(command.currency);
        return this.#postNamed(command.kind, key, hash, disputePostings(command), {
          description: `Dispute ${command.dispute_id}`,
          external: { dispute_id: command.dispute_id, payment_intent_id: command.payment_intent_id },
          metadata: { customer_id: command.customer_id },
        });
      case "sweep_holds":
        return { expired: this.expireDue() };
    }
  }

  // ---- accounts ----

  #ensureAccount(command: Extract<LedgerCommand, { kind: "ensure_account" }>): LedgerResult {
    checkCurrency(command.currency);
    const wanted: NamedAccount = {
      name: command.name,
      type: command.type,
      debits_must_not_exceed_credits: command.debits_must_not_exceed_credits ?? false,
      credits_must_not_exceed_debits: command.credits_must_not_exceed_debits ?? false,
    };
    const { account, created } = this.#resolveNamed(wanted, command.currency, command.metadata ?? null);
    if (created) this.#commitAccount(account);
    return { account, created };
  }

  /** Finds a named account, or builds (without committing) the one to create. */
  #resolveNamed(
    wanted: NamedAccount,
    currency: string,
    metadata: Record<string, unknown> | null,
  ): { account: LedgerAccount; created: boolean } {
    if (wanted.name.length < 1 || wanted.name.length > 255) {
      throw invalid([{ path: "name", message: "Must be 1 to 255 characters" }]);
    }
    if (wanted.debits_must_not_exceed_credits && wanted.credits_must_not_exceed_debits) {
      throw invalid([{
        path: "credits_must_not_exceed_debits",
        message: "At most one balance constraint may be set (TigerBeetle: flags_are_mutually_exclusive)",
      }]);
    }
    const existing = this.#byName.get(`${currency}\u0000${wanted.name}`);
    if (existing) {
      if (existing.type !== wanted.type) {
        throw new BillingError(
          "account_type_mismatch",
          "conflict",
          `Account "${wanted.name}" (${currency}) exists with type "${existing.type}"`,
        );
      }
      if (
        existing.debits_must_not_exceed_credits !== wanted.debits_must_not_exceed_credits ||
        existing.credits_must_not_exceed_debits !== wanted.credits_must_not_exceed_debits
      ) {
        throw new BillingError(
          "account_constraints_mismatch",
          "conflict",
          `Account "${wanted.name}" (${currency}) exists with other balance constraints`,
        );
      }
      return { account: existing, created: false };
    }
    return {
      account: {
        id: newId("acc"),
        name: wanted.name,
        type: wanted.type,
        currency,
        normal_balance: normalBalanceOf(wanted.type),
        metadata,
        debits_must_not_exceed_credits: wanted.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits: wanted.credits_must_not_exceed_debits,
        created_at: this.now,
      },
      created: true,
    };
  }

  #commitAccount(account: LedgerAccount): void {
    this.#addAccount(account);
    this.#newAccounts.push(account);
  }

  #account(id: string, currency: string): LedgerAccount {
    const account = this.#accounts.get(id);
    if (!account) throw notFound("account", id);
    if (account.currency !== currency) {
      throw new BillingError(
        "currency_mismatch",
        "unprocessable",
        `Account "${id}" holds ${account.currency}, not ${currency}`,
      );
    }
    return account;
  }

  // ---- entries ----

  #postEntry(
    command: Extract<LedgerCommand, { kind: "post_entry" }>,
    key: string,
    hash: string,
  ): LedgerResult {
    checkPostings(command.postings);
    for (const p of command.postings) checkCurrency(p.currency);
    const accounts = command.postings.map((p) => this.#account(p.account_id, p.currency));
    if (command.reverses_entry_id) this.#checkReversible(command.reverses_entry_id);
    return this.#commitEntry(command.kind, key, hash, accounts, command.postings, [], {
      description: command.description ?? null,
      metadata: command.metadata ?? null,
      reverses_entry_id: command.reverses_entry_id ?? null,
      external: command.external ?? {},
    });
  }

  #checkReversible(entryId: string): LedgerEntry {
    const original = this.#entries.get(entryId);
    if (!original) throw notFound("entry", entryId);
    if (this.#reversed.has(entryId)) {
      throw new BillingError(
        "entry_already_reversed",
        "conflict",
        `Entry "${entryId}" has already been reversed`,
      );
    }
    return original;
  }

  #reverseEntry(
    command: Extract<LedgerCommand, { kind: "reverse_entry" }>,
    key: string,
    hash: string,
  ): LedgerResult {
    const original = this.#checkReversible(command.entry_id);
    const postings = original.postings.map((p) => ({
      account_id: p.account_id,
      amount: -p.amount,
      currency: p.currency,
    }));
    const accounts = postings.map((p) => this.#account(p.account_id, p.currency));
    return this.#commitEntry(command.kind, key, hash, accounts, postings, [], {
      description: command.description ?? `Reversal of ${original.id}`,
      metadata: null,
      reverses_entry_id: original.id,
      external: {},
    });
  }

  #postNamed(
    kind: LedgerCommand["kind"],
    key: string,
    hash: string,
    named: NamedPosting[],
    info: { description: string; external: ExternalIds; metadata: Record<string, unknown> },
  ): LedgerResult {
    const created: LedgerAccount[] = [];
    const accounts: LedgerAccount[] = [];
    const postings: PostingInput[] = [];
    for (const p of named) {
      const pending = created.find((a) => a.name === p.account.name && a.currency === p.currency);
      const resolved = pending
        ? { account: pending, created: false }
        : this.#resolveNamed(p.account, p.currency, null);
      if (resolved.created) created.push(resolved.account);
      accounts.push(resolved.account);
      postings.push({ account_id: resolved.account.id, amount: p.amount, currency: p.currency });
    }
    checkPostings(postings);
    const external = Object.fromEntries(
      Object.entries(info.external).filter(([, v]) => v !== undefined),
    ) as ExternalIds;
    return this.#commitEntry(kind, key, hash, accounts, postings, created, {
      description: info.description,
      metadata: info.metadata,
      reverses_entry_id: null,
      external,
    });
  }

  /**
   * Checks the new counters of every account an entry touches (constraints, overflow) and only
   * then commits the entry, its accounts, counters and record.
   */
  #commitEntry(
    kind: LedgerCommand["kind"],
    key: string,
    hash: string,
    accounts: LedgerAccount[],
    postings: PostingInput[],
    createdAccounts: LedgerAccount[],
    info: {
      description: string | null;
      metadata: Record<string, unknown> | null;
      reverses_entry_id: string | null;
      external: ExternalIds;
    },
    extra: { hold?: LedgerHold; released?: Map<string, BalanceCounters> } = {},
  ): LedgerResult {
    const next = new Map<string, BalanceCounters>(extra.released ?? []);
    postings.forEach((p, i) => {
      const account = accounts[i];
      const current = next.get(account.id) ?? this.balanceOf(account.id);
      next.set(
        account.id,
        addToSide(current, "posted", p.amount > 0 ? "debit" : "credit", Math.abs(p.amount)),
      );
    });
    for (const [id, counters] of next) {
      const account = this.#accounts.get(id) ?? accounts.find((a) => a.id === id)!;
      if (!satisfiesConstraints(account, counters)) {
        throw new BillingError(
          "insufficient_balance",
          "unprocessable",
          `The entry would break the balance constraint of account "${account.name}" (${account.id})`,
        );
      }
    }
    // ---- commit (nothing below throws a BillingError) ----
    for (const account of createdAccounts) this.#commitAccount(account);
    for (const [id, counters] of next) this.#setBalance(id, counters);
    const entry: LedgerEntry = {
      id: newId("ent"),
      seq: ++this.#seq,
      idempotency_key: key,
      payload_hash: hash,
      description: info.description,
      reverses_entry_id: info.reverses_entry_id,
      metadata: info.metadata,
      payment_intent_id: info.external.payment_intent_id ?? null,
      refund_id: info.external.refund_id ?? null,
      payout_id: info.external.payout_id ?? null,
      dispute_id: info.external.dispute_id ?? null,
      postings: postings.map((p) => ({
        id: newId("pst"),
        account_id: p.account_id,
        amount: p.amount,
        currency: p.currency,
      })),
      created_at: this.now,
    };
    this.#entries.set(entry.id, entry);
    this.#newEntries.push(entry);
    if (entry.reverses_entry_id) this.#reversed.add(entry.reverses_entry_id);
    let hold = extra.hold;
    if (hold) {
      hold = { ...hold, capture_entry_id: entry.id };
      this.#setHold(hold);
    }
    this.#record({
      idempotency_key: key,
      kind,
      payload_hash: hash,
      entry_id: entry.id,
      hold_id: hold?.id ?? null,
      created_at: this.now,
    });
    return hold ? { entry, hold: { ...hold } } : { entry };
  }

  // ---- holds ----

  #createHold(
    command: Extract<LedgerCommand, { kind: "create_hold" }>,
    key: string,
    hash: string,
  ): LedgerResult {
    const amount = checkPositiveAmount(command.amount);
    checkTtl(command.ttl_seconds);
    checkCurrency(command.currency);
    const source = this.#account(command.account_id, command.currency);
    let destination: LedgerAccount;
    let createdDestination: LedgerAccount | null = null;
    if (command.destination_account_id !== undefined) {
      destination = this.#account(command.destination_account_id, command.currency);
      if (destination.id === source.id) {
        throw invalid([{ path: "destination_account_id", message: "Must differ from account_id" }]);
      }
    } else {
      const resolved = this.#resolveNamed(LEDGER_CHART.holdCaptures, command.currency, null);
      destination = resolved.account;
      if (resolved.created) createdDestination = resolved.account;
    }
    const sourceBefore = this.balanceOf(source.id);
    const available = summarizeBalance(source.normal_balance, sourceBefore).available;
    if (available < amount) {
      throw new BillingError(
        "insufficient_balance",
        "unprocessable",
        `Account "${source.id}" has ${available} available, the hold needs ${amount}`,
      );
    }
    const sourceAfter = addToSide(sourceBefore, "pending", heldSide(source.normal_balance), amount, amount);
    const destinationAfter = addToSide(
      this.balanceOf(destination.id),
      "pending",
      source.normal_balance,
      amount,
    );
    if (!satisfiesConstraints(source, sourceAfter)) {
      throw new BillingError(
        "insufficient_balance",
        "unprocessable",
        `The hold would break the balance constraint of account "${source.id}"`,
      );
    }
    if (!satisfiesConstraints(destination, destinationAfter)) {
      throw new BillingError(
        "insufficient_balance",
        "unprocessable",
        `The hold would break the balance constraint of account "${destination.id}"`,
      );
    }
    // ---- commit ----
    if (createdDestination) this.#commitAccount(createdDestination);
    this.#setBalance(source.id, sourceAfter);
    this.#setBalance(destination.id, destinationAfter);
    const hold: LedgerHold = {
      id: newId("hld"),
      account_id: source.id,
      destination_account_id: destination.id,
      currency: command.currency,
      amount,
      captured_amount: null,
      status: "pending",
      idempotency_key: key,
      capture_entry_id: null,
      metadata: command.metadata ?? null,
      expires_at: new Date(this.now.getTime() + command.ttl_seconds * 1000),
      created_at: this.now,
      updated_at: this.now,
    };
    this.#setHold(hold);
    this.#record({
      idempotency_key: key,
      kind: command.kind,
      payload_hash: hash,
      entry_id: null,
      hold_id: hold.id,
      created_at: this.now,
    });
    return { hold: { ...hold } };
  }

  /** A hold that may still be captured or voided. @throws {BillingError} `hold_not_found`, `hold_expired`, `hold_not_pending` */
  #pendingHold(id: string): LedgerHold {
    const hold = this.#holds.get(id);
    if (!hold) throw notFound("hold", id);
    if (
      hold.status === "expired" ||
      (hold.status === "pending" && hold.expires_at.getTime() <= this.now.getTime())
    ) {
      throw new BillingError(
        "hold_expired",
        "conflict",
        `Hold "${id}" expired at ${hold.expires_at.toISOString()}; its amount was released`,
      );
    }
    if (hold.status !== "pending") {
      throw new BillingError("hold_not_pending", "conflict", `Hold "${id}" is ${hold.status}, not pending`);
    }
    return hold;
  }

  /** Counters of both accounts with a hold's pending amounts taken out (not committed). */
  #release(hold: LedgerHold): Map<string, BalanceCounters> {
    const source = this.#accounts.get(hold.account_id);
    if (!source) throw new Error(`invariant: account ${hold.account_id} of hold ${hold.id} was not loaded`);
    if (!this.#accounts.has(hold.destination_account_id)) {
      throw new Error(`invariant: account ${hold.destination_account_id} of hold ${hold.id} was not loaded`);
    }
    const out = new Map<string, BalanceCounters>();
    out.set(
      source.id,
      addToSide(
        this.balanceOf(source.id),
        "pending",
        heldSide(source.normal_balance),
        -hold.amount,
        -hold.amount,
      ),
    );
    out.set(
      hold.destination_account_id,
      addToSide(this.balanceOf(hold.destination_account_id), "pending", source.normal_balance, -hold.amount),
    );
    return out;
  }

  #captureHold(
    command: Extract<LedgerCommand, { kind: "capture_hold" }>,
    key: string,
    hash: string,
  ): LedgerResult {
    const hold = this.#pendingHold(command.hold_id);
    const amount = command.amount === undefined ? hold.amount : checkPositiveAmount(command.amount);
    if (amount > hold.amount) {
      throw new BillingError(
        "capture_exceeds_hold",
        "unprocessable",
        `The capture ${amount} exceeds the held amount ${hold.amount}`,
      );
    }
    const source = this.#accounts.get(hold.account_id)!;
    const destination = this.#accounts.get(hold.destination_account_id)!;
    const side = heldSide(source.normal_balance);
    const signed = (s: NormalBalance, n: number) => (s === "debit" ? n : -n);
    const postings: PostingInput[] = [
      { account_id: source.id, amount: signed(side, amount), currency: hold.currency },
      { account_id: destination.id, amount: signed(source.normal_balance, amount), currency: hold.currency },
    ];
    return this.#commitEntry(command.kind, key, hash, [source, destination], postings, [], {
      description: `Capture of hold ${hold.id}`,
      metadata: { hold_id: hold.id },
      reverses_entry_id: null,
      external: {},
    }, {
      hold: { ...hold, status: "captured", captured_amount: amount, updated_at: this.now },
      released: this.#release(hold),
    });
  }

  #voidHold(command: Extract<LedgerCommand, { kind: "void_hold" }>, key: string, hash: string): LedgerResult {
    const hold = this.#pendingHold(command.hold_id);
    const released = this.#release(hold);
    for (const [id, counters] of released) this.#setBalance(id, counters);
    const voided: LedgerHold = { ...hold, status: "voided", updated_at: this.now };
    this.#setHold(voided);
    this.#record({
      idempotency_key: key,
      kind: command.kind,
      payload_hash: hash,
      entry_id: null,
      hold_id: hold.id,
      created_at: this.now,
    });
    return { hold: { ...voided } };
  }

  // ---- bookkeeping ----

  #setBalance(id: string, counters: BalanceCounters): void {
    this.#balances.set(id, counters);
    this.#dirtyBalances.add(id);
  }

  #setHold(hold: LedgerHold): void {
    this.#holds.set(hold.id, hold);
    this.#dirtyHolds.add(hold.id);
  }

  #record(record: CommandRecord): void {
    this.#records.set(record.idempotency_key, record);
    this.#newRecords.push(record);
  }
}

/**
 * Checks a currency code.
 *
 * @throws {BillingError} `unsupported_currency` (400) unless `code` is an ISO 4217 code
 */
export function checkCurrency(code: string): void {
  if (!isCurrency(code)) {
    throw new BillingError(
      "unsupported_currency",
      "invalid_request",
      `Currency "${code}" is not an ISO 4217 code`,
    );
  }
}

/**
 * What storage must load for a batch of commands: explicit account ids, named accounts by
 * (name, currency), hold ids, entry ids to reverse. Records' own entry/hold ids are added by the
 * loader after it has read the records.
 */
export interface LedgerTouch {
  /** Accounts named by id. */
  accountIds: Set<string>;
  /** Accounts named by (name, currency). */
  names: { name: string; currency: string }[];
  /** Holds named by id. */
  holdIds: Set<string>;
  /** Entries to reverse. */
  entryIds: Set<string>;
  /** Idempotency keys of the commands. */
  keys: Set<string>;
}

/** Computes the {@link LedgerTouch} of commands (pure; tolerant of invalid input). */
export function ledgerTouch(commands: readonly LedgerCommand[]): LedgerTouch {
  const touch: LedgerTouch = {
    accountIds: new Set(),
    names: [],
    holdIds: new Set(),
    entryIds: new Set(),
    keys: new Set(),
  };
  const name = (n: NamedAccount, currency: string) => touch.names.push({ name: n.name, currency });
  for (const c of commands) {
    const key = commandKey(c);
    if (key !== null) touch.keys.add(key);
    switch (c.kind) {
      case "ensure_account":
        touch.names.push({ name: c.name, currency: c.currency });
        break;
      case "post_entry":
        for (const p of c.postings ?? []) touch.accountIds.add(p.account_id);
        if (c.reverses_entry_id) touch.entryIds.add(c.reverses_entry_id);
        break;
      case "reverse_entry":
        touch.entryIds.add(c.entry_id);
        break;
      case "create_hold":
        touch.accountIds.add(c.account_id);
        if (c.destination_account_id !== undefined) touch.accountIds.add(c.destination_account_id);
        else name(LEDGER_CHART.holdCaptures, c.currency);
        break;
      case "capture_hold":
      case "void_hold":
        touch.holdIds.add(c.hold_id);
        break;
      case "record_payment":
        name(LEDGER_CHART.cash, c.currency);
        name(LEDGER_CHART.customerBalance(c.customer_id), c.currency);
        name(LEDGER_CHART.platformFees, c.currency);
        break;
      case "record_refund":
        name(LEDGER_CHART.cash, c.currency);
        name(LEDGER_CHART.customerBalance(c.customer_id), c.currency);
        break;
      case "record_payout":
        name(LEDGER_CHART.cash, c.currency);
        name(LEDGER_CHART.merchantSettlement(c.merchant_id), c.currency);
        break;
      case "record_dispute":
        name(LEDGER_CHART.cash, c.currency);
        name(LEDGER_CHART.disputesHeld, c.currency);
        break;
      case "sweep_holds":
        break;
    }
  }
  return touch;
}
