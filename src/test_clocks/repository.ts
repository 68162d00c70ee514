/**
 * Test clocks of one scope and the rows of their customers, through the one tenancy filter of
 * `storage/scoped.ts`. {@link deleteTestClockData} removes a clock's customers and what hangs off
 * them; ledger entries, ledger accounts, audit rows, outbox and webhook history are kept (see
 * `service.ts`).
 *
 * @module
 */
import { and, asc, eq, gt, inArray, isNotNull, lt, type SQL, sql, type SQLWrapper } from "drizzle-orm";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import {
  creditConsumptions,
  creditGrants,
  creditNotes,
  customers,
  customerTaxRates,
  invoiceLines,
  invoicePayments,
  invoices,
  subscriptionChanges,
  subscriptionDiscounts,
  subscriptionPauses,
  subscriptions,
  testClocks,
  usageEvents,
} from "../storage/schema.ts";
import { type Row, scoped, type TableRepository, tableRepository } from "../storage/scoped.ts";

/** A test clock row as stored. */
export type TestClockRow = Row<typeof testClocks>;

/** The scope's test clocks. */
export const testClockRows: TableRepository<typeof testClocks> = tableRepository(testClocks);

/** Up to `limit` of the scope's test clocks with an id above `afterId` (`""`: from the first), in id order. */
export function testClocksAfter(
  exec: Executor,
  scope: Scope,
  afterId: string,
  limit: number,
): Promise<TestClockRow[]> {
  const s = scoped(exec, scope);
  return s.select(testClocks, gt(testClocks.id, afterId), { orderBy: [asc(testClocks.id)], limit });
}

/** Moves a clock's frozen time to `to` when it is earlier (never backwards: a concurrent advance may be ahead). */
export async function moveFrozenTime(exec: Executor, scope: Scope, id: string, to: Date): Promise<void> {
  await scoped(exec, scope).update(
    testClocks,
    { frozen_time: to },
    and(eq(testClocks.id, id), lt(testClocks.frozen_time, to)),
  );
}

/** The customers bound to clock `clockId` (`cus_…` id and external id), in id order. */
export async function customersOfTestClock(
  exec: Executor,
  scope: Scope,
  clockId: string,
): Promise<{ id: string; external_id: string }[]> {
  const rows = await scoped(exec, scope).select(customers, eq(customers.test_clock_id, clockId), {
    orderBy: [asc(customers.id)],
  });
  return rows.map((r) => ({ id: r.id, external_id: r.external_id }));
}

/**
 * The test clock bindings of these customers (`cus_…` ids, at most a few hundred per call: the
 * caller chunks): customer id → `{ clock_id, frozen_time }`; customers on the wall clock are absent.
 */
export async function clocksOfCustomers(
  exec: Executor,
  scope: Scope,
  customerIds: readonly string[],
): Promise<Map<string, { clock_id: string; frozen_time: Date }>> {
  const out = new Map<string, { clock_id: string; frozen_time: Date }>();
  if (customerIds.length === 0) return out;
  const s = scoped(exec, scope);
  const rows = await exec.select({
    id: customers.id,
    clock_id: testClocks.id,
    frozen_time: testClocks.frozen_time,
  })
    .from(customers)
    .innerJoin(
      testClocks,
      and(
        eq(testClocks.tenant_id, customers.tenant_id),
        eq(testClocks.app_id, customers.app_id),
        eq(testClocks.id, customers.test_clock_id),
      ),
    )
    .where(s.filter(customers, inArray(customers.id, [...customerIds]), isNotNull(customers.test_clock_id)));
  for (const r of rows) out.set(r.id, { clock_id: r.clock_id, frozen_time: r.frozen_time });
  return out;
}

/** `column in (select id from customers of the clock in the scope)`. */
function ofClockCustomers(column: SQLWrapper, scope: Scope, clockId: string): SQL {
  return sql`${column} in (select c.id from customers c where c.tenant_id = ${scope.tenantId} and c.app_id = ${scope.appId} and c.test_clock_id = ${clockId})`;
}

/**
 * Deletes, inside the caller's transaction, the customers bound to clock `clockId` and their
 * subscriptions (with plan changes, pauses and discounts), usage events, invoices (with lines,
 * payments, credit notes), credit grants (with consumptions) and tax rate assignment; then the
 * clock. Subqueries select the rows, so no statement binds more than a handful of parameters
 * (Durable Object SQLite allows 100).
 */
export async function deleteTestClockData(exec: Executor, scope: Scope, clockId: string): Promise<void> {
  const s = scoped(exec, scope);
  const subIds =
    sql`(select x.id from subscriptions x where x.tenant_id = ${scope.tenantId} and x.app_id = ${scope.appId} and ${
      ofClockCustomers(sql.raw("x.customer_id"), scope, clockId)
    })`;
  const invoiceIds =
    sql`(select y.id from invoices y where y.tenant_id = ${scope.tenantId} and y.app_id = ${scope.appId} and ${
      ofClockCustomers(sql.raw("y.customer_id"), scope, clockId)
    })`;
  const grantIds =
    sql`(select z.id from credit_grants z where z.tenant_id = ${scope.tenantId} and z.app_id = ${scope.appId} and ${
      ofClockCustomers(sql.raw("z.customer_id"), scope, clockId)
    })`;
  await s.delete(subscriptionChanges, sql`${subscriptionChanges.subscription_id} in ${subIds}`);
  await s.delete(subscriptionPauses, sql`${subscriptionPauses.subscription_id} in ${subIds}`);
  await s.delete(subscriptionDiscounts, sql`${subscriptionDiscounts.subscription_id} in ${subIds}`);
  await s.delete(invoiceLines, sql`${invoiceLines.invoice_id} in ${invoiceIds}`);
  await s.delete(invoicePayments, sql`${invoicePayments.invoice_id} in ${invoiceIds}`);
  await s.delete(creditNotes, sql`${creditNotes.invoice_id} in ${invoiceIds}`);
  await s.delete(creditConsumptions, sql`${creditConsumptions.grant_id} in ${grantIds}`);
  await s.delete(creditConsumptions, sql`${creditConsumptions.invoice_id} in ${invoiceIds}`);
  await s.delete(creditGrants, ofClockCustomers(creditGrants.customer_id, scope, clockId));
  await s.delete(invoices, ofClockCustomers(invoices.customer_id, scope, clockId));
  await s.delete(usageEvents, ofClockCustomers(usageEvents.customer_id, scope, clockId));
  await s.delete(subscriptions, ofClockCustomers(subscriptions.customer_id, scope, clockId));
  await s.delete(customerTaxRates, ofClockCustomers(customerTaxRates.customer_id, scope, clockId));
  await s.delete(customers, eq(customers.test_clock_id, clockId));
  await s.delete(testClocks, eq(testClocks.id, clockId));
}

/** The earliest `expires_at` after `after` of a grant of the clock's customers, or null. */
export async function nextGrantExpiry(
  exec: Executor,
  scope: Scope,
  clockId: string,
  after: Date,
): Promise<Date | null> {
  const s = scoped(exec, scope);
  const row = await s.first(
    creditGrants,
    and(gt(creditGrants.expires_at, after), ofClockCustomers(creditGrants.customer_id, scope, clockId)),
    { orderBy: [asc(creditGrants.expires_at)] },
  );
  return row?.expires_at ?? null;
}
