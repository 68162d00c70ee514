/**
 * Writes the append-only audit trail: one row per lifecycle event, inside the transaction of the
 * change it reports (see `service.ts` for what a row holds). Kept apart from the read side so the
 * outbox can call it without depending on the service container.
 *
 * @module
 */
import type { LifecycleEvent } from "../domain/events.ts";
import { payloadHashSync } from "../domain/hash.ts";
import { newId } from "../domain/ids.ts";
import type { Tx } from "../storage/db.ts";
import { appendAuditRows, type AuditRow, lastAuditDigest } from "./repository.ts";

/** Who caused a write, for the audit trail. */
export interface WriteActor {
  /** API key id (`key_…`), or `admin`, `stripe`, `system`. */
  actor: string;
  /** Request id (`X-Request-Id`) of the HTTP request, when there was one. */
  requestId: string | null;
}

/**
 * Appends one audit row per event, inside `tx`. Events must already carry their message id.
 */
export function recordAudit(tx: Tx, who: WriteActor, events: readonly LifecycleEvent[]): Promise<void> {
  return recordAuditOf(tx, events.map((event) => ({ who, event })));
}

/**
 * Appends one audit row per event, each with its own actor (a ledger batch answers many
 * requests in one transaction), inside `tx`, in as few statements as the store allows: one
 * multi-row insert per scope, and a digest lookup only for a resource the transaction did not
 * introduce or touch before. Events must already carry their message id.
 */
export async function recordAuditOf(
  tx: Tx,
  items: readonly { who: WriteActor; event: LifecycleEvent }[],
): Promise<void> {
  const lastDigest = new Map<string, string | null>();
  // Grouped by scope: every row is written through that scope's accessor.
  const rows = new Map<string, { scope: { tenantId: string; appId: string }; rows: AuditRow[] }>();
  for (const { who, event } of items) {
    const key = `${event.tenant_id}/${event.app_id}/${event.resource_id}`;
    let before = lastDigest.get(key);
    if (before === undefined && introducesResource(event.type)) before = null;
    if (before === undefined) {
      before = await lastAuditDigest(
        tx,
        { tenantId: event.tenant_id, appId: event.app_id },
        event.resource_id,
      );
    }
    const after = payloadHashSync(event.data);
    lastDigest.set(key, after);
    const scopeKey = `${event.tenant_id}/${event.app_id}`;
    if (!rows.has(scopeKey)) {
      rows.set(scopeKey, { scope: { tenantId: event.tenant_id, appId: event.app_id }, rows: [] });
    }
    rows.get(scopeKey)!.rows.push({
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
  for (const group of rows.values()) await appendAuditRows(tx, group.scope, group.rows);
}

/**
 * Events that always name a resource id that did not exist before (`*.created`,
 * `usage.ingested` whose resource is the batch's first new usage row, and `ledger.entry_posted`,
 * emitted only for an entry its transaction created): their `before_digest` is `null` without a
 * lookup, which keeps the hot ingestion and posting paths one query per event shorter.
 */
function introducesResource(type: string): boolean {
  return type.endsWith(".created") || type === "usage.ingested" || type === "ledger.entry_posted";
}
