/**
 * The tenancy tables themselves (tenants, apps, API keys). They are what a scope is made of, so
 * two lookups here are global on purpose: a tenant by its unique name (admin creation) and an
 * API key by its hash (authentication, before any scope is known; `api_keys_hash_uq`).
 *
 * @module
 */
import { and, eq, isNull } from "drizzle-orm";
import type { Executor } from "../storage/db.ts";
import { apiKeys, apps, tenants } from "../storage/schema.ts";

/** A tenant row. */
export type TenantRow = typeof tenants.$inferSelect;
/** An app row (`tenant_id` + `id` form a scope). */
export type AppRow = typeof apps.$inferSelect;
/** An API key row (hash of the key, never the key). */
export type ApiKeyRow = typeof apiKeys.$inferSelect;

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
