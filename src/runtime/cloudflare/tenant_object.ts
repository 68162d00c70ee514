/**
 * The Durable Object of one tenant: its data (the object's own SQLite, same schema and migrations
 * as libSQL) and its single writer. It serves the very same Hono app as the Deno server
 * (`createApp`), so every route, result and error is identical; the Worker only routes requests
 * here. Two internal endpoints, reachable only from the Worker (which refuses the prefix from
 * outside), serve the queue consumer and the cron trigger.
 *
 * Eviction: nothing lives only in memory. The write lane, caches and the app are rebuilt by the
 * constructor; every committed write is in SQLite; an interrupted request committed either all of
 * its transaction or nothing, and a client retry with the same idempotency key replays the
 * stored result instead of writing twice.
 *
 * @module
 */
import { cloudflareClientAddress } from "../../http/auth_throttle.ts";
import { BillingError } from "../../domain/errors.ts";
import { createApp } from "../../http/app.ts";
import { IngestBody } from "../../usage/schemas.ts";
import type { Clock } from "../../domain/scope.ts";
import type { Ctx, Services } from "../../context.ts";
import { recordUsage } from "../../entitlements/service.ts";
import { originsOfAllApps } from "../../apps/repository.ts";
import { appIdsOfDatabase, revokedKeyHashesOfApp, unrevokedKeysOfApp } from "../../tenants/repository.ts";
import { SecretBox } from "../../storage/secret_box.ts";
import { sealPlaintextSecrets } from "../../storage/secret_backfill.ts";
import { type DeadLetterInput, recordDeadLetter } from "../../usage/dead_letters.ts";
import { type DirectoryEntry, directoryStub } from "./directory_object.ts";
import { DurableDatabase } from "./durable_database.ts";
import { maintenanceSucceeded, runMaintenance } from "../maintenance.ts";
import { jsonLogger } from "../log.ts";
import { buildServices } from "../services.ts";
import { type AlarmSettings, armAfterWrite, runAlarm } from "./alarms.ts";
import { ingestConsumptions, publishingStore, resolveCustomerRef } from "./edge_object.ts";
import { workerConfig } from "./env.ts";
import { loadMigrations } from "./migrations.ts";
import type { DurableObjectState, Env, UsageMessage } from "./types.ts";

/** Path prefix of the endpoints only the Worker calls (refused from outside by the Worker). */
export const INTERNAL_PREFIX = "/__internal/";

/** Outcome of one queued usage message, as the consumer needs it to ack or retry. */
export interface UsageMessageResult {
  /** The queue message id. */
  id: string;
  /** `done`: counted (or a duplicate); `rejected`: permanently invalid, ack and log; `retry`: transient. */
  outcome: "done" | "rejected" | "retry";
  /** Events stored (`done`). */
  accepted?: number;
  /** Events already stored before (`done`). */
  duplicates?: number;
  /** Events refused (`done`). */
  rejected?: number;
  /** Events of a `done` message that the tenant refused (unknown customer, late, reused id), with why. */
  refused?: { event: unknown; reason: { id: string; code: string; message: string } }[];
  /** Why a `rejected` or `retry` message failed. */
  error?: string;
}

/** JSON-lines logger honouring `LOG_LEVEL` (the one logger of `runtime/log.ts`). */
export const workerLogger: typeof jsonLogger = jsonLogger;

/** A clock stuck at one instant (a queued batch is timestamped when the Worker accepted it). */
function fixedClock(at: Date): Clock {
  return { now: () => new Date(at.getTime()) };
}

/** The tenant Durable Object class (binding `TENANTS`, SQLite-backed: see `wrangler.toml`). */
export class TenantObject {
  readonly #state: DurableObjectState;
  readonly #env: Env;
  readonly #database: DurableDatabase;
  readonly #services: Services;
  readonly #app: ReturnType<typeof createApp>;
  readonly #alarms: AlarmSettings;
  /** Requests this instance served since it was (re)started, internal calls included. */
  #calls = 0;

  /**
   * Called by workerd once per instance: migrates the object's SQLite before any event reaches it
   * (`blockConcurrencyWhile`) and builds the services from the Worker's environment.
   */
  constructor(state: DurableObjectState, env: Env) {
    this.#state = state;
    this.#env = env;
    this.#database = new DurableDatabase(state.storage);
    // The same validated configuration and services as the Deno server (Redis live store and
    // rate limit when UPSTASH_REDIS_REST_URL is set, metrics, the webhook URL guard).
    const config = workerConfig(env);
    this.#services = buildServices(config, this.#database);
    // No event reaches the object before its schema is current and its secrets are sealed
    // (BILLING_ENCRYPTION_KEY is a secret binding; without it secrets are refused, ADR 0012).
    state.blockConcurrencyWhile(async () => {
      await this.#database.migrate(await loadMigrations());
      if (config.encryptionKey) {
        this.#services.secrets = await SecretBox.create(config.encryptionKey, config.encryptionOldKeys ?? []);
        await sealPlaintextSecrets(this.#database, this.#services.secrets);
      }
    });
    // With Redis the Worker reads entitlements there itself: publish them as soon as they change.
    if (this.#services.live?.kind === "redis") {
      this.#services.live = publishingStore(this.#services.live, this.#services);
    }
    this.#alarms = config;
    this.#app = createApp(this.#services, {
      adminToken: config.adminToken ?? "",
      // Sessions signed with keys derived from the encryption key when set (ADR 0013).
      sessionSecret: config.encryptionKey ?? config.adminToken,
      // One SQLite per object: the admin token is the secret binding (`wrangler secret put`).
      adminTokenRotation: false,
      clientAddress: cloudflareClientAddress,
    });
  }

  /** Serves the API for this tenant, and the Worker's internal calls. */
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === `${INTERNAL_PREFIX}stats`) return Response.json({ calls: this.#calls });
    this.#calls++;
    if (url.pathname === `${INTERNAL_PREFIX}customer` && request.method === "GET") {
      return await resolveCustomerRef(this.#services, url);
    }
    const response = await this.#serve(request, url);
    if (request.method !== "GET" && request.method !== "HEAD" && request.method !== "OPTIONS") {
      // A write may have left webhook deliveries or a hold expiry due: wake up for them.
      await armAfterWrite(this.#state.storage, this.#services, this.#alarms).catch((error) =>
        this.#services.log({ level: "error", msg: "alarm not armed", error: String(error) })
      );
    }
    return response;
  }

  /** The alarm: periodic work of this tenant when it is due (`alarms.ts`). */
  async alarm(): Promise<void> {
    await runAlarm(this.#state.storage, this.#services, this.#alarms);
  }

  async #serve(request: Request, url: URL): Promise<Response> {
    if (url.pathname === `${INTERNAL_PREFIX}usage` && request.method === "POST") {
      return Response.json(await this.#ingestQueued(await request.json() as UsageMessageEnvelope[]));
    }
    if (url.pathname === `${INTERNAL_PREFIX}dead_letters` && request.method === "POST") {
      // The consumer records every dead letter in the `public` object, read by the admin route.
      for (const letter of await request.json() as DeadLetterInput[]) {
        await recordDeadLetter(this.#services, letter);
      }
      return new Response(null, { status: 204 });
    }
    if (url.pathname === `${INTERNAL_PREFIX}maintenance` && request.method === "POST") {
      const report = await runMaintenance(this.#services);
      return Response.json(report, { status: maintenanceSucceeded(report) ? 200 : 500 });
    }
    const response = await this.#app.fetch(request);
    if (response.status === 201 && request.method === "POST" && url.pathname === "/v1/admin/tenants") {
      await this.#register(
        await response.clone().json() as {
          tenant_id: string;
          app_id: string;
          secret_key: string;
          publishable_key: string;
        },
      );
    }
    if (response.status === 200 && request.method === "PATCH" && url.pathname === "/v1/apps/current") {
      await this.#publishOrigins();
    }
    if (response.ok && request.method === "POST" && url.pathname.startsWith("/v1/api_keys")) {
      // Created, rolled or revoked: the directory routes (and the Worker's edge path checks) the
      // current keys of this tenant's apps (a handful), before the answer leaves.
      for (const appId of await appIdsOfDatabase(this.#database.db)) await this.#publishKeys(appId);
    }
    return response;
  }

  /**
   * Tells the directory every browser origin an app of this tenant now allows, so the Worker can
   * route key-less CORS preflights here (`app_origins` holds this tenant's rows only).
   *
   * @throws when the directory does not answer (the change is committed; the next change of the
   *   origins publishes the full set again)
   */
  async #publishOrigins(): Promise<void> {
    const origins = await originsOfAllApps(this.#database.db);
    const response = await directoryStub(this.#env).fetch("https://directory/origins", {
      method: "PUT",
      body: JSON.stringify({
        tenant_object: this.#state.id.name ?? "",
        origins: origins.sort(),
      }),
    });
    if (!response.ok) throw new Error(`Directory refused the origins: ${response.status}`);
  }

  /**
   * Records the new app's keys in the directory so the Worker can route them here. Runs before
   * the 201 leaves, so a key works as soon as its owner holds it.
   *
   * @throws when the directory does not answer (the client sees a 500 and the keys are unusable;
   *   see ADR 0005 on this window)
   */
  async #register(created: { app_id: string }): Promise<void> {
    await this.#publishKeys(created.app_id);
  }

  /**
   * Publishes every unrevoked key of app `appId` to the directory (hash, scope, expiry), which
   * drops the app's other entries: a revoked key stops routing, and the Worker's cached lookups
   * of it end within `KEY_CACHE_TTL_MS` (one second).
   *
   * @throws when the directory does not answer (the change is committed; the next key change of
   *   the app publishes the full set again, and this object refuses the revoked key anyway)
   */
  async #publishKeys(appId: string): Promise<void> {
    const tenantObject = this.#state.id.name ?? "";
    const rows = await unrevokedKeysOfApp(this.#database.db, appId);
    const entries: DirectoryEntry[] = rows.map((row) => ({
      hash: row.hash,
      tenant_object: tenantObject,
      tenant_id: row.tenant_id,
      app_id: row.app_id,
      key_id: row.id,
      kind: row.kind,
      scope: row.scope,
      expires_at_ms: row.expires_at?.getTime() ?? null,
    }));
    // Revoked keys are named too: entries registered before the directory kept per-app lists
    // (`app_keys:`) are dropped as well.
    const revoked = await revokedKeyHashesOfApp(this.#database.db, appId, 100);
    const response = await directoryStub(this.#env).fetch("https://directory/app_keys", {
      method: "PUT",
      body: JSON.stringify({ tenant_object: tenantObject, app_id: appId, keys: entries, revoked }),
    });
    if (!response.ok) throw new Error(`Directory refused the keys of app ${appId}: ${response.status}`);
  }

  /**
   * Appends queued usage batches: each message in its own transaction through the same
   * `recordUsage` as `POST /v1/events` (storage, then the live entitlement counters) (an event id is an idempotency key, so a redelivered
   * message is counted once and reported as duplicates).
   */
  async #ingestQueued(envelopes: UsageMessageEnvelope[]): Promise<UsageMessageResult[]> {
    const results: UsageMessageResult[] = [];
    const consumptions = envelopes.filter((e) => e.body?.consumption !== undefined);
    if (consumptions.length > 0) results.push(...await ingestConsumptions(this.#services, consumptions));
    for (const { id, body } of envelopes) {
      if (body?.consumption !== undefined) continue;
      const parsed = IngestBody.safeParse({ events: body?.events });
      const scoped = typeof body?.scope?.tenantId === "string" && typeof body.scope?.appId === "string" &&
        typeof body.key_id === "string";
      if (body?.v !== 1 || !parsed.success || !scoped || Number.isNaN(Date.parse(body.received_at))) {
        results.push({ id, outcome: "rejected", error: "Message body is not a valid usage batch" });
        continue;
      }
      const ctx: Ctx = {
        ...this.#services,
        clock: fixedClock(new Date(body.received_at)),
        scope: body.scope,
        actor: body.key_id,
      };
      try {
        const report = await recordUsage(
          ctx,
          parsed.data.events.map((e) => ({
            ...e,
            timestamp: e.timestamp ? new Date(e.timestamp) : undefined,
          })),
          { message_id: id, received_at: body.received_at },
        );
        const refusedIds = new Map(report.rejected.map((r) => [r.id, r]));
        results.push({
          id,
          outcome: "done",
          accepted: report.accepted,
          duplicates: report.duplicates,
          rejected: report.rejected.length,
          refused: (body.events as { id?: unknown }[]).flatMap((event) => {
            const reason = typeof event?.id === "string" ? refusedIds.get(event.id) : undefined;
            if (!reason) return [];
            refusedIds.delete(event.id as string); // a duplicate id inside the batch is refused once
            return [{ event, reason: { id: reason.id, code: reason.code, message: reason.message } }];
          }),
        });
        if (report.rejected.length > 0) {
          this.#services.log({
            level: "error",
            msg: "queued usage events rejected",
            message_id: id,
            rejected: report.rejected,
          });
        }
      } catch (error) {
        const transient = !(error instanceof BillingError) || error.retryable;
        results.push({ id, outcome: transient ? "retry" : "rejected", error: String(error) });
      }
    }
    return results;
  }
}

/** One queued message as the consumer forwards it. */
export interface UsageMessageEnvelope {
  /** The queue message id. */
  id: string;
  /** The message as the Worker queued it. */
  body: UsageMessage;
}
