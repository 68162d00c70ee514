/**
 * The periodic work every runtime schedules: the Workers cron trigger (in each tenant object),
 * `Deno.cron` on Deno Deploy, and the local server's loops. Each job is idempotent and bounded
 * (its module documents how), so an overlapping, repeated or interrupted run is safe; a failing
 * job does not stop the ones after it.
 *
 * Jobs, in order:
 * 1. hold expiry: due ledger and inventory holds are expired through the single writer
 *    (`sweepAllScopes`, docs/adr/0007-ledger-balances-holds-and-seed-fixes.md);
 * 2. period rollover: plan changes that came due are applied, ended periods invoiced and, after
 *    the grace period, finalized (`runBillingCycle`, docs/adr/0004-billing-rules.md);
 * 3. time-based lifecycle events: trials ending within 3 days, fixed ends reached
 *    (`sweepTimedEvents`, docs/adr/0002-outbox-webhooks-audit-stripe.md), so they go out with this
 *    run's deliveries;
 * 4. webhook delivery: the outbox is fanned out and due deliveries attempted (`drainWebhooksOnce`);
 * 5. reservations: consumption reservations held in Redis past their grace period are settled
 *    against the store: kept when the event was stored, given back when it never was
 *    (`reconcileReservations`, docs/adr/0009-edge-hot-path.md);
 * 6. history: finished deliveries and fanned-out outbox rows past retention are pruned
 *    (`pruneWebhookHistory`, bounded per run), and stored `Idempotency-Key` answers past their
 *    24 hours (`pruneIdempotentRequests`).
 *
 * A long-running process (the Deno server) runs the same jobs through {@link startScheduler}:
 * one loop, each job at its own cadence ({@link maintenanceJobs}).
 *
 * @module
 */
import type { Services } from "../context.ts";
import { type BillingCycleReport, runBillingCycle } from "../subscriptions/billing_cycle.ts";
import { sweepAllScopes } from "../ledger/service.ts";
import { type SweepReport, sweepTimedEvents } from "../lifecycle/sweeper.ts";
import { type DrainReport, drainWebhooksOnce, PRUNE_EVERY_MS } from "../webhooks/delivery.ts";
import { type PruneReport, pruneWebhookHistory } from "../webhooks/retention.ts";
import { pruneIdempotentRequests } from "../http/idempotency.ts";
import { reconcileReservations } from "../entitlements/reservations.ts";
import type { ReconcileReport } from "../entitlements/live_store_redis.ts";
import { DEFAULT_HOLD_SWEEP_INTERVAL_MS } from "../ledger/hold_sweeper.ts";
import { type PeriodicJob, type Scheduler, startScheduler } from "../lifecycle/scheduler.ts";

/** Re-exported: the one loop lives in `lifecycle/scheduler.ts`, below the capabilities that use it. */
export { type PeriodicJob, type Scheduler, startScheduler };

/** How often a long-running process settles held consumption reservations (10 s). */
export const RESERVATION_RECONCILE_INTERVAL_MS = 10_000;

/** What one maintenance run did; a failed job reports its error instead of its result. */
export interface MaintenanceReport {
  /** When the run started (ISO 8601, the services' clock). */
  at: string;
  /** Hold expiry: how many tenant scopes had due ledger or inventory holds expired. */
  holds: { scopes_swept: number } | { error: string };
  /** Period rollover: plan changes applied, periods invoiced and drafts finalized. */
  billing_cycle: BillingCycleReport | { error: string };
  /** Time-based lifecycle events emitted (trials ending, fixed ends reached). */
  lifecycle: SweepReport | { error: string };
  /** Webhook fan-out and delivery attempts of this run. */
  webhooks: DrainReport | { error: string };
  /** Consumption reservations settled in Redis (all zero without a Redis live store). */
  reservations: ReconcileReport | { error: string };
  /** Finished deliveries and fanned-out outbox rows pruned past retention. */
  history: PruneReport | { error: string };
  /** Stored `Idempotency-Key` answers deleted. */
  idempotency: { deleted: number } | { error: string };
}

/**
 * Runs one periodic job so that its failure is logged and reported instead of thrown, and the
 * jobs after it still run (the Workers alarm uses it too).
 *
 * @param what names the run in the log line (`"maintenance job failed"`, `"alarm job failed"`)
 * @returns the job's result, or `{ error }` with the error's text
 */
export async function attempt<T>(
  services: Services,
  job: string,
  run: () => Promise<T>,
  what: "maintenance" | "alarm" = "maintenance",
): Promise<T | { error: string }> {
  try {
    return await run();
  } catch (error) {
    services.log({ level: "error", msg: `${what} job failed`, job, error: String(error) });
    return { error: String(error) };
  }
}

/**
 * Runs every periodic job once, at the services' clock.
 *
 * @returns each job's report (or its error; the next run retries it)
 */
export async function runMaintenance(services: Services): Promise<MaintenanceReport> {
  const at = services.clock.now().toISOString();
  const holds = await attempt(
    services,
    "holds",
    async () => ({ scopes_swept: await sweepAllScopes(services) }),
  );
  const billing_cycle = await attempt(services, "billing_cycle", () => runBillingCycle(services));
  const lifecycle = await attempt(services, "lifecycle", () => sweepTimedEvents(services));
  const webhooks = await attempt(services, "webhooks", () => drainWebhooksOnce(services));
  const reservations = await attempt(services, "reservations", () => reconcileReservations(services));
  const history = await attempt(services, "history", () => pruneWebhookHistory(services));
  const idempotency = await attempt(
    services,
    "idempotency",
    async () => ({ deleted: await pruneIdempotentRequests(services) }),
  );
  return { at, holds, billing_cycle, lifecycle, webhooks, reservations, history, idempotency };
}

/** Whether every job of a report succeeded. */
export function maintenanceSucceeded(report: MaintenanceReport): boolean {
  return [
    report.holds,
    report.billing_cycle,
    report.lifecycle,
    report.webhooks,
    report.reservations,
    report.history,
    report.idempotency,
  ].every((r) => !("error" in r));
}

/**
 * The periodic jobs of a long-running process, with the cadences its configuration gives
 * (`0` turns a job off, as the variables document):
 * - `webhooks` every `webhookWorkerIntervalMs` (`WEBHOOK_WORKER_INTERVAL_MS`): time-based lifecycle
 *   events, then a delivery drain, so they go out in the same pass;
 * - `holds` every `holdSweepIntervalMs` (default 5 s): expire due holds of every tenant;
 * - `billing_cycle` every `billingCycleIntervalMs` (`BILLING_CYCLE_INTERVAL_MS`): period rollover;
 * - `reservations` every {@link RESERVATION_RECONCILE_INTERVAL_MS} with a Redis live store:
 *   settle consumption reservations held past their grace period;
 * - `history` hourly: prune webhook history and expired `Idempotency-Key` answers (with webhooks on).
 */
export function maintenanceJobs(
  services: Services,
  cadence: { webhookWorkerIntervalMs: number; billingCycleIntervalMs: number; holdSweepIntervalMs?: number },
): PeriodicJob[] {
  const jobs: PeriodicJob[] = [];
  if (cadence.webhookWorkerIntervalMs > 0) {
    jobs.push({
      name: "webhooks",
      intervalMs: cadence.webhookWorkerIntervalMs,
      run: async () => {
        await sweepTimedEvents(services);
        return await drainWebhooksOnce(services);
      },
    });
  }
  jobs.push({
    name: "holds",
    intervalMs: cadence.holdSweepIntervalMs ?? DEFAULT_HOLD_SWEEP_INTERVAL_MS,
    run: () => sweepAllScopes(services),
  });
  if (cadence.billingCycleIntervalMs > 0) {
    jobs.push({
      name: "billing_cycle",
      intervalMs: cadence.billingCycleIntervalMs,
      run: () => runBillingCycle(services),
    });
  }
  if (services.live?.kind === "redis") {
    jobs.push({
      name: "reservations",
      intervalMs: RESERVATION_RECONCILE_INTERVAL_MS,
      run: () => reconcileReservations(services),
    });
  }
  if (cadence.webhookWorkerIntervalMs > 0) {
    jobs.push({
      name: "history",
      intervalMs: PRUNE_EVERY_MS,
      run: async () => {
        await pruneWebhookHistory(services);
        return await pruneIdempotentRequests(services);
      },
    });
  }
  return jobs;
}
