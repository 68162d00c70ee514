/**
 * Transactional outbox of lifecycle events.
 *
 * {@link recordLifecycle} runs inside the write transaction of every operation (`writeOp` in
 * `context.ts`, and tenant provisioning): it stores each emitted event as an `outbox_events` row
 * and appends its audit row (`audit.ts`). Both commit or roll back with the change itself, so
 * there is no event without its change and no change without its event (the outbox pattern as
 * described by Chris Richardson's microservices.io and used by Svix/Hookdeck).
 *
 * Consumers read the outbox, never the in-process dispatch: the webhook worker
 * (`webhooks.ts`, on Deno a background loop, on Workers a queue consumer calling the same
 * `drainWebhooksOnce`) fans rows out to endpoint deliveries in `seq` order.
 *
 * @module
 */
import type { LifecycleEvent, LifecycleEventType } from "../domain/events.ts";
import { newId } from "../domain/ids.ts";
import type { Executor, Tx } from "../storage/db.ts";
import { appendOutbox, outboxAfter } from "./repository.ts";
import { recordAuditOf, type WriteActor } from "../audit/record.ts";
import type { Scope } from "../domain/scope.ts";

export type { WriteActor };

/** Largest number of events one transaction may emit (a limit on everything). */
export const MAX_EVENTS_PER_WRITE = 10_000;

/**
 * Writes the events of one transaction to the outbox and the audit trail, in emission order.
 * Assigns each event its message id (`msg_…`) when it has none, so the in-process dispatch after
 * commit, the webhook deliveries and the audit rows all name the same message.
 *
 * @param tx the operation's open write transaction
 * @throws {Error} when more than {@link MAX_EVENTS_PER_WRITE} events were emitted (a bug)
 */
export function recordLifecycle(tx: Tx, who: WriteActor, events: LifecycleEvent[]): Promise<void> {
  return recordLifecycleOf(tx, events.map((event) => ({ who, event })));
}

/**
 * {@link recordLifecycle} for events of several actors in one transaction (a ledger batch answers
 * many requests): the outbox rows in the order given, then the audit rows, each naming its own
 * actor and request, with one multi-row statement per table and scope instead of one per actor
 * (on PostgreSQL every statement is a round trip while the tenant's write lock is held).
 *
 * @param tx the operation's open write transaction
 * @throws {Error} when more than {@link MAX_EVENTS_PER_WRITE} events were emitted (a bug)
 */
export async function recordLifecycleOf(
  tx: Tx,
  items: readonly { who: WriteActor; event: LifecycleEvent }[],
): Promise<void> {
  if (items.length === 0) return;
  if (items.length > MAX_EVENTS_PER_WRITE) {
    throw new Error(
      `invariant: one write emitted ${items.length} lifecycle events (limit ${MAX_EVENTS_PER_WRITE})`,
    );
  }
  for (const { event } of items) event.id ??= newId("msg");
  // Independent statements (no row of one reads the other): sent together, one round trip on
  // PostgreSQL; the outbox's are sent first, and SQLite stores run them one after another.
  await Promise.all([appendOutbox(tx, items.map((item) => item.event)), recordAuditOf(tx, items)]);
}

/** An outbox row as consumers see it. */
export interface OutboxMessage {
  /** Position in the global outbox order (SQLite autoincrement); consumers resume after the last seen. */
  seq: number;
  /** Message id (`msg_…` TypeID): the `webhook-id` of its deliveries and the audit row's `message_id`. */
  id: string;
  /** Tenant the event belongs to (`ten_…`). */
  tenant_id: string;
  /** App of the tenant (`app_…`); its webhook endpoints receive the event. */
  app_id: string;
  /** What happened, `resource.verb` (the webhook event type). */
  type: LifecycleEventType;
  /** TypeID of the resource the event is about. */
  resource_id: string;
  /** The resource as the API showed it after the change; the webhook payload's `data`. */
  data: Record<string, unknown>;
  /** When the change committed, by the service clock. */
  occurred_at: Date;
}

/**
 * Reads the outbox of one app in commit order, after `afterSeq` (for replays and tests).
 *
 * @param limit 1…1000 rows
 */
export async function readOutbox(
  exec: Executor,
  scope: Scope,
  options: { afterSeq?: number; limit?: number } = {},
): Promise<OutboxMessage[]> {
  const limit = Math.max(1, Math.min(1000, options.limit ?? 100));
  const rows = await outboxAfter(exec, scope, options.afterSeq ?? 0, limit);
  return rows.map((r) => ({
    ...r,
    type: r.type as LifecycleEventType,
    data: r.data as Record<string, unknown>,
  }));
}
