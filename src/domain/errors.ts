/**
 * The one error type of the domain.
 *
 * Every failure a caller can act on is a {@link BillingError} with a stable snake_case `code`
 * (TigerBeetle-style result names such as `insufficient_balance`, `idempotency_key_reused`).
 * The HTTP adapter maps the `kind` to a status code and renders RFC 9457 problem+json; the
 * domain never knows about HTTP.
 *
 * @module
 */

/**
 * Broad class of a failure; decides the HTTP status in the adapter.
 * - `invalid_request`: the input is malformed or breaks a rule (400 / 422)
 * - `unauthorized`: no or unknown credentials (401)
 * - `forbidden`: credentials valid but not allowed here (403)
 * - `not_found`: missing, or owned by another tenant/app (404; never reveals which)
 * - `conflict`: the state of a resource forbids the operation (409)
 * - `unavailable`: a dependency failed; a retry may help (503)
 */
export type ErrorKind =
  | "invalid_request"
  | "unprocessable"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "unavailable";

/** One failing field of a request, addressed by its path (`features.0.pricing.tiers.1.up_to`). */
export interface FieldIssue {
  /** Dotted path of the offending field, `""` for the whole body. */
  path: string;
  /** Human-readable reason, capitalised, no trailing period. */
  message: string;
}

/**
 * A failure with a stable machine-readable `code`.
 *
 * @example
 * throw new BillingError("plan_not_found", "not_found", `Plan "${id}" was not found`);
 */
export class BillingError extends Error {
  /** Stable snake_case code clients branch on, e.g. `idempotency_key_reused`. */
  readonly code: string;
  /** Broad class used to pick the HTTP status. */
  readonly kind: ErrorKind;
  /** Field-level issues for validation failures (empty otherwise). */
  readonly fields: FieldIssue[];
  /** Whether the same request may succeed later without change. */
  readonly retryable: boolean;

  /**
   * Creates the error; `retryable` defaults to `kind === "unavailable"`.
   *
   * @param code stable snake_case code (becomes the problem document's `code` and `type`)
   * @param kind class of the failure; picks the HTTP status in `http/problem.ts`
   * @param message what went wrong, for humans: capitalised, no trailing period, offending value quoted
   * @param options.fields failing fields of a validation error
   * @param options.retryable override; by default only `unavailable` errors are retryable
   * @param options.cause the underlying error, kept for logs
   */
  constructor(
    code: string,
    kind: ErrorKind,
    message: string,
    options: { fields?: FieldIssue[]; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "BillingError";
    this.code = code;
    this.kind = kind;
    this.fields = options.fields ?? [];
    this.retryable = options.retryable ?? kind === "unavailable";
  }
}

/**
 * Shorthand for the 404 that hides whether a resource is missing or belongs to someone else.
 *
 * @param resource singular resource name (`plan`, `invoice`)
 * @param id the identifier the caller sent
 */
export function notFound(resource: string, id: string): BillingError {
  return new BillingError(
    `${resource}_not_found`,
    "not_found",
    `${capitalise(resource)} "${id}" was not found`,
  );
}

/** Raises a `validation_failed` error listing every failing field. */
export function invalid(fields: FieldIssue[], message = "The request has invalid fields"): BillingError {
  return new BillingError("validation_failed", "invalid_request", message, { fields });
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1).replaceAll("_", " ");
}
