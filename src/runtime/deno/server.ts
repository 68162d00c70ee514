/**
 * Builds the services for a Deno process and serves them.
 *
 * @module
 */
import { denoRemoteAddress } from "../../http/auth_throttle.ts";
import type { Config } from "../../config.ts";
import { createApp } from "../../http/app.ts";
import type { Services } from "../../context.ts";
import { openStore } from "../../storage/open.ts";
import { buildServices } from "../services.ts";
import { maintenanceJobs, startScheduler } from "../maintenance.ts";
import { type Plugin, PluginRegistry } from "../../lifecycle/plugins.ts";
import { InProcessWriter, writerFor } from "../../ledger/writer.ts";
import { denoReadiness } from "./readiness.ts";
import { startEdgeReplica } from "./edge_replica.ts";

/** How long {@link RunningServer.stop} waits for in-flight requests by default, in milliseconds. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/** What {@link RunningServer.stop} did. */
export interface StopReport {
  /** Whether every in-flight request finished within the grace period. */
  drained: boolean;
  /** Milliseconds from the call to the database being closed. */
  elapsed_ms: number;
}

/** A running server. */
export interface RunningServer {
  /** The port it listens on. */
  port: number;
  /** The services it serves. */
  services: Services;
  /** Lifecycle plugins of this process (in-process, time-bounded subscribers). */
  plugins: PluginRegistry;
  /**
   * Graceful stop: `/readyz` answers 503 and the listener closes at once; in-flight requests get
   * up to `graceMs` (default {@link DEFAULT_SHUTDOWN_GRACE_MS}) to finish; then the background
   * jobs stop (each finishes its current run), the ledger writer's queue drains and the database
   * closes. Calling it again returns the same promise.
   */
  stop(options?: { graceMs?: number }): Promise<StopReport>;
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

/** `url` with its password (if any) replaced by `***`, for logs. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
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
    console.log(`Admin token: in ${path} (set BILLING_ADMIN_TOKEN to choose your own)`);
    return token;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  const token = `adm_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  await Deno.writeTextFile(path, token + "\n", { mode: 0o600 });
  console.log(`Admin token: generated into ${path} (readable by this user only)`);
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
  const database = await openStore({
    url: config.databaseUrl,
    authToken: config.databaseAuthToken,
    poolMax: config.databasePoolMax,
    statementTimeoutMs: config.databaseStatementTimeoutMs,
  });
  const services = buildServices(config, database);
  const log = services.log;
  // BILLING_ROLE=edge: usage goes to the replica's outbox; billing: replicas are pulled (ADR 0013).
  const edgeReplica = await startEdgeReplica(config, services).catch(async (error) => {
    await database.close();
    throw error;
  });
  let stopping = false;
  const app = createApp(services, {
    adminToken: await adminToken(config),
    stripeApiBase: config.stripeApiBase,
    clientAddress: denoRemoteAddress,
    readiness: denoReadiness(config, database, () => stopping),
  });
  // One loop of periodic work, each job at its own cadence (on Workers and Deno Deploy: the
  // maintenance cron runs the same jobs): webhook delivery with time-based events, hold expiry,
  // the billing cycle (plan changes that came due, invoices of ended periods, finalization after
  // the grace period) and hourly pruning.
  // An edge node leaves invoicing, webhooks and sweeps to the billing process.
  const scheduler = startScheduler(
    services,
    config.role === "edge" ? [] : maintenanceJobs(services, {
      webhookWorkerIntervalMs: config.webhookWorkerIntervalMs,
      billingCycleIntervalMs: config.billingCycleIntervalMs,
    }),
  );
  const plugins = new PluginRegistry(services.lifecycle, log);
  for (const plugin of options.plugins ?? []) plugins.register(plugin);
  const server = Deno.serve({
    port: config.port,
    hostname: config.host,
    onListen: ({ port }) =>
      console.log(
        `Billing worker listening on http://${config.host}:${port} (database ${
          withoutPassword(config.databaseUrl)
        }; live entitlements ${
          services.live ? (config.redis ? "on Redis" : "on the database") : "in-process"
        }${edgeReplica ? `; ${edgeReplica.description}` : ""}` +
          `${
            config.webhookAllowPrivateUrls
              ? "; WEBHOOK_ALLOW_PRIVATE_URLS: webhooks may target http and private addresses"
              : ""
          })`,
      ),
  }, app.fetch);
  let stopped: Promise<StopReport> | undefined;
  return {
    port: server.addr.port,
    services,
    plugins,
    stop(options = {}) {
      stopped ??= (async () => {
        const started = performance.now();
        stopping = true;
        const graceMs = options.graceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const drained = await Promise.race([
          server.shutdown().then(() => true),
          new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), graceMs)),
        ]);
        clearTimeout(timer);
        await scheduler.stop();
        await edgeReplica?.stop();
        // Acknowledged ledger commands are committed before their answer; wait (bounded by the
        // grace period again) for commands of requests that were cut off.
        const writer = writerFor(services);
        const waiting = () => writer instanceof InProcessWriter ? writer.waiting : 0;
        for (let waited = 0; waiting() > 0 && waited < graceMs; waited += 50) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await database.close();
        return { drained, elapsed_ms: Math.round(performance.now() - started) };
      })();
      return stopped;
    },
  };
}
