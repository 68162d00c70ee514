/**
 * Tax rates and the customer's rate. Rules live in `domain/tax.ts`.
 *
 * A tax rate is identified by what it is (display name, jurisdiction, percentage, inclusive):
 * creating the same rate again returns it (`replayed`), so retries never duplicate rates. A
 * customer carries up to 5 rates (`PUT /v1/customers/{id}/tax_rates`, or `tax_rate_ids` on
 * creation); `PUT /v1/customers/{id}/tax_rate` is the earlier single-rate form of the same setting
 * (it sets the list to that one rate). A subscription's own `tax_rate_ids` replace the customer's.
 * Draft invoices pick the rates up on their next refresh and finalization snapshots them on the
 * invoice (`taxes`).
 *
 * @module
 */
import { notFound } from "../domain/errors.ts";
import { isId, newId } from "../domain/ids.ts";
import { percentageToBasisPoints } from "../domain/tax.ts";
import { customerTaxRateRows, type TaxRateRow, taxRateRows, upsertCustomerTaxRate } from "./repository.ts";
import type { Ctx } from "../context.ts";
import { writeOp } from "../lifecycle/write.ts";
import { loadCustomer, setCustomerTaxRateIdsTx } from "../customers/service.ts";
import { resolveTaxRates } from "./rates.ts";
import type { TaxRateView } from "../domain/views.ts";
export type { TaxRateView };

/** A stored tax rate as the API shows it. */
export function view(row: TaxRateRow): TaxRateView {
  return {
    id: row.id,
    display_name: row.display_name,
    jurisdiction: row.jurisdiction,
    percentage: row.percentage_bp / 100,
    percentage_bp: row.percentage_bp,
    inclusive: row.inclusive,
    created_at: row.created_at.toISOString(),
  };
}

/**
 * Creates (or returns the identical) tax rate.
 *
 * @param input.percentage 0…100 with at most two decimals (20 → 2000 bp)
 * @throws {BillingError} `validation_failed`
 */
export async function createTaxRate(
  ctx: Ctx,
  input: { display_name: string; jurisdiction?: string; percentage: number; inclusive: boolean },
): Promise<{ tax_rate: TaxRateView; replayed: boolean }> {
  const bp = percentageToBasisPoints(input.percentage);
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const candidates = await taxRateRows.list(tx, ctx.scope, {
      display_name: input.display_name,
      percentage_bp: bp,
      inclusive: input.inclusive,
    });
    const same = candidates.find((r) => r.jurisdiction === (input.jurisdiction ?? null));
    if (same) return { tax_rate: view(same), replayed: true };
    const row: TaxRateRow = {
      id: newId("txr"),
      tenant_id: ctx.scope.tenantId,
      app_id: ctx.scope.appId,
      display_name: input.display_name,
      jurisdiction: input.jurisdiction ?? null,
      percentage_bp: bp,
      inclusive: input.inclusive,
      created_at: now,
    };
    await taxRateRows.insert(tx, ctx.scope, row);
    emit("tax_rate.created", row.id, view(row));
    return { tax_rate: view(row), replayed: false };
  });
}

/**
 * Sets (or clears, with `null`) the tax rate a customer is billed with. Idempotent.
 *
 * @throws {BillingError} `customer_not_found`, `tax_rate_not_found` (404)
 */
export async function setCustomerTaxRate(
  ctx: Ctx,
  customerRef: string,
  taxRateId: string | null,
): Promise<{ customer_id: string; tax_rate: TaxRateView | null }> {
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const customer = await loadCustomer(ctx, tx, customerRef);
    if (taxRateId === null) {
      await customerTaxRateRows.delete(tx, ctx.scope, { customer_id: customer.id });
      await setCustomerTaxRateIdsTx(ctx, tx, customer.id, []);
      emit("customer.tax_rate_set", customer.id, {
        customer_id: customer.id,
        tax_rate_id: null,
        tax_rate_ids: [],
      });
      return { customer_id: customer.id, tax_rate: null };
    }
    if (!isId("txr", taxRateId)) throw notFound("tax_rate", taxRateId);
    const rate = await taxRateRows.first(tx, ctx.scope, { id: taxRateId });
    if (!rate) throw notFound("tax_rate", taxRateId);
    await upsertCustomerTaxRate(tx, ctx.scope, customer.id, rate.id, now);
    await setCustomerTaxRateIdsTx(ctx, tx, customer.id, [rate.id]);
    emit("customer.tax_rate_set", customer.id, {
      customer_id: customer.id,
      tax_rate_id: rate.id,
      tax_rate_ids: [rate.id],
    });
    return { customer_id: customer.id, tax_rate: view(rate) };
  });
}

/**
 * Sets the tax rates a customer is billed with (an empty list clears them): each applies to the
 * same discounted amount, rounded per line and rate (`domain/tax.ts`). Idempotent.
 *
 * @throws {BillingError} `customer_not_found`, `tax_rate_not_found` (404); `tax_rates_incompatible`
 *   (422); `validation_failed` (more than 5, or one listed twice)
 */
export async function setCustomerTaxRates(
  ctx: Ctx,
  customerRef: string,
  taxRateIds: string[],
): Promise<{ customer_id: string; tax_rates: TaxRateView[] }> {
  return await writeOp(ctx, async (tx, emit) => {
    const customer = await loadCustomer(ctx, tx, customerRef);
    const rates = await resolveTaxRates(ctx, tx, taxRateIds);
    const ids = rates.map((r) => r.id);
    // The single-rate row of the earlier API would otherwise stand for a customer with no list.
    await customerTaxRateRows.delete(tx, ctx.scope, { customer_id: customer.id });
    await setCustomerTaxRateIdsTx(ctx, tx, customer.id, ids);
    emit("customer.tax_rate_set", customer.id, {
      customer_id: customer.id,
      tax_rate_id: ids[0] ?? null,
      tax_rate_ids: ids,
    });
    return { customer_id: customer.id, tax_rates: rates.map(view) };
  });
}
