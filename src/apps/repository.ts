/**
 * Allowed browser origins of one scope, through the one tenancy filter of `storage/scoped.ts`,
 * plus the one global lookup a key-less CORS preflight needs (`app_origins_origin_idx`).
 *
 * @module
 */
import { eq } from "drizzle-orm";
import type { Executor } from "../storage/db.ts";
import { appOrigins } from "../storage/schema.ts";
import { type TableRepository, tableRepository } from "../storage/scoped.ts";

/** The scope's allowed origins. */
export const originRows: TableRepository<typeof appOrigins> = tableRepository(appOrigins);

/** Whether any app of any tenant allows `origin` (global on purpose: a preflight has no key). */
export async function anyAppAllowsOrigin(exec: Executor, origin: string): Promise<boolean> {
  const rows = await exec.select({ app_id: appOrigins.app_id }).from(appOrigins)
    .where(eq(appOrigins.origin, origin)).limit(1);
  return rows.length > 0;
}

/**
 * Every origin any app of the database allows, once each. On a tenant's Durable Object the
 * database holds that one tenant, so this is the tenant's set (published to the directory).
 */
export async function originsOfAllApps(exec: Executor): Promise<string[]> {
  const rows = await exec.selectDistinct({ origin: appOrigins.origin }).from(appOrigins);
  return rows.map((r) => r.origin);
}
