/**
 * Plan rows of one scope, through the one tenancy filter of `storage/scoped.ts`.
 *
 * @module
 */
import { plans } from "../storage/schema.ts";
import { type Row, type TableRepository, tableRepository } from "../storage/scoped.ts";

/** A plan row as stored. */
export type PlanRow = Row<typeof plans>;

/** The scope's plans. */
export const planRows: TableRepository<typeof plans> = tableRepository(plans);
