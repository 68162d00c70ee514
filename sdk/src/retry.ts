/**
 * The server client's transport: idempotency keys, retries and timeouts, as Stripe's SDKs do.
 *
 * - Every creating request (`POST`) carries an `Idempotency-Key`: the caller's, or a random UUID the
 *   SDK generates once per call. Every retry of that call sends the same key, so the API applies
 *   the request once however many times it arrives. Except the hot routes whose bodies carry their
 *   own keys ({@link BODY_KEYED_PATHS}): a usage event's `id`, a ledger entry's (alone or in a
 *   batch) and a consuming check's `idempotency_key` already make a retry apply once (a read check
 *   changes nothing), and a stored header answer costs the API a write per request (issue 14:
 *   ~0.8 ms of CPU per check; a stored 1000-entry batch answer is about half a megabyte).
 * - Network errors, timeouts, `408`, `425`, `429`, `503` and every other `5xx` are retried up to `maxRetries` times, after `min(maxDelayMs, baseDelayMs·2^n)` with
 *   full jitter, or after `Retry-After` when the API sends it (capped at `maxRetryAfterMs`).
 * - Each attempt is aborted after `timeoutMs` (and whenever the caller's own signal aborts; a
 *   caller's abort is never retried).
 *
 * @module
 */

/** Options of {@link retryingFetch}. */
export interface RetryOptions {
  /** Retries after the first attempt (default 2; 0 disables retries). */
  maxRetries?: number;
  /** Timeout of each attempt in milliseconds (default 30 000). */
  timeoutMs?: number;
  /** First backoff in milliseconds, doubled per retry (default 500). */
  baseDelayMs?: number;
  /** Largest backoff in milliseconds (default 8 000). */
  maxDelayMs?: number;
  /** Largest `Retry-After` honoured, in milliseconds (default 60 000). */
  maxRetryAfterMs?: number;
  /** Waits `ms` milliseconds (tests inject a recorder). */
  sleep?: (ms: number) => Promise<void>;
  /** A random number in [0, 1) for the jitter (default `Math.random`). */
  random?: () => number;
  /** Generates idempotency keys (default `crypto.randomUUID`). */
  idempotencyKey?: () => string;
}

/**
 * Paths whose request bodies carry their own idempotency keys, so the SDK generates no
 * `Idempotency-Key` for them (a caller's own header is still sent as given).
 */
export const BODY_KEYED_PATHS: ReadonlySet<string> = new Set([
  "/v1/entitlements/check",
  "/v1/events",
  "/v1/ledger/entries",
  "/v1/ledger/entries/batch",
]);

/** HTTP statuses the client retries (plus every other 5xx). */
const RETRY_STATUSES: ReadonlySet<number> = new Set([
  408,
  425,
  429,
  500,
  502,
  503,
  504,
]);

/** Whether an answer with `status` is worth sending again. */
export function isRetryableStatus(status: number): boolean {
  return RETRY_STATUSES.has(status) || (status >= 500 && status <= 599);
}

/**
 * Milliseconds a `Retry-After` header asks for (delta seconds or an HTTP date), or null.
 *
 * @param value the header's value
 * @param now current time, epoch ms
 */
export function retryAfterMs(
  value: string | null,
  now: number = Date.now(),
): number | null {
  if (value === null || value.trim() === "") return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * Backoff before retry number `retry` (1-based): full jitter over `min(maxDelayMs, baseDelayMs·2^(retry−1))`.
 *
 * @returns milliseconds to wait
 */
export function backoffMs(retry: number, options: RetryOptions = {}): number {
  const base = options.baseDelayMs ?? 500;
  const cap = Math.min(options.maxDelayMs ?? 8000, base * 2 ** (retry - 1));
  return Math.round((options.random ?? Math.random)() * cap);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Wraps `fetch` with idempotency keys on creating requests, retries with backoff and per-attempt
 * timeouts (see the module doc).
 *
 * @param fetchImpl the underlying fetch (default: the global one)
 * @returns a fetch taking a `Request`; it throws what the last attempt threw when retries run out
 */
export function retryingFetch(
  fetchImpl: (request: Request) => Promise<Response> = (request) => fetch(request),
  options: RetryOptions = {},
): (request: Request) => Promise<Response> {
  const maxRetries = Math.max(0, options.maxRetries ?? 2);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const sleep = options.sleep ?? defaultSleep;
  const newKey = options.idempotencyKey ?? (() => crypto.randomUUID());
  return async (request: Request): Promise<Response> => {
    if (
      request.method === "POST" && !request.headers.has("idempotency-key") &&
      !BODY_KEYED_PATHS.has(new URL(request.url).pathname)
    ) {
      request.headers.set("idempotency-key", newKey());
    }
    // Bodies are read once: keep the original and send a clone per attempt.
    const body = request.body ? await request.arrayBuffer() : undefined;
    for (let attempt = 0;; attempt++) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([request.signal, timeout]);
      const attemptRequest = new Request(request, { body, signal });
      let wait: number | null = null;
      try {
        const response = await fetchImpl(attemptRequest);
        if (attempt >= maxRetries || !isRetryableStatus(response.status)) {
          return response;
        }
        const asked = retryAfterMs(response.headers.get("retry-after"));
        wait = asked === null
          ? backoffMs(attempt + 1, options)
          : Math.min(asked, options.maxRetryAfterMs ?? 60_000);
        await response.body?.cancel();
      } catch (error) {
        if (request.signal.aborted) throw error; // the caller gave up: never retried
        if (attempt >= maxRetries) {
          if (timeout.aborted) {
            throw new Error(
              `The request timed out after ${timeoutMs} ms (${attempt + 1} attempts)`,
              {
                cause: error,
              },
            );
          }
          throw error;
        }
        wait = backoffMs(attempt + 1, options);
      }
      await sleep(wait);
    }
  };
}
