/**
 * The one way a service writes: {@link writeOp} runs the change in one transaction together with
 * its outbox rows and audit rows, then hands the events to in-process subscribers after commit.
 *
 * @module
 */
import type { LifecycleEvent, LifecycleEventType } from "../domain/events.ts";
import type { Tx } from "../storage/db.ts";
import type { Ctx } from "../context.ts";
import { recordLifecycle } from "./outbox.ts";

/** Emits an event from inside a write; it is dispatched only after the write commits. */
export type Emit = (type: LifecycleEventType, resourceId: string, data: Record<string, unknown>) => void;

/**
 * Runs `fn` in one write transaction and dispatches the lifecycle events it emitted once the
 * transaction has committed (a rolled-back change emits nothing). Before the commit, the same
 * transaction writes each event to the outbox and appends its audit row (`outbox.ts`), so an
 * event exists exactly when its change does.
 */
export async function writeOp<T>(ctx: Ctx, fn: (tx: Tx, emit: Emit) => Promise<T>): Promise<T> {
  const events: LifecycleEvent[] = [];
  const result = await ctx.database.write(async (tx) => {
    events.length = 0; // a retried transaction starts over
    const emit: Emit = (type, resourceId, data) =>
      events.push({
        type,
        tenant_id: ctx.scope.tenantId,
        app_id: ctx.scope.appId,
        resource_id: resourceId,
        occurred_at: ctx.clock.now(),
        data,
      });
    const value = await fn(tx, emit);
    await recordLifecycle(tx, { actor: ctx.actor ?? "system", requestId: ctx.requestId ?? null }, events);
    return value;
  }, ctx.scope);
  await ctx.lifecycle.dispatch(events);
  return result;
}
