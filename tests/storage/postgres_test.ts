/**
 * The PostgreSQL store itself (`src/storage/postgres.ts`): statement rewriting, migrations under
 * the advisory lock, transactions, and one writer per scope across two pools (as two processes).
 *
 * @module
 */
import assert from "node:assert/strict";
import net from "node:net";
import { eq, sql } from "drizzle-orm";
import { BillingError } from "../../src/domain/errors.ts";
import postgres from "postgres";
import {
  openPostgres,
  postgresArrayLiteral,
  shouldPrepare,
  toPostgresSql,
} from "../../src/storage/postgres.ts";
import { invoiceSequences, ledgerAccounts, tenants } from "../../src/storage/schema.ts";
import { freshPostgresDatabase } from "../pg_helpers.ts";

Deno.test("toPostgresSql() numbers placeholders outside quotes and unqualifies on-conflict targets", () => {
  assert.equal(
    toPostgresSql(`select "a?" from "t" where "x" = ? and y = 'it''s ?' and z in (?, ?)`, 3),
    `select "a?" from "t" where "x" = $1 and y = 'it''s ?' and z in ($2, $3)`,
  );
  assert.equal(
    toPostgresSql(
      `insert into "s" ("a", "b") values (?, ?) on conflict ("s"."a", "s"."b") do update set "n" = "s"."n" + 1`,
      2,
    ),
    `insert into "s" ("a", "b") values ($1, $2) on conflict ("a", "b") do update set "n" = "s"."n" + 1`,
  );
  assert.throws(() => toPostgresSql("select ?", 2), /1 placeholders for 2 parameters/);
});

Deno.test("shouldPrepare(): every text but those whose shape depends on a count of values", () => {
  assert.equal(shouldPrepare(`select "a" from "t" where "x" = ? and "y" = any(?::text[])`), true);
  assert.equal(
    shouldPrepare(`insert into "t" ("a", "b") select * from unnest(?::text[], ?::bigint[])`),
    true,
  );
  assert.equal(shouldPrepare(`insert into "t" ("a", "b") values (?, ?)`), true);
  assert.equal(shouldPrepare(`select "a" from "t" where "x" in (?)`), true);
  assert.equal(shouldPrepare(`insert into "t" ("a", "b") values (?, ?), (?, ?)`), false);
  assert.equal(shouldPrepare(`select "a" from "t" where "x" in (?, ?, ?)`), false);
});

Deno.test("openPostgres(): four processes starting together apply each migration once", async () => {
  const database = await freshPostgresDatabase("mig");
  const stores = await Promise.all(
    Array.from({ length: 4 }, () => openPostgres({ url: database.url, poolMax: 2 })),
  );
  try {
    const journal = JSON.parse(
      await Deno.readTextFile(new URL("../../migrations/pg/meta/_journal.json", import.meta.url)),
    );
    const [{ n }] = await stores[0].sql`select count(*) as n from drizzle.__drizzle_migrations`;
    assert.equal(n, journal.entries.length);
    const again = await openPostgres({ url: database.url, poolMax: 1 });
    await again.close();
    const [{ m }] = await stores[0].sql`select count(*) as m from drizzle.__drizzle_migrations`;
    assert.equal(m, journal.entries.length);
  } finally {
    for (const s of stores) await s.close();
    await database.drop();
  }
});

Deno.test("PostgresStore.write(): a throwing write rolls back; instants, booleans and JSON read back as on SQLite", async () => {
  const database = await freshPostgresDatabase("tx");
  const store = await openPostgres({ url: database.url, poolMax: 2 });
  try {
    const created_at = new Date(1_790_000_000_123);
    await assert.rejects(
      store.write(async (tx) => {
        await tx.insert(tenants).values({ id: "ten_a", name: "a", created_at });
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal((await store.db.select().from(tenants)).length, 0);
    await store.write((tx) => tx.insert(tenants).values({ id: "ten_a", name: "a", created_at }));
    const [row] = await store.db.select().from(tenants).where(eq(tenants.id, "ten_a"));
    assert.deepEqual(row, { id: "ten_a", name: "a", created_at });
    // booleans bind as 1/0 on SQLite; both must survive the trip, as must JSON text byte for byte
    const account = {
      id: "acc_1",
      tenant_id: "ten_a",
      app_id: "app_a",
      name: "wallet",
      type: "liability" as const,
      currency: "USD",
      normal_balance: "credit" as const,
      metadata: { z: 1, a: [true, null] },
      debits_must_not_exceed_credits: true,
      credits_must_not_exceed_debits: false,
      created_at,
    };
    await store.write((tx) => tx.insert(ledgerAccounts).values(account));
    assert.deepEqual(await store.db.select().from(ledgerAccounts), [account]);
    const [raw] = await store
      .sql`select metadata::text as m, debits_must_not_exceed_credits as d from ledger_accounts`;
    assert.deepEqual(raw, { m: '{"z":1,"a":[true,null]}', d: true });
  } finally {
    await store.close();
    await database.drop();
  }
});

Deno.test("PostgresStore.write(scope): two pools read-modify-write one counter 200 times without a lost update", async () => {
  const database = await freshPostgresDatabase("lock");
  const a = await openPostgres({ url: database.url, poolMax: 8 });
  const b = await openPostgres({ url: database.url, poolMax: 8, migrate: false });
  const scope = { tenantId: "ten_1", appId: "app_1" };
  try {
    await a.write((tx) =>
      tx.insert(invoiceSequences).values({ tenant_id: scope.tenantId, app_id: scope.appId, last_number: 0 })
    );
    // read, then write what was read + 1: only safe with one writer per scope
    const bump = (store: typeof a) =>
      store.write(async (tx) => {
        const [row] = await tx.select().from(invoiceSequences).where(
          eq(invoiceSequences.tenant_id, scope.tenantId),
        );
        await new Promise((r) => setTimeout(r, 0));
        await tx.update(invoiceSequences).set({ last_number: row.last_number + 1 })
          .where(eq(invoiceSequences.tenant_id, scope.tenantId));
      }, scope);
    await Promise.all(Array.from({ length: 200 }, (_, i) => bump(i % 2 === 0 ? a : b)));
    const [row] = await a.db.select().from(invoiceSequences);
    assert.equal(row.last_number, 200);
  } finally {
    await a.close();
    await b.close();
    await database.drop();
  }
});

Deno.test("PostgresStore: after the server ends every connection (as a restart does), the next queries reconnect", async () => {
  const database = await freshPostgresDatabase("reconnect");
  const store = await openPostgres({ url: database.url, poolMax: 4 });
  const admin = postgres(database.url.replace(/\/[^/]+$/, "/postgres"), { max: 1, onnotice: () => {} });
  try {
    const created_at = new Date(1_790_000_000_000);
    await store.write((tx) => tx.insert(tenants).values({ id: "ten_1", name: "one", created_at }));
    const [{ n }] = await admin`select count(*)::int as n from (
      select pg_terminate_backend(pid) from pg_stat_activity where datname = ${database.url.split("/").pop()!}
    ) t`;
    assert.ok(n >= 1, "the store had open connections to end");
    // the first query may meet a connection the server just closed; the client then opens new ones
    let reads = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        reads = (await store.db.select().from(tenants)).length;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.equal(reads, 1);
    await store.write((tx) => tx.insert(tenants).values({ id: "ten_2", name: "two", created_at }));
    assert.equal((await store.db.select().from(tenants)).length, 2);
  } finally {
    await admin.end({ timeout: 1 });
    await store.close();
    await database.drop();
  }
});

Deno.test("PostgresStore: a write whose connection the server ends mid-transaction replaces the pool (the client's connection objects keep stale write state across reconnects); the next writes and reads run on the fresh pool", async () => {
  const database = await freshPostgresDatabase("replace");
  const store = await openPostgres({ url: database.url, poolMax: 4 });
  const admin = postgres(database.url.replace(/\/[^/]+$/, "/postgres"), { max: 1, onnotice: () => {} });
  try {
    const created_at = new Date(1_790_000_000_000);
    const first = store.sql;
    const cut = store.write(async (tx) => {
      await tx.run(sql`select pg_sleep(5)`);
    });
    const cutError = cut.then(() => null, (error) => error);
    await new Promise((r) => setTimeout(r, 300)); // the write is sleeping on its connection
    await admin`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = ${database.url.split("/").pop()!} and query like '%pg_sleep%'`;
    const error = await cutError;
    assert.ok(error instanceof BillingError, String(error));
    assert.equal(error.code, "database_unavailable");
    assert.notEqual(store.sql, first, "the pool the write lost its connection on was replaced");
    await store.write((tx) => tx.insert(tenants).values({ id: "ten_1", name: "one", created_at }));
    assert.equal((await store.db.select().from(tenants)).length, 1);
    const second = store.sql;
    await store.write((tx) => tx.insert(tenants).values({ id: "ten_2", name: "two", created_at }));
    assert.equal(store.sql, second, "a write that succeeds keeps the pool");
  } finally {
    await admin.end({ timeout: 1 });
    await store.close();
    await database.drop();
  }
});

Deno.test("PostgresStore.write(scope): `begin` and the tenant's locks go out in one socket write, before the write runs, on the write's own connection", async () => {
  const database = await freshPostgresDatabase("flight");
  let texts: string[] = [];
  const store = await openPostgres({
    url: database.url,
    poolMax: 4,
    onStatement: (text) => texts.push(text),
  });
  const scope = { tenantId: "ten_1", appId: "app_1" };
  const socketWrite = net.Socket.prototype.write;
  try {
    // the lock statement is prepared on its first use on a connection (one more round trip once)
    await store.write((tx) => tx.run(sql`select 1`), scope);
    let writes = 0;
    net.Socket.prototype.write = function (this: net.Socket, ...rest: unknown[]) {
      writes++;
      return (socketWrite as (...a: unknown[]) => boolean).apply(this, rest);
    } as typeof socketWrite;
    texts = [];
    let writesBeforeRun = -1;
    await store.write(async (tx) => {
      writesBeforeRun = writes;
      await tx.insert(tenants).values({ id: "ten_1", name: "one", created_at: new Date(1_790_000_000_000) });
    }, scope);
    net.Socket.prototype.write = socketWrite;
    assert.equal(writesBeforeRun, 1, "begin and the locks in one socket write");
    assert.equal(texts[0], "begin");
    assert.match(texts[1], /pg_advisory_xact_lock_shared\(.*pg_advisory_xact_lock\(hashtextextended/s);
    assert.match(texts[2], /^insert into "tenants"/);
    assert.equal(texts[3], "commit");
    assert.equal(texts.length, 4);
    assert.equal((await store.db.select().from(tenants)).length, 1);
  } finally {
    net.Socket.prototype.write = socketWrite;
    await store.close();
    await database.drop();
  }
});

Deno.test("PostgresStore.write(scope): a second store's write of a tenant starts only after the first store's write of it commits; another tenant's write runs meanwhile", async () => {
  const database = await freshPostgresDatabase("order");
  const a = await openPostgres({ url: database.url, poolMax: 4 });
  const b = await openPostgres({ url: database.url, poolMax: 4, migrate: false });
  const scope = { tenantId: "ten_1", appId: "app_1" };
  const other = { tenantId: "ten_2", appId: "app_1" };
  try {
    const events: string[] = [];
    const first = a.write(async (tx) => {
      events.push("a starts");
      await tx.run(sql`select pg_sleep(0.3)`);
      events.push("a ends");
    }, scope);
    await new Promise((r) => setTimeout(r, 100)); // a holds the lock, sleeping
    const second = b.write(() => {
      events.push("b starts");
      return Promise.resolve();
    }, scope);
    const unrelated = b.write(() => {
      events.push("other tenant");
      return Promise.resolve();
    }, other);
    await Promise.all([first, second, unrelated]);
    assert.deepEqual(events, ["a starts", "other tenant", "a ends", "b starts"]);
    // every connection went back to its pool: writes and reads keep running on both stores
    const created_at = new Date(1_790_000_000_000);
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 ? a : b).write(
          (tx) => tx.insert(tenants).values({ id: `ten_${i}`, name: `t${i}`, created_at }),
          scope,
        )),
    );
    assert.equal((await a.db.select().from(tenants)).length, 12);
  } finally {
    await a.close();
    await b.close();
    await database.drop();
  }
});

Deno.test("PostgresStore.write(scope): a write whose connection the server ends while it waits for the tenant's lock fails 503 and replaces the pool; the lock's holder commits and the next writes run", async () => {
  const database = await freshPostgresDatabase("lockcut");
  const a = await openPostgres({ url: database.url, poolMax: 4 });
  const b = await openPostgres({ url: database.url, poolMax: 4, migrate: false });
  const admin = postgres(database.url.replace(/\/[^/]+$/, "/postgres"), { max: 1, onnotice: () => {} });
  const scope = { tenantId: "ten_1", appId: "app_1" };
  const created_at = new Date(1_790_000_000_000);
  try {
    const holder = a.write(async (tx) => {
      await tx.run(sql`select pg_sleep(0.6)`);
      await tx.insert(tenants).values({ id: "ten_1", name: "one", created_at });
    }, scope);
    await new Promise((r) => setTimeout(r, 150)); // a holds the lock
    const firstPool = b.sql;
    const waiter = b.write((tx) => tx.insert(tenants).values({ id: "ten_2", name: "two", created_at }), scope)
      .then(() => null, (error) => error);
    await new Promise((r) => setTimeout(r, 150)); // b waits in pg_advisory_xact_lock
    const [{ n }] = await admin`select count(*)::int as n from (
      select pg_terminate_backend(pid) from pg_stat_activity
      where datname = ${database.url.split("/").pop()!} and wait_event_type = 'Lock'
        and query like '%pg_advisory_xact_lock%'
    ) t`;
    assert.equal(n, 1, "one backend waited for the tenant's lock");
    const error = await waiter;
    assert.ok(error instanceof BillingError, String(error));
    assert.equal(error.code, "database_unavailable");
    assert.notEqual(b.sql, firstPool, "the pool the write lost its connection on was replaced");
    await holder;
    await b.write((tx) => tx.insert(tenants).values({ id: "ten_3", name: "three", created_at }), scope);
    const ids = (await b.db.select().from(tenants)).map((t) => t.id).sort();
    assert.deepEqual(ids, ["ten_1", "ten_3"], "the cut write wrote nothing");
  } finally {
    await admin.end({ timeout: 1 });
    await a.close();
    await b.close();
    await database.drop();
  }
});

Deno.test("postgresArrayLiteral(): PostgreSQL reads back each element as bound (quotes, backslashes, braces, commas, NULL, the word NULL, empty strings, JSON, 1/0 as booleans)", async () => {
  const database = await freshPostgresDatabase("literal");
  const store = await openPostgres({ url: database.url, poolMax: 1 });
  try {
    const texts = [
      'a"b',
      "c\\d",
      "{x,y}",
      "",
      "NULL",
      null,
      "é ☃ 𝄞",
      " lead and trail ",
      '\\"',
      "line\nbreak",
    ];
    const numbers = [0, -1, 9_007_199_254_740_991, null, 1_790_000_000_000];
    const json = ['{"a":"q\\"uote","b":[1,null]}', null, "[]"];
    const flags = [1, 0, null, true, false];
    const literals = [texts, numbers, json, flags].map((values) => postgresArrayLiteral(values));
    assert.ok(literals.every((l) => typeof l === "string"));
    // read back as JSON: the client's own array parser reads an unquoted NULL as the string "NULL"
    const [row] = await store.sql.unsafe(
      `select array_to_json($1::text[])::text as t, array_to_json($2::bigint[])::text as n,
        array_to_json($3::json[])::text as j, array_to_json($4::boolean[])::text as f`,
      literals as string[],
    );
    assert.deepEqual(JSON.parse(row.t), texts);
    assert.deepEqual(JSON.parse(row.n), numbers);
    assert.deepEqual(JSON.parse(row.j), json.map((j) => j === null ? null : JSON.parse(j)));
    assert.deepEqual(JSON.parse(row.f), [true, false, null, true, false]);
    assert.equal(postgresArrayLiteral([]), "{}");
    assert.equal(postgresArrayLiteral([{ a: 1 }]), undefined, "objects are left to the client");
    assert.equal(postgresArrayLiteral([Number.NaN]), undefined);
  } finally {
    await store.close();
    await database.drop();
  }
});

Deno.test("PostgresStore.write(): when the server ends the write's connection while the write awaits something else, its next statement is refused (never run on a new session outside the transaction) and nothing of it is stored", async () => {
  const database = await freshPostgresDatabase("between");
  const store = await openPostgres({ url: database.url, poolMax: 4 });
  const admin = postgres(database.url.replace(/\/[^/]+$/, "/postgres"), { max: 1, onnotice: () => {} });
  const created_at = new Date(1_790_000_000_000);
  try {
    // the write fails as soon as the connection closes; its function goes on and tries once more
    let second: Promise<unknown> = Promise.resolve("not tried");
    const error = await store.write(async (tx) => {
      await tx.insert(tenants).values({ id: "ten_1", name: "one", created_at });
      const [[pid]] = await tx.values<[number]>(sql`select pg_backend_pid()`);
      await admin`select pg_terminate_backend(${pid}::int)`;
      await new Promise((r) => setTimeout(r, 200)); // the client sees the connection close
      second = Promise.resolve(tx.insert(tenants).values({ id: "ten_2", name: "two", created_at }))
        .then(() => "stored", (e) => e);
      await second;
    }, { tenantId: "ten_1", appId: "app_1" }).then(() => null, (e) => e);
    assert.ok(error instanceof BillingError, String(error));
    assert.equal(error.code, "database_unavailable");
    await new Promise((r) => setTimeout(r, 400));
    const refused = await second;
    // drizzle's `Failed query` around the store's 503
    const cause = (refused as Error).cause;
    assert.ok(cause instanceof BillingError, String(refused));
    assert.equal(cause.code, "database_unavailable");
    await store.write((tx) => tx.insert(tenants).values({ id: "ten_3", name: "three", created_at }));
    assert.deepEqual((await store.db.select().from(tenants)).map((t) => t.id), ["ten_3"]);
  } finally {
    await admin.end({ timeout: 1 });
    await store.close();
    await database.drop();
  }
});
