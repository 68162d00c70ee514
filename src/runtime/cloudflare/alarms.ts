/**
 * Background work of a tenant object on its Durable Object alarm: the object wakes itself when
 * the next piece of its own work is due instead of waiting for the cron trigger to visit every
 * tenant. Due work is, per tenant:
 * - webhook deliveries: outbox messages not yet fanned out (due at once) and the next retry of a
 *   pending delivery (`next_attempt_at`);
 * - the next expiry of a pending ledger or inventory hold;
 * - the next end of a live subscription's billing period (rollover, invoicing).
 *
 * After every write the object calls {@link armAfterWrite}: when the write left deliveries due,
 * the alarm is moved to now, so a webhook leaves within the alarm's latency of the commit. The
 * alarm runs the same `runMaintenance` as the cron trigger (every job is idempotent, so an alarm
 * and a cron run overlapping is harmless) and schedules itself for the next due instant, at the
 * latest {@link BACKSTOP_MS} later. The cron trigger stays as a backstop.
 *
 * @module
 */
import { and, eq, isNull, lte, sql } from "drizzle-orm";
import type { Services } from "../../context.ts";
import {
  inventoryHolds,
  ledgerHolds,
  outboxEvents,
  plans,
  subscriptions,
  webhookDeliveries,
} from "../../storage/schema.ts";
import type { Db } from "../../storage/db.ts";
import { billingPeriodAt } from "../../subscriptions/read.ts";
import { type MaintenanceReport, maintenanceSucceeded, runMaintenance } from "../maintenance.ts";
import type { DurableObjectStorage } from "./types.ts";

/** Longest sleep of an object with scheduled work it could not date (one hour, in ms). */
export const BACKSTOP_MS = 60 * 60 * 1000;
/** Delay before an alarm whose maintenance failed runs again (ms). */
export const FAILED_ALARM_RETRY_MS = 10_000;
/** Most subscriptions whose period end is computed per alarm (a limit on everything). */
export const MAX_SUBSCRIPTIONS_SCANNED = 1000;

function numberOrNull(rows: { at: unknown }[]): number | null {
  const at = rows[0]?.at;
  return at === null || at === undefined ? null : Number(at);
}

/**
 * When the next webhook delivery or hold expiry of this object is due (epoch ms), `nowMs` when
 * outbox messages wait to be fanned out; `null` when nothing of that kind is pending.
 */
export async function nextDeliveryOrExpiry(db: Db, nowMs: number): Promise<number | null> {
  const unfanned = await db.select({ seq: outboxEvents.seq }).from(outboxEvents)
    .where(isNull(outboxEvents.fanned_out_at)).limit(1);
  if (unfanned.length > 0) return nowMs;
  const candidates = [
    numberOrNull(
      await db.select({ at: sql<number | null>`min(${webhookDeliveries.next_attempt_at})` })
        .from(webhookDeliveries).where(eq(webhookDeliveries.status, "pending")),
    ),
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
 * The next end of a live subscription's current billing period after `nowMs` (epoch ms), `null`
 * without live subscriptions or when there are more than {@link MAX_SUBSCRIPTIONS_SCANNED}
 * (the backstop then wakes the object).
 */
export async function nextPeriodEnd(db: Db, nowMs: number): Promise<number | null> {
  const now = new Date(nowMs);
  const rows = await db.select({ sub: subscriptions, interval: plans.interval }).from(subscriptions)
    .innerJoin(
      plans,
      and(
        eq(plans.id, subscriptions.plan_id),
        eq(plans.tenant_id, subscriptions.tenant_id),
        eq(plans.app_id, subscriptions.app_id),
      ),
    )
    .where(lte(subscriptions.start_at, new Date(nowMs + BACKSTOP_MS)))
    .limit(MAX_SUBSCRIPTIONS_SCANNED + 1);
  if (rows.length > MAX_SUBSCRIPTIONS_SCANNED) return null;
  let next: number | null = null;
  for (const { sub, interval } of rows) {
    if (sub.canceled_at && sub.canceled_at.getTime() <= nowMs) continue;
    const end = billingPeriodAt(sub, interval, now).end.getTime();
    if (end > nowMs && (next === null || end < next)) next = end;
  }
  return next;
}

/**
 * Moves the alarm earlier when a write just left work due (deliveries, a hold expiry), and
 * makes sure an object with data has an alarm at all. Never moves the alarm later.
 *
 * @throws when the object's storage fails (the write itself is already committed; the cron
 *   trigger picks the work up)
 */
export async function armAfterWrite(storage: DurableObjectStorage, services: Services): Promise<void> {
  const nowMs = Date.now();
  const due = (await nextDeliveryOrExpiry(services.database.db, nowMs)) ?? nowMs + BACKSTOP_MS;
  const current = await storage.getAlarm();
  if (current === null || due < current) await storage.setAlarm(Math.max(nowMs, due));
}

/**
 * The alarm handler: runs every periodic job once, then schedules the next alarm at the earliest
 * due instant (deliveries, hold expiries, period ends), at most {@link BACKSTOP_MS} away; after a
 * failed job, {@link FAILED_ALARM_RETRY_MS} away.
 *
 * @returns the maintenance report and when the next alarm fires (epoch ms)
 */
export async function runAlarm(
  storage: DurableObjectStorage,
  services: Services,
): Promise<{ report: MaintenanceReport; next_alarm_ms: number }> {
  const report = await runMaintenance(services);
  const nowMs = Date.now();
  const db = services.database.db;
  let next: number;
  if (maintenanceSucceeded(report)) {
    const candidates = [
      nowMs + BACKSTOP_MS,
      await nextDeliveryOrExpiry(db, nowMs),
      await nextPeriodEnd(db, nowMs),
    ].filter((at): at is number => at !== null);
    // Work still due "now" after a full run is work the run could not take (a busy endpoint): no hot loop.
    next = Math.max(nowMs + 1000, Math.min(...candidates));
  } else {
    next = nowMs + FAILED_ALARM_RETRY_MS;
  }
  await storage.setAlarm(next);
  return { report, next_alarm_ms: next };
}
