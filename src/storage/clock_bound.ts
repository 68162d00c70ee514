/**
 * Which customers live on a test clock (`customers.test_clock_id`), as SQL conditions the
 * global jobs' queries add: the wall-clock jobs (billing cycle, credit expiry, the lifecycle
 * sweeper) skip clock-bound customers, whose time moves only by `POST /v1/test_clocks/{id}/advance`;
 * the advance works on exactly one clock's customers.
 *
 * @module
 */
import { type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";

/** The tenant, app and customer columns of a row that belongs to a customer. */
export interface CustomerColumns {
  /** The row's `tenant_id` column. */
  tenant_id: SQLiteColumn;
  /** The row's `app_id` column. */
  app_id: SQLiteColumn;
  /** The row's `customer_id` column. */
  customer_id: SQLiteColumn;
}

/**
 * The row's customer is on the wall clock (bound to no test clock). A row whose customer is gone
 * counts as on the wall clock, as before test clocks existed.
 *
 * @param columns the row's tenant, app and customer columns
 */
export function onWallClock(columns: CustomerColumns): SQL {
  return sql`not exists (select 1 from customers wc where wc.tenant_id = ${columns.tenant_id} and wc.app_id = ${columns.app_id} and wc.id = ${columns.customer_id} and wc.test_clock_id is not null)`;
}

/**
 * The row's customer is bound to the test clock `clockId` (the caller ANDs the tenancy filter of
 * the row's scope, so the clock id is compared inside one tenant and app).
 *
 * @param columns the row's tenant, app and customer columns
 * @param clockId `clock_…` id
 */
export function onTestClock(columns: CustomerColumns, clockId: string): SQL {
  return sql`exists (select 1 from customers tc where tc.tenant_id = ${columns.tenant_id} and tc.app_id = ${columns.app_id} and tc.id = ${columns.customer_id} and tc.test_clock_id = ${clockId})`;
}
