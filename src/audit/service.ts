/**
 * Append-only audit trail.
 *
 * One row per lifecycle event, written by `recordAudit` (`record.ts`) inside the transaction of the change
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
import { auditPage } from "./repository.ts";
import { mapPage, type Page } from "../domain/paging.ts";
import type { Ctx } from "../context.ts";

/** An audit row as the API shows it. */
export interface AuditEventView {
  /** TypeID of the audit row (`aud_…`). */
  id: string;
  /** Who caused the change: the API key id (`key_…`), or `admin`, `stripe`, `system`. */
  actor: string;
  /** The lifecycle event type the row records (`invoice.finalized`). */
  action: string;
  /** The resource kind: the part of `action` before the dot (`invoice`). */
  resource_type: string;
  /** TypeID of the changed resource. */
  resource_id: string;
  /** SHA-256 hex of the resource before the change; `null` when the trail has no earlier row. */
  before_digest: string | null;
  /** SHA-256 hex of the resource (the event's data) after the change. */
  after_digest: string;
  /** `X-Request-Id` of the HTTP request that caused the change; `null` for background jobs. */
  request_id: string | null;
  /** The outbox message (`msg_…`) this row accompanies. */
  message_id: string;
  /** When the change committed (ISO 8601 UTC, the services' clock). */
  created_at: string;
}

/** Filters of {@link listAuditEvents}; every one optional. */
export interface AuditFilter {
  /** Only rows about this resource (TypeID). */
  resource_id?: string;
  /** Only rows of this resource kind (`invoice`, `subscription`). */
  resource_type?: string;
  /** Only rows of this event type (`invoice.paid`). */
  action?: string;
  /** Only rows caused by this actor (`key_…`, `admin`, `stripe`, `system`). */
  actor?: string;
  /** Only rows written by this HTTP request (`X-Request-Id`). */
  request_id?: string;
  /** Inclusive lower bound of `created_at`. */
  since?: Date;
  /** Exclusive upper bound of `created_at`. */
  until?: Date;
  /** `next_cursor` of the previous page. */
  cursor?: string;
  /** 1…100 (default 50). */
  limit?: number;
}

/** Page size of {@link listAuditEvents} without `limit`. */
export const AUDIT_PAGE_LIMIT = 50;

/**
 * Lists the app's audit rows newest first, filtered, one page at a time (`domain/paging.ts`).
 *
 * @returns `data` and `next_cursor` (`null` on the last page)
 * @throws {BillingError} `validation_failed` for a cursor this list did not hand out
 */
export async function listAuditEvents(ctx: Ctx, filter: AuditFilter): Promise<Page<AuditEventView>> {
  const { cursor, limit, ...rest } = filter;
  const page = await auditPage(ctx.database.db, ctx.scope, rest, {
    cursor,
    limit: limit ?? AUDIT_PAGE_LIMIT,
  });
  return await mapPage(page, (r) => ({
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
  }));
}
