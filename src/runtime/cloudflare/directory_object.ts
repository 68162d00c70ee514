/**
 * The directory: one Durable Object that maps each API key's SHA-256 to the tenant object holding
 * it, and lists the tenant objects (for the cron fan-out). It stores only routing data (no key
 * material, no billing data) in its own storage; the Worker caches lookups per isolate, so it is
 * read once per key per isolate, and written once per created app.
 *
 * @module
 */
import type { KeyKind } from "../../tenants/service.ts";
import type { KeyScope } from "../../tenants/scopes.ts";
import type { DurableObjectState, DurableObjectStub, Env } from "./types.ts";

/** Where an API key leads. */
export interface DirectoryEntry {
  /** SHA-256 (hex) of the key. */
  hash: string;
  /** Name of the tenant's Durable Object (`tenant:<tenant name>`). */
  tenant_object: string;
  /** Tenant of the key (`ten_…`). */
  tenant_id: string;
  /** App of the key (`app_…`); with `tenant_id` the scope of every request made with it. */
  app_id: string;
  /** Id of the key (`key_…`), the audit actor of its writes. */
  key_id: string;
  /** `secret` or `publishable` (which routes the key may call; ADR 0008). */
  kind: KeyKind;
  /** Scope of a secret key (ADR 0013); absent in entries written before scopes (= `full`). */
  scope?: KeyScope;
  /** Epoch ms after which the key fails; `null` or absent = never. */
  expires_at_ms?: number | null;
}

/** Largest page of `GET /tenants` (a limit on everything). */
export const MAX_TENANT_PAGE = 500;

/** The directory's single instance. */
export function directoryStub(env: Pick<Env, "DIRECTORY">): DurableObjectStub {
  return env.DIRECTORY.get(env.DIRECTORY.idFromName("directory"));
}

/**
 * The directory Durable Object class (binding `DIRECTORY`). Endpoints (Worker and tenant objects
 * only; Durable Objects are not reachable from the internet):
 * - `POST /register` `{ tenant_object, keys: DirectoryEntry[] }` → 204 (idempotent)
 * - `PUT /app_keys` `{ tenant_object, app_id, keys: DirectoryEntry[], revoked?: hash[] }` → 204: the
 *   app's unrevoked keys; entries of the app's other keys (listed before, or named in `revoked`) are deleted
 * - `GET /keys/:hash` → 200 {@link DirectoryEntry} or 404
 * - `GET /apps/:app_id` → 200 `{ tenant_object, tenant_id, app_id }` or 404 (routes requests that
 *   carry no API key but name their app, such as the Stripe webhook)
 * - `PUT /origins` `{ tenant_object, origins }` → 204: replaces the browser origins some app of
 *   that tenant allows (CORS preflights carry no key, so they are routed by origin)
 * - `GET /origins?origin=` → 200 `{ tenant_object }` of a tenant allowing it, or 404
 * - `GET /tenants?after=&limit=` → 200 `{ tenants: string[] }` in name order
 */
export class DirectoryObject {
  readonly #state: DurableObjectState;

  /** Called by workerd once per instance; all state lives in `state.storage`. */
  constructor(state: DurableObjectState, _env: Env) {
    this.#state = state;
  }

  /** Serves the endpoints above. */
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const storage = this.#state.storage;
    if (request.method === "POST" && url.pathname === "/register") {
      const body = await request.json() as { tenant_object: string; keys: DirectoryEntry[] };
      const entries: Record<string, unknown> = { [`tenant:${body.tenant_object}`]: true };
      for (const key of body.keys) {
        entries[`key:${key.hash}`] = key;
        entries[`app:${key.app_id}`] = {
          tenant_object: key.tenant_object,
          tenant_id: key.tenant_id,
          app_id: key.app_id,
        };
      }
      await storage.put(entries);
      return new Response(null, { status: 204 });
    }
    if (request.method === "PUT" && url.pathname === "/app_keys") {
      const body = await request.json() as {
        tenant_object: string;
        app_id: string;
        keys: DirectoryEntry[];
        revoked?: string[];
      };
      const listKey = `app_keys:${body.app_id}`;
      const before = (await storage.get<string[]>(listKey)) ?? [];
      const hashes = body.keys.map((k) => k.hash);
      const removed = [...new Set([...before, ...(body.revoked ?? [])])].filter((h) => !hashes.includes(h));
      for (let i = 0; i < removed.length; i += 100) {
        await storage.delete(removed.slice(i, i + 100).map((h) => `key:${h}`));
      }
      const entries: Record<string, unknown> = { [`tenant:${body.tenant_object}`]: true, [listKey]: hashes };
      const first = body.keys[0];
      if (first) {
        entries[`app:${body.app_id}`] = {
          tenant_object: body.tenant_object,
          tenant_id: first.tenant_id,
          app_id: body.app_id,
        };
      }
      for (const key of body.keys) entries[`key:${key.hash}`] = key;
      // At most 128 keys per put: 100 keys of an app (MAX_KEYS_PER_APP) and three more entries.
      const all = Object.entries(entries);
      for (let i = 0; i < all.length; i += 120) await storage.put(Object.fromEntries(all.slice(i, i + 120)));
      return new Response(null, { status: 204 });
    }
    const key = url.pathname.match(/^\/keys\/([0-9a-f]{64})$/);
    if (request.method === "GET" && key) {
      const entry = await storage.get<DirectoryEntry>(`key:${key[1]}`);
      return entry ? Response.json(entry) : new Response(null, { status: 404 });
    }
    const app = url.pathname.match(/^\/apps\/([a-z0-9_]{1,128})$/);
    if (request.method === "GET" && app) {
      const entry = await storage.get(`app:${app[1]}`);
      return entry ? Response.json(entry) : new Response(null, { status: 404 });
    }
    if (request.method === "PUT" && url.pathname === "/origins") {
      const body = await request.json() as { tenant_object: string; origins: string[] };
      const listKey = `tenant_origins:${body.tenant_object}`;
      const before = (await storage.get<string[]>(listKey)) ?? [];
      const removed = before.filter((o) => !body.origins.includes(o));
      if (removed.length > 0) await storage.delete(removed.map((o) => `origin:${o} ${body.tenant_object}`));
      const entries: Record<string, unknown> = { [listKey]: body.origins };
      for (const origin of body.origins) entries[`origin:${origin} ${body.tenant_object}`] = true;
      await storage.put(entries);
      return new Response(null, { status: 204 });
    }
    if (request.method === "GET" && url.pathname === "/origins") {
      const prefix = `origin:${url.searchParams.get("origin") ?? ""} `;
      const first = [...(await storage.list({ prefix, limit: 1 })).keys()][0];
      return first
        ? Response.json({ tenant_object: first.slice(prefix.length) })
        : new Response(null, { status: 404 });
    }
    if (request.method === "GET" && url.pathname === "/tenants") {
      const limit = Math.min(
        MAX_TENANT_PAGE,
        Math.max(1, Number(url.searchParams.get("limit") ?? MAX_TENANT_PAGE) || 1),
      );
      const after = url.searchParams.get("after");
      const page = await storage.list({
        prefix: "tenant:",
        ...(after ? { startAfter: `tenant:${after}` } : {}),
        limit,
      });
      return Response.json({ tenants: [...page.keys()].map((k) => k.slice("tenant:".length)) });
    }
    return new Response(null, { status: 404 });
  }
}
