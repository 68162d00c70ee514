/**
 * The one way a service writes: {@link writeOp} runs the change in one transaction together with
 * its outbox rows and audit rows, then hands the events to in-process subscribers after commit.
 *
 * @module
 */
import {
  type LifecycleEvent,
  lifecycleEvent,
  type LifecycleEventMap,
  type LifecycleEventType,
  type LifecycleFact,
} from "../domain/events.ts";
import type { Tx } from "../storage/db.ts";
import type { Ctx } from "../context.ts";
import { recordLifecycle } from "./outbox.ts";

/**
 * Emits an event from inside a write; it is dispatched only after the write commits. `data` must
 * have the shape {@link LifecycleEventMap} gives the type.
 */
export type Emit = <K extends LifecycleEventType>(
  type: K,
  resourceId: string,
  data: LifecycleEventMap[K],
) => void;

/** Emits a type and payload that arrive together (a {@link LifecycleFact} or an event). */
export function emitFact(emit: Emit, resourceId: string, fact: LifecycleFact): void {
  // A correlated union cannot be spread into a generic call; each member is checked where it is built.
  (emit as (type: LifecycleEventType, resourceId: string, data: unknown) => void)(
    fact.type,
    resourceId,
    fact.data,
  );
}

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
      events.push(lifecycleEvent({
        type,
        tenant_id: ctx.scope.tenantId,
        app_id: ctx.scope.appId,
        resource_id: resourceId,
        occurred_at: ctx.clock.now(),
        data,
      }));
    const value = await fn(tx, emit);
    await recordLifecycle(tx, { actor: ctx.actor ?? "system", requestId: ctx.requestId ?? null }, events);
    return value;
  }, ctx.scope);
  await ctx.lifecycle.dispatch(events);
  return result;
}
