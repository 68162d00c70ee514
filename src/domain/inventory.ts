/**
 * The inventory ledger (seed package `inventory`): "subject owns N of item" with acquire,
 * consume, atomic transfer and reservation holds, as a pure state machine for one scope.
 *
 * - A balance is `free` (spendable) + `on_hold` (reserved by pending holds), per (subject, item).
 * - Quantities are positive safe integers (`invalid_quantity`); no balance goes below zero
 *   (`insufficient_quantity`) or above 2^53 − 1 (`quantity_out_of_range`).
 * - Every mutation has an idempotency key (one namespace per scope, apart from the money
 *   ledger's): same key + same payload replays, another payload fails `idempotency_key_reused`.
 *   The seed's `Commit` and `Release` took no key; here they default to `{hold_id}:commit` /
 *   `{hold_id}:release`, so a retried commit replays instead of failing `hold_not_pending`.
 * - A hold moves quantity from free to on-hold; commit consumes it; release returns it; a hold
 *   past `expires_at` is expired (returned) exactly once and then answers `hold_expired`.
 * - Every accepted mutation, and every expiry, appends one operation to the journal; folding the
 *   journal ({@link foldOperations}) rebuilds every balance.
 *
 * @module
 */
import { BillingError, invalid, notFound } from "./errors.ts";
import { newId } from "./ids.ts";
import { checkTtl } from "./ledger.ts";
import { applyOnce, type Outcome } from "./idempotency.ts";

/** Mutations of the inventory ledger. */
export type InventoryCommand =
  | { kind: "inventory_acquire"; idempotency_key: string; subject: string; item: string; quantity: number }
  | { kind: "inventory_consume"; idempotency_key: string; subject: string; item: string; quantity: number }
  | {
    kind: "inventory_transfer";
    idempotency_key: string;
    from: string;
    to: string;
    item: string;
    quantity: number;
  }
  | {
    kind: "inventory_hold";
    idempotency_key: string;
    subject: string;
    item: string;
    quantity: number;
    ttl_seconds: number;
  }
  | { kind: "inventory_commit"; hold_id: string; idempotency_key?: string }
  | { kind: "inventory_release"; hold_id: string; idempotency_key?: string }
  | { kind: "inventory_sweep" };

/** Kinds of journal operations (`expire` is written by the ledger itself). */
export type OperationKind = "acquire" | "consume" | "transfer" | "hold" | "commit" | "release" | "expire";

/** One journal row. `counterparty` is the receiving subject of a transfer. */
export interface InventoryOperation {
  /** TypeID `iop_…`. */
  id: string;
  /** Position in the scope's journal. */
  seq: number;
  /** Key of the mutation (`expire:{hold_id}` for expiries). */
  idempotency_key: string;
  /** SHA-256 of the payload (empty for expiries). */
  payload_hash: string;
  /** What happened. */
  kind: OperationKind;
  /** Owner whose balance changes (the sender of a transfer). */
  subject: string;
  /** Receiving subject of a transfer, else null. */
  counterparty: string | null;
  /** Item type. */
  item: string;
  /** Units, > 0. */
  quantity: number;
  /** Hold involved, if any. */
  hold_id: string | null;
  /** Commit instant. */
  created_at: Date;
}

/** Balance of a (subject, item): `free` + `on_hold` units. */
export interface InventoryBalance {
  /** Owner. */
  subject: string;
  /** Item type. */
  item: string;
  /** Spendable units, ≥ 0. */
  free: number;
  /** Units reserved by pending holds, ≥ 0. */
  on_hold: number;
}

/** A reservation: pending → committed | released | expired. */
export interface InventoryHold {
  /** TypeID `ihl_…`. */
  id: string;
  /** Owner. */
  subject: string;
  /** Item type. */
  item: string;
  /** Reserved units, > 0. */
  quantity: number;
  /** Lifecycle state. */
  status: "pending" | "committed" | "released" | "expired";
  /** Key of the hold command. */
  idempotency_key: string;
  /** When a pending hold expires. */
  expires_at: Date;
  /** Creation instant. */
  created_at: Date;
  /** Last transition instant. */
  updated_at: Date;
}

/** What an accepted inventory command returns. */
export interface InventoryResult {
  /** Journal row written (or replayed). */
  operation?: InventoryOperation;
  /** Balances after the operation (for a replay: as they are now). */
  balances: InventoryBalance[];
  /** Hold created or moved (for a replay: as it is now). */
  hold?: InventoryHold;
  /** `inventory_sweep`: holds expired. */
  expired?: number;
}

/** Snapshot loaded by storage for one batch. */
export interface InventorySnapshot {
  /** Balances of the pairs the batch touches. */
  balances: InventoryBalance[];
  /** Holds named, holds of prior operations, and due holds. */
  holds: InventoryHold[];
  /** Prior operations whose keys the batch uses. */
  operations: InventoryOperation[];
  /** Highest journal `seq` so far. */
  lastSeq: number;
}

/** Rows to write. */
export interface InventoryChanges {
  /** Balances to upsert. */
  balances: InventoryBalance[];
  /** Holds to upsert. */
  holds: InventoryHold[];
  /** Journal rows to insert. */
  operations: InventoryOperation[];
}

/** Idempotency key of an inventory command (`null` for the sweep). */
export function inventoryKey(command: InventoryCommand): string | null {
  switch (command.kind) {
    case "inventory_commit":
      return command.idempotency_key ?? `${command.hold_id}:commit`;
    case "inventory_release":
      return command.idempotency_key ?? `${command.hold_id}:release`;
    case "inventory_sweep":
      return null;
    default:
      return command.idempotency_key;
  }
}

/** Payload hashed for the replay/conflict rule: the command without its key. */
export function inventoryPayload(command: InventoryCommand): unknown {
  const { idempotency_key: _ignored, ...rest } = command as InventoryCommand & { idempotency_key?: string };
  return rest;
}

/**
 * Checks a quantity.
 *
 * @throws {BillingError} `invalid_quantity` (400) unless a safe integer > 0 (seed `ErrInvalidQuantity`)
 */
export function checkQuantity(quantity: number): number {
  if (!Number.isSafeInteger(quantity) || quantity <= 0) {
    throw new BillingError(
      "invalid_quantity",
      "invalid_request",
      `The quantity must be a positive integer, got ${quantity}`,
      {
        fields: [{ path: "quantity", message: "Must be a positive integer" }],
      },
    );
  }
  return quantity;
}

const pairKey = (subject: string, item: string) => `${subject}\u0000${item}`;

/** Adds `delta` to a field, refusing to leave 0…2^53 − 1. */
function adjust(b: InventoryBalance, field: "free" | "on_hold", delta: number): InventoryBalance {
  const value = b[field] + delta;
  if (value < 0) {
    throw new BillingError(
      "insufficient_quantity",
      "unprocessable",
      `Subject "${b.subject}" has ${b[field]} ${
        field === "free" ? "free" : "held"
      } of "${b.item}", ${-delta} needed`,
    );
  }
  if (value + (field === "free" ? b.on_hold : b.free) > Number.MAX_SAFE_INTEGER) {
    throw new BillingError(
      "quantity_out_of_range",
      "unprocessable",
      `The balance of "${b.item}" for "${b.subject}" would exceed 2^53 - 1`,
    );
  }
  return { ...b, [field]: value };
}

/**
 * The inventory of one scope during one batch. Same contract as the money ledger's book: each
 * command is accepted (and changes the book) or rejected (and changes nothing).
 */
export class InventoryBook {
  /** The batch's instant (created_at, expiry reference). */
  readonly now: Date;
  readonly #expired: InventoryHold[] = [];
  readonly #balances = new Map<string, InventoryBalance>();
  readonly #holds = new Map<string, InventoryHold>();
  readonly #operations = new Map<string, InventoryOperation>();
  #seq: number;
  readonly #dirtyBalances = new Set<string>();
  readonly #dirtyHolds = new Set<string>();
  readonly #newOperations: InventoryOperation[] = [];

  /** Builds the book of one batch from what storage loaded. */
  constructor(snapshot: InventorySnapshot, now: Date) {
    this.now = now;
    for (const b of snapshot.balances) this.#balances.set(pairKey(b.subject, b.item), { ...b });
    for (const h of snapshot.holds) this.#holds.set(h.id, { ...h });
    for (const o of snapshot.operations) this.#operations.set(o.idempotency_key, o);
    this.#seq = snapshot.lastSeq;
  }

  /** Balance of a pair (zeros when never touched). */
  balance(subject: string, item: string): InventoryBalance {
    return this.#balances.get(pairKey(subject, item)) ?? { subject, item, free: 0, on_hold: 0 };
  }

  /** Expires every loaded pending hold due at `now` (returns its quantity to free), once. */
  expireDue(): number {
    let expired = 0;
    for (const hold of this.#holds.values()) {
      if (hold.status !== "pending" || hold.expires_at.getTime() > this.now.getTime()) continue;
      const b = this.balance(hold.subject, hold.item);
      const next = adjust(adjust(b, "on_hold", -hold.quantity), "free", hold.quantity);
      this.#setBalance(next);
      const done: InventoryHold = { ...hold, status: "expired", updated_at: this.now };
      this.#setHold(done);
      this.#expired.push(done);
      this.#append(`expire:${hold.id}`, "", "expire", hold.subject, null, hold.item, hold.quantity, hold.id);
      expired++;
    }
    return expired;
  }

  /** Holds this book expired (by {@link InventoryBook.expireDue} or an `inventory_sweep`), in order. */
  get expiredHolds(): readonly InventoryHold[] {
    return this.#expired;
  }

  /** Applies one command; a rejection changes nothing. @throws {Error} only for broken invariants */
  apply(command: InventoryCommand, hash: string): Outcome<InventoryResult> {
    const key = inventoryKey(command);
    const prior = key === null ? undefined : this.#operations.get(key);
    return applyOnce(
      key,
      hash,
      prior,
      () => this.#replay(prior!),
      () => this.#execute(command, key ?? "", hash),
    );
  }

  /** Rows to write for everything applied so far. */
  changes(): InventoryChanges {
    return {
      balances: [...this.#dirtyBalances].map((k) => this.#balances.get(k)!),
      holds: [...this.#dirtyHolds].map((id) => this.#holds.get(id)!),
      operations: [...this.#newOperations],
    };
  }

  #replay(op: InventoryOperation): InventoryResult {
    const balances = [this.balance(op.subject, op.item)];
    if (op.counterparty !== null) balances.push(this.balance(op.counterparty, op.item));
    const hold = op.hold_id ? this.#holds.get(op.hold_id) : undefined;
    return { operation: op, balances, ...(hold ? { hold: { ...hold } } : {}) };
  }

  #execute(command: InventoryCommand, key: string, hash: string): InventoryResult {
    switch (command.kind) {
      case "inventory_acquire": {
        const q = checkQuantity(command.quantity);
        checkNames(command.subject, command.item);
        const b = adjust(this.balance(command.subject, command.item), "free", q);
        this.#setBalance(b);
        return {
          operation: this.#append(key, hash, "acquire", command.subject, null, command.item, q, null),
          balances: [b],
        };
      }
      case "inventory_consume": {
        const q = checkQuantity(command.quantity);
        checkNames(command.subject, command.item);
        const b = adjust(this.balance(command.subject, command.item), "free", -q);
        this.#setBalance(b);
        return {
          operation: this.#append(key, hash, "consume", command.subject, null, command.item, q, null),
          balances: [b],
        };
      }
      case "inventory_transfer": {
        const q = checkQuantity(command.quantity);
        checkNames(command.from, command.item);
        checkNames(command.to, command.item);
        if (command.from === command.to) throw invalid([{ path: "to", message: "Must differ from from" }]);
        const from = adjust(this.balance(command.from, command.item), "free", -q);
        const to = adjust(this.balance(command.to, command.item), "free", q);
        this.#setBalance(from);
        this.#setBalance(to);
        return {
          operation: this.#append(key, hash, "transfer", command.from, command.to, command.item, q, null),
          balances: [from, to],
        };
      }
      case "inventory_hold": {
        const q = checkQuantity(command.quantity);
        checkNames(command.subject, command.item);
        checkTtl(command.ttl_seconds);
        const b = adjust(adjust(this.balance(command.subject, command.item), "free", -q), "on_hold", q);
        this.#setBalance(b);
        const hold: InventoryHold = {
          id: newId("ihl"),
          subject: command.subject,
          item: command.item,
          quantity: q,
          status: "pending",
          idempotency_key: key,
          expires_at: new Date(this.now.getTime() + command.ttl_seconds * 1000),
          created_at: this.now,
          updated_at: this.now,
        };
        this.#setHold(hold);
        const operation = this.#append(key, hash, "hold", command.subject, null, command.item, q, hold.id);
        return { operation, balances: [b], hold: { ...hold } };
      }
      case "inventory_commit":
      case "inventory_release": {
        const hold = this.#holds.get(command.hold_id);
        if (!hold) throw notFound("hold", command.hold_id);
        if (
          hold.status === "expired" ||
          (hold.status === "pending" && hold.expires_at.getTime() <= this.now.getTime())
        ) {
          throw new BillingError(
            "hold_expired",
            "conflict",
            `Hold "${hold.id}" expired at ${hold.expires_at.toISOString()}; its quantity was released`,
          );
        }
        if (hold.status !== "pending") {
          throw new BillingError(
            "hold_not_pending",
            "conflict",
            `Hold "${hold.id}" is ${hold.status}, not pending`,
          );
        }
        const commit = command.kind === "inventory_commit";
        let b = adjust(this.balance(hold.subject, hold.item), "on_hold", -hold.quantity);
        if (!commit) b = adjust(b, "free", hold.quantity);
        this.#setBalance(b);
        const next: InventoryHold = {
          ...hold,
          status: commit ? "committed" : "released",
          updated_at: this.now,
        };
        this.#setHold(next);
        const operation = this.#append(
          key,
          hash,
          commit ? "commit" : "release",
          hold.subject,
          null,
          hold.item,
          hold.quantity,
          hold.id,
        );
        return { operation, balances: [b], hold: { ...next } };
      }
      case "inventory_sweep":
        return { balances: [], expired: this.expireDue() };
    }
  }

  #setBalance(b: InventoryBalance): void {
    this.#balances.set(pairKey(b.subject, b.item), b);
    this.#dirtyBalances.add(pairKey(b.subject, b.item));
  }

  #setHold(h: InventoryHold): void {
    this.#holds.set(h.id, h);
    this.#dirtyHolds.add(h.id);
  }

  #append(
    key: string,
    hash: string,
    kind: OperationKind,
    subject: string,
    counterparty: string | null,
    item: string,
    quantity: number,
    holdId: string | null,
  ): InventoryOperation {
    const op: InventoryOperation = {
      id: newId("iop"),
      seq: ++this.#seq,
      idempotency_key: key,
      payload_hash: hash,
      kind,
      subject,
      counterparty,
      item,
      quantity,
      hold_id: holdId,
      created_at: this.now,
    };
    this.#operations.set(key, op);
    this.#newOperations.push(op);
    return op;
  }
}

function checkNames(subject: string, item: string): void {
  const issues = [];
  if (subject.length < 1 || subject.length > 128) {
    issues.push({ path: "subject", message: "Must be 1 to 128 characters" });
  }
  if (item.length < 1 || item.length > 128) {
    issues.push({ path: "item", message: "Must be 1 to 128 characters" });
  }
  if (issues.length > 0) throw invalid(issues);
}

/**
 * Rebuilds balances from the journal, in `seq` order: acquire +free; consume −free; transfer
 * −free/+free; hold −free +on_hold; commit −on_hold; release and expire −on_hold +free.
 * Used by the simulation to prove the materialized balances equal the journal's fold.
 */
export function foldOperations(operations: readonly InventoryOperation[]): Map<string, InventoryBalance> {
  const out = new Map<string, InventoryBalance>();
  const get = (subject: string, item: string) => {
    const k = pairKey(subject, item);
    let b = out.get(k);
    if (!b) out.set(k, b = { subject, item, free: 0, on_hold: 0 });
    return b;
  };
  for (const op of [...operations].sort((a, b) => a.seq - b.seq)) {
    const b = get(op.subject, op.item);
    switch (op.kind) {
      case "acquire":
        b.free += op.quantity;
        break;
      case "consume":
        b.free -= op.quantity;
        break;
      case "transfer":
        b.free -= op.quantity;
        get(op.counterparty!, op.item).free += op.quantity;
        break;
      case "hold":
        b.free -= op.quantity;
        b.on_hold += op.quantity;
        break;
      case "commit":
        b.on_hold -= op.quantity;
        break;
      case "release":
      case "expire":
        b.on_hold -= op.quantity;
        b.free += op.quantity;
        break;
    }
  }
  return out;
}

/** Pairs a batch touches: (subject, item) of mutations, and hold ids. */
export function inventoryTouch(
  commands: readonly InventoryCommand[],
): { pairs: { subject: string; item: string }[]; holdIds: Set<string>; keys: Set<string> } {
  const pairs: { subject: string; item: string }[] = [];
  const holdIds = new Set<string>();
  const keys = new Set<string>();
  for (const c of commands) {
    const key = inventoryKey(c);
    if (key !== null) keys.add(key);
    switch (c.kind) {
      case "inventory_transfer":
        pairs.push({ subject: c.from, item: c.item }, { subject: c.to, item: c.item });
        break;
      case "inventory_commit":
      case "inventory_release":
        holdIds.add(c.hold_id);
        break;
      case "inventory_sweep":
        break;
      default:
        pairs.push({ subject: c.subject, item: c.item });
    }
  }
  return { pairs, holdIds, keys };
}
