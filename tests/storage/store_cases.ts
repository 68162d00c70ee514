/**
 * The storage contract every `Store` must keep (`src/storage/db.ts`), as cases that take a store:
 * run against libSQL in Deno and against a Durable Object's SQLite in workerd
 * (`store_suite_test.ts`). Plain `node:assert`, no Deno APIs, so the same module bundles into the
 * workerd probe.
 *
 * @module
 */
import assert from "node:assert/strict";
import { count, eq, inArray, sql } from "drizzle-orm";
import type { Store } from "../../src/storage/db.ts";
import { isUniqueViolation } from "../../src/storage/sql_errors.ts";
import { customers, tenants } from "../../src/storage/schema.ts";
import { scoped } from "../../src/storage/scoped.ts";
import { inChunks, insertChunked, limitsOf, parametersPerRow } from "../../src/storage/limits.ts";

/** One storage case. */
export interface StoreCase {
  name: string;
  run(store: Store): Promise<void>;
}

async function tenantCount(store: Store): Promise<number> {
  const [row] = await store.db.select({ n: count() }).from(tenants);
  return row.n;
}

/** Something that really leaves the event loop turn (not just a resolved promise). */
async function realAwait(): Promise<void> {
  await crypto.subtle.digest("SHA-256", new TextEncoder().encode("pause"));
  await new Promise((r) => setTimeout(r, 1));
}

/** The cases. */
export const storeCases: StoreCase[] = [
  {
    name: "a write commits when its closure resolves and returns its value",
    async run(store) {
      const value = await store.write(async (tx) => {
        await tx.insert(tenants).values({ id: "ten_commit", name: "commit", created_at: new Date(0) });
        return "done";
      });
      assert.equal(value, "done");
      assert.equal(await tenantCount(store), 1);
      const row = await store.db.query.tenants.findFirst({ where: eq(tenants.id, "ten_commit") });
      assert.deepEqual(row, { id: "ten_commit", name: "commit", created_at: new Date(0) });
    },
  },
  {
    name: "a write that throws after writing and awaiting leaves nothing behind",
    async run(store) {
      await assert.rejects(
        store.write(async (tx) => {
          await tx.insert(tenants).values({ id: "ten_a", name: "a", created_at: new Date(1) });
          await realAwait();
          await tx.insert(tenants).values({ id: "ten_b", name: "b", created_at: new Date(2) });
          throw new Error("business rule failed");
        }),
        /business rule failed/,
      );
      assert.equal(await tenantCount(store), 0);
      // the lane is still usable after a failure
      await store.write(async (tx) =>
        void (await tx.insert(tenants).values({ id: "ten_c", name: "c", created_at: new Date(3) }))
      );
      assert.equal(await tenantCount(store), 1);
    },
  },
  {
    name: "concurrent writes run one after another in submission order",
    async run(store) {
      const log: string[] = [];
      await Promise.all(Array.from({ length: 5 }, (_, i) =>
        store.write(async (tx) => {
          log.push(`start ${i}`);
          await realAwait();
          const before = await tenantCount(store);
          await tx.insert(tenants).values({ id: `ten_${i}`, name: `n${i}`, created_at: new Date(i) });
          log.push(`end ${i} saw ${before}`);
        })));
      assert.deepEqual(log, [0, 1, 2, 3, 4].flatMap((i) => [`start ${i}`, `end ${i} saw ${i}`]));
    },
  },
  {
    name: "a UNIQUE violation is recognized and rolls the whole write back",
    async run(store) {
      await store.write(async (tx) =>
        void (await tx.insert(tenants).values({ id: "ten_1", name: "same", created_at: new Date(0) }))
      );
      let caught: unknown;
      try {
        await store.write(async (tx) => {
          await tx.insert(tenants).values({ id: "ten_2", name: "other", created_at: new Date(0) });
          await tx.insert(tenants).values({ id: "ten_3", name: "same", created_at: new Date(0) });
        });
      } catch (error) {
        caught = error;
      }
      assert.ok(isUniqueViolation(caught), `not recognized as a UNIQUE violation: ${String(caught)}`);
      assert.equal(await tenantCount(store), 1);
    },
  },
  {
    name: "every index of a scoped table starts with tenant_id, app_id except the three global ones",
    async run(store) {
      const rows = await store.db.all<{ type: string; name: string; tbl_name: string; sql: string | null }>(
        sql`select type, name, tbl_name, sql from sqlite_master where type in ('table', 'index')`,
      );
      // Tables whose every row belongs to one scope (the operator's dead letters may have none).
      const scopedTables = new Set(
        rows.filter((r) => r.type === "table" && /[`"]app_id[`"] text NOT NULL/.test(r.sql ?? ""))
          .map((r) => r.tbl_name),
      );
      assert.ok(scopedTables.size >= 30, `scoped tables found: ${scopedTables.size}`);
      const offenders = rows
        .filter((r) => r.type === "index" && r.sql !== null && scopedTables.has(r.tbl_name))
        .filter((r) => !/\(\s*[`"]tenant_id[`"]\s*,\s*[`"]app_id[`"]/.test(r.sql!))
        .map((r) => r.name)
        .sort();
      // Documented in src/storage/schema.ts and the README: key lookup, CORS preflight, fan-out queue.
      assert.deepEqual(offenders, [
        "api_keys_hash_uq",
        "app_origins_origin_idx",
        "outbox_events_pending_idx",
      ]);
    },
  },
  {
    name: "scoped(): reads, updates and deletes see only their scope; inserts stamp it",
    async run(store) {
      const a = { tenantId: "ten_a", appId: "app_a" };
      const b = { tenantId: "ten_a", appId: "app_b" };
      const row = (id: string) => ({
        id,
        external_id: "same",
        name: null,
        email: null,
        created_at: new Date(0),
      });
      await store.write(async (tx) => {
        await scoped(tx, a).insert(customers, row("cus_a"));
        await scoped(tx, b).insert(customers, [row("cus_b")]);
      });
      const all = await store.db.select().from(customers).orderBy(customers.id);
      assert.deepEqual(all.map((r) => [r.id, r.tenant_id, r.app_id]), [
        ["cus_a", "ten_a", "app_a"],
        ["cus_b", "ten_a", "app_b"],
      ]);
      const sa = scoped(store.db, a);
      assert.deepEqual((await sa.select(customers)).map((r) => r.id), ["cus_a"]);
      assert.equal(await sa.first(customers, eq(customers.id, "cus_b")), undefined);
      assert.equal(await sa.count(customers), 1);
      await store.write(async (tx) => {
        await scoped(tx, a).update(customers, { name: "renamed" });
        await scoped(tx, a).delete(customers, eq(customers.id, "cus_b"));
      });
      const after = await store.db.select().from(customers).orderBy(customers.id);
      assert.deepEqual(after.map((r) => [r.id, r.name]), [["cus_a", "renamed"], ["cus_b", null]]);
    },
  },
  {
    name: "statement limits are the store's real ones; insertChunked and inChunks stay under them",
    async run(store) {
      const limits = store.limits;
      assert.equal(limitsOf(store.db), limits, "the read handle carries the store's limits");
      const perRow = parametersPerRow(tenants);
      const n = Math.floor(limits.maxParameters / perRow) + 1; // one row more than one statement binds
      const rows = Array.from({ length: n }, (_, i) => ({
        id: `ten_${String(i).padStart(6, "0")}`,
        name: `limit-${i}`,
        created_at: new Date(i),
      }));
      await assert.rejects(
        store.write(async (tx) => void (await tx.insert(tenants).values(rows))),
        "one statement over the limit is refused by the store itself",
      );
      assert.equal(await tenantCount(store), 0);
      await store.write(async (tx) => {
        assert.equal(limitsOf(tx), limits, "a transaction handle carries the store's limits");
        await insertChunked(tx, tenants, rows);
      });
      assert.equal(await tenantCount(store), n);
      const ids = rows.map((r) => r.id);
      const found: string[] = [];
      for (const chunk of inChunks(store.db, ids, 0)) {
        found.push(
          ...(await store.db.select({ id: tenants.id }).from(tenants).where(inArray(tenants.id, chunk)))
            .map((r) => r.id),
        );
      }
      assert.deepEqual(found.sort(), ids);
    },
  },
  {
    name: "scoped().insertMany() stamps 1000 rows in statements under the store's limits",
    async run(store) {
      const scope = { tenantId: "ten_many", appId: "app_many" };
      const rows = Array.from({ length: 1000 }, (_, i) => ({
        id: `cus_${String(i).padStart(6, "0")}`,
        external_id: `ext-${i}`,
        name: null,
        email: null,
        created_at: new Date(i),
      }));
      await store.write((tx) => scoped(tx, scope).insertMany(customers, rows));
      const s = scoped(store.db, scope);
      assert.equal(await s.count(customers), 1000);
      assert.equal(await scoped(store.db, { tenantId: "ten_many", appId: "other" }).count(customers), 0);
      const stored = await s.select(customers, undefined, { orderBy: [customers.id], limit: 3 });
      assert.deepEqual(stored.map((r) => [r.id, r.tenant_id, r.app_id]), [
        ["cus_000000", "ten_many", "app_many"],
        ["cus_000001", "ten_many", "app_many"],
        ["cus_000002", "ten_many", "app_many"],
      ]);
    },
  },
];
