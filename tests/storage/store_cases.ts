/**
 * The storage contract every `Store` must keep (`src/storage/db.ts`), as cases that take a store:
 * run against libSQL in Deno and against a Durable Object's SQLite in workerd
 * (`store_suite_test.ts`). Plain `node:assert`, no Deno APIs, so the same module bundles into the
 * workerd probe.
 *
 * @module
 */
import assert from "node:assert/strict";
import { count, eq, inArray } from "drizzle-orm";
import type { Store } from "../../src/storage/db.ts";
import { isUniqueViolation } from "../../src/storage/sql_errors.ts";
import { tenants } from "../../src/storage/schema.ts";
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
];
