/**
 * Group commit of consumption events: the usage events that consuming entitlement checks record
 * after their units were reserved in the live store.
 *
 * One FIFO queue per tenant + app. While one batch is being written, new events wait; the next
 * transaction takes all of them (up to {@link MAX_CONSUMPTION_BATCH}), so N concurrent consumers
 * cost one commit instead of N. Each event keeps its own outcome (stored, duplicate of an earlier
 * event with the same id, or rejected); two events with the same id never share a batch, so
 * "the first one wins" stays true. A failed transaction fails every event of its batch (each
 * caller then gives its reservation back). Idempotency and validation are `storeEvents`'s
 * (`usage.ts`); this module only decides which events share a transaction.
 *
 * @module
 */
import type { Store } from "../storage/db.ts";
import type { Ctx } from "../context.ts";
import { ingestEvents, type IngestReport, type UsageEventInput } from "../usage/service.ts";
import { appendUsage } from "../usage/append.ts";

/** Largest number of events written in one transaction (a limit on everything). */
export const MAX_CONSUMPTION_BATCH = 500;

interface Pending {
  ctx: Ctx;
  event: UsageEventInput;
  resolve(report: IngestReport): void;
  reject(error: unknown): void;
}

/** Per-database group committer of consumption events. */
export class ConsumptionWriter {
  readonly #queues = new Map<string, Pending[]>();

  /**
   * Queues one event and resolves with its own report once its batch committed:
   * `accepted: 1` (stored), `duplicates: 1` (same id and payload stored before) or one `rejected`.
   *
   * @throws whatever the batch's transaction threw (nothing of the batch was written)
   */
  submit(ctx: Ctx, event: UsageEventInput): Promise<IngestReport> {
    const key = `${ctx.scope.tenantId}:${ctx.scope.appId}`;
    return new Promise((resolve, reject) => {
      let queue = this.#queues.get(key);
      const idle = queue === undefined;
      if (!queue) this.#queues.set(key, queue = []);
      queue.push({ ctx, event, resolve, reject });
      // A macrotask, not now: consumptions of requests already read from their sockets join the
      // first batch instead of waiting for the next commit (group commit, issue 14).
      if (idle) setTimeout(() => void this.#drain(key, queue), 0);
    });
  }

  async #drain(key: string, queue: Pending[]): Promise<void> {
    while (queue.length > 0) {
      const batch: Pending[] = [];
      const ids = new Set<string>();
      for (let i = 0; i < queue.length && batch.length < MAX_CONSUMPTION_BATCH;) {
        if (ids.has(queue[i].event.id)) {
          i++;
          continue;
        }
        ids.add(queue[i].event.id);
        batch.push(...queue.splice(i, 1));
      }
      try {
        const ctx = batch[0].ctx;
        const events = batch.map((p) => p.event);
        // An edge node with a replica appends to its outbox (ADR 0014); otherwise the primary.
        const report = ctx.usageSink
          ? await appendUsage(ctx, ctx.usageSink, events)
          : await ingestEvents(ctx, events);
        const rejected = new Map(report.rejected.map((r) => [r.id, r]));
        const stored = new Set(report.stored.map((s) => s.event_id));
        for (const p of batch) {
          const r = rejected.get(p.event.id);
          if (r) p.resolve({ accepted: 0, duplicates: 0, rejected: [r] });
          else if (stored.has(p.event.id)) p.resolve({ accepted: 1, duplicates: 0, rejected: [] });
          else p.resolve({ accepted: 0, duplicates: 1, rejected: [] });
        }
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
      // The commit blocked the event loop: let the requests that arrived meanwhile queue up.
      if (queue.length > 0 && queue.length < MAX_CONSUMPTION_BATCH) {
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
    this.#queues.delete(key);
  }
}

const writers = new WeakMap<Store, ConsumptionWriter>();

/** The consumption writer of a database (one per process and database). */
export function consumptionWriter(database: Store): ConsumptionWriter {
  let writer = writers.get(database);
  if (!writer) writers.set(database, writer = new ConsumptionWriter());
  return writer;
}
