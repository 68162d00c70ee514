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
import { generateEncryptionKey, SecretBox } from "../../storage/secret_box.ts";
import { sealPlaintextSecrets } from "../../storage/secret_backfill.ts";
import { buildServices } from "../services.ts";
import { maintenanceJobs, startScheduler } from "../maintenance.ts";
import { type Plugin, PluginRegistry } from "../../lifecycle/plugins.ts";
import { InProcessWriter, writerFor } from "../../ledger/writer.ts";
import type { RedisLiveEntitlements } from "../../entitlements/live_store_redis.ts";
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

/** Mode of the data directory: owner only (ADR 0012). */
export const DATA_DIR_MODE = 0o700;
/** Mode of the database files, the admin token and the encryption key file: owner read/write only. */
export const DATA_FILE_MODE = 0o600;

/** The database file of a `file:` URL, or null for other URLs. */
function databaseFile(url: string): string | null {
  if (!url.startsWith("file:")) return null;
  return url.slice("file:".length).split("?")[0] || null;
}

/** `chmod` where the platform has modes (not on Windows); a missing file is skipped. */
async function restrict(path: string, mode: number): Promise<void> {
  if (Deno.build.os === "windows") return;
  try {
    await Deno.chmod(path, mode);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * Creates the data directory (0700) and an empty database file (0600) before libSQL opens it:
 * SQLite creates the `-wal` and `-shm` files with the database file's mode, so they are 0600 too.
 */
async function prepareDataFiles(config: Config): Promise<void> {
  const dir = fileDirectory(config.databaseUrl);
  if (!dir) return;
  await Deno.mkdir(dir, { recursive: true, mode: DATA_DIR_MODE });
  if (dir !== "." && dir !== "/") await restrict(dir, DATA_DIR_MODE);
  const file = databaseFile(config.databaseUrl);
  if (!file) return;
  const handle = await Deno.open(file, { create: true, write: true, mode: DATA_FILE_MODE });
  handle.close();
  await restrict(file, DATA_FILE_MODE);
}

/** Sets 0600 on the database file and its `-wal`/`-shm` companions (after the first writes: migrations). */
async function restrictDatabaseFiles(config: Config): Promise<void> {
  const file = databaseFile(config.databaseUrl);
  if (!file) return;
  for (const suffix of ["", "-wal", "-shm", "-journal"]) await restrict(file + suffix, DATA_FILE_MODE);
}

/**
 * A secret kept in a file of the data directory (embedded default only): read it, or generate it
 * with `generate` into a new 0600 file. Only the path is printed, never the value.
 */
async function dataFileSecret(
  config: Config,
  name: string,
  what: string,
  variable: string,
  generate: () => string,
): Promise<string> {
  const dir = fileDirectory(config.databaseUrl) ?? "./data";
  const path = `${dir}/${name}`;
  try {
    const value = (await Deno.readTextFile(path)).trim();
    await restrict(path, DATA_FILE_MODE);
    console.log(`${what}: in ${path} (set ${variable} to choose your own)`);
    return value;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  try {
    await Deno.writeTextFile(path, generate() + "\n", { mode: DATA_FILE_MODE, createNew: true });
    await restrict(path, DATA_FILE_MODE);
    console.log(`${what}: generated into ${path} (readable by this user only)`);
  } catch (error) {
    // Another process sharing the data directory generated it first: use theirs.
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  return (await Deno.readTextFile(path)).trim();
}

/**
 * The admin token: the configured one, else (embedded database only) the one stored next to the
 * database, generated on first start. Only the file's path is printed.
 */
async function adminToken(config: Config): Promise<string> {
  if (config.adminToken) return config.adminToken;
  return await dataFileSecret(config, "admin-token", "Admin token", "BILLING_ADMIN_TOKEN", () => {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    return `adm_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  });
}

/**
 * The encryption key of secrets at rest (ADR 0012): `BILLING_ENCRYPTION_KEY`, else (embedded
 * database only: `loadConfig` requires the variable otherwise) the key file next to the database,
 * generated on first start.
 */
async function encryptionKey(config: Config): Promise<string> {
  return config.encryptionKey ??
    await dataFileSecret(
      config,
      "encryption-key",
      "Encryption key",
      "BILLING_ENCRYPTION_KEY",
      generateEncryptionKey,
    );
}

/**
 * Opens the database and serves the API on `config.port` (0 = any free port).
 */
export async function startServer(
  config: Config,
  options: { plugins?: Plugin[] } = {},
): Promise<RunningServer> {
  await prepareDataFiles(config);
  const database = await openStore({
    url: config.databaseUrl,
    authToken: config.databaseAuthToken,
    poolMax: config.databasePoolMax,
    statementTimeoutMs: config.databaseStatementTimeoutMs,
  });
  await restrictDatabaseFiles(config);
  const services = buildServices(config, database);
  const key = await encryptionKey(config);
  services.secrets = await SecretBox.create(key, config.encryptionOldKeys ?? []);
  const sealed = await sealPlaintextSecrets(database, services.secrets);
  if (sealed.webhook_endpoints + sealed.payment_provider_configs > 0) {
    services.log({ level: "info", msg: "secrets sealed at rest", key_id: services.secrets.keyId, ...sealed });
  }
  const log = services.log;
  // BILLING_ROLE=edge: usage goes to the replica's outbox; billing: replicas are pulled (ADR 0014).
  const edgeReplica = await startEdgeReplica(config, services).catch(async (error) => {
    await database.close();
    throw error;
  });
  let stopping = false;
  const app = createApp(services, {
    adminToken: await adminToken(config),
    // Customer sessions are signed with keys derived from the encryption key, not the admin token,
    // so a leaked and rolled admin token cannot forge sessions (ADR 0013).
    sessionSecret: key,
    stripeApiBase: config.stripeApiBase,
    clientAddress: denoRemoteAddress,
    readiness: denoReadiness(config, database, () => stopping),
    // The kill switch of the fast lane (ADR 0015): `BILLING_FAST_LANE=off` sends every request
    // through the middleware chain (and lets bench:http measure the chain over HTTP).
    fastLane: Deno.env.get("BILLING_FAST_LANE") !== "off",
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
        // Reservations of committed consumptions whose confirmation is still queued for Redis (each
        // call bounded by the store's timeout); unsent ones would wait for the reconcile instead.
        await (services.live as Partial<Pick<RedisLiveEntitlements, "confirmed">> | undefined)?.confirmed?.();
        await database.close();
        return { drained, elapsed_ms: Math.round(performance.now() - started) };
      })();
      return stopped;
    },
  };
}
