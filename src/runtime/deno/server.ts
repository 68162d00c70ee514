/**
 * Builds the services for a Deno process and serves them.
 *
 * @module
 */
import { denoRemoteAddress } from "../../http/auth_throttle.ts";
import type { Config } from "../../config.ts";
import { createApp } from "../../http/app.ts";
import type { Services } from "../../context.ts";
import { openDatabase } from "../../storage/db.ts";
import { buildServices } from "../services.ts";
import { startWebhookWorker } from "../../webhooks/service.ts";
import { startHoldSweeper } from "../../ledger/hold_sweeper.ts";
import { startBillingCycle } from "../../subscriptions/billing_cycle.ts";
import { type Plugin, PluginRegistry } from "../../lifecycle/plugins.ts";

/** A running server. */
export interface RunningServer {
  port: number;
  services: Services;
  /** Lifecycle plugins of this process (in-process, time-bounded subscribers). */
  plugins: PluginRegistry;
  stop(): Promise<void>;
}

/**
 * Directory of a `file:` database URL (relative paths are relative to the working directory).
 */
function fileDirectory(url: string): string | null {
  if (!url.startsWith("file:")) return null;
  const path = url.slice("file:".length);
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "." : path.slice(0, slash);
}

/**
 * The admin token: the configured one, else (embedded database only) the one stored next to the
 * database, generated and printed on first start.
 */
async function adminToken(config: Config): Promise<string> {
  if (config.adminToken) return config.adminToken;
  const dir = fileDirectory(config.databaseUrl) ?? "./data";
  const path = `${dir}/admin-token`;
  try {
    const token = (await Deno.readTextFile(path)).trim();
    console.log(`Admin token: read from ${path} (set BILLING_ADMIN_TOKEN to choose your own)`);
    return token;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  const token = `adm_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  await Deno.writeTextFile(path, token + "\n", { mode: 0o600 });
  console.log(`Admin token (generated, stored in ${path}): ${token}`);
  return token;
}

/**
 * Opens the database and serves the API on `config.port` (0 = any free port).
 */
export async function startServer(
  config: Config,
  options: { plugins?: Plugin[] } = {},
): Promise<RunningServer> {
  const dir = fileDirectory(config.databaseUrl);
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const database = await openDatabase({ url: config.databaseUrl, authToken: config.databaseAuthToken });
  const services = buildServices(config, database);
  const log = services.log;
  const app = createApp(services, {
    adminToken: await adminToken(config),
    stripeApiBase: config.stripeApiBase,
    clientAddress: denoRemoteAddress,
  });
  // Background delivery of the outbox to webhook endpoints (on Workers: the queue consumer).
  const webhookWorker = config.webhookWorkerIntervalMs > 0
    ? startWebhookWorker(services, { intervalMs: config.webhookWorkerIntervalMs, sweep: true })
    : null;
  // Expire due ledger and inventory holds of every tenant (on Workers: the maintenance cron).
  const holdSweeper = startHoldSweeper(services);
  // Roll periods over: plan changes that came due, invoices of ended periods, finalization after
  // the grace period (on Workers and Deno Deploy: the maintenance cron).
  const billingCycle = config.billingCycleIntervalMs > 0
    ? startBillingCycle(services, { interval_ms: config.billingCycleIntervalMs })
    : null;
  const plugins = new PluginRegistry(services.lifecycle, log);
  for (const plugin of options.plugins ?? []) plugins.register(plugin);
  const server = Deno.serve({
    port: config.port,
    hostname: config.host,
    onListen: ({ port }) =>
      console.log(
        `Billing worker listening on http://${config.host}:${port} (database ${config.databaseUrl}; live entitlements ${
          services.live ? "on Redis" : "in-process"
        }` +
          `${
            config.webhookAllowPrivateUrls
              ? "; WEBHOOK_ALLOW_PRIVATE_URLS: webhooks may target http and private addresses"
              : ""
          })`,
      ),
  }, app.fetch);
  return {
    port: server.addr.port,
    services,
    plugins,
    async stop() {
      await server.shutdown();
      await webhookWorker?.stop();
      await holdSweeper.stop();
      await billingCycle?.stop();
      database.close();
    },
  };
}
