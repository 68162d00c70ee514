/**
 * The periodic work every runtime schedules: the Workers cron trigger (in each tenant object),
 * `Deno.cron` on Deno Deploy, and the local server's loops. Each job is idempotent and bounded
 * (its module documents how), so an overlapping, repeated or interrupted run is safe; a failing
 * job does not stop the ones after it.
 *
 * Jobs, in order:
 * 1. hold expiry: due ledger and inventory holds are expired through the single writer
 *    (`sweepAllScopes`, issue 3);
 * 2. period rollover: plan changes that came due are applied, ended periods invoiced and, after
 *    the grace period, finalized (`runBillingCycle`, issue 6);
 * 3. webhook delivery: the outbox is fanned out and due deliveries attempted (`drainWebhooksOnce`).
 *
 * @module
 */
import type { Services } from "../services/context.ts";
import { type BillingCycleReport, runBillingCycle } from "../services/billing_cycle.ts";
import { sweepAllScopes } from "../services/ledger.ts";
import { type DrainReport, drainWebhooksOnce } from "../services/webhooks.ts";

/** What one maintenance run did; a failed job reports its error instead of its result. */
export interface MaintenanceReport {
  /** When the run started (ISO 8601, the services' clock). */
  at: string;
  holds: { scopes_swept: number } | { error: string };
  billing_cycle: BillingCycleReport | { error: string };
  webhooks: DrainReport | { error: string };
}

async function attempt<T>(services: Services, job: string, run: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await run();
  } catch (error) {
    services.log({ level: "error", msg: "maintenance job failed", job, error: String(error) });
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
  const holds = await attempt(services, "holds", async () => ({ scopes_swept: await sweepAllScopes(services) }));
  const billing_cycle = await attempt(services, "billing_cycle", () => runBillingCycle(services));
  const webhooks = await attempt(services, "webhooks", () => drainWebhooksOnce(services));
  return { at, holds, billing_cycle, webhooks };
}

/** Whether every job of a report succeeded. */
export function maintenanceSucceeded(report: MaintenanceReport): boolean {
  return !("error" in report.holds) && !("error" in report.billing_cycle) && !("error" in report.webhooks);
}
