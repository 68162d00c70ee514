/**
 * The periodic work every runtime schedules: the Workers cron trigger (per tenant object), the
 * Deno Deploy `Deno.cron` and any operator loop call {@link runMaintenance} with the instant the
 * run stands for. Each job is idempotent and bounded, so an overlapping or repeated run is safe.
 *
 * Jobs, in order:
 * 1. outbox → webhook deliveries: fan out and attempt due deliveries (`drainWebhooksOnce`).
 *
 * @module
 */
import type { Clock, Services } from "../services/context.ts";
import { type DrainReport, drainWebhooksOnce } from "../services/webhooks.ts";

/** What one maintenance run did. */
export interface MaintenanceReport {
  /** The instant the run stood for (ISO 8601). */
  at: string;
  webhooks: DrainReport;
}

/**
 * Runs every periodic job once, as of `now`.
 *
 * @param now the scheduled instant (the cron's `scheduledTime`); jobs read time from it
 * @throws a storage error of a job (jobs before it committed; the next run resumes)
 */
export async function runMaintenance(services: Services, now: Date): Promise<MaintenanceReport> {
  const clock: Clock = { now: () => new Date(now.getTime()) };
  const at = { ...services, clock };
  const webhooks = await drainWebhooksOnce(at);
  return { at: now.toISOString(), webhooks };
}
