/**
 * The reconcile step of reservations tied to idempotency keys (ADR 0009, "Reservations tied to
 * idempotency keys"). A consuming check reserves its units in Redis under its idempotency key
 * before the usage event is written; when that write never happens (the process died between
 * Redis and the database, the client gave up after a Redis timeout and never retried, the give-back
 * itself failed), the units would stay reserved until the period ends. This job compares every
 * reservation held longer than the grace period with the store: the event of its key is stored →
 * the units are kept; it is not → they go back to the counter. Only Redis live stores hold
 * reservations; with any other store the job does nothing, and so does an edge node (ADR 0014).
 *
 * @module
 */
import type { Services } from "../context.ts";
import type { Scope } from "../domain/scope.ts";
import { appById, scopesOfDatabase } from "../tenants/repository.ts";
import { existingHashes } from "../usage/service.ts";
import type { LiveEntitlementStore } from "./live_store.ts";
import type { ReconcileOptions, ReconcileReport, RedisLiveEntitlements } from "./live_store_redis.ts";

/** A live store that can settle its reservations (the Redis store). */
type Reconciling = LiveEntitlementStore & Pick<RedisLiveEntitlements, "reconcile">;

function reconciling(store: LiveEntitlementStore | undefined): Reconciling | null {
  const candidate = store as Partial<Reconciling> | undefined;
  return candidate && typeof candidate.reconcile === "function" ? candidate as Reconciling : null;
}

/**
 * Most apps a database may hold for the reconcile to visit each of them by name instead of
 * scanning Redis' keyspace for reservation sets: a visit is one script call per app and run, a
 * scan one call per 1000 keys of the whole keyspace (counters, records, every tenant's).
 */
export const RECONCILE_APPS_BY_NAME = 100;

/**
 * Settles the reservations of every app this process's database holds (apps it does not hold —
 * another tenant object's on Workers — are skipped and left to their owner). A database with at
 * most {@link RECONCILE_APPS_BY_NAME} apps (every tenant object, a small deployment) visits its
 * own apps' reservation sets by name; a larger one scans Redis for them. Idempotent and
 * bounded: each app's due reservations are settled by one script, at most
 * `RECONCILE_BATCH` per app and run; an interrupted run leaves the rest held for the next one.
 *
 * @returns what was kept and released (all zero without a Redis live store)
 * @throws {LiveStoreUnavailable} when Redis cannot be reached (the next run retries)
 */
export async function reconcileReservations(
  services: Services,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const store = reconciling(services.live);
  // An edge node's database is a replica plus its outbox (ADR 0014): it cannot tell a stored
  // event from one still on its way, so it leaves its reservations to the billing process.
  if (!store || services.usageSink) return { kept: 0, released: 0, skipped_apps: 0 };
  const db = services.database.db;
  const listed = options.scopes ?? await scopesOfDatabase(db, RECONCILE_APPS_BY_NAME + 1);
  const scopes = listed.length <= RECONCILE_APPS_BY_NAME ? listed : undefined;
  return await store.reconcile(async (scope: Scope, ids: readonly string[]) => {
    if (!(await appById(db, scope.tenantId, scope.appId))) return null;
    return new Set((await existingHashes(scope, db, ids)).keys());
  }, { ...options, scopes });
}
