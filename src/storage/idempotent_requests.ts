/**
 * The table of stored `Idempotency-Key` answers (`idempotent_requests`): read one key of an app,
 * store an answer (replacing an expired one, keeping one stored meanwhile), prune old answers.
 * The HTTP middleware (`http/idempotency.ts`) decides; this module only reads and writes, each
 * scope's rows through the tenancy filter of `scoped.ts` (pruning is global on purpose: one
 * maintenance job expires every tenant's answers).
 *
 * @module
 */
import { eq, sql } from "drizzle-orm";
import type { Scope } from "../domain/scope.ts";
import type { Store } from "./db.ts";
import { idempotentRequests } from "./schema.ts";
import { scoped } from "./scoped.ts";

/** One stored answer. */
export type StoredAnswer = typeof idempotentRequests.$inferSelect;

/** The answer stored under `key` in the scope's app, if any (expired or not). */
export async function findStoredAnswer(
  store: Store,
  scope: Scope,
  key: string,
): Promise<StoredAnswer | undefined> {
  return await scoped(store.db, scope).first(idempotentRequests, eq(idempotentRequests.idempotency_key, key));
}

/**
 * Stores an answer. `replaceExpired`: an expired answer is stored under the key and is replaced;
 * otherwise an answer stored meanwhile (a concurrent first request) is kept: the first one wins.
 */
export async function storeAnswer(store: Store, row: StoredAnswer, replaceExpired: boolean): Promise<void> {
  const { tenant_id, app_id, ...answer } = row;
  await store.write(async (tx) => {
    const s = scoped(tx, { tenantId: tenant_id, appId: app_id });
    if (replaceExpired) {
      await s.delete(idempotentRequests, eq(idempotentRequests.idempotency_key, row.idempotency_key));
    }
    await s.insert(idempotentRequests, answer).onConflictDoNothing();
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
