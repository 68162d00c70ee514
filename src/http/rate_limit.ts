/**
 * Rate limiting of publishable keys (`pk_…`, used from browsers and edge apps) per customer,
 * with `@upstash/ratelimit` (sliding window on Redis, shared by every process and isolate).
 *
 * The identifier is `<tenant>:<app>:<customer reference as sent>`; a request costs one token per
 * distinct customer it names (a check names one; an event batch may name several). Secret keys
 * are never limited here. When Redis does not answer within the limiter's timeout
 * or fails, the request is let through (availability over strictness; the entitlement check
 * itself stays correct).
 * Without Redis (the embedded default) {@link MemoryRateLimiter} limits per process with
 * `rate-limiter-flexible` (fixed window; several processes or isolates each keep their own count).
 *
 * @module
 */
import { Ratelimit } from "@upstash/ratelimit";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { Redis } from "@upstash/redis";
import type { Scope } from "../domain/scope.ts";

/** Outcome of {@link PublishableRateLimiter.limit}. */
export interface RateDecision {
  /** Whether the request may proceed. */
  success: boolean;
  /** Requests allowed per window. */
  limit: number;
  /** Tokens left in the window (of the customer closest to its limit). */
  remaining: number;
  /** When the window frees a token again, epoch ms. */
  reset_ms: number;
}

/** A per-customer limiter for publishable keys. */
export interface PublishableRateLimiter {
  /** Takes one token for each customer reference; fails if any of them is out of tokens. */
  limit(scope: Scope, customerRefs: readonly string[]): Promise<RateDecision>;
}

/** Options of {@link UpstashRateLimiter}. */
export interface UpstashRateLimiterOptions {
  /** The `@upstash/redis` client the limiter runs its scripts with. */
  redis: Redis;
  /** Requests per window per customer. */
  requests: number;
  /** Window length in seconds. */
  windowSeconds: number;
  /** Key prefix (default `billing:rl`). */
  prefix?: string;
  /** Let requests through when Redis is slower than this (default 1000 ms) or fails. */
  timeoutMs?: number;
  /** Structured log sink (failures of the limiter are logged). */
  log?: (record: Record<string, unknown>) => void;
}

/** The `@upstash/ratelimit` sliding-window limiter. */
export class UpstashRateLimiter implements PublishableRateLimiter {
  readonly #limiter: Ratelimit;
  readonly #log: (record: Record<string, unknown>) => void;

  /** Builds a sliding-window limiter of `requests` per `windowSeconds` per customer. */
  constructor(options: UpstashRateLimiterOptions) {
    this.#log = options.log ?? (() => {});
    this.#limiter = new Ratelimit({
      redis: options.redis,
      limiter: Ratelimit.slidingWindow(options.requests, `${options.windowSeconds} s`),
      prefix: options.prefix ?? "billing:rl",
      timeout: options.timeoutMs ?? 1000,
      analytics: false,
    });
  }

  async limit(scope: Scope, customerRefs: readonly string[]): Promise<RateDecision> {
    const unique = [...new Set(customerRefs)];
    let results: Awaited<ReturnType<Ratelimit["limit"]>>[];
    try {
      results = await Promise.all(
        unique.map((ref) => this.#limiter.limit(`${scope.tenantId}:${scope.appId}:${ref}`)),
      );
    } catch (error) {
      // Redis failed (not just slow): let the request through, as on a timeout, and say so.
      this.#log({
        level: "error",
        msg: "rate limiter unavailable; request let through",
        error: String(error),
      });
      return { success: true, limit: 0, remaining: 0, reset_ms: Date.now() };
    }
    const failed = results.find((r) => !r.success);
    const pick = failed ?? results.reduce((a, b) => (b.remaining < a.remaining ? b : a));
    return {
      success: failed === undefined,
      limit: pick.limit,
      remaining: Math.max(0, pick.remaining),
      reset_ms: pick.reset,
    };
  }
}

/**
 * The in-process limiter used without Redis: `rate-limiter-flexible`'s `RateLimiterMemory`,
 * `requests` per fixed window of `windowSeconds` per customer (Upstash's sliding window smooths
 * the window edge; a fixed window may let up to twice the rate through across one edge). Counts
 * live in this process only and expire with their window, so memory stays bounded by the
 * customers active in one window.
 */
export class MemoryRateLimiter implements PublishableRateLimiter {
  readonly #limiter: RateLimiterMemory;
  readonly #requests: number;

  /** Builds a fixed-window limiter of `requests` per `windowSeconds` per customer. */
  constructor(options: { requests: number; windowSeconds: number }) {
    this.#requests = options.requests;
    this.#limiter = new RateLimiterMemory({
      points: options.requests,
      duration: options.windowSeconds,
      keyPrefix: "pk",
    });
  }

  async limit(scope: Scope, customerRefs: readonly string[]): Promise<RateDecision> {
    const results = await Promise.all([...new Set(customerRefs)].map(async (ref) => {
      try {
        return { ok: true, res: await this.#limiter.consume(`${scope.tenantId}:${scope.appId}:${ref}`) };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return { ok: false, res: rejection };
        throw rejection;
      }
    }));
    const failed = results.find((r) => !r.ok);
    const pick = failed ?? results.reduce((a, b) => (b.res.remainingPoints < a.res.remainingPoints ? b : a));
    return {
      success: failed === undefined,
      limit: this.#requests,
      remaining: Math.max(0, pick.res.remainingPoints),
      reset_ms: Date.now() + pick.res.msBeforeNext,
    };
  }
}
