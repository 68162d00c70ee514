/**
 * App settings reachable with the app's secret key, and the CORS origin policy of the
 * publishable-key routes.
 *
 * Browsers call `POST /v1/events` and `POST /v1/entitlements/check` with a publishable key from
 * pages served on the app's own origins. Each app lists those origins (`allowed_origins`); a page on
 * any other origin is refused. A CORS preflight (`OPTIONS`) carries no key, so it is answered for an
 * origin that at least one app allows; the real request then carries the key and is checked against
 * that key's app only (see `src/http/cors.ts`).
 *
 * @module
 */
import { BillingError, type FieldIssue } from "../domain/errors.ts";
import { appById } from "../tenants/repository.ts";
import { anyAppAllowsOrigin, originRows } from "./repository.ts";
import type { Ctx, Services } from "../context.ts";
import type { Scope } from "../domain/scope.ts";
import { writeOp } from "../lifecycle/write.ts";

/** Most origins one app may list (a limit on everything). */
export const MAX_ALLOWED_ORIGINS = 50;

/** An app as its secret key sees it. */
export interface AppView {
  /** `app_…` TypeID. */
  id: string;
  /** App name within the tenant (`production`, `staging`). */
  name: string;
  /** Origins allowed to call the publishable-key routes, sorted, without duplicates. */
  allowed_origins: string[];
  /** ISO 8601 UTC. */
  created_at: string;
}

/**
 * Normalizes one browser origin: `http` or `https`, a host, an optional port, nothing else.
 * `HTTPS://App.Example.com:443/` becomes `https://app.example.com` (the serialization browsers send
 * in the `Origin` header, WHATWG URL "origin" rules), so comparisons are exact string matches.
 *
 * @returns the normalized origin, or `null` when the value is not a plain http(s) origin (a path,
 *   query, fragment, credentials, wildcard or another scheme)
 */
export function normalizeOrigin(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (
    url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== "")
  ) return null;
  if (value.includes("*")) return null;
  return url.origin;
}

async function loadApp(ctx: Ctx) {
  const row = await appById(ctx.database.db, ctx.scope.tenantId, ctx.scope.appId);
  if (!row) throw new BillingError("app_not_found", "not_found", `App "${ctx.scope.appId}" was not found`);
  return row;
}

async function listOrigins(services: Services, scope: Scope): Promise<string[]> {
  const rows = await originRows.list(services.database.db, scope);
  return rows.map((r) => r.origin).sort();
}

/**
 * The calling key's app with its allowed origins.
 *
 * @throws {BillingError} `app_not_found` (404) if the app behind the key disappeared
 */
export async function getCurrentApp(ctx: Ctx): Promise<AppView> {
  const row = await loadApp(ctx);
  return {
    id: row.id,
    name: row.name,
    allowed_origins: await listOrigins(ctx, ctx.scope),
    created_at: row.created_at.toISOString(),
  };
}

/**
 * Replaces the app's allowed origins with `origins` (normalized, deduplicated). Idempotent: the
 * same list again changes nothing; an empty list closes the publishable routes to every browser.
 *
 * @param origins at most {@link MAX_ALLOWED_ORIGINS} http(s) origins such as `https://app.example.com`
 * @throws {BillingError} `invalid_origin` (400) listing each offending entry (`allowed_origins.N`);
 *   `too_many_origins` (400); nothing is written then
 */
export async function setAllowedOrigins(
  ctx: Ctx,
  origins: string[],
  policy?: OriginPolicy,
): Promise<AppView> {
  const issues: FieldIssue[] = [];
  const normalized = new Set<string>();
  origins.forEach((value, index) => {
    const origin = normalizeOrigin(value);
    if (origin === null) {
      issues.push({
        path: `allowed_origins.${index}`,
        message: `"${value}" is not an http(s) origin like https://app.example.com`,
      });
    } else normalized.add(origin);
  });
  if (issues.length > 0) {
    throw new BillingError("invalid_origin", "invalid_request", "Some allowed origins are invalid", {
      fields: issues,
    });
  }
  if (normalized.size > MAX_ALLOWED_ORIGINS) {
    throw new BillingError(
      "too_many_origins",
      "invalid_request",
      `At most ${MAX_ALLOWED_ORIGINS} origins may be allowed, got ${normalized.size}`,
    );
  }
  const row = await loadApp(ctx);
  const now = ctx.clock.now();
  await writeOp(ctx, async (tx) => {
    await originRows.delete(tx, ctx.scope, {});
    if (normalized.size > 0) {
      await originRows.insertMany(
        tx,
        ctx.scope,
        [...normalized].map((origin) => ({ origin, created_at: now })),
      );
    }
  });
  policy?.invalidate(ctx.scope);
  return {
    id: row.id,
    name: row.name,
    allowed_origins: [...normalized].sort(),
    created_at: row.created_at.toISOString(),
  };
}

/**
 * Answers "may this origin call the publishable routes?" with a small in-process cache.
 *
 * Entries live `ttlMs` (default 10 s): a change made through this process invalidates at once,
 * a change made through another process is seen within the TTL. Both maps are bounded.
 */
export class OriginPolicy {
  readonly #services: Services;
  readonly #ttlMs: number;
  readonly #byApp = new Map<string, { origins: Set<string>; expires_ms: number }>();
  readonly #byOrigin = new Map<string, { allowed: boolean; expires_ms: number }>();
  /** Most entries of each cache map; a full map is cleared (a limit on everything). */
  static readonly MAX_ENTRIES = 10_000;

  /**
   * Creates a policy with empty caches.
   *
   * @param options `ttlMs`: how long an answer is cached, in milliseconds (default 10 000)
   */
  constructor(services: Services, options: { ttlMs?: number } = {}) {
    this.#services = services;
    this.#ttlMs = options.ttlMs ?? 10_000;
  }

  /** Whether the app of `scope` lists `origin` (exact match on the normalized origin). */
  async allowsForApp(scope: Scope, origin: string): Promise<boolean> {
    const key = `${scope.tenantId}:${scope.appId}`;
    const now = Date.now();
    let hit = this.#byApp.get(key);
    if (!hit || hit.expires_ms <= now) {
      hit = { origins: new Set(await listOrigins(this.#services, scope)), expires_ms: now + this.#ttlMs };
      if (this.#byApp.size >= OriginPolicy.MAX_ENTRIES) this.#byApp.clear();
      this.#byApp.set(key, hit);
    }
    return hit.origins.has(origin);
  }

  /** Whether any app lists `origin` (used for key-less preflights). */
  async allowedByAnyApp(origin: string): Promise<boolean> {
    const now = Date.now();
    const hit = this.#byOrigin.get(origin);
    if (hit && hit.expires_ms > now) return hit.allowed;
    const allowed = await anyAppAllowsOrigin(this.#services.database.db, origin);
    if (this.#byOrigin.size >= OriginPolicy.MAX_ENTRIES) this.#byOrigin.clear();
    this.#byOrigin.set(origin, { allowed, expires_ms: now + this.#ttlMs });
    return allowed;
  }

  /** Drops what is cached for an app (after its origins changed). */
  invalidate(scope: Scope): void {
    this.#byApp.delete(`${scope.tenantId}:${scope.appId}`);
    this.#byOrigin.clear();
  }
}
