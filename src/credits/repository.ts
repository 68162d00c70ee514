/**
 * Credit grants and their consumptions of one scope, through the one tenancy filter of
 * `storage/scoped.ts`.
 *
 * @module
 */
import { and, eq, inArray, lt, lte, sql } from "drizzle-orm";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import { creditConsumptions, creditGrants, invoices } from "../storage/schema.ts";
import { onTestClock, onWallClock } from "../storage/clock_bound.ts";
import {
  matchWhere,
  pageRows,
  type Row,
  scoped,
  type TableRepository,
  tableRepository,
  tenancy,
} from "../storage/scoped.ts";
import type { Page, PageRequest } from "../domain/paging.ts";
import { inChunks } from "../storage/limits.ts";

/** A credit grant row as stored. */
export type CreditGrantRow = Row<typeof creditGrants>;

/** The scope's credit grants. */
export const creditGrantRows: TableRepository<typeof creditGrants> = tableRepository(creditGrants);

/** One page of a customer's credit grants, newest first (`domain/paging.ts`). */
export function creditGrantPage(
  exec: Executor,
  scope: Scope,
  customerId: string,
  request: PageRequest,
): Promise<Page<CreditGrantRow>> {
  return pageRows(
    exec,
    scope,
    creditGrants,
    matchWhere(creditGrants, { customer_id: customerId }),
    request,
    "cgr",
  );
}
/** The scope's credit consumptions (draws by invoices, and the expiry of a grant). */
export const consumptionRows: TableRepository<typeof creditConsumptions> = tableRepository(
  creditConsumptions,
);

/** Σ consumed of one grant, in its unit (minor units or feature units). */
export async function spentOfGrant(exec: Executor, scope: Scope, grantId: string): Promise<number> {
  const s = scoped(exec, scope);
  const [row] = await exec.select({ total: sql<number>`coalesce(sum(${creditConsumptions.amount}), 0)` })
    .from(creditConsumptions)
    .where(s.filter(creditConsumptions, eq(creditConsumptions.grant_id, grantId)));
  return Number(row?.total ?? 0);
}

/** Σ consumed per grant of these grants (one IN list); grants without consumptions are absent. */
export async function spentOfGrants(
  exec: Executor,
  scope: Scope,
  grantIds: readonly string[],
): Promise<Map<string, number>> {
  const s = scoped(exec, scope);
  const out = new Map<string, number>();
  // Each statement binds the scope's two columns beside the IN list (4 reserved, generously).
  for (const chunk of inChunks(exec, grantIds, 4)) {
    const spent = await exec.select({
      grant_id: creditConsumptions.grant_id,
      total: sql<number>`sum(${creditConsumptions.amount})`,
    })
      .from(creditConsumptions)
      .where(s.filter(creditConsumptions, inArray(creditConsumptions.grant_id, chunk)))
      .groupBy(creditConsumptions.grant_id);
    for (const row of spent) out.set(row.grant_id, Number(row.total));
  }
  return out;
}

/**
 * Monetary grants of every scope that expired by `now` and were not closed yet (no consumption
 * with `invoice_id = expiryMarker`), soonest first, at most `limit`. Global on purpose: the billing
 * cycle closes them for every tenant, each in its own scope afterwards. Without `testClock` only
 * grants of customers on the wall clock; with it only those of that clock's customers in its scope
 * (the clock's advance closes them at its time).
 */
export function expiredOpenGrantsOfAllScopes(
  exec: Executor,
  now: Date,
  expiryMarker: string,
  limit: number,
  testClock?: { scope: Scope; id: string },
): Promise<CreditGrantRow[]> {
  return exec.select().from(creditGrants).where(and(
    eq(creditGrants.kind, "monetary"),
    lte(creditGrants.expires_at, now),
    testClock
      ? and(tenancy(creditGrants, testClock.scope), onTestClock(creditGrants, testClock.id))
      : onWallClock(creditGrants),
    sql`not exists (select 1 from ${creditConsumptions} c where c.tenant_id = ${creditGrants.tenant_id} and c.app_id = ${creditGrants.app_id} and c.grant_id = ${creditGrants.id} and c.invoice_id = ${expiryMarker})`,
  ))
    .orderBy(creditGrants.expires_at, creditGrants.id).limit(limit);
}

/** Whether the customer has a draft invoice for a period starting before `before`. */
export async function hasDraftStartingBefore(
  exec: Executor,
  scope: Scope,
  customerId: string,
  before: Date,
): Promise<boolean> {
  const s = scoped(exec, scope);
  const row = await s.first(
    invoices,
    s.filter(
      invoices,
      eq(invoices.customer_id, customerId),
      eq(invoices.status, "draft"),
      lt(invoices.period_start, before),
    ),
  );
  return row !== undefined;
}
