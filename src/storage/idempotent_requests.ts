/**
 * The table of stored `Idempotency-Key` answers (`idempotent_requests`): read one key of an app,
 * store an answer (replacing an expired one, keeping one stored meanwhile), prune old answers.
 * The HTTP middleware (`http/idempotency.ts`) decides; this module only reads and writes.
 *
 * @module
 */
import { and, eq, sql } from "drizzle-orm";
import type { Scope } from "../domain/scope.ts";
import type { Store } from "./db.ts";
import { idempotentRequests } from "./schema.ts";

/** One stored answer. */
export type StoredAnswer = typeof idempotentRequests.$inferSelect;

function keyOf(scope: Scope, key: string) {
  return and(
    eq(idempotentRequests.tenant_id, scope.tenantId),
    eq(idempotentRequests.app_id, scope.appId),
    eq(idempotentRequests.idempotency_key, key),
  );
}

/** The answer stored under `key` in the scope's app, if any (expired or not). */
export async function findStoredAnswer(
  store: Store,
  scope: Scope,
  key: string,
): Promise<StoredAnswer | undefined> {
  const [row] = await store.db.select().from(idempotentRequests).where(keyOf(scope, key)).limit(1);
  return row;
}

/**
 * Stores an answer. `replaceExpired`: an expired answer is stored under the key and is replaced;
 * otherwise an answer stored meanwhile (a concurrent first request) is kept: the first one wins.
 */
export async function storeAnswer(store: Store, row: StoredAnswer, replaceExpired: boolean): Promise<void> {
  const scope = { tenantId: row.tenant_id, appId: row.app_id };
  await store.write(async (tx) => {
    if (replaceExpired) await tx.delete(idempotentRequests).where(keyOf(scope, row.idempotency_key));
    await tx.insert(idempotentRequests).values(row).onConflictDoNothing();
  });
}

/**
 * Deletes answers stored before `cutoff` (every tenant of the database), at most `limit`.
 *
 * @returns rows deleted
 */
export async function pruneStoredAnswers(store: Store, cutoff: Date, limit: number): Promise<number> {
  return await store.write(async (tx) => {
    const deleted = await tx.delete(idempotentRequests).where(sql`rowid in (
      select rowid from idempotent_requests where created_at < ${cutoff.getTime()} limit ${limit}
    )`).returning({ key: idempotentRequests.idempotency_key });
    return deleted.length;
  });
}
