/**
 * Append-only audit trail.
 *
 * One row per lifecycle event, written by {@link recordAudit} inside the transaction of the change
 * (OpenStatus-style: the write and its audit row commit together). A row says who (`actor`: the
 * API key id from the auth middleware, or `admin` / `stripe` / `system`), what (`action`: the
 * event type), to what (`resource_type`, `resource_id`), the request (`request_id`) and the state
 * change as SHA-256 digests of the canonical JSON of the resource: `after_digest` of the event's
 * data, `before_digest` = the `after_digest` of the previous audit row of that resource (`null`
 * on creation). Digests, not copies: the trail proves what changed without duplicating
 * customer data. The table refuses UPDATE and DELETE (triggers in migration 0002).
 *
 * @module
 */
import { and, desc, eq, gte, lt, type SQL } from "drizzle-orm";
import type { LifecycleEvent } from "../domain/events.ts";
import { payloadHash } from "../domain/hash.ts";
import { newId } from "../domain/ids.ts";
import type { Tx } from "../storage/db.ts";
import { auditEvents } from "../storage/schema.ts";
import type { Ctx } from "./context.ts";
import type { WriteActor } from "./outbox.ts";

/** An audit row as the API shows it. */
export interface AuditEventView {
  id: string;
  actor: string;
  action: string;
  resource_type: string;
  resource_id: string;
  /** SHA-256 hex of the resource before the change; `null` when the trail has no earlier row. */
  before_digest: string | null;
  /** SHA-256 hex of the resource (the event's data) after the change. */
  after_digest: string;
  request_id: string | null;
  /** The outbox message (`msg_…`) this row accompanies. */
  message_id: string;
  created_at: string;
}

/**
 * Appends one audit row per event, inside `tx`. Events must already carry their message id.
 */
export async function recordAudit(tx: Tx, who: WriteActor, events: readonly LifecycleEvent[]): Promise<void> {
  const lastDigest = new Map<string, string | null>();
  const rows: (typeof auditEvents.$inferInsert)[] = [];
  for (const event of events) {
    const key = `${event.tenant_id}/${event.app_id}/${event.resource_id}`;
    let before = lastDigest.get(key);
    if (before === undefined && introducesResource(event.type)) before = null;
    if (before === undefined) {
      const prior = await tx.select({ digest: auditEvents.after_digest }).from(auditEvents)
        .where(and(eq(auditEvents.tenant_id, event.tenant_id), eq(auditEvents.app_id, event.app_id), eq(auditEvents.resource_id, event.resource_id)))
        .orderBy(desc(auditEvents.id)).limit(1);
      before = prior[0]?.digest ?? null;
    }
    const after = await payloadHash(event.data);
    lastDigest.set(key, after);
    rows.push({
      id: newId("aud"),
      tenant_id: event.tenant_id,
      app_id: event.app_id,
      actor: who.actor,
      action: event.type,
      resource_type: event.type.slice(0, event.type.indexOf(".")),
      resource_id: event.resource_id,
      before_digest: before,
      after_digest: after,
      request_id: who.requestId,
      message_id: event.id!,
      created_at: event.occurred_at,
    });
  }
  if (rows.length > 0) await tx.insert(auditEvents).values(rows);
}

/**
 * Events that always name a resource id that did not exist before (`*.created`, and
 * `usage.ingested` whose resource is the batch's first new usage row): their `before_digest` is
 * `null` without a lookup, which keeps the hot ingestion path one query shorter.
 */
function introducesResource(type: string): boolean {
  return type.endsWith(".created") || type === "usage.ingested";
}

/** Filters of {@link listAuditEvents}; every one optional. */
export interface AuditFilter {
  resource_id?: string;
  resource_type?: string;
  action?: string;
  actor?: string;
  request_id?: string;
  /** Inclusive lower bound of `created_at`. */
  since?: Date;
  /** Exclusive upper bound of `created_at`. */
  until?: Date;
  /** Id of the last row of the previous page. */
  cursor?: string;
  /** 1…100 (default 50). */
  limit?: number;
}

/**
 * Lists the app's audit rows newest first, filtered, paginated by cursor.
 *
 * @returns `data` and `next_cursor` (`null` on the last page)
 */
export async function listAuditEvents(ctx: Ctx, filter: AuditFilter): Promise<{ data: AuditEventView[]; next_cursor: string | null }> {
  const where: SQL[] = [eq(auditEvents.tenant_id, ctx.scope.tenantId), eq(auditEvents.app_id, ctx.scope.appId)];
  if (filter.resource_id) where.push(eq(auditEvents.resource_id, filter.resource_id));
  if (filter.resource_type) where.push(eq(auditEvents.resource_type, filter.resource_type));
  if (filter.action) where.push(eq(auditEvents.action, filter.action));
  if (filter.actor) where.push(eq(auditEvents.actor, filter.actor));
  if (filter.request_id) where.push(eq(auditEvents.request_id, filter.request_id));
  if (filter.since) where.push(gte(auditEvents.created_at, filter.since));
  if (filter.until) where.push(lt(auditEvents.created_at, filter.until));
  if (filter.cursor) where.push(lt(auditEvents.id, filter.cursor));
  const limit = Math.max(1, Math.min(100, filter.limit ?? 50));
  const rows = await ctx.database.db.select().from(auditEvents).where(and(...where)).orderBy(desc(auditEvents.id)).limit(limit + 1);
  const page = rows.slice(0, limit);
  return {
    data: page.map((r) => ({
      id: r.id,
      actor: r.actor,
      action: r.action,
      resource_type: r.resource_type,
      resource_id: r.resource_id,
      before_digest: r.before_digest,
      after_digest: r.after_digest,
      request_id: r.request_id,
      message_id: r.message_id,
      created_at: r.created_at.toISOString(),
    })),
    next_cursor: rows.length > limit ? page[page.length - 1].id : null,
  };
}
