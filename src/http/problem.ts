/**
 * RFC 9457 problem details: the only error shape the API returns.
 *
 * `{ type, title, status, detail, code, request_id, fields? }` with `Content-Type:
 * application/problem+json`. `type` is a relative URI `/problems/{code}`; `code` is stable
 * snake_case; `fields` lists each failing field path for validation errors.
 *
 * @module
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ZodError } from "zod";
import { BillingError, type ErrorKind, type FieldIssue } from "../domain/errors.ts";

/** Body of a problem response. */
export interface Problem {
  /** Relative URI reference of the problem type, `/problems/{code}` (RFC 9457 §3.1.1). */
  type: string;
  /** Reason phrase of `status` (`Unprocessable Content`); the same for every problem of a status. */
  title: string;
  /** HTTP status code, repeated from the response line (RFC 9457 §3.1.2). */
  status: number;
  /** What went wrong with this request, for humans (the error's message). */
  detail: string;
  /** Stable snake_case code to branch on (`insufficient_balance`); an extension member. */
  code: string;
  /** Id of the request (`X-Request-Id`), to find it in the logs. */
  request_id: string;
  /** Each failing field of a validation error, by path; absent for other problems. */
  fields?: FieldIssue[];
}

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid_request: 400,
  unprocessable: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
};

/** The HTTP status of a {@link BillingError}, from its `kind` (as the app's `onError` answers it). */
export function statusOf(error: BillingError): number {
  return STATUS_BY_KIND[error.kind];
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Renders a problem response. */
export function problem(
  c: Context,
  status: number,
  code: string,
  detail: string,
  fields?: FieldIssue[],
): Response {
  const body: Problem = {
    type: `/problems/${code}`,
    title: TITLES[status] ?? "Error",
    status,
    detail,
    code,
    request_id: (c.get("requestId") as string | undefined) ?? "",
    ...(fields && fields.length > 0 ? { fields } : {}),
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/problem+json", "x-request-id": body.request_id },
  });
}

/** Field issues of a zod error, paths dotted (`features.0.key`). */
export function zodFields(error: ZodError, prefix = ""): FieldIssue[] {
  const path = (parts: PropertyKey[]) => [prefix, ...parts.map(String)].filter((p) => p !== "").join(".");
  return error.issues.flatMap((issue) =>
    // An unknown field is named by its own path (`query.expand[]`), one issue per field.
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: path([...issue.path, key]), message: `Unknown field "${key}"` }))
      : [{ path: path(issue.path), message: issue.message }]
  );
}

/**
 * A retryable store failure under `error`: the query builder wraps what a statement throws
 * (`Failed query: …`, the original as `cause`), so a store's {@link BillingError} of kind
 * `unavailable` (PostgreSQL's `database_unavailable`) can arrive as a cause.
 */
function unavailableCause(error: unknown): BillingError | null {
  let e = (error as { cause?: unknown })?.cause;
  for (let depth = 0; depth < 8 && e; depth++) {
    if (e instanceof BillingError) return e.kind === "unavailable" ? e : null;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/**
 * The app's `onError`: known errors become problems with their status; anything else is logged
 * and answered 500 `internal_error` without internals.
 */
export function errorToResponse(
  error: unknown,
  c: Context,
  log: (r: Record<string, unknown>) => void,
): Response {
  if (error instanceof BillingError) {
    return problem(c, statusOf(error), error.code, error.message, error.fields);
  }
  const unavailable = unavailableCause(error);
  if (unavailable) return problem(c, 503, unavailable.code, unavailable.message);
  if (error instanceof HTTPException) {
    const status = error.status;
    if (status === 400 && /json/i.test(error.message)) {
      return problem(c, 400, "malformed_json", "The request body is not valid JSON");
    }
    const code =
      { 401: "unauthorized", 413: "payload_too_large", 415: "unsupported_media_type" }[status as number] ??
        "bad_request";
    return problem(c, status, code, error.message || TITLES[status] || "Error");
  }
  log({
    level: "error",
    msg: "unhandled error",
    request_id: c.get("requestId"),
    error: String(error),
    stack: (error as Error)?.stack,
  });
  return problem(c, 500, "internal_error", "An unexpected error occurred; it has been logged");
}
