/**
 * Throttling of failed authentication per client address: after `maxFailures` wrong API keys,
 * admin tokens or customer session tokens from one address within `windowSeconds`, every
 * authenticated request from that address answers 429 `too_many_failed_attempts` with
 * `Retry-After` until the window ends. Valid credentials are refused too while throttled, so a
 * guesser cannot tell a hit from a miss. Counted per process (per Durable Object on Workers); the
 * client address comes from the runtime (`AppOptions.clientAddress`), never from a header the
 * client can set, except `CF-Connecting-IP` on Workers, which Cloudflare sets itself.
 *
 * @module
 */

/** Limits of {@link FailedAuthThrottle}. */
export interface FailedAuthLimits {
  /** Failures allowed per address and window (default 20). */
  maxFailures: number;
  /** Length of the window in seconds (default 60). */
  windowSeconds: number;
}

/** The limits used when none are given: 20 failures per minute per address. */
export const DEFAULT_FAILED_AUTH_LIMITS: FailedAuthLimits = { maxFailures: 20, windowSeconds: 60 };

/** Fixed-window failure counter per client address, bounded in memory. */
export class FailedAuthThrottle {
  readonly #limits: FailedAuthLimits;
  readonly #windows = new Map<string, { failures: number; ends_ms: number }>();
  /** The latest end of a window that reached the limit (Unix ms): nobody is throttled after it. */
  #throttledUntilMs = 0;
  /** Most addresses tracked; the oldest entries are dropped beyond it. */
  static readonly MAX_ADDRESSES = 50_000;

  /**
   * Creates a throttle with no failures recorded.
   *
   * @param limits failures per window (default {@link DEFAULT_FAILED_AUTH_LIMITS})
   */
  constructor(limits: FailedAuthLimits = DEFAULT_FAILED_AUTH_LIMITS) {
    this.#limits = limits;
  }

  /**
   * Seconds until `address` may try again, or 0 when it is not throttled.
   *
   * @param nowMs the current time in Unix milliseconds
   */
  retryAfterSeconds(address: string, nowMs: number = Date.now()): number {
    const window = this.#windows.get(address);
    if (!window || window.ends_ms <= nowMs || window.failures < this.#limits.maxFailures) return 0;
    return Math.max(1, Math.ceil((window.ends_ms - nowMs) / 1000));
  }

  /**
   * Whether some address may be throttled at `nowMs`: false once every window that reached the
   * limit has ended, so a caller can skip finding out the client's address (the fast lane does,
   * on every request).
   *
   * @param nowMs the current time in Unix milliseconds
   */
  anyThrottled(nowMs: number = Date.now()): boolean {
    return nowMs < this.#throttledUntilMs;
  }

  /**
   * Counts one failed authentication of `address`.
   *
   * @param nowMs the current time in Unix milliseconds
   */
  recordFailure(address: string, nowMs: number = Date.now()): void {
    let window = this.#windows.get(address);
    if (!window || window.ends_ms <= nowMs) {
      if (this.#windows.size >= FailedAuthThrottle.MAX_ADDRESSES) {
        // drop the oldest tenth (Map keeps insertion order)
        let drop = Math.ceil(FailedAuthThrottle.MAX_ADDRESSES / 10);
        for (const key of this.#windows.keys()) {
          if (drop-- <= 0) break;
          this.#windows.delete(key);
        }
      }
      this.#windows.delete(address);
      window = { failures: 0, ends_ms: nowMs + this.#limits.windowSeconds * 1000 };
      this.#windows.set(address, window);
    }
    window.failures++;
    if (window.failures >= this.#limits.maxFailures && window.ends_ms > this.#throttledUntilMs) {
      this.#throttledUntilMs = window.ends_ms;
    }
  }
}

/** What an address reader gets: the parts of a Hono context it needs. */
export interface AddressSource {
  /** Hono's `c.env`: `Deno.serve`'s handler info on Deno (`remoteAddr`). */
  env: unknown;
  /** Hono's request wrapper. */
  req: { header(name: string): string | undefined };
}

/** The remote address of a `Deno.serve` connection (`app.fetch` given as the handler), or undefined. */
export function denoRemoteAddress(c: AddressSource): string | undefined {
  const info = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return info?.remoteAddr?.hostname;
}

/** `CF-Connecting-IP`, which Cloudflare sets on every request that reaches a Worker. */
export function cloudflareClientAddress(c: AddressSource): string | undefined {
  return c.req.header("cf-connecting-ip") ?? undefined;
}
