/**
 * What each secret-key scope may call (ADR 0013). The one place the rule lives: the API's
 * authentication middleware (`http/app.ts`) and the Worker's edge path (`runtime/cloudflare`) both
 * ask {@link scopeAllows}.
 *
 * | scope | routes |
 * |---|---|
 * | `full` | every route of its app, key management (`/v1/api_keys…`) included |
 * | `read_only` | every `GET`/`HEAD` except `/v1/api_keys…`, and `POST /v1/entitlements/check` (a read) |
 * | `usage_only` | `POST /v1/events`, `POST /v1/entitlements/check`, `GET /v1/usage`, `POST /v1/customer_sessions` |
 * | `ledger_only` | every method under `/v1/ledger/` |
 *
 * Publishable keys (`pk_…`) are not scoped: they reach the publishable routes only, with a
 * customer session (ADR 0010).
 *
 * @module
 */

import type { ApiKeyScope } from "../domain/views.ts";

/** Scope of a secret key (`domain/views.ts`). */
export type KeyScope = ApiKeyScope;

/** Scopes of secret keys, widest first. */
export const KEY_SCOPES: readonly ["full", "read_only", "usage_only", "ledger_only"] = [
  "full",
  "read_only",
  "usage_only",
  "ledger_only",
] as const;

/** Routes (`METHOD path`) a `usage_only` key reaches. */
export const USAGE_ONLY_ROUTES: ReadonlySet<string> = new Set([
  "POST /v1/events",
  "POST /v1/entitlements/check",
  "GET /v1/usage",
  "POST /v1/customer_sessions",
]);

/** Path prefix of key management, which only `full` keys reach. */
export const KEY_MANAGEMENT_PREFIX = "/v1/api_keys";

/**
 * Whether a secret key of `scope` may call `method path`.
 *
 * @param method HTTP method, upper case (`OPTIONS` preflights never reach authentication)
 * @param path the request path as received (`/v1/ledger/entries/le_…`), no query string
 * @returns true when the scope reaches the route (an unknown route is left to the router's 404)
 */
export function scopeAllows(scope: KeyScope, method: string, path: string): boolean {
  switch (scope) {
    case "full":
      return true;
    case "read_only":
      if (path === KEY_MANAGEMENT_PREFIX || path.startsWith(`${KEY_MANAGEMENT_PREFIX}/`)) return false;
      return method === "GET" || method === "HEAD" ||
        (method === "POST" && path === "/v1/entitlements/check");
    case "usage_only":
      return USAGE_ONLY_ROUTES.has(`${method === "HEAD" ? "GET" : method} ${path}`);
    case "ledger_only":
      return path.startsWith("/v1/ledger/");
  }
}
