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
 * the alarm is moved to now, so a webhook leaves within the alarm's latency of the commit. An
 * alarm expires due holds and delivers due webhooks; when the billing cycle is due (the next
 * period end, but never sooner than `BILLING_CYCLE_INTERVAL_MS` after the previous run, as the
 * Deno server's loop) it runs the same `runMaintenance` as the cron trigger (every job is
 * idempotent, so an alarm and a cron run overlapping is harmless). It then schedules itself for
 * the next due instant. The cron trigger stays as a backstop. While the object owes Redis
 * invalidations or counter drops (Redis was unreachable during a write), the alarm retries
 * delivering them every {@link OWED_RETRY_MS}: the Worker's edge path reads Redis directly and
 * cannot see what this object still owes.
 *
 * @module
 */
import type { Services } from "../../context.ts";
import type { Db } from "../../storage/db.ts";
import { nextDeliveryOrExpiry, subscriptionsStartedBefore } from "../../storage/due_work.ts";
import { billingPeriodAt } from "../../subscriptions/read.ts";
import { attempt, type MaintenanceReport, maintenanceSucceeded, runMaintenance } from "../maintenance.ts";
import type { DurableObjectStorage } from "./types.ts";
import { sweepAllScopes } from "../../ledger/service.ts";
import { type DrainReport, drainWebhooksOnce } from "../../webhooks/delivery.ts";

/** Longest sleep of an object with scheduled work it could not date (one hour, in ms). */
export const BACKSTOP_MS = 60 * 60 * 1000;
/** Delay before an alarm whose maintenance failed runs again (ms). */
export const FAILED_ALARM_RETRY_MS = 10_000;
/** Most subscriptions whose period end is computed per alarm (a limit on everything). */
export const MAX_SUBSCRIPTIONS_SCANNED = 1000;

/**
 * The next end of a live subscription's current billing period after `nowMs` (epoch ms), `null`
 * without live subscriptions or when there are more than {@link MAX_SUBSCRIPTIONS_SCANNED}
 * (the backstop then wakes the object).
 */
export async function nextPeriodEnd(db: Db, nowMs: number): Promise<number | null> {
  const now = new Date(nowMs);
  const rows = await subscriptionsStartedBefore(db, nowMs + BACKSTOP_MS, MAX_SUBSCRIPTIONS_SCANNED + 1);
  if (rows.length > MAX_SUBSCRIPTIONS_SCANNED) return null;
  let next: number | null = null;
  for (const { sub, interval } of rows) {
    if (sub.canceled_at && sub.canceled_at.getTime() <= nowMs) continue;
    const end = billingPeriodAt(sub, interval, now).end.getTime();
    if (end > nowMs && (next === null || end < next)) next = end;
  }
  return next;
}

/** Delay between two attempts to deliver invalidations owed to Redis (ms). */
export const OWED_RETRY_MS = 1000;

/** A live store that can owe Redis deliveries (`RedisLiveEntitlements`). */
interface OwingStore {
  readonly owed: number;
  deliverOwed(): Promise<boolean>;
}

/** The live store when it owes deliveries to Redis, else null. */
function owing(services: Services): OwingStore | null {
  const live = services.live as Partial<OwingStore> | undefined;
  return live && typeof live.owed === "number" && live.owed > 0 && typeof live.deliverOwed === "function"
    ? live as OwingStore
    : null;
}

/** The settings of {@link armAfterWrite} and {@link runAlarm} (from the validated config). */
export interface AlarmSettings {
  /** `BILLING_CYCLE_INTERVAL_MS`: least pause between two billing-cycle runs of the object; 0 = only the cron runs it. */
  billingCycleIntervalMs: number;
  /** `WEBHOOK_WORKER_INTERVAL_MS`: 0 = the alarm does not deliver webhooks (only the cron does). */
  webhookWorkerIntervalMs: number;
}

/** Storage key of the instant the next billing-cycle run of this object is due (epoch ms). */
export const CYCLE_AT_KEY = "alarm:cycle_at";

/** What one alarm did: the full maintenance when the cycle was due, else holds and deliveries. */
export type AlarmReport = MaintenanceReport | {
  /** When the run started (ISO 8601). */
  at: string;
  /** Hold expiry. */
  holds: { scopes_swept: number } | { error: string };
  /** Webhook delivery; `null` when the alarm does not deliver. */
  webhooks: DrainReport | { error: string } | null;
};

async function cycleAt(storage: DurableObjectStorage, settings: AlarmSettings, nowMs: number) {
  if (settings.billingCycleIntervalMs <= 0) return null;
  const at = await storage.get<number>(CYCLE_AT_KEY);
  if (at !== undefined) return at;
  // Like the Deno server's loop: the first run one interval after the object first wrote.
  const first = nowMs + settings.billingCycleIntervalMs;
  await storage.put(CYCLE_AT_KEY, first);
  return first;
}

/**
 * Moves the alarm earlier when a write just left work due (deliveries, a hold expiry, the
 * billing cycle). Never moves the alarm later.
 *
 * @throws when the object's storage fails (the write itself is already committed; the cron
 *   trigger picks the work up)
 */
export async function armAfterWrite(
  storage: DurableObjectStorage,
  services: Services,
  settings: AlarmSettings,
): Promise<void> {
  const nowMs = Date.now();
  const candidates = [
    await nextDeliveryOrExpiry(services.database.db, nowMs, settings.webhookWorkerIntervalMs > 0),
    await cycleAt(storage, settings, nowMs),
    // Counters and snapshots Redis still has wrong (it was unreachable): the Worker reads them.
    owing(services) ? nowMs + OWED_RETRY_MS : null,
  ].filter((at): at is number => at !== null);
  if (candidates.length === 0) return;
  const due = Math.max(nowMs, Math.min(...candidates));
  const current = await storage.getAlarm();
  if (current === null || due < current) await storage.setAlarm(due);
}

/**
 * The alarm handler. When the billing cycle is due it runs every periodic job
 * (`runMaintenance`) and dates the next cycle at the next period end (at least one interval,
 * at most {@link BACKSTOP_MS} away); otherwise it expires due holds and delivers due webhooks.
 * Then it sets the next alarm at the earliest due instant; after a failed job,
 * {@link FAILED_ALARM_RETRY_MS} away.
 *
 * @returns what ran and when the next alarm fires (epoch ms; `null` when nothing is scheduled)
 */
export async function runAlarm(
  storage: DurableObjectStorage,
  services: Services,
  settings: AlarmSettings,
): Promise<{ report: AlarmReport; next_alarm_ms: number | null }> {
  const startMs = Date.now();
  const db = services.database.db;
  await owing(services)?.deliverOwed();
  const deliveries = settings.webhookWorkerIntervalMs > 0;
  const cycle = await cycleAt(storage, settings, startMs);
  let report: AlarmReport;
  let failed: boolean;
  if (cycle !== null && cycle <= startMs) {
    const full = await runMaintenance(services);
    failed = !maintenanceSucceeded(full);
    report = full;
    const doneMs = Date.now();
    const periodEnd = await nextPeriodEnd(db, doneMs);
    const next = Math.min(periodEnd ?? doneMs + BACKSTOP_MS, doneMs + BACKSTOP_MS);
    await storage.put(CYCLE_AT_KEY, Math.max(doneMs + settings.billingCycleIntervalMs, next));
  } else {
    const holds = await attempt(
      services,
      "holds",
      async () => ({ scopes_swept: await sweepAllScopes(services) }),
      "alarm",
    );
    const webhooks = deliveries
      ? await attempt(services, "webhooks", () => drainWebhooksOnce(services), "alarm")
      : null;
    failed = "error" in holds || (webhooks !== null && webhooks !== undefined && "error" in webhooks);
    report = { at: new Date(startMs).toISOString(), holds, webhooks };
  }
  const nowMs = Date.now();
  let next: number | null;
  if (failed) {
    next = nowMs + FAILED_ALARM_RETRY_MS;
  } else {
    const candidates = [
      await nextDeliveryOrExpiry(db, nowMs, deliveries),
      await cycleAt(storage, settings, nowMs),
      owing(services) ? nowMs + OWED_RETRY_MS : null,
    ].filter((at): at is number => at !== null);
    // Work still due "now" after a run is work the run could not take (a busy endpoint): no hot loop.
    next = candidates.length === 0 ? null : Math.max(nowMs + 1000, Math.min(...candidates));
  }
  if (next !== null) await storage.setAlarm(next);
  return { report, next_alarm_ms: next };
}
