/**
 * The cheapest question a store can answer, for readiness probes.
 *
 * @module
 */
import { sql } from "drizzle-orm";
import type { Store } from "./db.ts";

/**
 * Runs `select 1` on the store's read handle.
 *
 * @throws the driver's error when the database does not answer
 */
export async function pingStore(store: Store): Promise<void> {
  await store.db.get(sql`select 1`);
}
