/**
 * Audit rows of one scope, through the one tenancy filter of `storage/scoped.ts`. The table is
 * append-only (triggers refuse UPDATE and DELETE), so there is no update or delete here.
 *
 * @module
 */
import { and, desc, eq, gte, lt, type SQL } from "drizzle-orm";
import type { Page, PageRequest } from "../domain/paging.ts";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import { auditEvents } from "../storage/schema.ts";
import { type NewRow, pageRows, type Row, scoped } from "../storage/scoped.ts";

/** An audit row as stored. */
export type AuditRow = Row<typeof auditEvents>;

/** Filters of {@link auditPage}; each one optional. */
export interface AuditRowFilter {
  /** Rows about this resource id. */
  resource_id?: string;
  /** Rows about this resource type (`invoice`, `plan`…). */
  resource_type?: string;
  /** Rows of this lifecycle event type. */
  action?: string;
  /** Rows by this actor. */
  actor?: string;
  /** Rows of this request id. */
  request_id?: string;
  /** Inclusive lower bound of `created_at`. */
  since?: Date;
  /** Exclusive upper bound of `created_at`. */
  until?: Date;
}

/** One page of the scope's audit rows matching `filter`, newest first (`domain/paging.ts`). */
export async function auditPage(
  exec: Executor,
  scope: Scope,
  filter: AuditRowFilter,
  request: PageRequest,
): Promise<Page<AuditRow>> {
  const where: SQL[] = [];
  if (filter.resource_id) where.push(eq(auditEvents.resource_id, filter.resource_id));
  if (filter.resource_type) where.push(eq(auditEvents.resource_type, filter.resource_type));
  if (filter.action) where.push(eq(auditEvents.action, filter.action));
  if (filter.actor) where.push(eq(auditEvents.actor, filter.actor));
  if (filter.request_id) where.push(eq(auditEvents.request_id, filter.request_id));
  if (filter.since) where.push(gte(auditEvents.created_at, filter.since));
  if (filter.until) where.push(lt(auditEvents.created_at, filter.until));
  return await pageRows(exec, scope, auditEvents, and(...where), request, "aud");
}

/** The `after_digest` of the newest audit row about `resourceId`, or null when there is none. */
export async function lastAuditDigest(
  exec: Executor,
  scope: Scope,
  resourceId: string,
): Promise<string | null> {
  const s = scoped(exec, scope);
  const prior = await exec.select({ digest: auditEvents.after_digest }).from(auditEvents)
    .where(s.filter(auditEvents, eq(auditEvents.resource_id, resourceId)))
    .orderBy(desc(auditEvents.id)).limit(1);
  return prior[0]?.digest ?? null;
}

/** Appends audit rows of one scope (stamped with it). */
export async function appendAuditRows(
  exec: Executor,
  scope: Scope,
  rows: NewRow<typeof auditEvents>[],
): Promise<void> {
  await scoped(exec, scope).insertMany(auditEvents, rows);
}
