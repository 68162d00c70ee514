/**
 * Plan rows of one scope, through the one tenancy filter of `storage/scoped.ts`.
 *
 * @module
 */
import type { Executor } from "../storage/db.ts";
import type { Page, PageRequest } from "../domain/paging.ts";
import type { Scope } from "../domain/scope.ts";
import { plans } from "../storage/schema.ts";
import { matchWhere, pageRows, type Row, type TableRepository, tableRepository } from "../storage/scoped.ts";

/** A plan row as stored. */
export type PlanRow = Row<typeof plans>;

/** The scope's plans. */
export const planRows: TableRepository<typeof plans> = tableRepository(plans);

/** One page of the scope's plans, newest first, optionally in one status. */
export function planPage(
  exec: Executor,
  scope: Scope,
  filter: { status?: PlanRow["status"] },
  request: PageRequest,
): Promise<Page<PlanRow>> {
  return pageRows(exec, scope, plans, matchWhere(plans, { status: filter.status }), request, "pln");
}
