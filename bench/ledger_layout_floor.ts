/**
 * SQLite's own cost of a ledger batch's rows under today's layout and under a layout with fewer
 * b-tree insertions per entry (issue 14, ADR 0015 "Ledger entries over HTTP"):
 * `deno run --lock=deno.tools.lock -A bench/ledger_layout_floor.ts [entries] [batch] [rounds]`
 * (defaults 5000, 50, 3).
 *
 * Both databases are migrated by the service (`openDatabase`), so "today" is the real schema. The
 * "proposed" one then replaces two tables with the layout the issue suggested: `ledger_postings`
 * `WITHOUT ROWID` keyed by `(tenant_id, app_id, entry_id, position)` (its `id` kept as a column,
 * the separate `id` key and entry index gone) and `ledger_entries` `WITHOUT ROWID` keyed by `id`;
 * every other index stays. The rows of a batch are those the writer commits for two-posting
 * entries (entry, two postings, the touched balances upserted, one outbox row, one audit row),
 * generated before the clock starts and written with `node:sqlite` statements prepared once
 * (one row per `run`), `BEGIN IMMEDIATE` … `COMMIT` per batch, WAL, `synchronous` FULL (the
 * server's settings). Rounds alternate the layouts; CPU per entry (`process.cpuUsage()`, user +
 * system) of each round is printed. Numbers only, no assertions.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { newId } from "../src/domain/ids.ts";
import { openDatabase } from "../src/storage/db.ts";

const ENTRIES = Number(Deno.args[0] ?? 5000);
const BATCH = Number(Deno.args[1] ?? 50);
const ROUNDS = Number(Deno.args[2] ?? 3);
const ACCOUNTS = 100;
const T = "ten_floor";
const A = "app_floor";

/** The proposed tables (same columns as the migrated ones, plus the posting's position). */
const PROPOSED = `
drop table ledger_postings;
create table ledger_postings (
  id text not null, tenant_id text not null, app_id text not null, entry_id text not null,
  position integer not null, account_id text not null, amount integer not null,
  currency text not null, created_at integer not null, entry_seq integer default 0 not null,
  primary key (tenant_id, app_id, entry_id, position)) without rowid;
create index ledger_postings_account_seq_idx on ledger_postings (tenant_id, app_id, account_id, entry_seq);
drop table ledger_entries;
create table ledger_entries (
  id text primary key not null, tenant_id text not null, app_id text not null,
  idempotency_key text not null, payload_hash text not null, description text,
  reverses_entry_id text, metadata text, created_at integer not null, seq integer default 0 not null,
  payment_intent_id text, refund_id text, payout_id text, dispute_id text) without rowid;
create unique index ledger_entries_scope_key_uq on ledger_entries (tenant_id, app_id, idempotency_key);
create index ledger_entries_scope_seq_idx on ledger_entries (tenant_id, app_id, seq);
`;

interface Entry {
  id: string;
  seq: number;
  key: string;
  hash: string;
  postings: { id: string; account: string; amount: number }[];
  msg: string;
  aud: string;
  data: string;
}

/** Entries generated so far (keys and sequence numbers stay unique across rounds). */
let generated = 0;

/** Rows of `ENTRIES` entries between random pairs of `ACCOUNTS` accounts. */
function rows(accounts: string[]): Entry[] {
  const out: Entry[] = [];
  for (let n = 0; n < ENTRIES; n++) {
    const i = generated++;
    const a = Math.floor(Math.random() * ACCOUNTS);
    let b = Math.floor(Math.random() * (ACCOUNTS - 1));
    if (b >= a) b++;
    const amount = 1 + Math.floor(Math.random() * 1000);
    const id = newId("ent");
    out.push({
      id,
      seq: i + 1,
      key: `k${i}`,
      hash: "f".repeat(64),
      postings: [
        { id: newId("pst"), account: accounts[a], amount },
        { id: newId("pst"), account: accounts[b], amount: -amount },
      ],
      msg: newId("msg"),
      aud: newId("aud"),
      data: JSON.stringify({
        id,
        seq: i + 1,
        idempotency_key: `k${i}`,
        postings: [accounts[a], accounts[b]],
      }),
    });
  }
  return out;
}

/** Writes `entries` in batches of `BATCH` and returns the CPU µs per entry. */
function write(db: DatabaseSync, proposed: boolean, entries: Entry[]): number {
  const entry = db.prepare(
    "insert into ledger_entries (id, tenant_id, app_id, idempotency_key, payload_hash, description, " +
      "reverses_entry_id, metadata, created_at, seq, payment_intent_id, refund_id, payout_id, dispute_id) " +
      "values (?, ?, ?, ?, ?, null, null, null, ?, ?, null, null, null, null)",
  );
  const posting = db.prepare(
    proposed
      ? "insert into ledger_postings (id, tenant_id, app_id, entry_id, position, account_id, amount, currency, " +
        "created_at, entry_seq) values (?, ?, ?, ?, ?, ?, ?, 'USD', ?, ?)"
      : "insert into ledger_postings (id, tenant_id, app_id, entry_id, account_id, amount, currency, " +
        "created_at, entry_seq) values (?, ?, ?, ?, ?, ?, 'USD', ?, ?)",
  );
  const balance = db.prepare(
    "insert into ledger_balances (tenant_id, app_id, account_id, currency, debits_posted, credits_posted, " +
      "debits_pending, credits_pending, held, updated_at) values (?, ?, ?, 'USD', ?, ?, 0, 0, 0, ?) " +
      "on conflict (tenant_id, app_id, account_id, currency) do update set debits_posted = excluded.debits_posted, " +
      "credits_posted = excluded.credits_posted, updated_at = excluded.updated_at",
  );
  const outbox = db.prepare(
    "insert into outbox_events (id, tenant_id, app_id, type, resource_id, data, occurred_at, fanned_out_at) " +
      "values (?, ?, ?, 'ledger.entry_posted', ?, ?, ?, null)",
  );
  const audit = db.prepare(
    "insert into audit_events (id, tenant_id, app_id, actor, action, resource_type, resource_id, before_digest, " +
      "after_digest, request_id, message_id, created_at) values (?, ?, ?, 'key_floor', 'ledger.entry_posted', " +
      "'ledger', ?, null, ?, null, ?, ?)",
  );
  const begin = db.prepare("begin immediate");
  const commit = db.prepare("commit");
  const cpu = process.cpuUsage();
  for (let start = 0; start < entries.length; start += BATCH) {
    const now = Date.now();
    const touched = new Map<string, number>();
    begin.run();
    for (const e of entries.slice(start, start + BATCH)) {
      entry.run(e.id, T, A, e.key, e.hash, now, e.seq);
      e.postings.forEach((p, i) => {
        if (proposed) posting.run(p.id, T, A, e.id, i, p.account, p.amount, now, e.seq);
        else posting.run(p.id, T, A, e.id, p.account, p.amount, now, e.seq);
        touched.set(p.account, (touched.get(p.account) ?? 0) + p.amount);
      });
      outbox.run(e.msg, T, A, e.id, e.data, now);
      audit.run(e.aud, T, A, e.id, e.hash, e.msg, now);
    }
    for (const [account, amount] of touched) {
      balance.run(T, A, account, Math.max(amount, 0), Math.max(-amount, 0), now);
    }
    commit.run();
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / entries.length;
}

const dir = await Deno.makeTempDir({ prefix: "ledger-floor-" });
const accounts = Array.from({ length: ACCOUNTS }, () => newId("acc"));
const dbs: { name: string; proposed: boolean; db: DatabaseSync }[] = [];
for (const [name, proposed] of [["today", false], ["proposed", true]] as const) {
  const path = `${dir}/${name}.db`;
  (await openDatabase({ url: `file:${path}` })).close();
  const db = new DatabaseSync(path);
  db.exec("pragma journal_mode = wal; pragma synchronous = full;");
  if (proposed) db.exec(PROPOSED);
  // warm-up: the first 1000 entries of each layout are not measured
  write(db, proposed, rows(accounts).slice(0, 1000));
  dbs.push({ name, proposed, db });
}
for (let round = 0; round < ROUNDS; round++) {
  for (const { name, proposed, db } of round % 2 === 0 ? dbs : [...dbs].reverse()) {
    const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ").slice(0, 3).join(" ");
    const us = write(db, proposed, rows(accounts));
    console.log(`round ${round + 1} ${name.padEnd(8)} ${us.toFixed(1)} µs CPU per entry (load ${load})`);
  }
}
for (const { db } of dbs) db.close();
await Deno.remove(dir, { recursive: true }).catch(() => {});
