/**
 * The admin token of `/v1/admin/*` and its rotation (ADR 0013).
 *
 * The configured token (`BILLING_ADMIN_TOKEN`, or the generated `data/admin-token` file) works
 * until a roll retires it. `POST /v1/admin/admin_tokens/roll` issues a new token (shown once; only
 * its SHA-256 is stored in `admin_tokens`) and gives the token that called it a grace period
 * (default 24 h, `0` = at once), recorded as that token's row (`source` `config` for the
 * configured one). A rolled token can be revoked (`POST /v1/admin/admin_tokens/{id}/revoke`).
 *
 * Every process sharing the database honours a roll or revocation within
 * {@link ADMIN_TOKEN_CACHE_TTL_MS} (each lookup is cached that long; the process that made the
 * change forgets its cache at once). On Cloudflare Workers each Durable Object has its own SQLite,
 * so there rotation is `wrangler secret put BILLING_ADMIN_TOKEN` and the routes answer 501.
 *
 * @module
 */
import { BillingError } from "../domain/errors.ts";
import { sha256Hex } from "../domain/hash.ts";
import { newId } from "../domain/ids.ts";
import type { Services } from "../context.ts";
import {
  adminTokenByHash,
  adminTokenById,
  type AdminTokenRow,
  adminTokenRows,
  insertAdminToken,
  updateAdminToken,
} from "./repository.ts";

/** How long an admin token lookup is reused before the database is asked again (milliseconds). */
export const ADMIN_TOKEN_CACHE_TTL_MS = 1000;
/** Grace period of the calling token when a roll names none: 24 hours (seconds). */
export const DEFAULT_ADMIN_GRACE_SECONDS = 24 * 3600;
/** Most admin token rows listed (a limit on everything). */
export const MAX_ADMIN_TOKEN_ROWS = 200;

/** An admin token as `GET /v1/admin/admin_tokens` shows it (never the token). */
export interface AdminTokenView {
  /** `adt_…` id. */
  id: string;
  /** `config` (the configured token, listed once a roll retired it) or `rolled`. */
  source: "config" | "rolled";
  /** First 8 characters of the token. */
  prefix: string;
  /** ISO 8601 creation time of the row. */
  created_at: string;
  /** ISO 8601 end of its validity; `null` = none. */
  expires_at: string | null;
  /** ISO 8601 revocation time; `null` while not revoked. */
  revoked_at: string | null;
  /** `active`, `expired` or `revoked`. */
  status: "active" | "expired" | "revoked";
}

function view(row: AdminTokenRow, now: Date): AdminTokenView {
  return {
    id: row.id,
    source: row.source,
    prefix: row.prefix,
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
    status: row.revoked_at
      ? "revoked"
      : row.expires_at && row.expires_at.getTime() <= now.getTime()
      ? "expired"
      : "active",
  };
}

function valid(row: AdminTokenRow, nowMs: number): boolean {
  return !row.revoked_at && (!row.expires_at || row.expires_at.getTime() > nowMs);
}

/** Verifies, rolls, lists and revokes admin tokens (one per app instance; see the module doc). */
export class AdminTokens {
  readonly #services: Services;
  readonly #configured: string;
  readonly #configuredHash: Promise<string>;
  readonly #rotation: boolean;
  readonly #cache = new Map<string, { row: AdminTokenRow | null; until_ms: number }>();

  /**
   * Creates the verifier with an empty cache over the services' database.
   *
   * @param configured the configured token (`BILLING_ADMIN_TOKEN` or the generated file)
   * @param options.rotation false: only the configured token is accepted and nothing is stored
   *   (Workers, see the module doc); default true
   */
  constructor(services: Services, configured: string, options: { rotation?: boolean } = {}) {
    this.#services = services;
    this.#configured = configured;
    this.#configuredHash = sha256Hex(configured);
    this.#rotation = options.rotation ?? true;
  }

  /** Whether rolling and revoking are available here. */
  get rotation(): boolean {
    return this.#rotation;
  }

  async #row(hash: string): Promise<AdminTokenRow | null> {
    const now = Date.now();
    const cached = this.#cache.get(hash);
    if (cached && cached.until_ms > now) return cached.row;
    const row = (await adminTokenByHash(this.#services.database.db, hash)) ?? null;
    if (this.#cache.size >= 1000) this.#cache.clear();
    this.#cache.set(hash, { row, until_ms: now + ADMIN_TOKEN_CACHE_TTL_MS });
    return row;
  }

  /**
   * Whether `token` is a valid admin token now: a rolled token neither expired nor revoked, or the
   * configured token unless a roll or revocation retired it. Comparisons are of SHA-256 digests.
   */
  async verify(token: string): Promise<boolean> {
    if (this.#configured.length === 0 || token.length === 0 || token.length > 512) return false;
    const hash = await sha256Hex(token);
    const configured = hash === await this.#configuredHash;
    if (!this.#rotation) return configured;
    const row = await this.#row(hash);
    if (row) return valid(row, this.#services.clock.now().getTime());
    return configured;
  }

  #unavailable(): BillingError {
    return new BillingError(
      "admin_token_rotation_unavailable",
      "conflict",
      "Admin tokens cannot be rolled here: rotate the BILLING_ADMIN_TOKEN secret binding",
    );
  }

  /**
   * Issues a new admin token and gives `presented` (the token that authenticated the call) a grace
   * period.
   *
   * @param graceSeconds how long `presented` keeps working (0 = retired at once)
   * @returns the new token (shown only here) and the retired token's view
   * @throws {BillingError} `admin_token_rotation_unavailable` where rotation is off
   */
  async roll(
    presented: string,
    graceSeconds: number,
  ): Promise<{ id: string; token: string; created_at: string; previous: AdminTokenView }> {
    if (!this.#rotation) throw this.#unavailable();
    const now = this.#services.clock.now();
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const token = `adm_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
    const fresh: AdminTokenRow = {
      id: newId("adt"),
      source: "rolled",
      hash: await sha256Hex(token),
      prefix: token.slice(0, 8),
      created_at: now,
      expires_at: null,
      revoked_at: null,
    };
    const presentedHash = await sha256Hex(presented);
    const graceEnd = new Date(now.getTime() + graceSeconds * 1000);
    const previous = await this.#services.database.write(async (tx) => {
      await insertAdminToken(tx, fresh);
      const old = await adminTokenByHash(tx, presentedHash);
      const retire = graceSeconds === 0
        ? { revoked_at: now }
        : { expires_at: old?.expires_at && old.expires_at < graceEnd ? old.expires_at : graceEnd };
      if (old) {
        await updateAdminToken(tx, old.id, retire);
        return { ...old, ...retire };
      }
      const row: AdminTokenRow = {
        id: newId("adt"),
        source: "config",
        hash: presentedHash,
        prefix: presented.slice(0, 8),
        created_at: now,
        expires_at: null,
        revoked_at: null,
        ...retire,
      };
      await insertAdminToken(tx, row);
      return row;
    });
    this.#cache.clear();
    this.#services.log({
      level: "info",
      msg: "admin token rolled",
      new_token_id: fresh.id,
      previous_token_id: previous.id,
      previous_expires_at: previous.expires_at?.toISOString() ?? null,
    });
    return { id: fresh.id, token, created_at: now.toISOString(), previous: view(previous, now) };
  }

  /**
   * Revokes an admin token row at once (the configured token's row too, once a roll created it).
   *
   * @throws {BillingError} `admin_token_not_found` (404); `admin_token_rotation_unavailable`
   */
  async revoke(id: string): Promise<AdminTokenView> {
    if (!this.#rotation) throw this.#unavailable();
    const now = this.#services.clock.now();
    const row = await this.#services.database.write(async (tx) => {
      const found = await adminTokenById(tx, id);
      if (!found) return null;
      if (found.revoked_at) return found;
      await updateAdminToken(tx, id, { revoked_at: now });
      return { ...found, revoked_at: now };
    });
    if (!row) throw new BillingError("admin_token_not_found", "not_found", `No admin token "${id}"`);
    this.#cache.clear();
    this.#services.log({ level: "info", msg: "admin token revoked", token_id: id });
    return view(row, now);
  }

  /** The stored admin token rows (rolled tokens and a retired configured token), oldest first. */
  async list(): Promise<AdminTokenView[]> {
    if (!this.#rotation) throw this.#unavailable();
    const now = this.#services.clock.now();
    return (await adminTokenRows(this.#services.database.db, MAX_ADMIN_TOKEN_ROWS)).map((r) => view(r, now));
  }
}
