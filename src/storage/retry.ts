/**
 * The one retry/backoff helper: in-process retries go through `exponential-backoff` (exponential
 * growth from a first delay, capped, full jitter as in AWS's "Exponential Backoff And Jitter"),
 * with a limit on attempts and a predicate for what is worth retrying. Used by the libSQL write
 * lane (`SQLITE_BUSY`), the start-up migration, the Deno Deploy tenant lease (acquire and release) and, through
 * {@link backoffDelayMs}, by the webhook worker's persisted retry schedule.
 *
 * @module
 */
import { backOff } from "exponential-backoff";

/** How to retry; every field is a limit (TigerBeetle: a limit on everything). */
export interface RetryPolicy {
  /** Attempts in total, the first one included (≥ 1). */
  attempts: number;
  /** Delay before the second attempt, ms; doubles each attempt. */
  firstDelayMs: number;
  /** Cap of one delay, ms. */
  maxDelayMs: number;
  /**
   * Whether a failure is worth another attempt (`attempt`: 1-based number of the attempt that
   * failed). Returning `false` rethrows the error at once.
   */
  retryIf: (error: unknown, attempt: number) => boolean;
}

/**
 * Runs `fn` until it resolves, retrying failures `retryIf` accepts after an exponential,
 * capped, fully jittered delay, at most `attempts` times in total.
 *
 * @returns what `fn` resolved to
 * @throws the last error of `fn` (when not retryable or out of attempts)
 */
export async function retrying<T>(fn: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  return await backOff(fn, {
    numOfAttempts: Math.max(1, policy.attempts),
    startingDelay: policy.firstDelayMs,
    timeMultiple: 2,
    maxDelay: policy.maxDelayMs,
    jitter: "full",
    retry: (error: unknown, attempt: number) => policy.retryIf(error, attempt),
  });
}

/**
 * Delay before attempt `attempt + 1` of a retry that is scheduled (stored as a next-attempt time)
 * rather than awaited in process, so it cannot run inside {@link retrying}: the same exponential
 * growth, `min(maxDelayMs, baseDelayMs · 2^(attempt−1))`, with "equal jitter" (half of it plus a
 * uniform share of the other half), so a schedule never collapses to zero.
 *
 * @param attempt failed attempts so far, ≥ 1
 * @param random uniform in [0, 1)
 * @returns whole milliseconds, within [cap/2, cap]
 */
export function backoffDelayMs(
  attempt: number,
  options: { baseDelayMs: number; maxDelayMs: number },
  random: number,
): number {
  const exponent = Math.min(attempt - 1, 40);
  const capped = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** exponent);
  return Math.floor(capped / 2 + random * (capped / 2));
}
