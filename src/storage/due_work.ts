/**
 * What a tenant's Durable Object has due, read across every app of its database: the queries
 * behind its alarm (`runtime/cloudflare/alarms.ts`). They span all scopes of the object on
 * purpose (the object holds one tenant), like the global sweeps of the maintenance jobs.
 *
 * @module
 */
import { and, eq, isNull, lte, sql } from "drizzle-orm";
import type { Db } from "./db.ts";
import {
  inventoryHolds,
  ledgerHolds,
  outboxEvents,
  plans,
  subscriptions,
  webhookDeliveries,
} from "./schema.ts";

function numberOrNull(rows: { at: unknown }[]): number | null {
  const at = rows[0]?.at;
  return at === null || at === undefined ? null : Number(at);
}

/**
 * When the next webhook delivery or hold expiry of this object is due (epoch ms), `nowMs` when
 * outbox messages wait to be fanned out; `null` when nothing of that kind is pending. Without
 * `deliveries`, only hold expiries count.
 */
export async function nextDeliveryOrExpiry(db: Db, nowMs: number, deliveries = true): Promise<number | null> {
  if (deliveries) {
    const unfanned = await db.select({ seq: outboxEvents.seq }).from(outboxEvents)
      .where(isNull(outboxEvents.fanned_out_at)).limit(1);
    if (unfanned.length > 0) return nowMs;
  }
  const candidates = [
    deliveries
      ? numberOrNull(
        await db.select({ at: sql<number | null>`min(${webhookDeliveries.next_attempt_at})` })
          .from(webhookDeliveries).where(eq(webhookDeliveries.status, "pending")),
      )
      : null,
    numberOrNull(
      await db.select({ at: sql<number | null>`min(${ledgerHolds.expires_at})` }).from(ledgerHolds)
        .where(eq(ledgerHolds.status, "pending")),
    ),
    numberOrNull(
      await db.select({ at: sql<number | null>`min(${inventoryHolds.expires_at})` }).from(inventoryHolds)
        .where(eq(inventoryHolds.status, "pending")),
    ),
  ].filter((at): at is number => at !== null);
  return candidates.length === 0 ? null : Math.min(...candidates);
}

/**
 * Subscriptions that started before `beforeMs` (epoch ms) with their plan's interval, at most
 * `limit` (the caller treats a full page as "too many to date").
 */
export async function subscriptionsStartedBefore(
  db: Db,
  beforeMs: number,
  limit: number,
): Promise<{ sub: typeof subscriptions.$inferSelect; interval: "month" | "year" }[]> {
  return await db.select({ sub: subscriptions, interval: plans.interval }).from(subscriptions)
    .innerJoin(
      plans,
      and(
        eq(plans.id, subscriptions.plan_id),
        eq(plans.tenant_id, subscriptions.tenant_id),
        eq(plans.app_id, subscriptions.app_id),
      ),
    )
    .where(lte(subscriptions.start_at, new Date(beforeMs)))
    .limit(limit);
}
