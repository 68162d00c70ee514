/**
 * The tenancy tables themselves (tenants, apps, API keys). They are what a scope is made of, so
 * two lookups here are global on purpose: a tenant by its unique name (admin creation) and an
 * API key by its hash (authentication, before any scope is known; `api_keys_hash_uq`).
 *
 * @module
 */
import { and, asc, count, desc, eq, gt, isNotNull, isNull } from "drizzle-orm";
import type { Executor } from "../storage/db.ts";
import type { Scope } from "../domain/scope.ts";
import { adminTokens, apiKeys, apps, tenants } from "../storage/schema.ts";

/** A tenant row. */
export type TenantRow = typeof tenants.$inferSelect;
/** An app row (`tenant_id` + `id` form a scope). */
export type AppRow = typeof apps.$inferSelect;
/** An API key row (hash of the key, never the key). */
export type ApiKeyRow = typeof apiKeys.$inferSelect;
/** An admin token row (hash of the token, never the token). */
export type AdminTokenRow = typeof adminTokens.$inferSelect;

/** The tenant named `name`, or undefined (global: tenant names are unique). */
export function tenantByName(exec: Executor, name: string): Promise<TenantRow | undefined> {
  return exec.query.tenants.findFirst({ where: eq(tenants.name, name) });
}

/** Inserts a tenant. */
export async function insertTenant(exec: Executor, row: TenantRow): Promise<void> {
  await exec.insert(tenants).values(row);
}

/** The tenant's app named `name`, or undefined. */
export function appByName(exec: Executor, tenantId: string, name: string): Promise<AppRow | undefined> {
  return exec.query.apps.findFirst({ where: and(eq(apps.tenant_id, tenantId), eq(apps.name, name)) });
}

/** The tenant's app with id `appId`, or undefined. */
export function appById(exec: Executor, tenantId: string, appId: string): Promise<AppRow | undefined> {
  return exec.query.apps.findFirst({ where: and(eq(apps.tenant_id, tenantId), eq(apps.id, appId)) });
}

/** Inserts an app and its keys in one go (the caller's transaction). */
export async function insertAppWithKeys(
  exec: Executor,
  app: AppRow,
  keys: (typeof apiKeys.$inferInsert)[],
): Promise<void> {
  await exec.insert(apps).values(app);
  await exec.insert(apiKeys).values(keys);
}

/** The unrevoked key whose SHA-256 is `hash`, or undefined (global: `api_keys_hash_uq`). */
export function activeKeyByHash(exec: Executor, hash: string): Promise<ApiKeyRow | undefined> {
  return exec.query.apiKeys.findFirst({ where: and(eq(apiKeys.hash, hash), isNull(apiKeys.revoked_at)) });
}

/** The unrevoked key with id `keyId` of app `appId`, or undefined. */
export function activeKeyOfAppById(
  exec: Executor,
  appId: string,
  keyId: string,
): Promise<ApiKeyRow | undefined> {
  return exec.query.apiKeys.findFirst({
    where: and(eq(apiKeys.id, keyId), eq(apiKeys.app_id, appId), isNull(apiKeys.revoked_at)),
  });
}

/** The key of app `appId` whose SHA-256 is `hash` (revoked or not), or undefined. */
export function keyOfAppByHash(exec: Executor, appId: string, hash: string): Promise<ApiKeyRow | undefined> {
  return exec.query.apiKeys.findFirst({ where: and(eq(apiKeys.hash, hash), eq(apiKeys.app_id, appId)) });
}

/** The app with id `appId` of whichever tenant owns it, or undefined (global: provider callbacks name the app). */
export function appOfAnyTenant(exec: Executor, appId: string): Promise<AppRow | undefined> {
  return exec.query.apps.findFirst({ where: eq(apps.id, appId) });
}

/** Inserts one API key. */
export async function insertKey(exec: Executor, row: typeof apiKeys.$inferInsert): Promise<void> {
  await exec.insert(apiKeys).values(row);
}

/** The key with id `keyId` of the scope's app (revoked or not), or undefined. */
export function keyOfScopeById(
  exec: Executor,
  scope: Scope,
  keyId: string,
): Promise<ApiKeyRow | undefined> {
  return exec.query.apiKeys.findFirst({
    where: and(eq(apiKeys.tenant_id, scope.tenantId), eq(apiKeys.app_id, scope.appId), eq(apiKeys.id, keyId)),
  });
}

/** One page of the scope's keys in id order, after `afterId`; `limit` rows at most. */
export function keysOfScope(
  exec: Executor,
  scope: Scope,
  afterId: string | undefined,
  limit: number,
): Promise<ApiKeyRow[]> {
  return exec.select().from(apiKeys).where(
    and(
      eq(apiKeys.tenant_id, scope.tenantId),
      eq(apiKeys.app_id, scope.appId),
      afterId ? gt(apiKeys.id, afterId) : undefined,
    ),
  ).orderBy(asc(apiKeys.id)).limit(limit);
}

/** How many unrevoked keys the scope's app holds. */
export async function unrevokedKeyCount(exec: Executor, scope: Scope): Promise<number> {
  const [row] = await exec.select({ n: count() }).from(apiKeys).where(
    and(eq(apiKeys.tenant_id, scope.tenantId), eq(apiKeys.app_id, scope.appId), isNull(apiKeys.revoked_at)),
  );
  return Number(row?.n ?? 0);
}

/** Sets `expires_at` and/or `revoked_at` of one key of the scope's app. */
export async function updateKey(
  exec: Executor,
  scope: Scope,
  keyId: string,
  set: { expires_at?: Date | null; revoked_at?: Date },
): Promise<void> {
  await exec.update(apiKeys).set(set).where(
    and(eq(apiKeys.tenant_id, scope.tenantId), eq(apiKeys.app_id, scope.appId), eq(apiKeys.id, keyId)),
  );
}

/** The unrevoked keys of every app of this database (the Worker's directory is rebuilt from them). */
export function unrevokedKeysOfApp(exec: Executor, appId: string): Promise<ApiKeyRow[]> {
  return exec.select().from(apiKeys).where(and(eq(apiKeys.app_id, appId), isNull(apiKeys.revoked_at)))
    .orderBy(asc(apiKeys.id)).limit(MAX_KEYS_PER_APP);
}

/** Hashes of the app's revoked keys, newest ids first (at most `limit`; the directory drops their entries). */
export async function revokedKeyHashesOfApp(exec: Executor, appId: string, limit: number): Promise<string[]> {
  const rows = await exec.select({ hash: apiKeys.hash }).from(apiKeys)
    .where(and(eq(apiKeys.app_id, appId), isNotNull(apiKeys.revoked_at)))
    .orderBy(desc(apiKeys.id)).limit(limit);
  return rows.map((r) => r.hash);
}

/** Most unrevoked keys of one app (a limit on everything; the directory publishes them in one call). */
export const MAX_KEYS_PER_APP = 100;

/** The admin token row whose SHA-256 is `hash` (global: `admin_tokens_hash_uq`), or undefined. */
export function adminTokenByHash(exec: Executor, hash: string): Promise<AdminTokenRow | undefined> {
  return exec.query.adminTokens.findFirst({ where: eq(adminTokens.hash, hash) });
}

/** The admin token row `id`, or undefined. */
export function adminTokenById(exec: Executor, id: string): Promise<AdminTokenRow | undefined> {
  return exec.query.adminTokens.findFirst({ where: eq(adminTokens.id, id) });
}

/** Inserts an admin token row. */
export async function insertAdminToken(exec: Executor, row: AdminTokenRow): Promise<void> {
  await exec.insert(adminTokens).values(row);
}

/** Sets `expires_at` and/or `revoked_at` of one admin token row. */
export async function updateAdminToken(
  exec: Executor,
  id: string,
  set: { expires_at?: Date | null; revoked_at?: Date },
): Promise<void> {
  await exec.update(adminTokens).set(set).where(eq(adminTokens.id, id));
}

/** Admin token rows in id order (at most `limit`, newest ids last). */
export function adminTokenRows(exec: Executor, limit: number): Promise<AdminTokenRow[]> {
  return exec.select().from(adminTokens).orderBy(asc(adminTokens.id)).limit(limit);
}

/**
 * The scopes (tenant and app) of this database's apps in app id order, at most `limit` (a tenant
 * Durable Object holds one tenant's few apps; a shared database may hold many more).
 */
export async function scopesOfDatabase(exec: Executor, limit: number): Promise<Scope[]> {
  const rows = await exec.select({ tenantId: apps.tenant_id, appId: apps.id }).from(apps).orderBy(
    asc(apps.id),
  )
    .limit(limit);
  return rows.map((r) => ({ tenantId: r.tenantId, appId: r.appId }));
}

/** Ids of every app of this database (a tenant Durable Object holds one tenant's few apps). */
export async function appIdsOfDatabase(exec: Executor): Promise<string[]> {
  return (await exec.select({ id: apps.id }).from(apps).orderBy(asc(apps.id)).limit(1000)).map((r) => r.id);
}
