/**
 * Retention of webhook history: finished deliveries, their attempt log and fanned-out outbox
 * messages older than the retention window are deleted in bounded batches.
 *
 * @module
 */
import type { Services } from "../context.ts";
import { pruneDeliveredMessagesOfAllScopes, pruneFinishedDeliveriesOfAllScopes } from "./repository.ts";

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
    const { deliveries, attempts } = await pruneFinishedDeliveriesOfAllScopes(tx, cutoff, limit);
    const outboxMessages = await pruneDeliveredMessagesOfAllScopes(tx, cutoff, limit);
    return { deliveries, attempts, outbox_messages: outboxMessages };
  });
}
