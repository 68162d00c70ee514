/**
 * The transactional outbox, through the one tenancy filter of `storage/scoped.ts`: rows are
 * appended scope by scope and read per scope. (The fan-out worker's global queue lives with the
 * webhooks.)
 *
 * @module
 */
import { gt } from "drizzle-orm";
import type { LifecycleEvent } from "../domain/events.ts";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import { outboxEvents } from "../storage/schema.ts";
import { type NewRow, type Row, scoped } from "../storage/scoped.ts";

/** An outbox row as stored. */
export type OutboxRow = Row<typeof outboxEvents>;

/** Appends events (each with its message id set) to the outbox, in order, each under its own scope. */
export async function appendOutbox(exec: Executor, events: readonly LifecycleEvent[]): Promise<void> {
  // Consecutive events of one scope share a statement; order across scopes is kept (seq is global).
  let run: { scope: Scope; rows: NewRow<typeof outboxEvents>[] } | undefined;
  const flush = async () => {
    if (run) await scoped(exec, run.scope).insertMany(outboxEvents, run.rows);
  };
  for (const e of events) {
    if (!run || run.scope.tenantId !== e.tenant_id || run.scope.appId !== e.app_id) {
      await flush();
      run = { scope: { tenantId: e.tenant_id, appId: e.app_id }, rows: [] };
    }
    run.rows.push({
      id: e.id!,
      type: e.type,
      resource_id: e.resource_id,
      data: e.data,
      occurred_at: e.occurred_at,
      fanned_out_at: null,
    });
  }
  await flush();
}

/** The scope's outbox rows after `afterSeq`, in commit order, at most `limit`. */
export function outboxAfter(
  exec: Executor,
  scope: Scope,
  afterSeq: number,
  limit: number,
): Promise<OutboxRow[]> {
  const s = scoped(exec, scope);
  return s.select(outboxEvents, gt(outboxEvents.seq, afterSeq), { orderBy: [outboxEvents.seq], limit });
}
