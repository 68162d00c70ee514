/**
 * Key management of an app (`/v1/api_keys`, ADR 0013): several keys, each with a name, a scope
 * (`tenants/scopes.ts`) and an optional expiry; list (never the key), create (the key shown once),
 * roll (a new key; the old one keeps working for a grace period) and revoke (at once).
 *
 * "At once everywhere": the revoking process forgets its cached lookups immediately
 * ({@link KeyResolver.forget}); every other process re-reads a key at most
 * {@link KEY_CACHE_TTL_MS} after it last did, so a revoked or expired key fails everywhere within
 * one second (the Worker's directory cache has the same bound, `runtime/cloudflare/handlers.ts`).
 *
 * @module
 */
import { BillingError } from "../domain/errors.ts";
import { sha256Hex } from "../domain/hash.ts";
import { newId } from "../domain/ids.ts";
import type { ApiKeyView } from "../domain/views.ts";
import type { Ctx } from "../context.ts";
import type { Tx } from "../storage/db.ts";
import { writeOp } from "../lifecycle/write.ts";
import {
  type ApiKeyRow,
  insertKey,
  keyOfScopeById,
  keysOfScope,
  MAX_KEYS_PER_APP,
  unrevokedKeyCount,
  updateKey,
} from "./repository.ts";
import type { KeyScope } from "./scopes.ts";
import { type KeyKind, randomKey } from "./service.ts";

/** Grace period of a roll when the caller names none: 24 hours, as Stripe's default (seconds). */
export const DEFAULT_ROLL_GRACE_SECONDS = 24 * 3600;
/** Longest grace period of a roll: 7 days (seconds). */
export const MAX_ROLL_GRACE_SECONDS = 7 * 24 * 3600;
/** Largest page of `GET /v1/api_keys`. */
export const MAX_KEY_PAGE = 100;

/** A key as the API shows it, given `now` (status `expired` once past `expires_at`). */
export function apiKeyView(row: ApiKeyRow, now: Date): ApiKeyView {
  const status = row.revoked_at
    ? "revoked"
    : row.expires_at && row.expires_at.getTime() <= now.getTime()
    ? "expired"
    : "active";
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    scope: row.kind === "secret" ? row.scope : null,
    prefix: row.prefix,
    last4: row.last4,
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
    status,
  };
}

/** A created or rolled key: its view and the key itself, shown only in this answer. */
export interface CreatedApiKey extends ApiKeyView {
  /** The key (`sk_…` or `pk_…`, 64 hex digits); only its SHA-256 is stored. */
  key: string;
}

async function newKeyRow(
  ctx: Ctx,
  input: { name: string; kind: KeyKind; scope: KeyScope; expires_at: Date | null },
): Promise<{ row: ApiKeyRow; key: string }> {
  const key = randomKey(input.kind === "secret" ? "sk" : "pk");
  const row: ApiKeyRow = {
    id: newId("key"),
    tenant_id: ctx.scope.tenantId,
    app_id: ctx.scope.appId,
    kind: input.kind,
    hash: await sha256Hex(key),
    prefix: key.slice(0, 10),
    last4: key.slice(-4),
    name: input.name,
    scope: input.kind === "secret" ? input.scope : "full",
    created_at: ctx.clock.now(),
    expires_at: input.expires_at,
    revoked_at: null,
  };
  return { row, key };
}

function notFound(keyId: string): BillingError {
  return new BillingError("api_key_not_found", "not_found", `No API key "${keyId}" in this app`);
}

async function ensureRoom(ctx: Ctx, tx: Tx): Promise<void> {
  if (await unrevokedKeyCount(tx, ctx.scope) >= MAX_KEYS_PER_APP) {
    throw new BillingError(
      "validation_failed",
      "invalid_request",
      `An app may hold at most ${MAX_KEYS_PER_APP} unrevoked keys; revoke one first`,
    );
  }
}

/**
 * Creates a key of the caller's app.
 *
 * @param input.kind `secret` (default) or `publishable`; `scope` applies to secret keys only
 * @param input.expires_at optional instant after which the key stops working (must be in the future)
 * @throws {BillingError} `validation_failed` (400) for an expiry in the past or a full app
 */
export async function createApiKey(
  ctx: Ctx,
  input: { name: string; kind?: KeyKind; scope?: KeyScope; expires_at?: string | null },
): Promise<CreatedApiKey> {
  const now = ctx.clock.now();
  const expires = input.expires_at ? new Date(input.expires_at) : null;
  if (expires && expires.getTime() <= now.getTime()) {
    throw new BillingError("validation_failed", "invalid_request", "The expiry must be in the future", {
      fields: [{ path: "expires_at", message: "Use an instant after now" }],
    });
  }
  const { row, key } = await newKeyRow(ctx, {
    name: input.name,
    kind: input.kind ?? "secret",
    scope: input.scope ?? "full",
    expires_at: expires,
  });
  const view = apiKeyView(row, now);
  await writeOp(ctx, async (tx, emit) => {
    await ensureRoom(ctx, tx);
    await insertKey(tx, row);
    emit("api_key.created", row.id, view);
  });
  return { ...view, key };
}

/**
 * One page of the app's keys in id order (revoked and expired ones included, with their status).
 *
 * @param options.cursor `next_cursor` of the previous page
 * @param options.limit page size, 1…{@link MAX_KEY_PAGE} (default 50)
 */
export async function listApiKeys(
  ctx: Ctx,
  options: { cursor?: string; limit?: number } = {},
): Promise<{ data: ApiKeyView[]; next_cursor: string | null }> {
  const limit = Math.min(MAX_KEY_PAGE, Math.max(1, options.limit ?? 50));
  const rows = await keysOfScope(ctx.database.db, ctx.scope, options.cursor, limit + 1);
  const page = rows.slice(0, limit);
  const now = ctx.clock.now();
  return {
    data: page.map((r) => apiKeyView(r, now)),
    next_cursor: rows.length > limit ? page[page.length - 1].id : null,
  };
}

/**
 * Rolls a key: a new key of the same name, kind, scope and expiry is created, and the old one
 * keeps working for `expires_in_seconds` (default {@link DEFAULT_ROLL_GRACE_SECONDS}; `0` revokes
 * it at once). A shorter expiry the old key already had is kept.
 *
 * @throws {BillingError} `api_key_not_found` (404) for an unknown or revoked key;
 *   `validation_failed` (400) when the app holds {@link MAX_KEYS_PER_APP} keys
 */
export async function rollApiKey(
  ctx: Ctx,
  keyId: string,
  input: { expires_in_seconds?: number },
): Promise<{ key: CreatedApiKey; previous: ApiKeyView }> {
  const now = ctx.clock.now();
  const grace = input.expires_in_seconds ?? DEFAULT_ROLL_GRACE_SECONDS;
  return await writeOp(ctx, async (tx, emit) => {
    const old = await keyOfScopeById(tx, ctx.scope, keyId);
    if (!old || old.revoked_at) throw notFound(keyId);
    await ensureRoom(ctx, tx);
    const { row, key } = await newKeyRow(ctx, {
      name: old.name,
      kind: old.kind,
      scope: old.scope,
      expires_at: old.expires_at && old.expires_at.getTime() > now.getTime() ? old.expires_at : null,
    });
    await insertKey(tx, row);
    const graceEnd = new Date(now.getTime() + grace * 1000);
    const retired: ApiKeyRow = grace === 0
      ? { ...old, revoked_at: now }
      : { ...old, expires_at: old.expires_at && old.expires_at < graceEnd ? old.expires_at : graceEnd };
    await updateKey(tx, ctx.scope, old.id, {
      expires_at: retired.expires_at,
      revoked_at: retired.revoked_at ?? undefined,
    });
    const view = apiKeyView(row, now);
    const previous = apiKeyView(retired, now);
    emit("api_key.created", row.id, view);
    emit("api_key.rolled", old.id, previous);
    return { key: { ...view, key }, previous };
  });
}

/**
 * Revokes a key at once. Revoking a revoked key answers it again (idempotent).
 *
 * @throws {BillingError} `api_key_not_found` (404) for a key of another app or none
 */
export async function revokeApiKey(ctx: Ctx, keyId: string): Promise<ApiKeyView> {
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const row = await keyOfScopeById(tx, ctx.scope, keyId);
    if (!row) throw notFound(keyId);
    if (row.revoked_at) return apiKeyView(row, now);
    await updateKey(tx, ctx.scope, keyId, { revoked_at: now });
    const view = apiKeyView({ ...row, revoked_at: now }, now);
    emit("api_key.revoked", keyId, view);
    return view;
  });
}
