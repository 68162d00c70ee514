/**
 * Customers. `external_id` is the client's own identifier, unique per app; a repeated create with
 * the same fields returns the existing customer (`replayed`), with other fields `customer_exists`.
 * Wherever a `customer_id` is accepted, either our `cus_…` id or the external id may be given.
 *
 * @module
 */
import { BillingError, notFound } from "../domain/errors.ts";
import { isId, newId } from "../domain/ids.ts";
import { testClockRows } from "../test_clocks/repository.ts";
import type { Executor } from "../storage/db.ts";
import {
  customerByExternalId,
  customerByRef,
  customerPage,
  type CustomerRow,
  customersByRefs,
  insertCustomer,
  updateCustomerTaxRateIds,
} from "./repository.ts";
import type { Ctx } from "../context.ts";
import { writeOp } from "../lifecycle/write.ts";
import { resolveTaxRates } from "../tax/rates.ts";
import type { CustomerView } from "../domain/views.ts";
export type { CustomerView };
import { limitsOf, rowsPerStatement, slices } from "../storage/limits.ts";
import { mapPage, type Page, type PageRequest } from "../domain/paging.ts";

function view(row: CustomerRow): CustomerView {
  return {
    id: row.id,
    external_id: row.external_id,
    name: row.name,
    email: row.email,
    test_clock: row.test_clock_id ?? null,
    tax_rate_ids: row.tax_rate_ids ?? [],
    created_at: row.created_at.toISOString(),
  };
}

/**
 * Creates a customer, optionally with its tax rates (`tax_rate_ids`, `tax/rates.ts`). With
 * `test_clock` the customer is bound to that test clock for good: its subscriptions, usage,
 * entitlements and invoices run on the clock's frozen time, which only its advance moves
 * (`test_clocks/service.ts`); `created_at` is the clock's time.
 *
 * @throws {BillingError} `customer_exists` (409) when the external id is taken with other fields;
 *   `test_clock_not_found`, `tax_rate_not_found` (404), `tax_rates_incompatible` (422),
 *   `validation_failed` for the tax rates
 */
export async function createCustomer(
  ctx: Ctx,
  input: {
    external_id: string;
    name?: string | null;
    email?: string | null;
    test_clock?: string | null;
    tax_rate_ids?: string[];
  },
): Promise<{ customer: CustomerView; replayed: boolean }> {
  return await writeOp(ctx, async (tx, emit) => {
    const existing = await customerByExternalId(tx, ctx.scope, input.external_id);
    if (existing) {
      if (
        (existing.name ?? null) === (input.name ?? null) &&
        (existing.email ?? null) === (input.email ?? null) &&
        (existing.test_clock_id ?? null) === (input.test_clock ?? null) &&
        (input.tax_rate_ids === undefined ||
          JSON.stringify(existing.tax_rate_ids ?? []) === JSON.stringify(input.tax_rate_ids))
      ) {
        return { customer: view(existing), replayed: true };
      }
      throw new BillingError(
        "customer_exists",
        "conflict",
        `A different customer with external_id "${input.external_id}" exists`,
      );
    }
    let createdAt = ctx.clock.now();
    if (input.test_clock) {
      const clock = isId("clock", input.test_clock)
        ? await testClockRows.first(tx, ctx.scope, { id: input.test_clock })
        : undefined;
      if (!clock) throw notFound("test_clock", input.test_clock);
      createdAt = clock.frozen_time;
    }
    const rates = input.tax_rate_ids ? await resolveTaxRates(ctx, tx, input.tax_rate_ids) : [];
    const row: CustomerRow = {
      id: newId("cus"),
      tenant_id: ctx.scope.tenantId,
      app_id: ctx.scope.appId,
      external_id: input.external_id,
      name: input.name ?? null,
      email: input.email ?? null,
      test_clock_id: input.test_clock ?? null,
      tax_rate_ids: input.tax_rate_ids ? rates.map((r) => r.id) : null,
      created_at: createdAt,
    };
    await insertCustomer(tx, ctx.scope, row);
    emit("customer.created", row.id, view(row));
    return { customer: view(row), replayed: false };
  });
}

/**
 * Finds a customer by `cus_…` id or external id.
 *
 * @throws {BillingError} `customer_not_found` (404)
 */
export async function loadCustomer(ctx: Ctx, exec: Executor, ref: string): Promise<CustomerView> {
  const row = await customerByRef(exec, ctx.scope, ref);
  if (!row) throw notFound("customer", ref);
  return view(row);
}

/**
 * The stored row of a customer (by `cus_…` id or external id), for capabilities that need more
 * than the view (its own tax rate ids, null when never set this way).
 *
 * @throws {BillingError} `customer_not_found` (404)
 */
export async function loadCustomerRow(ctx: Ctx, exec: Executor, ref: string): Promise<CustomerRow> {
  const row = await customerByRef(exec, ctx.scope, ref);
  if (!row) throw notFound("customer", ref);
  return row;
}

/** Sets a customer's tax rate ids inside the caller's write transaction (the tax capability checks them). */
export async function setCustomerTaxRateIdsTx(
  ctx: Ctx,
  tx: Executor,
  customerId: string,
  ids: string[],
): Promise<void> {
  await updateCustomerTaxRateIds(tx, ctx.scope, customerId, ids);
}

/** GET a customer. @throws {BillingError} `customer_not_found` */
export function getCustomer(ctx: Ctx, ref: string): Promise<CustomerView> {
  return loadCustomer(ctx, ctx.database.db, ref);
}

/**
 * Lists the app's customers, newest first, one page at a time (`domain/paging.ts`).
 *
 * @throws {BillingError} `validation_failed` for a cursor this list did not hand out
 */
export async function listCustomers(ctx: Ctx, request: PageRequest): Promise<Page<CustomerView>> {
  return await mapPage(await customerPage(ctx.database.db, ctx.scope, request), view);
}

/**
 * Resolves many customer references (ids or external ids) in one query.
 *
 * @returns map from each given reference to its `cus_…` id (unknown references are absent)
 */
export async function resolveCustomerRefs(
  ctx: Ctx,
  exec: Executor,
  refs: readonly string[],
): Promise<Map<string, string>> {
  const unique = [...new Set(refs)];
  const out = new Map<string, string>();
  // Each reference is bound twice (id and external id) beside the two scope columns.
  for (const chunk of slices(unique, rowsPerStatement(limitsOf(exec), 2, 4))) {
    const rows = await customersByRefs(exec, ctx.scope, chunk);
    // An id match wins over an external-id match of another customer: ids are set last.
    for (const row of rows) out.set(row.external_id, row.id);
    for (const row of rows) out.set(row.id, row.id);
  }
  return out;
}
