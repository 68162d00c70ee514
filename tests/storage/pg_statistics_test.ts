/**
 * Planner statistics that follow the tables a process writes (`src/storage/pg_statistics.ts`,
 * ADR 0011 "Planner statistics"): the bookkeeping alone, then a real PostgreSQL database on
 * which a writer's ledger batches get the idempotency-key lookup through the unique index
 * instead of a read of the tenant's whole journal.
 *
 * @module
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { insertedTable, TableStatistics } from "../../src/storage/pg_statistics.ts";
import { openPostgres } from "../../src/storage/postgres.ts";
import { InProcessWriter } from "../../src/ledger/writer.ts";
import { freshPostgresDatabase } from "../pg_helpers.ts";

Deno.test("insertedTable(): the table of an insert, nothing for other statements", () => {
  assert.equal(
    insertedTable(`insert into "ledger_entries" ("id") select * from unnest($1::text[])`),
    "ledger_entries",
  );
  assert.equal(insertedTable(`  INSERT INTO "audit_events" ("id") values ($1)`), "audit_events");
  assert.equal(insertedTable(`select "id" from "ledger_entries" where "id" = $1`), undefined);
  assert.equal(insertedTable(`update "ledger_balances" set "held" = 0`), undefined);
  assert.equal(insertedTable(`with x as (insert into "t" values (1)) select 1`), undefined);
});

Deno.test("TableStatistics: a table is due at its threshold, which then doubles up to the maximum", () => {
  const stats = new TableStatistics(100, 300);
  const insert = `insert into "ledger_postings" ("id") select * from unnest(?::text[])`;
  stats.noteStatement(insert, 99);
  stats.noteStatement(`select * from "ledger_postings" where "id" = any(?::text[])`, 5000);
  stats.noteStatement(`insert into "audit_events" ("id") values (?)`, 0);
  assert.deepEqual(stats.due(), []);
  stats.noteStatement(insert, 1);
  assert.deepEqual(stats.due(), ["ledger_postings"]);
  assert.deepEqual(stats.due(), [], "due once per threshold");
  stats.noteStatement(insert, 199);
  assert.deepEqual(stats.due(), []);
  stats.noteStatement(insert, 1);
  assert.deepEqual(stats.due(), ["ledger_postings"], "second threshold: 200");
  stats.noteStatement(insert, 300);
  assert.deepEqual(stats.due(), ["ledger_postings"], "third: 400 capped at 300");
  stats.noteStatement(insert, 300);
  assert.deepEqual(stats.due(), ["ledger_postings"], "stays at the maximum");
  assert.throws(() => new TableStatistics(0, 10), RangeError);
  assert.throws(() => new TableStatistics(10, 5), RangeError);
  assert.throws(() => new TableStatistics(1.5, 5), RangeError);
});

/** The index of the generic plan of the writer's idempotency-key lookup on `ledger_entries`. */
async function keyLookupIndex(
  url: string,
  tenantId: string,
  appId: string,
  keys: string[],
): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await sql.begin(async (tx) => {
      await tx`set local plan_cache_mode = force_generic_plan`;
      await tx.unsafe(
        `prepare lookup(text, text, text[]) as select "id" from "ledger_entries"
         where "tenant_id" = $1 and "app_id" = $2 and "idempotency_key" = any($3)`,
      );
      // EXPLAIN EXECUTE takes no bound parameters: the test's ids and keys are plain [0-9a-z_-]
      assert.ok([tenantId, appId, ...keys].every((v) => /^[0-9a-z_-]+$/.test(v)));
      const [row] = await tx.unsafe(
        `explain (format json) execute lookup('${tenantId}', '${appId}', '{${keys.join(",")}}')`,
      );
      const names: string[] = [];
      const walk = (node: Record<string, unknown>) => {
        if (typeof node["Index Name"] === "string") names.push(node["Index Name"]);
        for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
      };
      const plan = row["QUERY PLAN"];
      walk((typeof plan === "string" ? JSON.parse(plan) : plan)[0].Plan);
      await tx`deallocate lookup`;
      return names;
    });
  } finally {
    await sql.end({ timeout: 1 });
  }
}

Deno.test(
  "PostgreSQL store: a fresh database is analyzed as the writer fills it, so 700-key lookups probe the unique index",
  async () => {
    const database = await freshPostgresDatabase("stats");
    const store = await openPostgres({ url: database.url, analyzeAfterRows: 500 });
    try {
      const writer = new InProcessWriter({ storage: store, clock: { now: () => new Date() } });
      const scope = { tenantId: "ten_01kbs0m3tqe8fvb4xj1z6h2p9c", appId: "app_01kbs0m3tqe8fvb4xj1z6h2p9d" };
      const ids: string[] = [];
      for (const [name, type] of [["cash", "asset"], ["revenue", "revenue"]] as const) {
        const { value } = await writer.submit(scope, { kind: "ensure_account", name, type, currency: "USD" });
        ids.push(value.account!.id);
      }
      // 3000 entries in batches of 300 (two postings each): thresholds 500, 1000, 2000 rows
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(Array.from({ length: 300 }, (_, i) =>
          writer.submit(scope, {
            kind: "post_entry",
            idempotency_key: `k${batch}-${i}`,
            postings: [{ account_id: ids[0], amount: 100, currency: "USD" }, {
              account_id: ids[1],
              amount: -100,
              currency: "USD",
            }],
          })));
      }
      let analyzed: Record<string, unknown>[] = [];
      for (let waited = 0; waited < 10_000; waited += 100) {
        analyzed = await store.sql`select relname from pg_stat_user_tables
          where relname in ('ledger_entries', 'ledger_postings') and last_analyze is not null order by relname`;
        if (analyzed.length === 2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(analyzed.map((r) => r.relname), ["ledger_entries", "ledger_postings"]);
      const [{ n }] = await store.sql`select count(*)::int as n from ledger_entries`;
      assert.equal(n, 3000);
      const keys = Array.from({ length: 700 }, (_, i) => `k${i % 7}-${i}`);
      assert.deepEqual(await keyLookupIndex(database.url, scope.tenantId, scope.appId, keys), [
        "ledger_entries_scope_key_uq",
      ]);
    } finally {
      await store.close();
      await database.drop();
    }
  },
);
