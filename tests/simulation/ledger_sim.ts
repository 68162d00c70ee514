/**
 * Deterministic simulation of the ledger and inventory writer (TigerBeetle VOPR style).
 *
 * One seed drives everything: a seeded PRNG (pure-rand xoroshiro128+) picks random commands,
 * delivers some twice and retried ones out of order, advances a virtual clock, and injects
 * faults at the storage adapter ({@link FaultyStore}): a batch that fails before its commit, a
 * batch that commits and then loses its acknowledgement, the database reopened between rounds,
 * the writer replaced (a process restart). Every command goes through the real
 * `InProcessWriter` into a real libSQL file. Every unacknowledged command is retried with the
 * same idempotency key until it is acknowledged.
 *
 * After every round the simulation checks the invariants of issue 3 directly in SQL (entries sum
 * to zero per currency, balances of a currency sum to zero, constraints hold, held = Σ pending
 * holds, hold transitions, one entry per key, balances rebuilt from postings and holds, inventory
 * on-hold = Σ pending holds and free ≥ 0, inventory journal fold = balances) and compares the
 * whole state and every reply with an independent model (`model.ts`). A rejected command run
 * alone must leave the database byte-identical. A failure throws with the seed and the last rounds.
 *
 * @module
 */
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { BillingError } from "../../src/domain/errors.ts";
import { canonicalJson } from "../../src/domain/hash.ts";
import type { Command } from "../../src/ledger/batch.ts";
import { getBalance, sweepAllScopes } from "../../src/ledger/service.ts";
import { getInventoryBalance } from "../../src/inventory/service.ts";
import type { Ctx } from "../../src/context.ts";
import type { Scope } from "../../src/domain/scope.ts";
import { InProcessWriter } from "../../src/ledger/writer.ts";
import { type Database, openDatabase, type Store, type Tx } from "../../src/storage/db.ts";
import { isPostgresUrl, openPostgres, type PostgresStore } from "../../src/storage/postgres.ts";
import { freshPostgresDatabase } from "../pg_helpers.ts";
import { keyOf, Model, type ModelPosting, type Prediction, type SimCommand } from "./model.ts";

/** Faults the storage adapter can inject into one write. */
export type Fault = "none" | "fail_before_commit" | "lost_ack";

/**
 * A `Store` over a real libSQL (or PostgreSQL) database that injects faults: before the commit (the transaction
 * body ran, then the commit never happens) or after it (committed, acknowledgement lost).
 */
export class FaultyStore implements Store {
  database: Database | PostgresStore;
  readonly url: string;
  /** Decides the fault of each write; `enabled` false forces "none". */
  decide: () => Fault;
  enabled = true;
  readonly log: Fault[] = [];

  constructor(database: Database | PostgresStore, url: string, decide: () => Fault) {
    this.database = database;
    this.url = url;
    this.decide = decide;
  }

  get db() {
    return this.database.db;
  }

  get limits() {
    return this.database.limits;
  }

  async write<T>(fn: (tx: Tx) => Promise<T>, scope?: Scope): Promise<T> {
    const fault = this.enabled ? this.decide() : "none";
    this.log.push(fault);
    if (fault === "fail_before_commit") {
      return await this.database.write(async (tx) => {
        await fn(tx);
        throw new BillingError(
          "storage_unavailable",
          "unavailable",
          "Injected fault: the transaction failed before its commit",
        );
      }, scope);
    }
    const result = await this.database.write(fn, scope);
    if (fault === "lost_ack") {
      throw new BillingError(
        "storage_unavailable",
        "unavailable",
        "Injected fault: committed, acknowledgement lost",
      );
    }
    return result;
  }

  /** Closes the client and opens the same file again (a crash between two rounds). */
  async reopen(): Promise<void> {
    await this.database.close();
    this.database = isPostgresUrl(this.url)
      ? await openPostgres({ url: this.url, migrate: false, poolMax: 4 })
      : await openDatabase({ url: this.url, migrate: false });
  }

  /** Rows of a raw SQL query (written to run on both SQLite and PostgreSQL). */
  async query(text: string): Promise<Record<string, unknown>[]> {
    if ("sql" in this.database) return [...await this.database.sql.unsafe(text)];
    return (await this.database.client.execute(text)).rows as unknown as Record<string, unknown>[];
  }
}

/** Options of {@link simulate}. */
export interface SimOptions {
  seed: number;
  rounds: number;
  /** Probability that a write gets a fault (default 0.12). */
  faultRate?: number;
  /** Print a line per round. */
  verbose?: boolean;
  /** `postgres`: run on a fresh PostgreSQL database instead of a libSQL file. */
  store?: "libsql" | "postgres";
}

/** Counters of one run. */
export interface SimReport {
  seed: number;
  rounds: number;
  commands: number;
  accepted: number;
  rejected: number;
  replayed: number;
  failedBeforeCommit: number;
  lostAcks: number;
  reopens: number;
  restarts: number;
  byteIdenticalChecks: number;
  maxBatchSize: number;
}

/** A failed simulation: carries the seed and the last rounds for the report. */
export class SimulationFailure extends Error {
  override name = "SimulationFailure";
}

interface Item {
  sim: SimCommand;
  attempt: number;
}

/** The parts of a writer reply the simulation compares (ledger and inventory results). */
interface SimReply {
  entry?: {
    id: string;
    idempotency_key: string;
    postings: { account_id: string; amount: number; currency: string }[];
  };
  hold?: {
    id: string;
    idempotency_key: string;
    status: string;
    captured_amount?: number | null;
    expires_at: Date | string;
    destination_account_id?: string;
  };
  balances?: { subject: string; item: string; free: number; on_hold: number }[];
}

const SCOPE: Scope = { tenantId: "ten_sim", appId: "app_sim" };

/** Runs one seed. @throws {SimulationFailure} on the first broken invariant or mismatch */
export async function simulate(options: SimOptions): Promise<SimReport> {
  const rng = xoroshiro128plus(options.seed);
  const int = (from: number, to: number) => uniformInt(rng, from, to);
  const chance = (p: number) => int(0, 9_999) < p * 10_000;
  const pick = <T>(values: readonly T[]): T => values[int(0, values.length - 1)];
  const faultRate = options.faultRate ?? 0.12;

  const dir = await Deno.makeTempDir({ prefix: "ledger-sim-" });
  const pg = options.store === "postgres" ? await freshPostgresDatabase("sim") : null;
  const url = pg ? pg.url : `file:${dir}/sim.db`;
  const opened = pg ? await openPostgres({ url, poolMax: 4 }) : await openDatabase({ url });
  const store = new FaultyStore(opened, url, () => {
    if (!chance(faultRate)) return "none";
    return chance(0.5) ? "fail_before_commit" : "lost_ack";
  });
  let now = Date.parse("2026-03-01T00:00:00Z");
  const clock = { now: () => new Date(now) };
  const maxBatchSize = int(1, 8);
  let writer = new InProcessWriter({ storage: store, clock, maxBatchSize });
  const ctx = () =>
    ({ database: store, clock, scope: SCOPE, ledgerWriter: writer, log: () => {} }) as unknown as Ctx;
  const model = new Model();
  const holdStatuses = new Map<string, string>();
  const report: SimReport = {
    seed: options.seed,
    rounds: options.rounds,
    commands: 0,
    accepted: 0,
    rejected: 0,
    replayed: 0,
    failedBeforeCommit: 0,
    lostAcks: 0,
    reopens: 0,
    restarts: 0,
    byteIdenticalChecks: 0,
    maxBatchSize,
  };
  const history: string[] = [];
  const note = (line: string) => {
    history.push(line);
    if (history.length > 40) history.shift();
    if (options.verbose) console.log(line);
  };
  const fail: (message: string) => never = (message) => {
    throw new SimulationFailure(
      `Simulation failed (seed ${options.seed}, replay with: deno task sim:sweep --seed ${options.seed} --rounds ${options.rounds}): ${message}\n` +
        `Last rounds:\n  ${history.join("\n  ")}`,
    );
  };

  // ---- chart: pre-created accounts (the EUR chart accounts are created by the operations) ----
  const idOf = new Map<string, string>();
  const nameOfId = new Map<string, string>();
  store.enabled = false;
  const chart: [string, string, "asset" | "liability" | "revenue", { d?: boolean; c?: boolean }][] = [
    ["USD", "cash", "asset", {}],
    ["USD", "revenue", "revenue", {}],
    ["USD", "wallet:w1", "liability", { d: true }],
    ["USD", "wallet:w2", "liability", { d: true }],
    ["USD", "wallet:w3", "liability", { d: true }],
    ["USD", "reserve", "asset", { c: true }],
    ["EUR", "cash", "asset", {}],
    ["EUR", "wallet:w1", "liability", { d: true }],
    ["EUR", "revenue", "revenue", {}],
  ];
  for (const [currency, name, type, flags] of chart) {
    const { value } = await writer.submit(SCOPE, {
      kind: "ensure_account",
      name,
      type,
      currency,
      debits_must_not_exceed_credits: flags.d ?? false,
      credits_must_not_exceed_debits: flags.c ?? false,
    });
    const full = `${currency}:${name}`;
    idOf.set(full, value.account!.id);
    nameOfId.set(value.account!.id, full);
    model.addAccount({
      name: full,
      currency,
      normal: type === "asset" ? "debit" : "credit",
      flagD: flags.d ?? false,
      flagC: flags.c ?? false,
    });
  }
  store.log.length = 0;
  store.enabled = true;
  model.now = now;

  // ---- command generation ----
  let counter = 0;
  const fresh = (prefix: string) => `${prefix}${++counter}`;
  const postable = (currency: string) => [...idOf.keys()].filter((n) => n.startsWith(`${currency}:`));
  const holdIdOf = (holdKey: string) =>
    model.holds.get(holdKey)?.id ?? model.invHolds.get(holdKey)?.id ?? fail(`no id for hold ${holdKey}`);
  const subjects = ["s1", "s2", "s3"];
  const itemsInv = ["gem", "seat"];

  const generate = (): SimCommand => {
    const roll = int(0, 99);
    const currency = chance(0.8) ? "USD" : "EUR";
    if (roll < 28) {
      const accounts = postable(currency);
      const legs = int(2, 3);
      const chosen: string[] = [];
      while (chosen.length < legs) {
        const a = pick(accounts);
        if (!chosen.includes(a)) chosen.push(a);
      }
      const rest = chosen.slice(1).map(() => int(1, 400) * (chance(0.5) ? 1 : -1));
      if (rest.reduce((sum, a) => sum + a, 0) === 0) rest[0] += rest[0] > 0 ? 1 : -1;
      const first = -rest.reduce((sum, a) => sum + a, 0);
      const postings: ModelPosting[] = [
        [chosen[0], first, currency],
        ...chosen.slice(1).map((n, i): ModelPosting => [n, rest[i], currency]),
      ];
      const defect = int(0, 99);
      if (defect < 4) postings[0][1] += postings[0][1] > 0 ? 1 : -1; // unbalanced
      else if (defect < 7) { for (const p of postings) p[2] = currency === "USD" ? "EUR" : "USD"; // currency mismatch
       } else if (defect < 9) return { kind: "post_entry", key: fresh("e"), postings, unknownAccount: true };
      else if (defect < 13 && model.entries.size > 0) {
        return { kind: "post_entry", key: pick([...model.entries.keys()]), postings }; // reuse
      }
      return { kind: "post_entry", key: fresh("e"), postings };
    }
    const reversible = [...model.entries.keys()].filter((k) => entryIdOf.has(k));
    if (roll < 33 && reversible.length > 0) {
      return { kind: "reverse_entry", key: fresh("r"), entryKey: pick(reversible) };
    }
    if (roll < 47) {
      const source = currency === "USD"
        ? pick(["USD:wallet:w1", "USD:wallet:w2", "USD:wallet:w3", "USD:reserve"])
        : "EUR:wallet:w1";
      const dest = currency === "USD"
        ? pick(["USD:revenue", "USD:cash"])
        : (chance(0.5) ? null : "EUR:revenue");
      return {
        kind: "create_hold",
        key: fresh("h"),
        source,
        dest,
        amount: int(1, 600),
        currency,
        ttl: int(5, 120),
      };
    }
    const knownHolds = [...model.holds.values()].filter((h) => h.id !== null);
    if (roll < 55 && knownHolds.length > 0) {
      const h = pick(knownHolds);
      const amount = chance(0.4) ? undefined : chance(0.1) ? h.amount + int(1, 50) : int(1, h.amount);
      return { kind: "capture_hold", holdKey: h.key, amount, ...(chance(0.3) ? { key: fresh("cap") } : {}) };
    }
    if (roll < 59 && knownHolds.length > 0) {
      return {
        kind: "void_hold",
        holdKey: pick(knownHolds).key,
        ...(chance(0.3) ? { key: fresh("void") } : {}),
      };
    }
    if (roll < 65) {
      const amount = int(100, 1500);
      return {
        kind: "record_payment",
        id: chance(0.15) && counter > 0 ? `pi${int(1, counter)}` : fresh("pi"),
        amount,
        currency,
        customer: pick(["c1", "c2"]),
        fees: chance(0.05) ? amount + 1 : int(0, Math.floor(amount / 10)),
      };
    }
    if (roll < 69) {
      return {
        kind: "record_refund",
        id: fresh("re"),
        amount: int(1, 900),
        currency,
        customer: pick(["c1", "c2"]),
      };
    }
    if (roll < 71) {
      return {
        kind: "record_payout",
        id: fresh("po"),
        amount: int(1, 300),
        currency,
        merchant: pick(["m1", "m2"]),
      };
    }
    if (roll < 73) {
      return {
        kind: "record_dispute",
        id: fresh("dp"),
        amount: int(1, 200),
        currency,
        customer: pick(["c1", "c2"]),
      };
    }
    // inventory
    const subject = pick(subjects);
    const item = pick(itemsInv);
    const quantity = chance(0.04) ? pick([0, -3]) : int(1, 15);
    const r = int(0, 99);
    if (r < 30) return { kind: "inventory_acquire", key: fresh("ia"), subject, item, quantity };
    if (r < 50) return { kind: "inventory_consume", key: fresh("ic"), subject, item, quantity };
    if (r < 65) {
      return {
        kind: "inventory_transfer",
        key: fresh("it"),
        from: subject,
        to: pick(subjects.filter((s) => s !== subject)),
        item,
        quantity,
      };
    }
    if (r < 82) return { kind: "inventory_hold", key: fresh("ih"), subject, item, quantity, ttl: int(5, 60) };
    const knownInv = [...model.invHolds.values()].filter((h) => h.id !== null);
    if (knownInv.length === 0) {
      return { kind: "inventory_acquire", key: fresh("ia"), subject, item, quantity: int(1, 15) };
    }
    return {
      kind: r < 92 ? "inventory_commit" : "inventory_release",
      holdKey: pick(knownInv).key,
      ...(chance(0.3) ? { key: fresh("ik") } : {}),
    };
  };

  /** The real command for a simulated one (ids resolved now). */
  const resolve = (c: SimCommand): Command => {
    switch (c.kind) {
      case "post_entry": {
        const postings = c.postings.map(([name, amount, currency]) => ({
          account_id: idOf.get(name)!,
          amount,
          currency,
        }));
        if (c.unknownAccount) postings[0].account_id = "acc_01jd0000000000000000000000";
        return { kind: "post_entry", idempotency_key: c.key, postings };
      }
      case "reverse_entry": {
        const id = entryIdOf.get(c.entryKey);
        return {
          kind: "reverse_entry",
          idempotency_key: c.key,
          entry_id: id ?? "ent_01jd0000000000000000000000",
        };
      }
      case "create_hold":
        return {
          kind: "create_hold",
          idempotency_key: c.key,
          account_id: idOf.get(c.source)!,
          ...(c.dest ? { destination_account_id: idOf.get(c.dest)! } : {}),
          amount: c.amount,
          currency: c.currency,
          ttl_seconds: c.ttl,
        };
      case "capture_hold":
        return {
          kind: "capture_hold",
          hold_id: holdIdOf(c.holdKey),
          ...(c.amount !== undefined ? { amount: c.amount } : {}),
          ...(c.key ? { idempotency_key: c.key } : {}),
        };
      case "void_hold":
        return {
          kind: "void_hold",
          hold_id: holdIdOf(c.holdKey),
          ...(c.key ? { idempotency_key: c.key } : {}),
        };
      case "record_payment":
        return {
          kind: "record_payment",
          payment_intent_id: c.id,
          amount: c.amount,
          currency: c.currency,
          customer_id: c.customer,
          fees: c.fees,
        };
      case "record_refund":
        return {
          kind: "record_refund",
          refund_id: c.id,
          amount: c.amount,
          currency: c.currency,
          customer_id: c.customer,
        };
      case "record_payout":
        return {
          kind: "record_payout",
          payout_id: c.id,
          amount: c.amount,
          currency: c.currency,
          merchant_id: c.merchant,
        };
      case "record_dispute":
        return {
          kind: "record_dispute",
          dispute_id: c.id,
          amount: c.amount,
          currency: c.currency,
          customer_id: c.customer,
        };
      case "inventory_acquire":
      case "inventory_consume":
        return {
          kind: c.kind,
          idempotency_key: c.key,
          subject: c.subject,
          item: c.item,
          quantity: c.quantity,
        };
      case "inventory_transfer":
        return {
          kind: c.kind,
          idempotency_key: c.key,
          from: c.from,
          to: c.to,
          item: c.item,
          quantity: c.quantity,
        };
      case "inventory_hold":
        return {
          kind: c.kind,
          idempotency_key: c.key,
          subject: c.subject,
          item: c.item,
          quantity: c.quantity,
          ttl_seconds: c.ttl,
        };
      case "inventory_commit":
      case "inventory_release":
        return { kind: c.kind, hold_id: holdIdOf(c.holdKey), ...(c.key ? { idempotency_key: c.key } : {}) };
    }
  };
  const entryIdOf = new Map<string, string>();
  const payloadOf = (command: Command) => {
    const { idempotency_key: _k, ...rest } = command as Command & { idempotency_key?: string };
    return canonicalJson(rest);
  };
  const describe = (c: SimCommand) => canonicalJson(c).slice(0, 160);

  // ---- comparing a reply with the model's prediction ----
  const compare = (
    c: SimCommand,
    prediction: Prediction,
    outcome: PromiseSettledResult<{ value: unknown; replayed: boolean }>,
  ) => {
    if (!prediction.ok) {
      if (outcome.status === "fulfilled") {
        fail(
          `${describe(c)}: expected ${prediction.code}, got success ${
            canonicalJson(outcome.value).slice(0, 300)
          }`,
        );
      }
      const code = (outcome as PromiseRejectedResult).reason?.code;
      if (code !== prediction.code) {
        fail(
          `${describe(c)}: expected ${prediction.code}, got ${code} (${
            (outcome as PromiseRejectedResult).reason
          })`,
        );
      }
      report.rejected++;
      return;
    }
    if (outcome.status === "rejected") {
      fail(
        `${describe(c)}: expected success ${canonicalJson(prediction.expect)}, got ${
          outcome.reason?.code ?? outcome.reason
        }`,
      );
    }
    const { value, replayed } =
      (outcome as PromiseFulfilledResult<{ value: SimReply; replayed: boolean }>).value;
    const e = prediction.expect;
    report.accepted++;
    if (replayed) report.replayed++;
    if (replayed !== e.replayed) fail(`${describe(c)}: replayed ${replayed}, model says ${e.replayed}`);
    if (e.entryKey) {
      const entry = value.entry;
      if (!entry || entry.idempotency_key !== e.entryKey) {
        fail(`${describe(c)}: entry key ${entry?.idempotency_key}, expected ${e.entryKey}`);
      }
      const got = entry.postings.map((
        p: { account_id: string; amount: number; currency: string },
      ) => [nameOfId.get(p.account_id) ?? p.account_id, p.amount, p.currency]);
      if (canonicalJson(got) !== canonicalJson(e.postings)) {
        fail(`${describe(c)}: postings ${canonicalJson(got)}, expected ${canonicalJson(e.postings)}`);
      }
      const known = entryIdOf.get(e.entryKey);
      if (known && known !== entry.id) fail(`${describe(c)}: entry id changed on replay`);
      entryIdOf.set(e.entryKey, entry.id);
    }
    if (e.holdKey) {
      const hold = value.hold;
      if (
        !hold || hold.idempotency_key !== e.holdKey || hold.status !== e.holdStatus ||
        hold.captured_amount !== e.capturedAmount
      ) {
        fail(
          `${describe(c)}: hold ${
            canonicalJson(hold).slice(0, 300)
          }, expected ${e.holdKey} ${e.holdStatus} ${e.capturedAmount}`,
        );
      }
      const mh = model.holds.get(e.holdKey)!;
      if (mh.id && mh.id !== hold.id) fail(`${describe(c)}: hold id changed`);
      mh.id = hold.id;
      if (new Date(hold.expires_at).getTime() !== mh.expiresAt) {
        fail(`${describe(c)}: hold expires_at ${hold.expires_at}`);
      }
    }
    if (e.balances) {
      const got = (value.balances ?? []).map((b) => [b.subject, b.item, b.free, b.on_hold]);
      if (canonicalJson(got) !== canonicalJson(e.balances)) {
        fail(`${describe(c)}: balances ${canonicalJson(got)}, expected ${canonicalJson(e.balances)}`);
      }
    }
    if (e.invHoldKey) {
      const hold = value.hold;
      if (!hold || hold.idempotency_key !== e.invHoldKey || hold.status !== e.invHoldStatus) {
        fail(`${describe(c)}: inventory hold ${canonicalJson(hold)}`);
      }
      const mh = model.invHolds.get(e.invHoldKey)!;
      if (mh.id && mh.id !== hold.id) fail(`${describe(c)}: inventory hold id changed`);
      mh.id = hold.id;
    }
  };
  const refreshNames = async () => {
    const rs = { rows: await store.query("select id, name, currency from ledger_accounts") };
    for (const row of rs.rows) {
      const full = `${row.currency}:${row.name}`;
      nameOfId.set(String(row.id), full);
      idOf.set(full, String(row.id));
    }
  };

  // ---- running a round ----
  let retries: { item: Item; due: number }[] = [];
  const runRound = async (round: number, items: Item[], solo: boolean) => {
    const resolved = items.map((it) => resolve(it.sim));
    const keys = items.map((it) => keyOf(it.sim, holdIdOf));
    const payloads = resolved.map(payloadOf);
    const before = store.log.length;
    const settled = await Promise.allSettled(resolved.map((command) => writer.submit(SCOPE, command)));
    const faults = store.log.slice(before);
    const chunkCount = Math.ceil(items.length / maxBatchSize);
    if (faults.length !== chunkCount) {
      fail(`round ${round}: ${faults.length} writes for ${chunkCount} batches`);
    }
    const unknown = settled.some((o) => {
      if (o.status !== "fulfilled") return false;
      const v = o.value.value as {
        entry?: { postings: { account_id: string }[] };
        hold?: { destination_account_id?: string };
      };
      return (v.entry?.postings ?? []).some((p) => !nameOfId.has(p.account_id)) ||
        (v.hold?.destination_account_id !== undefined && !nameOfId.has(v.hold.destination_account_id));
    });
    if (unknown) await refreshNames();
    const failed: Item[] = [];
    for (let k = 0; k < chunkCount; k++) {
      const indexes = [...Array(items.length).keys()].slice(k * maxBatchSize, (k + 1) * maxBatchSize);
      const fault = faults[k];
      if (fault === "fail_before_commit") report.failedBeforeCommit++;
      if (fault === "lost_ack") report.lostAcks++;
      if (fault !== "fail_before_commit") {
        if (indexes.some((i) => !items[i].sim.kind.startsWith("inventory_"))) model.expireLedger();
        if (indexes.some((i) => items[i].sim.kind.startsWith("inventory_"))) model.expireInventory();
      }
      for (const i of indexes) {
        report.commands++;
        const outcome = settled[i];
        if (fault !== "none") {
          if (outcome.status !== "rejected" || outcome.reason?.code !== "storage_unavailable") {
            fail(`round ${round}: a faulty batch answered ${outcome.status}`);
          }
          if (fault === "lost_ack") model.apply(items[i].sim, keys[i], payloads[i]);
          failed.push({ sim: items[i].sim, attempt: items[i].attempt + 1 });
          continue;
        }
        const prediction = model.apply(items[i].sim, keys[i], payloads[i]);
        compare(items[i].sim, prediction, outcome);
        if (solo) report.byteIdenticalChecks += prediction.ok ? 0 : 1;
      }
      note(
        `round ${round} batch ${k} [${fault}] ${
          indexes.map((i) => `${items[i].sim.kind}:${keys[i]}`).join(" ")
        }`,
      );
    }
    if (failed.length > 0) await refreshNames(); // lost acknowledgements may have created accounts
    for (const item of failed) retries.push({ item, due: round + int(1, 3) });
  };

  for (let round = 1; round <= options.rounds; round++) {
    if (chance(0.6)) now += int(0, 20) * 1000;
    model.now = now;
    if (chance(0.02)) {
      await store.reopen();
      report.reopens++;
      note(`round ${round}: database reopened`);
    }
    if (chance(0.02)) {
      writer = new InProcessWriter({ storage: store, clock, maxBatchSize });
      report.restarts++;
      note(`round ${round}: writer restarted`);
    }
    if (chance(0.1)) {
      store.enabled = false;
      const which = int(0, 2);
      if (which === 0) {
        const due = { ledger: model.ledgerDue(), inventory: model.inventoryDue() };
        await sweepAllScopes(
          { database: store, clock, ledgerWriter: writer } as unknown as Omit<Ctx, "scope">,
        );
        if (due.ledger) model.expireLedger();
        if (due.inventory) model.expireInventory();
        note(`round ${round}: periodic sweep`);
      } else if (which === 1) {
        const name = pick(["USD:wallet:w1", "USD:reserve", "USD:revenue", "EUR:wallet:w1"]);
        const due = model.ledgerDue();
        const balance = await getBalance(ctx(), idOf.get(name)!);
        if (due) model.expireLedger();
        const account = model.accounts.get(name)!;
        const net = model.net.get(name) ?? 0;
        const posted = account.normal === "debit" ? net : -net;
        if (balance.posted !== posted || balance.held !== model.pending(name).held) {
          fail(
            `read of ${name}: posted ${balance.posted} held ${balance.held}, model ${posted} ${
              model.pending(name).held
            }`,
          );
        }
        note(`round ${round}: read ${name}`);
      } else {
        const subject = pick(subjects);
        const item = pick(itemsInv);
        const due = model.inventoryDue(subject, item);
        const balance = await getInventoryBalance(ctx(), subject, item);
        if (due) model.expireInventory();
        const [, , free, onHold] = model.invBalance(subject, item);
        if (balance.free !== free || balance.on_hold !== onHold) {
          fail(`read of ${subject}/${item}: ${balance.free}/${balance.on_hold}, model ${free}/${onHold}`);
        }
        note(`round ${round}: read ${subject}/${item}`);
      }
      store.enabled = true;
    }
    const solo = chance(0.12);
    if (solo) {
      store.enabled = false;
      await writer.submit(SCOPE, { kind: "sweep_holds" });
      await writer.submit(SCOPE, { kind: "inventory_sweep" });
      model.expireLedger();
      model.expireInventory();
      const snapshot = await dump(store);
      const item = { sim: generate(), attempt: 0 };
      const rejectedBefore = report.rejected;
      await runRound(round, [item], true);
      store.enabled = true;
      if (report.rejected > rejectedBefore && (await dump(store)) !== snapshot) {
        fail(`round ${round}: a rejected command changed the database`);
      }
    } else {
      const due = retries.filter((r) => r.due <= round).map((r) => r.item);
      retries = retries.filter((r) => r.due > round);
      const items: Item[] = [...due];
      const count = int(1, 6);
      for (let i = 0; i < count; i++) items.push({ sim: generate(), attempt: 0 });
      if (chance(0.08)) items.push({ ...pick(items) }); // delivered twice
      for (let i = items.length - 1; i > 0; i--) { // out of order
        const j = int(0, i);
        [items[i], items[j]] = [items[j], items[i]];
      }
      await runRound(round, items, false);
    }
    await checkInvariants(store, model, nameOfId, holdStatuses, fail);
  }
  // Drain: every unacknowledged command is retried until acknowledged.
  store.enabled = false;
  let guard = 0;
  while (retries.length > 0) {
    if (++guard > 100) fail("retries never drained");
    const items = retries.map((r) => r.item);
    retries = [];
    await runRound(options.rounds + guard, items, false);
  }
  await checkInvariants(store, model, nameOfId, holdStatuses, fail);
  await store.database.close();
  await pg?.drop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  return report;
}

/** Every ledger and inventory row, in insertion order: the "byte-identical" witness. */
async function dump(store: FaultyStore): Promise<string> {
  const tables = [
    "ledger_accounts",
    "ledger_entries",
    "ledger_postings",
    "ledger_balances",
    "ledger_holds",
    "ledger_commands",
    "inventory_balances",
    "inventory_holds",
    "inventory_operations",
  ];
  const parts: string[] = [];
  for (const table of tables) {
    const order = "sql" in store.database ? "ctid" : "rowid";
    parts.push(`${table}:${JSON.stringify(await store.query(`select * from ${table} order by ${order}`))}`);
  }
  return parts.join("\n");
}

// deno-lint-ignore no-explicit-any -- raw rows of invariant queries
const q = async (store: FaultyStore, sql: string): Promise<any[]> => await store.query(sql);

/** The invariants of issue 3, checked in SQL, plus the full comparison with the model. */
async function checkInvariants(
  store: FaultyStore,
  model: Model,
  nameOfId: Map<string, string>,
  statuses: Map<string, string>,
  fail: (message: string) => never,
): Promise<void> {
  // Each entry has ≥ 2 postings summing to zero per currency.
  const unbalanced = await q(
    store,
    "select entry_id, currency, sum(amount) as s from ledger_postings group by entry_id, currency having sum(amount) <> 0",
  );
  if (unbalanced.length > 0) fail(`entry does not sum to zero: ${JSON.stringify(unbalanced[0])}`);
  const thin = await q(
    store,
    "select e.id from ledger_entries e where (select count(*) from ledger_postings p where p.entry_id = e.id) < 2",
  );
  if (thin.length > 0) fail(`entry with fewer than two postings: ${thin[0].id}`);
  // All balances of a currency sum to zero.
  const sums = await q(
    store,
    "select currency, sum(debits_posted - credits_posted) as s from ledger_balances group by currency having sum(debits_posted - credits_posted) <> 0",
  );
  if (sums.length > 0) fail(`balances of ${sums[0].currency} sum to ${sums[0].s}`);
  // Constraints hold.
  const broken = await q(
    store,
    `select a.name from ledger_accounts a join ledger_balances b on b.account_id = a.id and b.currency = a.currency
     where (a.debits_must_not_exceed_credits and b.debits_pending + b.debits_posted > b.credits_posted)
        or (a.credits_must_not_exceed_debits and b.credits_pending + b.credits_posted > b.debits_posted)`,
  );
  if (broken.length > 0) fail(`constraint broken on ${broken[0].name}`);
  // One entry per idempotency key; every command record points at an entry with its key.
  const dupKeys = await q(
    store,
    "select idempotency_key from ledger_entries group by tenant_id, app_id, idempotency_key having count(*) > 1",
  );
  if (dupKeys.length > 0) fail(`key ${dupKeys[0].idempotency_key} maps to several entries`);
  const badRecords = await q(
    store,
    "select c.idempotency_key from ledger_commands c left join ledger_entries e on e.id = c.entry_id where c.entry_id is not null and (e.id is null or e.idempotency_key <> c.idempotency_key)",
  );
  if (badRecords.length > 0) fail(`command ${badRecords[0].idempotency_key} does not map to its entry`);
  // Rebuild balances from postings and pending holds; compare with the stored ones.
  const accounts = new Map(
    (await q(store, "select id, normal_balance from ledger_accounts")).map((
      r,
    ) => [String(r.id), String(r.normal_balance)]),
  );
  const rebuilt = new Map<string, { dp: number; cp: number; dpen: number; cpen: number; held: number }>();
  const get = (id: string) => {
    let b = rebuilt.get(id);
    if (!b) rebuilt.set(id, b = { dp: 0, cp: 0, dpen: 0, cpen: 0, held: 0 });
    return b;
  };
  for (
    const r of await q(
      store,
      "select account_id, sum(case when amount > 0 then amount else 0 end) as d, sum(case when amount < 0 then -amount else 0 end) as c from ledger_postings group by account_id",
    )
  ) {
    const b = get(String(r.account_id));
    b.dp = Number(r.d);
    b.cp = Number(r.c);
  }
  const holds = await q(
    store,
    "select id, idempotency_key, account_id, destination_account_id, amount, captured_amount, capture_entry_id, status from ledger_holds",
  );
  for (const h of holds) {
    const amount = Number(h.amount);
    const status = String(h.status);
    const previous = statuses.get(String(h.id));
    if (previous && previous !== status && previous !== "pending") {
      fail(`hold ${h.id} moved ${previous} → ${status}`);
    }
    statuses.set(String(h.id), status);
    if (status === "captured") {
      if (
        h.captured_amount === null || Number(h.captured_amount) > amount || Number(h.captured_amount) < 1 ||
        h.capture_entry_id === null
      ) fail(`hold ${h.id} captured ${h.captured_amount} of ${amount}`);
      const [moved] = await q(
        store,
        `select sum(abs(amount)) / 2 as m from ledger_postings where entry_id = '${h.capture_entry_id}'`,
      );
      if (Number(moved.m) !== Number(h.captured_amount)) {
        fail(`capture entry of ${h.id} moves ${moved.m}, captured ${h.captured_amount}`);
      }
    } else if (h.captured_amount !== null) fail(`hold ${h.id} is ${status} with a captured amount`);
    if (status !== "pending") continue;
    const sourceNormal = accounts.get(String(h.account_id));
    const source = get(String(h.account_id));
    const dest = get(String(h.destination_account_id));
    source.held += amount;
    if (sourceNormal === "credit") {
      source.dpen += amount;
      dest.cpen += amount;
    } else {
      source.cpen += amount;
      dest.dpen += amount;
    }
  }
  const stored = new Map(
    (await q(store, "select * from ledger_balances")).map((r) => [String(r.account_id), r]),
  );
  for (const id of new Set([...rebuilt.keys(), ...stored.keys()])) {
    const b = rebuilt.get(id) ?? { dp: 0, cp: 0, dpen: 0, cpen: 0, held: 0 };
    const s = stored.get(id);
    const got = s
      ? [s.debits_posted, s.credits_posted, s.debits_pending, s.credits_pending, s.held].map(Number)
      : [0, 0, 0, 0, 0];
    const want = [b.dp, b.cp, b.dpen, b.cpen, b.held];
    if (got.join() !== want.join()) {
      fail(`balance of ${nameOfId.get(id) ?? id} is ${got} but postings and holds rebuild ${want}`);
    }
    // … and the model agrees on posted and held.
    const name = nameOfId.get(id);
    if (name && model.accounts.has(name)) {
      const net = model.net.get(name) ?? 0;
      if (net !== b.dp - b.cp) fail(`model net of ${name} is ${net}, database ${b.dp - b.cp}`);
      if (model.pending(name).held !== b.held) {
        fail(`model held of ${name} is ${model.pending(name).held}, database ${b.held}`);
      }
    }
  }
  for (const [name, net] of model.net) {
    const id = [...nameOfId].find(([, n]) => n === name)?.[0];
    if (net !== 0 && (!id || !rebuilt.has(id))) {
      fail(`model has ${name} at ${net}, the database has no postings`);
    }
  }
  // Holds: the model knows every hold by key, with the same status and captured amount.
  const dbHolds = new Map(holds.map((h) => [String(h.idempotency_key), h]));
  for (const h of model.holds.values()) {
    const row = dbHolds.get(h.key);
    if (!row) fail(`model hold ${h.key} is not in the database`);
    if (
      row!.status !== h.status ||
      (row!.captured_amount === null ? null : Number(row!.captured_amount)) !== h.captured
    ) {
      fail(`hold ${h.key}: database ${row!.status}/${row!.captured_amount}, model ${h.status}/${h.captured}`);
    }
  }
  if (dbHolds.size !== model.holds.size) {
    fail(`database has ${dbHolds.size} holds, model ${model.holds.size}`);
  }
  const dbAccounts = (await q(store, "select currency, name from ledger_accounts")).map((r) =>
    `${r.currency}:${r.name}`
  ).sort();
  const modelAccounts = [...model.accounts.keys()].sort();
  if (dbAccounts.join() !== modelAccounts.join()) {
    fail(`accounts differ: database ${dbAccounts.join(" ")} / model ${modelAccounts.join(" ")}`);
  }
  const [entries] = await q(store, "select count(*) as n from ledger_entries");
  if (Number(entries.n) !== model.entries.size) {
    fail(`database has ${entries.n} entries, model ${model.entries.size}`);
  }

  // Inventory: on_hold = Σ pending holds; free ≥ 0; fold of the journal = balances; the model agrees.
  const invBalances = await q(store, "select subject, item, free, on_hold from inventory_balances");
  const pendingQty = new Map(
    (await q(
      store,
      "select subject, item, sum(quantity) as s from inventory_holds where status = 'pending' group by subject, item",
    )).map((r) => [`${r.subject}|${r.item}`, Number(r.s)]),
  );
  const fold = new Map<string, [number, number]>();
  const f = (s: string, i: string) => {
    const k = `${s}|${i}`;
    let v = fold.get(k);
    if (!v) fold.set(k, v = [0, 0]);
    return v;
  };
  for (
    const op of await q(
      store,
      "select kind, subject, counterparty, item, quantity from inventory_operations order by seq",
    )
  ) {
    const v = f(String(op.subject), String(op.item));
    const n = Number(op.quantity);
    if (op.kind === "acquire") v[0] += n;
    else if (op.kind === "consume") v[0] -= n;
    else if (op.kind === "transfer") {
      v[0] -= n;
      f(String(op.counterparty), String(op.item))[0] += n;
    } else if (op.kind === "hold") {
      v[0] -= n;
      v[1] += n;
    } else if (op.kind === "commit") v[1] -= n;
    else {
      v[1] -= n;
      v[0] += n;
    }
  }
  for (const b of invBalances) {
    const k = `${b.subject}|${b.item}`;
    const free = Number(b.free);
    const onHold = Number(b.on_hold);
    if (free < 0 || onHold < 0) fail(`inventory ${k} below zero: ${free}/${onHold}`);
    if (onHold !== (pendingQty.get(k) ?? 0)) {
      fail(`inventory ${k} on hold ${onHold}, pending holds ${pendingQty.get(k) ?? 0}`);
    }
    const folded = fold.get(k) ?? [0, 0];
    if (folded[0] !== free || folded[1] !== onHold) {
      fail(`inventory ${k} is ${free}/${onHold}, journal folds to ${folded}`);
    }
    const [, , mFree, mHold] = model.invBalance(String(b.subject), String(b.item));
    if (mFree !== free || mHold !== onHold) {
      fail(`inventory ${k} is ${free}/${onHold}, model ${mFree}/${mHold}`);
    }
  }
  const invHolds = new Map(
    (await q(store, "select idempotency_key, status from inventory_holds")).map((
      r,
    ) => [String(r.idempotency_key), String(r.status)]),
  );
  for (const h of model.invHolds.values()) {
    if (invHolds.get(h.key) !== h.status) {
      fail(`inventory hold ${h.key}: database ${invHolds.get(h.key)}, model ${h.status}`);
    }
  }
  if (invHolds.size !== model.invHolds.size) {
    fail(`database has ${invHolds.size} inventory holds, model ${model.invHolds.size}`);
  }
}
