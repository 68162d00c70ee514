/**
 * The one error type of the SDK: every failed call throws a {@link BillingApiError} carrying the
 * problem's stable `code` (RFC 9457 `application/problem+json` bodies of the API), so callers
 * branch on `error.code`, never on message text.
 *
 * Transport failures get SDK-side codes: `network_error` (no response: offline, DNS, or a browser
 * refusing a cross-origin response under CORS) and `invalid_response` (a body that is not a problem).
 *
 * @module
 */
import type { components } from "./schema.gen.ts";

/** A problem body as the API sends it (RFC 9457 plus `code`, `request_id`, `fields`). */
export type Problem = components["schemas"]["Problem"];

/** Codes the SDK itself produces (the API's own codes come from its problem bodies). */
export type SdkErrorCode =
  | "network_error"
  | "invalid_response"
  | "secret_key_in_browser"
  | "invalid_key"
  | "invalid_options"
  | "retries_exhausted"
  | "queue_full"
  | "client_closed"
  | "webhook_signature_invalid";

/** HTTP statuses after which the same request may succeed (plus 0: no response at all). */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([0, 408, 425, 429, 500, 502, 503, 504]);

/**
 * A failed API call or SDK operation.
 *
 * @example
 * try { await billing.check("api_calls") } catch (e) {
 *   if (e instanceof BillingApiError && e.code === "customer_not_found") { … }
 * }
 */
export class BillingApiError extends Error {
  /** Stable snake_case code: the problem's `code`, or an {@link SdkErrorCode}. */
  readonly code: string;
  /** HTTP status; 0 when no response arrived. */
  readonly status: number;
  /** The problem body when the API sent one. */
  readonly problem: Problem | null;
  /** The API's request id (`x-request-id`), for support. */
  readonly requestId: string | null;
  /** Whether sending the same request again may succeed (network errors, 408/425/429/5xx). */
  readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    options: { status?: number; problem?: Problem | null; requestId?: string | null; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "BillingApiError";
    this.code = code;
    this.status = options.status ?? 0;
    this.problem = options.problem ?? null;
    this.requestId = options.requestId ?? options.problem?.request_id ?? null;
    this.retryable = RETRYABLE_STATUSES.has(this.status);
  }

  /** The error of a non-2xx response whose body (already parsed, or text) was `body`. */
  static fromResponse(response: Response, body: unknown): BillingApiError {
    const requestId = response.headers.get("x-request-id");
    if (isProblem(body)) {
      return new BillingApiError(body.code, body.detail, {
        status: response.status,
        problem: body,
        requestId,
      });
    }
    return new BillingApiError("invalid_response", `HTTP ${response.status} without a problem body`, {
      status: response.status,
      requestId,
    });
  }

  /** The error of a `fetch` that threw (no response). */
  static network(cause: unknown): BillingApiError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new BillingApiError("network_error", `The request failed before a response arrived: ${reason}`, {
      cause,
    });
  }
}

/** Whether `value` looks like a problem body of the API. */
export function isProblem(value: unknown): value is Problem {
  return typeof value === "object" && value !== null && typeof (value as Problem).code === "string" &&
    typeof (value as Problem).status === "number";
}

/** @throws {BillingApiError} `invalid_options` unless `baseUrl` is an absolute http(s) URL */
export function assertBaseUrl(baseUrl: string): void {
  let url: URL | null = null;
  try {
    url = new URL(baseUrl);
  } catch { /* reported below */ }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new BillingApiError("invalid_options", `baseUrl must be an absolute http(s) URL, got "${baseUrl}"`);
  }
}
