/**
 * Customer rows of one scope (built on the one tenancy filter of `storage/scoped.ts`).
 *
 * @module
 */
import { eq, or } from "drizzle-orm";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import { customers } from "../storage/schema.ts";
import { pageRows, scoped } from "../storage/scoped.ts";
import { StaticSql } from "../storage/static_sql.ts";
import { textIn } from "../storage/limits.ts";
import type { Page, PageRequest } from "../domain/paging.ts";

/** A customer row as stored. */
export type CustomerRow = typeof customers.$inferSelect;

/** The scope's customer with this external id, or undefined. */
export function customerByExternalId(
  exec: Executor,
  scope: Scope,
  externalId: string,
): Promise<CustomerRow | undefined> {
  return scoped(exec, scope).first(customers, eq(customers.external_id, externalId));
}

/** The scope's customer whose `cus_…` id or external id is `ref`, or undefined. */
export function customerByRef(exec: Executor, scope: Scope, ref: string): Promise<CustomerRow | undefined> {
  return scoped(exec, scope).first(customers, or(eq(customers.id, ref), eq(customers.external_id, ref)));
}

/** Inserts a customer row (scope columns stamped from `scope`). */
export async function insertCustomer(
  exec: Executor,
  scope: Scope,
  row: Omit<CustomerRow, "tenant_id" | "app_id">,
): Promise<void> {
  await scoped(exec, scope).insert(customers, row);
}

/**
 * The scope's customers whose id or external id is one of `refs` (at most a few hundred per call:
 * the caller chunks, two IN lists share the statement's bound parameters).
 *
 * Every ingestion batch (and every group commit of consumptions) runs this, so its text is
 * written out ({@link StaticSql}) instead of rendered by drizzle's select builder on each call
 * (issue 14, ADR 0015); it is the statement the builder rendered, except on PostgreSQL, where both
 * lists are one bound array each (`= any(?)`, {@link textIn}): one text whatever the count.
 */
export async function customersByRefs(
  exec: Executor,
  scope: Scope,
  refs: string[],
): Promise<{ id: string; external_id: string }[]> {
  if (refs.length === 0) return [];
  const list = textIn(exec, refs);
  const rows = await exec.values<[string, string]>(
    new StaticSql(
      `select "id", "external_id" from "customers" where ("customers"."tenant_id" = ? and ` +
        `"customers"."app_id" = ? and ("customers"."id"${list.sql} or "customers"."external_id"${list.sql}))`,
      [scope.tenantId, scope.appId, ...list.params, ...list.params],
    ),
  );
  // Indexed, not destructured: libSQL's rows are array-like objects, not iterables.
  return rows.map((r) => ({ id: r[0], external_id: r[1] }));
}

/** One page of the scope's customers, newest first (the list order of `domain/paging.ts`). */
export function customerPage(exec: Executor, scope: Scope, request: PageRequest): Promise<Page<CustomerRow>> {
  return pageRows(exec, scope, customers, undefined, request, "cus");
}

/** Sets the tax rate ids of the scope's customer `id`. */
export async function updateCustomerTaxRateIds(
  exec: Executor,
  scope: Scope,
  id: string,
  ids: string[],
): Promise<void> {
  await scoped(exec, scope).update(customers, { tax_rate_ids: ids }, eq(customers.id, id));
}
