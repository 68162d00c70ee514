/**
 * Per-tenant mutual exclusion across isolates with Deno KV: a lease (owner + expiry) stored under
 * `["tenant_lock", tenant]`, taken and released with atomic operations that check the key's
 * versionstamp, so of two isolates racing for a free lease exactly one commits. On Deno Deploy
 * every isolate of a deployment shares the same KV database; locally `Deno.openKv(path)` on one
 * file gives the same semantics between processes.
 *
 * Why a lease and not a queue: a write must answer its HTTP request synchronously with its
 * result (or its error), and KV queues deliver asynchronously. The lease serializes the writes of
 * one tenant across isolates (the in-process writer already serializes them inside an isolate);
 * its expiry bounds the damage of an isolate that dies holding it.
 *
 * Limits: a lease lives {@link LEASE_MS}; a waiter gives up after {@link MAX_WAIT_MS} with the
 * retryable `tenant_busy` (503).
 *
 * @module
 */
import { BillingError } from "../../domain/errors.ts";
import { retrying } from "../../storage/retry.ts";

/** How long a lease is valid without being released (ms). Longer than any single write. */
export const LEASE_MS = 15_000;
/** How long a request waits for its tenant's lease before answering 503 (ms). */
export const MAX_WAIT_MS = 10_000;

/** A lease as stored. */
interface Lease {
  owner: string;
  expires_at_ms: number;
}

/** Statistics of one {@link TenantLock} (tests and logs). */
export interface LockStats {
  acquired: number;
  /** Attempts that found the lease held by someone else (or lost the race) and waited. */
  contended: number;
  /** Leases taken over after their holder let them expire. */
  stolen: number;
}

/**
 * Per-tenant leases in one KV database.
 *
 * @example
 * const lock = new TenantLock(await Deno.openKv());
 * const response = await lock.run("ten_123", () => app.fetch(request));
 */
export class TenantLock {
  readonly #kv: Deno.Kv;
  readonly #owner = crypto.randomUUID();
  readonly #leaseMs: number;
  readonly #maxWaitMs: number;
  readonly stats: LockStats = { acquired: 0, contended: 0, stolen: 0 };

  constructor(kv: Deno.Kv, options: { leaseMs?: number; maxWaitMs?: number } = {}) {
    this.#kv = kv;
    this.#leaseMs = options.leaseMs ?? LEASE_MS;
    this.#maxWaitMs = options.maxWaitMs ?? MAX_WAIT_MS;
  }

  /**
   * Runs `fn` while holding `tenant`'s lease; releases it afterwards (also when `fn` throws).
   *
   * @throws {BillingError} `tenant_busy` (503, retryable) when the lease stayed taken for
   *   {@link MAX_WAIT_MS}; whatever `fn` throws
   */
  async run<T>(tenant: string, fn: () => Promise<T>): Promise<T> {
    const token = await this.#acquire(tenant);
    try {
      return await fn();
    } finally {
      await this.#release(tenant, token);
    }
  }

  async #acquire(tenant: string): Promise<string> {
    const key = ["tenant_lock", tenant];
    const deadline = Date.now() + this.#maxWaitMs;
    const token = `${this.#owner}:${crypto.randomUUID()}`;
    const attempt = async (): Promise<string> => {
      try {
        const current = await this.#kv.get<Lease>(key);
        const now = Date.now();
        const free = current.value === null || current.value.expires_at_ms <= now;
        if (free) {
          const committed = await this.#kv.atomic()
            .check(current)
            .set(key, { owner: token, expires_at_ms: now + this.#leaseMs } satisfies Lease, {
              expireIn: this.#leaseMs,
            })
            .commit();
          if (committed.ok) {
            this.stats.acquired++;
            if (current.value !== null) this.stats.stolen++;
            return token;
          }
        }
      } catch (error) {
        // A local KV file shared by processes reports SQLite's lock as an error: contention too.
        if (!isLocked(error)) throw error;
      }
      this.stats.contended++;
      throw CONTENDED;
    };
    try {
      // Short, jittered, growing pauses: a write holds the lease for milliseconds.
      return await retrying(attempt, {
        attempts: MAX_ACQUIRE_ATTEMPTS,
        firstDelayMs: 2,
        maxDelayMs: 50,
        retryIf: (error) => error === CONTENDED && Date.now() < deadline,
      });
    } catch (error) {
      if (error !== CONTENDED) throw error;
      throw new BillingError(
        "tenant_busy",
        "unavailable",
        `Tenant "${tenant}" stayed busy for ${this.#maxWaitMs} ms; retry later`,
        { retryable: true },
      );
    }
  }

  async #release(tenant: string, token: string): Promise<void> {
    const key = ["tenant_lock", tenant];
    const attempt = async (): Promise<void> => {
      try {
        const current = await this.#kv.get<Lease>(key);
        if (current.value?.owner !== token) return; // expired and taken over: not ours to delete
        const done = await this.#kv.atomic().check(current).delete(key).commit();
        if (done.ok) return;
      } catch (error) {
        if (!isLocked(error)) throw error;
      }
      throw CONTENDED;
    };
    // Lost a race or met the file lock; the lease expires anyway, so give up after a few tries.
    await retrying(attempt, {
      attempts: MAX_RELEASE_ATTEMPTS,
      firstDelayMs: 2,
      maxDelayMs: 20,
      retryIf: (error) => error === CONTENDED,
    }).catch((error) => {
      if (error !== CONTENDED) throw error;
    });
  }
}

/** Thrown inside the retry loops when the lease is taken or the KV file is locked. */
const CONTENDED = new Error("tenant lease contended");

/** Upper bound of acquire attempts; the wait is bounded by the deadline first. */
const MAX_ACQUIRE_ATTEMPTS = 10_000;

/** Attempts to delete a lease before leaving it to expire (a limit on everything). */
export const MAX_RELEASE_ATTEMPTS = 20;

/** Whether a KV error is SQLite's "database is locked" (local KV files only). */
function isLocked(error: unknown): boolean {
  return /database is locked/i.test(String((error as Error)?.message ?? error));
}
