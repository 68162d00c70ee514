/**
 * Tax rates and customers' tax rate choices of one scope, through the one tenancy filter of
 * `storage/scoped.ts`.
 *
 * @module
 */
import { and, eq } from "drizzle-orm";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import { customerTaxRates, taxRates } from "../storage/schema.ts";
import { type Row, scoped, type TableRepository, tableRepository } from "../storage/scoped.ts";

/** A tax rate row as stored. */
export type TaxRateRow = Row<typeof taxRates>;

/** The scope's tax rates. */
export const taxRateRows: TableRepository<typeof taxRates> = tableRepository(taxRates);

/** The scope's customer → tax rate choices (one per customer). */
export const customerTaxRateRows: TableRepository<typeof customerTaxRates> = tableRepository(
  customerTaxRates,
);

/** Sets the tax rate of a customer, replacing an earlier choice. */
export async function upsertCustomerTaxRate(
  exec: Executor,
  scope: Scope,
  customerId: string,
  taxRateId: string,
  now: Date,
): Promise<void> {
  await scoped(exec, scope).insert(customerTaxRates, {
    customer_id: customerId,
    tax_rate_id: taxRateId,
    updated_at: now,
  }).onConflictDoUpdate({
    target: [customerTaxRates.tenant_id, customerTaxRates.app_id, customerTaxRates.customer_id],
    set: { tax_rate_id: taxRateId, updated_at: now },
  });
}

/** The tax rate the customer is billed with, or undefined. */
export async function taxRateOfCustomer(
  exec: Executor,
  scope: Scope,
  customerId: string,
): Promise<TaxRateRow | undefined> {
  const [row] = await exec.select({ rate: taxRates }).from(customerTaxRates)
    .innerJoin(
      taxRates,
      and(
        eq(taxRates.id, customerTaxRates.tax_rate_id),
        eq(taxRates.tenant_id, customerTaxRates.tenant_id),
        eq(taxRates.app_id, customerTaxRates.app_id),
      ),
    )
    .where(scoped(exec, scope).filter(customerTaxRates, eq(customerTaxRates.customer_id, customerId)));
  return row?.rate;
}
