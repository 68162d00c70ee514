/**
 * Tenants, apps and API keys.
 *
 * Keys: `sk_…` (secret: every route of its tenant+app) and `pk_…` (publishable: entitlement checks
 * and usage for browsers). A key is 32 random bytes, hex-encoded, shown once; only its SHA-256
 * is stored (high-entropy keys need no slow hash, as Unkey and Stripe do it).
 *
 * @module
 */
import { BillingError } from "../domain/errors.ts";
import { sha256Hex, sha256HexSync } from "../domain/hash.ts";
import { newId } from "../domain/ids.ts";
import {
  activeKeyByHash,
  activeKeyOfAppById,
  appByName,
  insertAppWithKeys,
  insertTenant,
  tenantByName,
} from "./repository.ts";
import type { LifecycleEvent } from "../domain/events.ts";
import type { Scope } from "../domain/scope.ts";
import type { KeyScope } from "./scopes.ts";
import type { Services } from "../context.ts";
import { recordLifecycle } from "../lifecycle/outbox.ts";

/** Kind of an API key. */
export type KeyKind = "secret" | "publishable";

/** Who is calling: resolved from an API key. */
export interface Principal extends Scope {
  /** Id of the API key that was presented (`key_…`); the audit trail's actor. */
  keyId: string;
  /**
   * `secret` (server-side, every route) or `publishable` (browser, the publishable routes only; ADR 0008).
   */
  kind: KeyKind;
  /** What a secret key reaches (`scopes.ts`); `full` for publishable keys, which the publishable routes bound. */
  scope: KeyScope;
  /** Epoch ms after which the key fails (`null` = never): checked on every request, cached or not. */
  expiresAtMs: number | null;
}

/** Result of {@link createTenantApp}; the keys are shown only here. */
export interface CreatedTenantApp {
  /** The new tenant (`ten_…`). */
  tenant_id: string;
  /** Its first app (`app_…`). */
  app_id: string;
  /** The secret API key (`sk_…`, 64 hex digits); only its SHA-256 hash is stored. */
  secret_key: string;
  /** The publishable API key (`pk_…`) for browsers; only its SHA-256 hash is stored. */
  publishable_key: string;
}

/** A new key: `prefix_` and 32 random bytes as 64 hex digits. */
export function randomKey(prefix: "sk" | "pk"): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `${prefix}_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Creates an app (and its tenant when the name is new) with a secret and a publishable key.
 * A second app of an existing tenant is added to it.
 *
 * The `tenant.created` event goes to the outbox and the audit trail (actor `admin`) in the same
 * transaction, and to in-process subscribers after the commit.
 *
 * @param options.requestId request id for the audit row
 * @throws {BillingError} `tenant_app_exists` (409) when the tenant already has an app of that name
 */
export async function createTenantApp(
  services: Services,
  input: { name: string; app: string },
  options: { requestId?: string } = {},
): Promise<CreatedTenantApp> {
  const secret = randomKey("sk");
  const publishable = randomKey("pk");
  const [secretHash, publishableHash] = await Promise.all([sha256Hex(secret), sha256Hex(publishable)]);
  const now = services.clock.now();
  let event: LifecycleEvent | undefined;
  const created = await services.database.write(async (tx) => {
    let tenant = await tenantByName(tx, input.name);
    if (!tenant) {
      tenant = { id: newId("ten"), name: input.name, created_at: now };
      await insertTenant(tx, tenant);
    }
    const existing = await appByName(tx, tenant.id, input.app);
    if (existing) {
      throw new BillingError(
        "tenant_app_exists",
        "conflict",
        `Tenant "${input.name}" already has an app "${input.app}"`,
      );
    }
    const appId = newId("app");
    await insertAppWithKeys(tx, { id: appId, tenant_id: tenant.id, name: input.app, created_at: now }, [
      {
        id: newId("key"),
        tenant_id: tenant.id,
        app_id: appId,
        kind: "secret",
        hash: secretHash,
        prefix: secret.slice(0, 10),
        last4: secret.slice(-4),
        name: "default",
        created_at: now,
      },
      {
        id: newId("key"),
        tenant_id: tenant.id,
        app_id: appId,
        kind: "publishable",
        hash: publishableHash,
        prefix: publishable.slice(0, 10),
        last4: publishable.slice(-4),
        name: "default",
        created_at: now,
      },
    ]);
    event = {
      type: "tenant.created",
      tenant_id: tenant.id,
      app_id: appId,
      resource_id: appId,
      occurred_at: now,
      data: { name: input.name, app: input.app },
    };
    await recordLifecycle(tx, { actor: "admin", requestId: options.requestId ?? null }, [event]);
    return { tenant_id: tenant.id, app_id: appId };
  });
  await services.lifecycle.dispatch([event!]);
  return { ...created, secret_key: secret, publishable_key: publishable };
}

/** What an API key looks like: `sk_` or `pk_` and 64 lower-case hex digits. */
const API_KEY_FORMAT = /^(sk|pk)_[0-9a-f]{64}$/;

/** How long a key lookup is reused before the database is asked again (milliseconds). */
export const KEY_CACHE_TTL_MS = 1000;

/**
 * Resolves API keys to principals, with a small in-process cache. An answer is reused for at most
 * {@link KEY_CACHE_TTL_MS}, so a key revoked in the database stops working in every process within
 * a second; a miss costs one indexed read. Expiry is checked against the services' clock on every
 * call, cached or not, so an expired key fails at its instant. The process that revokes or rolls a
 * key calls {@link forget}, so there it fails at once.
 */
export class KeyResolver {
  readonly #cache = new Map<string, { principal: Principal | null; until_ms: number }>();
  readonly #active = new Map<string, { expiresAtMs: number | null; active: boolean; until_ms: number }>();
  readonly #pending = new Map<string, Promise<{ principal: Principal | null; until_ms: number }>>();
  readonly #services: Services;
  /** Most cached lookups of each kind; the cache is emptied when full (a limit on everything). */
  static readonly MAX_ENTRIES = 10_000;

  /** Creates a resolver with an empty cache over the services' database. */
  constructor(services: Services) {
    this.#services = services;
  }

  /** Drops every cached lookup (after a revocation or roll in this process). */
  forget(): void {
    this.#cache.clear();
    this.#active.clear();
  }

  /**
   * Looks an API key up by its SHA-256 hash (the global `api_keys_hash_uq` index).
   *
   * @param key the bearer token as presented (`sk_…` or `pk_…` followed by 64 hex digits)
   * @returns the principal, or `null` for an unknown, revoked, expired or malformed key
   */
  async resolve(key: string): Promise<Principal | null> {
    if (!API_KEY_FORMAT.test(key)) return null;
    const hash = await sha256Hex(key);
    const now = Date.now();
    let entry = this.#cache.get(hash);
    if (!entry || entry.until_ms <= now) {
      // Concurrent misses of one key share one read (when the entry expires under load, every
      // request in flight would otherwise read the same row).
      let lookup = this.#pending.get(hash);
      if (!lookup) {
        lookup = (async () => {
          const row = await activeKeyByHash(this.#services.database.db, hash);
          const principal: Principal | null = row
            ? {
              tenantId: row.tenant_id,
              appId: row.app_id,
              keyId: row.id,
              kind: row.kind,
              scope: row.scope,
              expiresAtMs: row.expires_at?.getTime() ?? null,
            }
            : null;
          if (this.#cache.size >= KeyResolver.MAX_ENTRIES) this.#cache.clear();
          const fresh = { principal, until_ms: now + KEY_CACHE_TTL_MS };
          this.#cache.set(hash, fresh);
          return fresh;
        })();
        this.#pending.set(hash, lookup);
        lookup.finally(() => this.#pending.delete(hash)).catch(() => {});
      }
      entry = await lookup;
    }
    return this.#unexpired(entry.principal);
  }

  /**
   * {@link resolve}'s answer when it needs nothing but the cache, without a promise (the fast
   * lane's common case, issue 14): the principal or `null` as `resolve` would return it, or
   * `undefined` when `resolve` must be asked (not cached, or cached longer than
   * {@link KEY_CACHE_TTL_MS} ago).
   */
  cached(key: string): Principal | null | undefined {
    if (!API_KEY_FORMAT.test(key)) return null;
    const entry = this.#cache.get(sha256HexSync(key));
    if (!entry || entry.until_ms <= Date.now()) return undefined;
    return this.#unexpired(entry.principal);
  }

  /** `principal`, or `null` once its key expired (by the services' clock). */
  #unexpired(principal: Principal | null): Principal | null {
    if (principal?.expiresAtMs != null && principal.expiresAtMs <= this.#services.clock.now().getTime()) {
      return null;
    }
    return principal;
  }

  /**
   * Whether key `keyId` of app `appId` exists, is not revoked and not expired (cached like
   * {@link resolve}). Customer sessions name the key that minted them; this is how revoking it ends them.
   */
  async isActive(appId: string, keyId: string): Promise<boolean> {
    const id = `${appId}/${keyId}`;
    const now = Date.now();
    let entry = this.#active.get(id);
    if (!entry || entry.until_ms <= now) {
      const row = await activeKeyOfAppById(this.#services.database.db, appId, keyId);
      if (this.#active.size >= KeyResolver.MAX_ENTRIES) this.#active.clear();
      entry = {
        active: row !== undefined,
        expiresAtMs: row?.expires_at?.getTime() ?? null,
        until_ms: now + KEY_CACHE_TTL_MS,
      };
      this.#active.set(id, entry);
    }
    return entry.active &&
      (entry.expiresAtMs === null || entry.expiresAtMs > this.#services.clock.now().getTime());
  }
}
