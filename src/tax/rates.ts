/**
 * Resolving `tax_rate_ids` of a customer or subscription into the app's tax rates, checked by the
 * rules of `domain/tax.ts` (at most 5, each once, an inclusive rate alone). Kept apart from
 * `service.ts` so customers and subscriptions can use it without an import cycle.
 *
 * @module
 */
import { notFound } from "../domain/errors.ts";
import { isId } from "../domain/ids.ts";
import { checkTaxRates } from "../domain/tax.ts";
import type { Ctx } from "../context.ts";
import type { Executor } from "../storage/db.ts";
import { type TaxRateRow, taxRateRows } from "./repository.ts";

/**
 * The tax rates named by `ids`, in the order given.
 *
 * @param path field path of the list, for validation errors (`tax_rate_ids`)
 * @throws {BillingError} `validation_failed` (more than 5, or one listed twice); `tax_rate_not_found`
 *   (404) for an id the app does not have; `tax_rates_incompatible` (422) for an inclusive rate beside others
 */
export async function resolveTaxRates(
  ctx: Ctx,
  exec: Executor,
  ids: readonly string[],
  path = "tax_rate_ids",
): Promise<TaxRateRow[]> {
  checkTaxRates(ids.map((id) => ({ id, inclusive: false })), path);
  for (const id of ids) if (!isId("txr", id)) throw notFound("tax_rate", id);
  const rows = ids.length === 0 ? [] : await taxRateRows.list(exec, ctx.scope, { id: [...ids] });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ordered = ids.map((id) => {
    const row = byId.get(id);
    if (!row) throw notFound("tax_rate", id);
    return row;
  });
  checkTaxRates(ordered, path);
  return ordered;
}
