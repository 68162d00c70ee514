/**
 * Deno Deploy adapter: the same `createApp` as the local server, on a libSQL database (Turso over
 * HTTP in production: Deploy has no writable disk), with the writes of each tenant serialized
 * across isolates by a Deno KV lease ({@link TenantLock}), and the periodic jobs run by
 * `Deno.cron` (`main.ts`); webhook deliveries also start right after each committed write.
 * Deploy steps: docs/deploy.md.
 *
 * Which requests take the lease: every method except GET/HEAD/OPTIONS, keyed by the tenant of
 * the API key (`sk_`/`pk_`), or by the tenant name for `POST /v1/admin/tenants`. Requests without
 * a resolvable key are answered by the app without the lease (they are rejected before writing,
 * or, like the Stripe webhook, are idempotent on the provider's event id).
 *
 * @module
 */
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import type { Config } from "../../config.ts";
import { errorToResponse } from "../../http/problem.ts";
import { createApp } from "../../http/app.ts";
import type { Services } from "../../context.ts";
import { KeyResolver } from "../../tenants/service.ts";
import { type Database, openDatabase } from "../../storage/db.ts";
import { type MaintenanceReport, runMaintenance } from "../maintenance.ts";
import { buildServices } from "../services.ts";
import { drainWebhooksOnce } from "../../webhooks/delivery.ts";
import { TenantLock } from "./tenant_lock.ts";
import { denoRemoteAddress } from "../../http/auth_throttle.ts";
import { SecretBox } from "../../storage/secret_box.ts";
import { sealPlaintextSecrets } from "../../storage/secret_backfill.ts";

/** Methods that never write. */
const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/** A ready Deploy handler. */
export interface DeployHandler {
  /**
   * Serves one request (`Deno.serve` calls this). A write runs under its tenant's lease (a lease
   * that stays taken answers `tenant_busy`, 503, retryable) and starts a webhook delivery pass once
   * it committed.
   */
  fetch(request: Request, info?: Deno.ServeHandlerInfo): Promise<Response>;
  /** The periodic jobs (`Deno.cron` calls this). */
  maintenance(): Promise<MaintenanceReport>;
  /** The isolate's services (`buildServices`); tests reach the database and clock through them. */
  services: Services;
  /** The per-tenant write lease shared by every isolate through Deno KV (its `stats` for tests). */
  lock: TenantLock;
  /** Closes the database; the KV handle belongs to the caller. */
  close(): void;
}

function bearer(header: string | null): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match ? match[1] : null;
}

/**
 * Opens the database (migrating it) and builds the handler.
 *
 * The client's address for the failed-authentication throttle is the connection's `remoteAddr`,
 * which `Deno.serve` hands the handler (`info`) and which this handler passes on to the app as its
 * environment (as the local server does).
 *
 * @param config `BILLING_ADMIN_TOKEN` and `BILLING_ENCRYPTION_KEY` are required (Deploy has no disk
 *   to keep generated ones)
 * @param kv the deployment's KV (`Deno.openKv()`), shared by every isolate
 * @throws when the admin token or encryption key is missing or the database cannot be opened
 */
export async function createDeployHandler(config: Config, kv: Deno.Kv): Promise<DeployHandler> {
  if (!config.adminToken) throw new Error("BILLING_ADMIN_TOKEN is required on Deno Deploy");
  if (!config.encryptionKey) throw new Error("BILLING_ENCRYPTION_KEY is required on Deno Deploy");
  const database: Database = await openDatabase({
    url: config.databaseUrl,
    authToken: config.databaseAuthToken,
  });
  const services = buildServices(config, database, { sharedByIsolates: true });
  services.secrets = await SecretBox.create(config.encryptionKey, config.encryptionOldKeys ?? []);
  await sealPlaintextSecrets(database, services.secrets);
  const app = createApp(services, {
    adminToken: config.adminToken,
    sessionSecret: config.encryptionKey,
    stripeApiBase: config.stripeApiBase,
    clientAddress: denoRemoteAddress,
  });
  const keys = new KeyResolver(services);
  const lock = new TenantLock(kv);

  /** The lease key of a writing request, or null when it takes none. */
  async function tenantOf(request: Request): Promise<string | null> {
    const url = new URL(request.url);
    if (url.pathname === "/v1/admin/tenants") {
      const body = await request.clone().json().catch(() => null) as { name?: unknown } | null;
      return typeof body?.name === "string" ? `name:${body.name}` : null;
    }
    const token = bearer(request.headers.get("authorization"));
    const principal = token ? await keys.resolve(token) : null;
    return principal ? `tenant:${principal.tenantId}` : null;
  }

  /**
   * Starts a delivery pass right after a committed write (its outbox rows are visible now), so a
   * webhook leaves within a second instead of at the next `Deno.cron` minute. One pass per
   * isolate at a time; a write during a pass asks for one more. Deliveries are leased, so passes
   * of several isolates never send a message twice.
   */
  let draining: Promise<void> | null = null;
  let again = false;
  function kickDeliveries(): void {
    if (config.webhookWorkerIntervalMs <= 0) return;
    if (draining) {
      again = true;
      return;
    }
    draining = (async () => {
      do {
        again = false;
        await drainWebhooksOnce(services).catch((error) =>
          services.log({ level: "error", msg: "delivery after commit failed", error: String(error) })
        );
      } while (again);
      draining = null;
    })();
  }

  // Only the lease's own failure (`tenant_busy`) reaches this onError: the app answers the rest.
  const front = new Hono<{ Bindings: Deno.ServeHandlerInfo | undefined; Variables: { requestId: string } }>();
  front.use("*", requestId());
  front.all("*", async (c) => {
    const request = c.req.raw;
    const info = c.env; // the connection (remoteAddr), passed on for the failed-auth throttle
    if (READS.has(request.method)) return await app.fetch(request, info);
    const tenant = await tenantOf(request);
    const response = tenant
      ? await lock.run(tenant, async () => await app.fetch(request, info))
      : await app.fetch(request, info);
    if (response.status < 400) kickDeliveries();
    return response;
  });
  front.onError((error, c) => errorToResponse(error, c, services.log));

  return {
    services,
    lock,
    fetch: async (request, info) => await front.fetch(request, info),
    maintenance: () => runMaintenance(services),
    close: () => database.close(),
  };
}
