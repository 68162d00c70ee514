/**
 * The simulation's reference model: a deliberately simple, independent re-statement of the
 * ledger and inventory rules (net debits − credits per account, a list of holds, a map of
 * accepted keys). It shares no code with `src/domain/ledger_book.ts`; the simulation compares
 * every reply of the real writer with what this model predicts.
 *
 * Accounts are named (`USD:wallet:w1`); the simulation maps ids to names.
 *
 * @module
 */

/** An account of the model. */
export interface ModelAccount {
  name: string;
  currency: string;
  normal: "debit" | "credit";
  /** debits_must_not_exceed_credits */
  flagD: boolean;
  /** credits_must_not_exceed_debits */
  flagC: boolean;
}

/** A hold of the model. */
export interface ModelHold {
  key: string;
  id: string | null;
  source: string;
  dest: string;
  amount: number;
  currency: string;
  status: "pending" | "captured" | "voided" | "expired";
  captured: number | null;
  expiresAt: number;
}

/** A posting by account name. */
export type ModelPosting = [name: string, amount: number, currency: string];

/** A command as the simulation generates it (names instead of ids; resolved by the simulation). */
export type SimCommand =
  | { kind: "post_entry"; key: string; postings: ModelPosting[]; unknownAccount?: boolean }
  | { kind: "reverse_entry"; key: string; entryKey: string }
  | {
    kind: "create_hold";
    key: string;
    source: string;
    dest: string | null;
    amount: number;
    currency: string;
    ttl: number;
  }
  | { kind: "capture_hold"; holdKey: string; amount?: number; key?: string }
  | { kind: "void_hold"; holdKey: string; key?: string }
  | { kind: "record_payment"; id: string; amount: number; currency: string; customer: string; fees: number }
  | { kind: "record_refund"; id: string; amount: number; currency: string; customer: string }
  | { kind: "record_payout"; id: string; amount: number; currency: string; merchant: string }
  | { kind: "record_dispute"; id: string; amount: number; currency: string; customer: string }
  | {
    kind: "inventory_acquire" | "inventory_consume";
    key: string;
    subject: string;
    item: string;
    quantity: number;
  }
  | { kind: "inventory_transfer"; key: string; from: string; to: string; item: string; quantity: number }
  | { kind: "inventory_hold"; key: string; subject: string; item: string; quantity: number; ttl: number }
  | { kind: "inventory_commit" | "inventory_release"; holdKey: string; key?: string };

/** What the model expects of an accepted command. */
export interface Expected {
  replayed: boolean;
  /** Key of the entry (posted now or replayed). */
  entryKey?: string;
  postings?: ModelPosting[];
  holdKey?: string;
  holdStatus?: ModelHold["status"];
  capturedAmount?: number | null;
  /** Inventory balances returned, as [subject, item, free, on_hold]. */
  balances?: [string, string, number, number][];
  invHoldKey?: string;
  invHoldStatus?: string;
}

/** The model's prediction for one command. */
export type Prediction = { ok: true; expect: Expected } | { ok: false; code: string };

class Reject extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

interface InvHold {
  key: string;
  id: string | null;
  subject: string;
  item: string;
  quantity: number;
  status: "pending" | "committed" | "released" | "expired";
  expiresAt: number;
}

/** Natural key of a command (the same rule as the service documents). */
export function keyOf(c: SimCommand, holdIdOf: (holdKey: string) => string): string {
  switch (c.kind) {
    case "capture_hold":
      return c.key ?? `${holdIdOf(c.holdKey)}:capture`;
    case "void_hold":
      return c.key ?? `${holdIdOf(c.holdKey)}:void`;
    case "inventory_commit":
      return c.key ?? `${holdIdOf(c.holdKey)}:commit`;
    case "inventory_release":
      return c.key ?? `${holdIdOf(c.holdKey)}:release`;
    case "record_payment":
      return `payment:${c.id}`;
    case "record_refund":
      return `refund:${c.id}`;
    case "record_payout":
      return `payout:${c.id}`;
    case "record_dispute":
      return `dispute:${c.id}`;
    default:
      return c.key;
  }
}

/** The reference model of one scope. */
export class Model {
  readonly accounts = new Map<string, ModelAccount>();
  readonly net = new Map<string, number>();
  readonly holds = new Map<string, ModelHold>();
  readonly entries = new Map<string, { postings: ModelPosting[]; reversed: boolean }>();
  /** Accepted keys → payload JSON and what a replay returns. */
  readonly accepted = new Map<string, { payload: string; entryKey?: string; holdKey?: string }>();
  readonly free = new Map<string, number>();
  readonly onHold = new Map<string, number>();
  readonly invHolds = new Map<string, InvHold>();
  readonly invAccepted = new Map<
    string,
    { payload: string; subject: string; counterparty: string | null; item: string; holdKey?: string }
  >();
  now = 0;

  addAccount(a: ModelAccount): void {
    this.accounts.set(a.name, a);
  }

  /** Pending debits and credits of an account, derived from the pending holds. */
  pending(name: string): { debits: number; credits: number; held: number } {
    let debits = 0, credits = 0, held = 0;
    for (const h of this.holds.values()) {
      if (h.status !== "pending") continue;
      const sourceNormal = this.accounts.get(h.source)!.normal;
      if (h.source === name) {
        held += h.amount;
        if (sourceNormal === "credit") debits += h.amount;
        else credits += h.amount;
      }
      if (h.dest === name) {
        if (sourceNormal === "debit") debits += h.amount;
        else credits += h.amount;
      }
    }
    return { debits, credits, held };
  }

  #constraintOk(name: string, net: number, virtual: ModelAccount[] = []): boolean {
    const a = this.accounts.get(name) ?? virtual.find((v) => v.name === name)!;
    const p = this.pending(name);
    if (a.flagD && p.debits > -net) return false;
    if (a.flagC && p.credits > net) return false;
    return true;
  }

  /** Expires every pending ledger hold due now. */
  expireLedger(): void {
    for (const h of this.holds.values()) {
      if (h.status === "pending" && h.expiresAt <= this.now) h.status = "expired";
    }
  }

  /** Expires every pending inventory hold due now. */
  expireInventory(): void {
    for (const h of this.invHolds.values()) {
      if (h.status === "pending" && h.expiresAt <= this.now) {
        h.status = "expired";
        this.#add(this.onHold, h.subject, h.item, -h.quantity);
        this.#add(this.free, h.subject, h.item, h.quantity);
      }
    }
  }

  /** Whether a pending ledger hold is due. */
  ledgerDue(): boolean {
    return [...this.holds.values()].some((h) => h.status === "pending" && h.expiresAt <= this.now);
  }

  /** Whether a pending inventory hold of the subject (and item) is due. */
  inventoryDue(subject?: string, item?: string): boolean {
    return [...this.invHolds.values()].some((h) =>
      h.status === "pending" && h.expiresAt <= this.now && (subject === undefined || h.subject === subject) &&
      (item === undefined || h.item === item)
    );
  }

  #add(map: Map<string, number>, subject: string, item: string, delta: number): void {
    const k = `${subject}|${item}`;
    map.set(k, (map.get(k) ?? 0) + delta);
  }

  invBalance(subject: string, item: string): [string, string, number, number] {
    const k = `${subject}|${item}`;
    return [subject, item, this.free.get(k) ?? 0, this.onHold.get(k) ?? 0];
  }

  /**
   * Predicts and applies a command (a rejection changes nothing).
   *
   * @param key the command's idempotency key
   * @param payload canonical JSON of what makes two deliveries "the same"
   */
  apply(c: SimCommand, key: string, payload: string): Prediction {
    try {
      if (c.kind.startsWith("inventory_")) return { ok: true, expect: this.#inventory(c, key, payload) };
      const prior = this.accepted.get(key);
      if (prior) {
        if (prior.payload !== payload) throw new Reject("idempotency_key_reused");
        const expect: Expected = { replayed: true };
        if (prior.entryKey) {
          expect.entryKey = prior.entryKey;
          expect.postings = this.entries.get(prior.entryKey)!.postings;
        }
        if (prior.holdKey) {
          const h = this.holds.get(prior.holdKey)!;
          Object.assign(expect, { holdKey: h.key, holdStatus: h.status, capturedAmount: h.captured });
        }
        return { ok: true, expect };
      }
      return { ok: true, expect: this.#ledger(c, key, payload) };
    } catch (error) {
      if (error instanceof Reject) return { ok: false, code: error.code };
      throw error;
    }
  }

  /** Posts an entry; `virtual` accounts (chart accounts an operation creates) exist only if it is accepted. */
  #post(
    key: string,
    payload: string,
    postings: ModelPosting[],
    extra: { holdKey?: string } = {},
    virtual: ModelAccount[] = [],
  ): Expected {
    const totals = new Map<string, number>();
    for (const [, amount, currency] of postings) totals.set(currency, (totals.get(currency) ?? 0) + amount);
    if ([...totals.values()].some((t) => t !== 0)) throw new Reject("postings_not_balanced");
    for (const [name, , currency] of postings) {
      const a = this.accounts.get(name) ?? virtual.find((v) => v.name === name);
      if (!a) throw new Reject("account_not_found");
      if (a.currency !== currency) throw new Reject("currency_mismatch");
    }
    const next = new Map<string, number>();
    for (const [name, amount] of postings) {
      next.set(name, (next.get(name) ?? this.net.get(name) ?? 0) + amount);
    }
    for (const [name, net] of next) {
      if (!this.#constraintOk(name, net, virtual)) throw new Reject("insufficient_balance");
    }
    for (const v of virtual) if (!this.accounts.has(v.name)) this.addAccount(v);
    for (const [name, net] of next) this.net.set(name, net);
    this.entries.set(key, { postings, reversed: false });
    this.accepted.set(key, { payload, entryKey: key, ...extra });
    return { replayed: false, entryKey: key, postings };
  }

  #ledger(c: SimCommand, key: string, payload: string): Expected {
    switch (c.kind) {
      case "post_entry":
        if (c.unknownAccount) throw new Reject("account_not_found");
        return this.#post(key, payload, c.postings);
      case "reverse_entry": {
        const original = this.entries.get(c.entryKey);
        if (!original) throw new Reject("entry_not_found");
        if (original.reversed) throw new Reject("entry_already_reversed");
        const expect = this.#post(key, payload, original.postings.map(([n, a, cur]) => [n, -a, cur]));
        original.reversed = true;
        return expect;
      }
      case "create_hold": {
        if (c.amount <= 0) throw new Reject("invalid_amount");
        const source = this.accounts.get(c.source)!;
        const dest = c.dest ?? `${c.currency}:hold_captures`;
        const virtual: ModelAccount[] = this.accounts.has(dest)
          ? []
          : [{ name: dest, currency: c.currency, normal: "credit", flagD: false, flagC: false }];
        const net = this.net.get(c.source) ?? 0;
        const posted = source.normal === "debit" ? net : -net;
        if (posted - this.pending(c.source).held < c.amount) throw new Reject("insufficient_balance");
        const hold: ModelHold = {
          key,
          id: null,
          source: c.source,
          dest,
          amount: c.amount,
          currency: c.currency,
          status: "pending",
          captured: null,
          expiresAt: this.now + c.ttl * 1000,
        };
        this.holds.set(key, hold);
        if (
          !this.#constraintOk(c.source, net) || !this.#constraintOk(dest, this.net.get(dest) ?? 0, virtual)
        ) {
          this.holds.delete(key);
          throw new Reject("insufficient_balance");
        }
        for (const v of virtual) this.addAccount(v);
        this.accepted.set(key, { payload, holdKey: key });
        return { replayed: false, holdKey: key, holdStatus: "pending", capturedAmount: null };
      }
      case "capture_hold":
      case "void_hold": {
        const hold = this.holds.get(c.holdKey);
        if (!hold) throw new Reject("hold_not_found");
        if (hold.status === "expired") throw new Reject("hold_expired");
        if (hold.status !== "pending") throw new Reject("hold_not_pending");
        if (c.kind === "void_hold") {
          hold.status = "voided";
          this.accepted.set(key, { payload, holdKey: hold.key });
          return { replayed: false, holdKey: hold.key, holdStatus: "voided", capturedAmount: null };
        }
        const amount = c.amount ?? hold.amount;
        if (amount <= 0) throw new Reject("invalid_amount");
        if (amount > hold.amount) throw new Reject("capture_exceeds_hold");
        const sourceNormal = this.accounts.get(hold.source)!.normal;
        const postings: ModelPosting[] = sourceNormal === "credit"
          ? [[hold.source, amount, hold.currency], [hold.dest, -amount, hold.currency]]
          : [[hold.source, -amount, hold.currency], [hold.dest, amount, hold.currency]];
        hold.status = "captured";
        hold.captured = amount;
        try {
          const expect = this.#post(key, payload, postings, { holdKey: hold.key });
          return { ...expect, holdKey: hold.key, holdStatus: "captured", capturedAmount: amount };
        } catch (error) {
          hold.status = "pending";
          hold.captured = null;
          throw error;
        }
      }
      case "record_payment": {
        if (c.fees > c.amount) throw new Reject("fees_exceed_amount");
        const postings: ModelPosting[] = [[`${c.currency}:cash`, c.amount, c.currency]];
        if (c.amount - c.fees > 0) {
          postings.push([`${c.currency}:customer_balance:${c.customer}`, -(c.amount - c.fees), c.currency]);
        }
        if (c.fees > 0) postings.push([`${c.currency}:platform_fees`, -c.fees, c.currency]);
        return this.#post(key, payload, postings, {}, this.#chart(postings, c.currency));
      }
      case "record_refund": {
        const postings: ModelPosting[] = [[
          `${c.currency}:customer_balance:${c.customer}`,
          c.amount,
          c.currency,
        ], [`${c.currency}:cash`, -c.amount, c.currency]];
        return this.#post(key, payload, postings, {}, this.#chart(postings, c.currency));
      }
      case "record_payout": {
        const postings: ModelPosting[] = [[
          `${c.currency}:merchant_settlement:${c.merchant}`,
          c.amount,
          c.currency,
        ], [`${c.currency}:cash`, -c.amount, c.currency]];
        return this.#post(key, payload, postings, {}, this.#chart(postings, c.currency));
      }
      case "record_dispute": {
        const postings: ModelPosting[] = [[`${c.currency}:disputes_held`, c.amount, c.currency], [
          `${c.currency}:cash`,
          -c.amount,
          c.currency,
        ]];
        return this.#post(key, payload, postings, {}, this.#chart(postings, c.currency));
      }
      default:
        throw new Error(`model: unexpected ${c.kind}`);
    }
  }

  /** Chart accounts an operation's postings need and that do not exist yet (created only if it is accepted). */
  #chart(postings: ModelPosting[], currency: string): ModelAccount[] {
    const out: ModelAccount[] = [];
    for (const [name] of postings) {
      if (this.accounts.has(name)) continue;
      const bare = name.slice(currency.length + 1);
      const normal =
        bare.startsWith("customer_balance:") || bare === "platform_fees" || bare === "hold_captures"
          ? "credit"
          : "debit";
      out.push({ name, currency, normal, flagD: bare.startsWith("customer_balance:"), flagC: false });
    }
    return out;
  }

  #inventory(c: SimCommand, key: string, payload: string): Expected {
    const prior = this.invAccepted.get(key);
    if (prior) {
      if (prior.payload !== payload) throw new Reject("idempotency_key_reused");
      const balances = [this.invBalance(prior.subject, prior.item)];
      if (prior.counterparty) balances.push(this.invBalance(prior.counterparty, prior.item));
      const h = prior.holdKey ? this.invHolds.get(prior.holdKey)! : undefined;
      return { replayed: true, balances, invHoldKey: h?.key, invHoldStatus: h?.status };
    }
    const free = (s: string, i: string) => this.free.get(`${s}|${i}`) ?? 0;
    switch (c.kind) {
      case "inventory_acquire":
      case "inventory_consume": {
        if (!Number.isSafeInteger(c.quantity) || c.quantity <= 0) throw new Reject("invalid_quantity");
        if (c.kind === "inventory_consume" && free(c.subject, c.item) < c.quantity) {
          throw new Reject("insufficient_quantity");
        }
        this.#add(this.free, c.subject, c.item, c.kind === "inventory_acquire" ? c.quantity : -c.quantity);
        this.invAccepted.set(key, { payload, subject: c.subject, counterparty: null, item: c.item });
        return { replayed: false, balances: [this.invBalance(c.subject, c.item)] };
      }
      case "inventory_transfer": {
        if (!Number.isSafeInteger(c.quantity) || c.quantity <= 0) throw new Reject("invalid_quantity");
        if (free(c.from, c.item) < c.quantity) throw new Reject("insufficient_quantity");
        this.#add(this.free, c.from, c.item, -c.quantity);
        this.#add(this.free, c.to, c.item, c.quantity);
        this.invAccepted.set(key, { payload, subject: c.from, counterparty: c.to, item: c.item });
        return {
          replayed: false,
          balances: [this.invBalance(c.from, c.item), this.invBalance(c.to, c.item)],
        };
      }
      case "inventory_hold": {
        if (!Number.isSafeInteger(c.quantity) || c.quantity <= 0) throw new Reject("invalid_quantity");
        if (free(c.subject, c.item) < c.quantity) throw new Reject("insufficient_quantity");
        this.#add(this.free, c.subject, c.item, -c.quantity);
        this.#add(this.onHold, c.subject, c.item, c.quantity);
        this.invHolds.set(key, {
          key,
          id: null,
          subject: c.subject,
          item: c.item,
          quantity: c.quantity,
          status: "pending",
          expiresAt: this.now + c.ttl * 1000,
        });
        this.invAccepted.set(key, {
          payload,
          subject: c.subject,
          counterparty: null,
          item: c.item,
          holdKey: key,
        });
        return {
          replayed: false,
          balances: [this.invBalance(c.subject, c.item)],
          invHoldKey: key,
          invHoldStatus: "pending",
        };
      }
      case "inventory_commit":
      case "inventory_release": {
        const h = this.invHolds.get(c.holdKey);
        if (!h) throw new Reject("hold_not_found");
        if (h.status === "expired") throw new Reject("hold_expired");
        if (h.status !== "pending") throw new Reject("hold_not_pending");
        this.#add(this.onHold, h.subject, h.item, -h.quantity);
        if (c.kind === "inventory_release") this.#add(this.free, h.subject, h.item, h.quantity);
        h.status = c.kind === "inventory_commit" ? "committed" : "released";
        this.invAccepted.set(key, {
          payload,
          subject: h.subject,
          counterparty: null,
          item: h.item,
          holdKey: h.key,
        });
        return {
          replayed: false,
          balances: [this.invBalance(h.subject, h.item)],
          invHoldKey: h.key,
          invHoldStatus: h.status,
        };
      }
      default:
        throw new Error(`model: unexpected ${c.kind}`);
    }
  }
}
