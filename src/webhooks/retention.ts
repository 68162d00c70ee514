/**
 * Retention of webhook history: finished deliveries, their attempt log and fanned-out outbox
 * messages older than the retention window are deleted in bounded batches.
 *
 * @module
 */
import { and, asc, inArray, lt, sql } from "drizzle-orm";
import { outboxEvents, webhookAttempts, webhookDeliveries } from "../storage/schema.ts";
import type { Services } from "../context.ts";
import { inChunks } from "../storage/limits.ts";

/** Default retention of delivered history (deliveries, attempts, fanned-out outbox rows): 30 days. */
export const DEFAULT_RETENTION_MS = 30 * 24 * 3_600_000;

/** What {@link pruneWebhookHistory} deleted. */
export interface PruneReport {
  /** Finished deliveries deleted. */
  deliveries: number;
  /** Their attempt rows deleted. */
  attempts: number;
  /** Fanned-out outbox messages deleted. */
  outbox_messages: number;
}

/**
 * Deletes finished history older than `retentionMs`: succeeded/failed deliveries (last changed
 * before the cutoff) with their attempt log, then outbox messages fanned out before the cutoff
 * that no delivery references any more. Pending deliveries and their messages are never touched;
 * audit rows are kept (they name the message id only). At most `limit` rows of each kind per call.
 */
export async function pruneWebhookHistory(
  services: Services,
  options: { retentionMs?: number; limit?: number } = {},
): Promise<PruneReport> {
  const cutoff = new Date(services.clock.now().getTime() - (options.retentionMs ?? DEFAULT_RETENTION_MS));
  const limit = Math.max(1, Math.min(10_000, options.limit ?? 1_000));
  return await services.database.write(async (tx) => {
    const old = await tx.select({ id: webhookDeliveries.id }).from(webhookDeliveries)
      .where(
        and(
          inArray(webhookDeliveries.status, ["succeeded", "failed"]),
          lt(webhookDeliveries.updated_at, cutoff),
        ),
      )
      .limit(limit);
    const ids = old.map((d) => d.id);
    let attempts = 0;
    for (const chunk of inChunks(tx, ids, 4)) {
      attempts +=
        (await tx.delete(webhookAttempts).where(inArray(webhookAttempts.delivery_id, chunk)).returning({
          id: webhookAttempts.id,
        })).length;
      await tx.delete(webhookDeliveries).where(inArray(webhookDeliveries.id, chunk));
    }
    const messages = await tx.select({ seq: outboxEvents.seq }).from(outboxEvents)
      .where(and(
        sql`${outboxEvents.fanned_out_at} is not null`,
        lt(outboxEvents.occurred_at, cutoff),
        sql`not exists (select 1 from webhook_deliveries d where d.message_id = ${outboxEvents.id})`,
      ))
      .orderBy(asc(outboxEvents.seq)).limit(limit);
    for (const chunk of inChunks(tx, messages.map((m) => m.seq), 4)) {
      await tx.delete(outboxEvents).where(inArray(outboxEvents.seq, chunk));
    }
    return { deliveries: ids.length, attempts, outbox_messages: messages.length };
  });
}
