/**
 * The PostgreSQL statements of the hot paths (issue 17, ADR 0011 "Round trips per batch"): the
 * ledger batch and usage ingestion bind whole columns as arrays on PostgreSQL (`unnest`,
 * `= any(?)`) and keep SQLite's texts elsewhere. These tests run the same input on libSQL and on
 * PostgreSQL and compare every row written, and read real closed-period and pause rows through
 * the late-event gate's one statement on both stores.
 *
 * @module
 */
import assert from "node:assert/strict";
import { asc } from "drizzle-orm";
import { InProcessWriter } from "../../src/ledger/writer.ts";
import type { LedgerCommand } from "../../src/domain/ledger_book.ts";
import type { InventoryCommand } from "../../src/domain/inventory.ts";
import { LifecycleDispatcher } from "../../src/lifecycle/dispatcher.ts";
import { openDatabase, type Store } from "../../src/storage/db.ts";
import { openPostgres } from "../../src/storage/postgres.ts";
import {
  auditEvents,
  inventoryBalances,
  inventoryHolds,
  inventoryOperations,
  invoices,
  ledgerAccounts,
  ledgerBalances,
  ledgerCommands,
  ledgerEntries,
  ledgerHolds,
  ledgerPostings,
  outboxEvents,
  subscriptionPauses,
  subscriptions,
  usageEvents,
} from "../../src/storage/schema.ts";
import {
  insertNewUsageEvents,
  timingRowsOfCustomers,
  type UsageEventValues,
} from "../../src/usage/repository.ts";
import { freshPostgresDatabase } from "../pg_helpers.ts";

type Closable = Store & { close(): unknown };

/**
 * Runs `fn` on a fresh libSQL store and on a fresh PostgreSQL store (in that order) and returns
 * both results. On PostgreSQL, `texts` receives every statement text the client sent.
 */
async function onBothStores<T>(
  fn: (store: Closable, label: string) => Promise<T>,
  texts: string[] = [],
): Promise<{ libsql: T; postgres: T }> {
  const dir = await Deno.makeTempDir({ prefix: "pg-statements-" });
  const database = await openDatabase({ url: `file:${dir}/billing.db` });
  let libsql: T;
  try {
    libsql = await fn(database, "libSQL");
  } finally {
    database.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  const fresh = await freshPostgresDatabase("pg_statements");
  const store = await openPostgres({ url: fresh.url, onStatement: (text) => texts.push(text) });
  try {
    return { libsql, postgres: await fn(store, "PostgreSQL") };
  } finally {
    await store.close();
    await fresh.drop();
  }
}

/** A statement text whose shape depends on a count: a multi-row VALUES or an `in` list of several. */
const COUNT_SHAPED = /\), \(|\bin \(\$\d+, /;

const SCOPE = { tenantId: "ten_model", appId: "app_model" };
const NOW = 1_764_000_000_000;

/** Properties as JSON text, with what an array literal must escape (quotes, backslashes, commas, braces). */
const PROPERTIES = [
  null,
  `{"region":"r1"}`,
  `{"b":2,"a":1}`,
  `{"note":"a \\"quoted\\" back\\\\slash, {braces}, NULL, é 日本 🎉"}`,
  `{"empty":"","nested":{"list":[1,2.5,null,true]}}`,
];

function usageRow(i: number, createdAt = NOW): UsageEventValues {
  return {
    id: `evt_${String(i).padStart(26, "0")}`,
    event_id: i % 97 === 0 ? `client id, with "quotes" ${i}` : `e-${i}`,
    customer_id: i % 3 === 0 ? "cus_a" : "cus_b",
    feature: i % 2 === 0 ? "api_calls" : "storage",
    value: i * 7919 + (i % 5 === 0 ? 2 ** 40 : 0),
    value_frac: i % 4 === 0 ? 500_000_000_000 : 0,
    timestamp: NOW - 86_400_000 + i,
    properties: PROPERTIES[i % PROPERTIES.length],
    payload_hash: (i.toString(16) + "ab").repeat(32).slice(0, 64),
    created_at: createdAt,
  };
}

Deno.test("usage ingestion: one 1000-event batch writes the same rows on libSQL and PostgreSQL; a replay inserts none", async () => {
  const texts: string[] = [];
  const batch = Array.from({ length: 1000 }, (_, i) => usageRow(i));
  const { libsql, postgres } = await onBothStores(async (store) => {
    const first = await store.write((tx) => insertNewUsageEvents(tx, SCOPE, batch), SCOPE);
    // The same batch again plus five new events: only the new ones are inserted.
    const again = await store.write(
      (tx) =>
        insertNewUsageEvents(tx, SCOPE, [
          ...batch,
          ...Array.from({ length: 5 }, (_, i) => usageRow(1000 + i)),
        ]),
      SCOPE,
    );
    // Rows of different write times take the per-row form on every store.
    const mixed = await store.write(
      (tx) => insertNewUsageEvents(tx, SCOPE, [usageRow(2000, NOW + 1), usageRow(2001, NOW + 2)]),
      SCOPE,
    );
    const rows = await store.db.select().from(usageEvents).orderBy(asc(usageEvents.id));
    return { first, again, mixed, rows };
  }, texts);
  assert.deepEqual([postgres.first, postgres.again, postgres.mixed], [1000, 5, 2]);
  assert.deepEqual([libsql.first, libsql.again, libsql.mixed], [1000, 5, 2]);
  assert.equal(postgres.rows.length, 1007);
  assert.deepEqual(postgres.rows, libsql.rows);
  // JSON kept as sent (key order, escapes), instants and 64-bit values as numbers.
  const at = (rows: typeof postgres.rows, i: number) => rows.find((r) => r.id === usageRow(i).id)!;
  for (const i of [0, 1, 2, 3, 4, 5]) {
    assert.equal(JSON.stringify(at(postgres.rows, i).properties), usageRow(i).properties ?? "null");
  }
  assert.deepEqual(at(postgres.rows, 5).timestamp, new Date(NOW - 86_400_000 + 5));
  assert.equal(at(postgres.rows, 5).value, 5 * 7919 + 2 ** 40);
  assert.equal(at(postgres.rows, 4).value_frac, 500_000_000_000);
  assert.equal(at(postgres.rows, 2001).created_at.getTime(), NOW + 2);
  // The array form is one text whatever the count (2000 and 1005 rows above).
  const inserts = texts.filter((t) => t.startsWith(`insert into "usage_events"`));
  assert.equal(inserts.length, 3);
  assert.equal(inserts[0], inserts[1]);
  assert.match(inserts[0], /from unnest\(/);
});

/** Typeids and SHA-256 digests are random or derive from random ids: replaced by labels in order of appearance. */
class Labels {
  readonly #labels = new Map<string, string>();

  #label(value: string): string {
    let label = this.#labels.get(value);
    if (label === undefined) {
      const kind = value.includes("_") ? value.slice(0, value.indexOf("_")) : "sha";
      this.#labels.set(value, label = `<${kind}${this.#labels.size}>`);
    }
    return label;
  }

  /** `value` with every id and digest inside it replaced by its label. */
  of(value: unknown): unknown {
    if (typeof value === "string") {
      // Whole digests, and ids wherever they stand (a capture's description names its hold).
      if (/^[0-9a-f]{64}$/.test(value)) return this.#label(value);
      return value.replace(/\b[a-z]+_[0-9a-z]{26}\b/g, (id) => this.#label(id));
    }
    if (Array.isArray(value)) return value.map((v) => this.of(v));
    if (value !== null && typeof value === "object" && !(value instanceof Date)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.of(v)]));
    }
    return value;
  }
}

/** Every ledger, outbox and audit row of the store, ids and digests labelled in one canonical order. */
async function ledgerDump(store: Store) {
  const labels = new Labels();
  const db = store.db;
  const accounts = await db.select().from(ledgerAccounts).orderBy(asc(ledgerAccounts.name));
  const entries = await db.select().from(ledgerEntries).orderBy(asc(ledgerEntries.seq));
  const postings = await db.select().from(ledgerPostings).orderBy(
    asc(ledgerPostings.entry_seq),
    asc(ledgerPostings.amount),
  );
  const holds = await db.select().from(ledgerHolds).orderBy(asc(ledgerHolds.idempotency_key));
  const commands = await db.select().from(ledgerCommands).orderBy(asc(ledgerCommands.idempotency_key));
  const balances = await db.select().from(ledgerBalances);
  const outbox = await db.select().from(outboxEvents).orderBy(asc(outboxEvents.seq));
  const audit = await db.select().from(auditEvents);
  const inventoryBalanceRows = await db.select().from(inventoryBalances).orderBy(
    asc(inventoryBalances.subject),
    asc(inventoryBalances.item),
  );
  const inventoryHoldRows = await db.select().from(inventoryHolds).orderBy(
    asc(inventoryHolds.idempotency_key),
  );
  const inventoryOperationRows = await db.select().from(inventoryOperations).orderBy(
    asc(inventoryOperations.seq),
  );
  const out = {
    accounts: labels.of(accounts),
    entries: labels.of(entries),
    postings: labels.of(postings),
    holds: labels.of(holds),
    commands: labels.of(commands),
    outbox: labels.of(outbox),
    inventoryBalances: labels.of(inventoryBalanceRows),
    inventoryHolds: labels.of(inventoryHoldRows),
    inventoryOperations: labels.of(inventoryOperationRows),
    // Labelled after the rows they name, then ordered by those labels.
    balances: (labels.of(balances) as { account_id: string }[]).sort((a, b) =>
      a.account_id < b.account_id ? -1 : 1
    ),
    audit: (labels.of(audit) as { message_id: string; id: string }[])
      .map(({ id: _id, ...rest }) => rest)
      .sort((a, b) => (a.message_id < b.message_id ? -1 : a.message_id > b.message_id ? 1 : 0)),
  };
  return out;
}

Deno.test("ledger: 50-command batches (postings, holds, captures, voids, reversals, replays, rejections, inventory) write the same rows on libSQL and PostgreSQL", async () => {
  const texts: string[] = [];
  const { libsql, postgres } = await onBothStores(async (store) => {
    const batchSizes: number[] = [];
    const writer = new InProcessWriter({
      storage: store,
      clock: { now: () => new Date(NOW) },
      lifecycle: new LifecycleDispatcher(),
      maxBatchSize: 50,
      onBatch: (report) => void (report.committed && batchSizes.push(report.size)),
    });
    /** Submits `commands` at once (one batch of up to 50) and settles them. */
    const batch = (commands: (LedgerCommand | InventoryCommand)[]) =>
      Promise.allSettled(
        commands.map((c, i) => writer.submit(SCOPE, c, { actor: "key_model", requestId: `req-${i}` })),
      );
    const outcome = (r: PromiseSettledResult<{ replayed: boolean }>) =>
      r.status === "fulfilled"
        ? (r.value.replayed ? "replayed" : "ok")
        : (r.reason as { code?: string }).code;
    const accountsOf = await batch([
      { kind: "ensure_account", name: "cash", type: "asset", currency: "USD" },
      {
        kind: "ensure_account",
        name: "revenue",
        type: "revenue",
        currency: "USD",
        metadata: { "a,b": "{x}" },
      },
      {
        kind: "ensure_account",
        name: "wallet",
        type: "liability",
        currency: "USD",
        debits_must_not_exceed_credits: true,
      },
    ]);
    const [cash, revenue, wallet] = accountsOf.map((r) =>
      (r as PromiseFulfilledResult<{ value: { account?: { id: string } } }>).value.value.account!.id
    );
    const post = (key: string, from: string, to: string, amount: number, extra = {}): LedgerCommand => ({
      kind: "post_entry",
      idempotency_key: key,
      postings: [{ account_id: from, amount, currency: "USD" }, {
        account_id: to,
        amount: -amount,
        currency: "USD",
      }],
      ...extra,
    });
    const first = await batch(
      Array.from({ length: 50 }, (_, i) =>
        post(`p-${i}`, cash, i % 2 ? revenue : wallet, 100 + i, {
          description: i % 3 ? null : `entry "${i}", with \\ and é`,
          metadata: i % 4 ? null : { n: i, list: [1, null, "x"] },
        })),
    );
    const entryIds = first.map((r) =>
      r.status === "fulfilled"
        ? (r.value as { value: { entry?: { id: string } } }).value.entry?.id
        : undefined
    );
    const second = await batch([
      ...Array.from({ length: 10 }, (_, i): LedgerCommand => ({
        kind: "create_hold",
        idempotency_key: `h-${i}`,
        account_id: wallet,
        destination_account_id: revenue,
        amount: 10 + i,
        currency: "USD",
        ttl_seconds: i < 8 ? 3600 : 60,
        metadata: i ? null : { why: "test" },
      })),
      { kind: "reverse_entry", idempotency_key: "r-1", entry_id: entryIds[1]!, description: "undo" },
      { kind: "reverse_entry", idempotency_key: "r-2", entry_id: entryIds[2]! },
      post("p-5", cash, revenue, 105, { description: null, metadata: null }), // replay, same payload
      post("p-4", cash, revenue, 999), // same key, other payload
      post("overdraw", wallet, cash, 1_000_000), // beyond the wallet's credits
      ...Array.from({ length: 35 }, (_, i) => post(`q-${i}`, revenue, cash, 1 + i)),
    ]);
    const holdIds = second.slice(0, 10).map((r) =>
      (r as PromiseFulfilledResult<{ value: { hold?: { id: string } } }>).value.value.hold!.id
    );
    const third = await batch([
      ...holdIds.slice(0, 5).map((id, i): LedgerCommand => ({
        kind: "capture_hold",
        hold_id: id,
        amount: i % 2 ? undefined : 5,
        idempotency_key: `c-${i}`,
      })),
      ...holdIds.slice(5).map((id, i): LedgerCommand => ({
        kind: "void_hold",
        hold_id: id,
        idempotency_key: `v-${i}`,
      })),
      { kind: "reverse_entry", idempotency_key: "r-1", entry_id: entryIds[1]! }, // replayed reversal
      ...Array.from({ length: 39 }, (_, i) => post(`s-${i}`, cash, wallet, 2 + i)),
    ]);
    const inventory = await batch([
      ...Array.from({ length: 10 }, (_, i): InventoryCommand => ({
        kind: "inventory_acquire",
        idempotency_key: `ia-${i}`,
        subject: `wh_${i % 3}`,
        item: `sku "${i % 2}"`,
        quantity: 10 + i,
      })),
      ...Array.from({ length: 3 }, (_, i): InventoryCommand => ({
        kind: "inventory_transfer",
        idempotency_key: `it-${i}`,
        from: `wh_${i}`,
        to: "wh_9",
        item: `sku "${i % 2}"`,
        quantity: 2,
      })),
      ...Array.from({ length: 3 }, (_, i): InventoryCommand => ({
        kind: "inventory_hold",
        idempotency_key: `ih-${i}`,
        subject: `wh_${i}`,
        item: `sku "0"`,
        quantity: 1,
        ttl_seconds: 600,
      })),
      { kind: "inventory_consume", idempotency_key: "ic-1", subject: "wh_1", item: `sku "1"`, quantity: 3 },
      {
        kind: "inventory_consume",
        idempotency_key: "ic-2",
        subject: "wh_2",
        item: `sku "1"`,
        quantity: 10_000,
      },
    ]);
    return {
      outcomes: [first, second, third, inventory].map((b) => b.map(outcome)),
      batchSizes,
      rows: await ledgerDump(store),
    };
  }, texts);
  assert.deepEqual(postgres.batchSizes, [3, 50, 50, 50, 18]);
  assert.deepEqual(postgres.outcomes, libsql.outcomes);
  assert.ok(postgres.outcomes.flat().filter((o) => o === "ok").length > 130);
  assert.ok(postgres.outcomes.flat().includes("replayed"));
  assert.ok(postgres.outcomes.flat().some((o) => o !== "ok" && o !== "replayed"));
  assert.equal((postgres.rows.entries as unknown[]).length, (libsql.rows.entries as unknown[]).length);
  assert.ok((postgres.rows.holds as unknown[]).length === 10);
  assert.equal((postgres.rows.inventoryOperations as unknown[]).length, 17);
  assert.equal((postgres.rows.inventoryHolds as unknown[]).length, 3);
  assert.deepEqual(postgres.rows, libsql.rows);
  // Every statement of the batches had one text whatever its count of rows or keys.
  assert.ok(texts.filter((t) => /^insert into "ledger_postings" .* from unnest\(/s.test(t)).length >= 3);
  const shaped = texts.filter((t) => COUNT_SHAPED.test(t));
  assert.deepEqual(shaped, []);
});

Deno.test("timingRowsOfCustomers(): closed invoice periods and pauses of the asked customers, the same on libSQL and PostgreSQL", async () => {
  const other = { tenantId: "ten_other", appId: "app_other" };
  const day = 86_400_000;
  const invoice = (
    id: string,
    scope: typeof SCOPE,
    customer: string,
    status: "draft" | "open" | "paid" | "void" | "uncollectible",
    start: number,
    number: string | null,
  ) => ({
    id,
    tenant_id: scope.tenantId,
    app_id: scope.appId,
    subscription_id: `sub_of_${id}`,
    customer_id: customer,
    number,
    status,
    currency: "USD",
    period_start: new Date(NOW + start * day),
    period_end: new Date(NOW + (start + 30) * day),
    subtotal: 0,
    discount: 0,
    tax: 0,
    total: 0,
    amount_paid: 0,
    created_at: new Date(NOW),
    updated_at: new Date(NOW),
  });
  const subscription = (id: string, scope: typeof SCOPE, customer: string) => ({
    id,
    tenant_id: scope.tenantId,
    app_id: scope.appId,
    customer_id: customer,
    plan_id: "plan_1",
    start_at: new Date(NOW),
    billing_anchor: new Date(NOW),
    created_at: new Date(NOW),
  });
  const pause = (id: string, scope: typeof SCOPE, sub: string, start: number, end: number | null) => ({
    id,
    tenant_id: scope.tenantId,
    app_id: scope.appId,
    subscription_id: sub,
    start_at: new Date(NOW + start * day),
    end_at: end === null ? null : new Date(NOW + end * day),
    created_at: new Date(NOW),
  });
  const { libsql, postgres } = await onBothStores(async (store) => {
    await store.write(async (tx) => {
      await tx.insert(invoices).values([
        invoice("inv_1", SCOPE, "cus_1", "open", 0, "INV-0001"),
        invoice("inv_2", SCOPE, "cus_1", "paid", 30, "INV-0002"),
        invoice("inv_3", SCOPE, "cus_1", "draft", 60, null),
        invoice("inv_4", SCOPE, "cus_1", "void", 90, "INV-0003"),
        invoice("inv_5", SCOPE, "cus_2", "uncollectible", 0, null),
        invoice("inv_6", SCOPE, "cus_3", "open", 0, "INV-0004"),
        invoice("inv_7", other, "cus_1", "open", 0, "OTHER-1"),
      ]);
      await tx.insert(subscriptions).values([
        subscription("sub_1", SCOPE, "cus_1"),
        subscription("sub_2", SCOPE, "cus_2"),
        subscription("sub_3", SCOPE, "cus_3"),
        subscription("sub_9", other, "cus_1"),
      ]);
      await tx.insert(subscriptionPauses).values([
        pause("pau_1", SCOPE, "sub_1", 5, 7),
        pause("pau_2", SCOPE, "sub_1", 40, null),
        pause("pau_3", SCOPE, "sub_2", 1, 2),
        pause("pau_4", SCOPE, "sub_3", 1, 2),
        pause("pau_5", other, "sub_9", 3, 4),
      ]);
    });
    const rows = await timingRowsOfCustomers(store.db, SCOPE, ["cus_1", "cus_2", "cus_9"]);
    const none = await timingRowsOfCustomers(store.db, SCOPE, ["cus_9"]);
    const key = (r: { kind: string; customer_id: string; start: Date }) =>
      `${r.kind} ${r.customer_id} ${r.start.getTime()}`;
    return { rows: rows.sort((a, b) => (key(a) < key(b) ? -1 : 1)), none };
  });
  const at = (d: number) => new Date(NOW + d * day);
  const expected = [
    { kind: "closed", customer_id: "cus_1", start: at(0), end: at(30), number: "INV-0001" },
    { kind: "closed", customer_id: "cus_1", start: at(30), end: at(60), number: "INV-0002" },
    { kind: "closed", customer_id: "cus_2", start: at(0), end: at(30), number: null },
    { kind: "paused", customer_id: "cus_1", start: at(5), end: at(7), number: null },
    { kind: "paused", customer_id: "cus_1", start: at(40), end: null, number: null },
    { kind: "paused", customer_id: "cus_2", start: at(1), end: at(2), number: null },
  ];
  assert.deepEqual(libsql.rows, expected);
  assert.deepEqual(postgres.rows, expected);
  assert.deepEqual(libsql.none, []);
  assert.deepEqual(postgres.none, []);
});
