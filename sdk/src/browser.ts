/**
 * Browser client: entitlement checks and usage tracking with a publishable key (`pk_…`).
 *
 * - `check(feature)` asks `POST /v1/entitlements/check`; answers are cached for `cacheTtlMs`
 *   (default 5 s) and dropped as soon as this page tracks usage of that feature. Pending events of
 *   the feature are flushed first, so a check always counts what this page tracked.
 * - `state(features)` is the customer's state for several features (cached checks); `peek(feature)`
 *   reads the cache synchronously for rendering.
 * - `track(feature, value)` queues an event with a fresh id. Events are sent in batches
 *   (`POST /v1/events`, at most `maxBatchSize`) every `flushIntervalMs`, when a batch is full, and
 *   when the page is hidden (`visibilitychange` → hidden, `pagehide`) with `fetch(…, { keepalive })`.
 * - Retries keep the ids: a batch that failed in transit (network error, 408/425/429/5xx) is sent
 *   again with the same event ids after an exponential backoff, so the API counts each event once.
 *   Unacknowledged events are also written to `localStorage` when the page is hidden and sent again
 *   (same ids) by the next page of the same key and customer.
 * - Errors are {@link BillingApiError}s carrying the problem `code`; batch failures that no retry can
 *   fix and per-event rejections go to `onError`.
 * - Only publishable keys are accepted: a secret key throws `secret_key_in_browser`. This module uses
 *   no Node built-ins; bundle it for browsers as it is.
 * - A publishable key acts only with a customer session: your backend mints one with its secret key
 *   (`POST /v1/customer_sessions`) and hands it to the page; `customerSession` fetches it (a function,
 *   called again shortly before `expires_at` and after a `customer_session_expired` answer) or is the
 *   token itself. Every request carries it as `Customer-Session`; the API refuses any other customer
 *   with 403 `customer_not_allowed`.
 *
 * Types come from the API's OpenAPI document (`schema.gen.ts`), so new request fields of the check
 * (for example a `consume` amount) appear in `check()`'s options without changes here.
 *
 * @example
 * import { createBrowserClient } from "@edge-billing/sdk/browser";
 * const billing = createBrowserClient({
 *   baseUrl: "https://billing.example.com",
 *   publishableKey: "pk_…",
 *   customerId: "user_42",
 *   // your backend calls POST /v1/customer_sessions with its secret key and returns { token, expires_at }
 *   customerSession: () => fetch("/api/billing-session").then((r) => r.json()),
 * });
 * if ((await billing.check("exports")).allowed) { billing.track("exports", 1); runExport(); }
 *
 * @module
 */
import createClient from "openapi-fetch";
import { assertBaseUrl, BillingApiError } from "./errors.ts";
import type { components, paths } from "./schema.gen.ts";

export { BillingApiError, isProblem, type Problem, type SdkErrorCode } from "./errors.ts";

/** Body of `POST /v1/entitlements/check`. */
export type CheckRequest =
  paths["/v1/entitlements/check"]["post"]["requestBody"]["content"]["application/json"];
/** Options of {@link BrowserBillingClient.check}: every check field other than customer and feature. */
export type CheckOptions = Omit<CheckRequest, "customer_id" | "feature">;
/** Answer of a check. */
export type Decision = components["schemas"]["EntitlementDecision"];
/** One usage event as sent to `POST /v1/events`. */
export type UsageEvent = components["schemas"]["IngestEvents"]["events"][number];
/** Answer of `POST /v1/events`. */
export type IngestReport = components["schemas"]["IngestReport"];

/** A customer session as `POST /v1/customer_sessions` answers it (the fields the browser needs). */
export interface CustomerSessionGrant {
  /** The token (`cs_…`), sent as `Customer-Session`. */
  token: string;
  /** When it stops working (ISO 8601); the client fetches a new one shortly before. */
  expires_at: string;
}

/** Where the client gets its customer session: the grant or token itself, or a function that fetches one. */
export type CustomerSessionSource =
  | string
  | CustomerSessionGrant
  | (() => Promise<CustomerSessionGrant | string> | CustomerSessionGrant | string);

/** The subset of the Web Storage API the client uses. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Options of {@link createBrowserClient}. */
export interface BrowserClientOptions {
  /** Base URL of the API, e.g. `https://billing.example.com`. Its CORS list must hold this page's origin. */
  baseUrl: string;
  /** Publishable key `pk_…`. A secret key is refused. */
  publishableKey: string;
  /** The signed-in customer: `cus_…` id or your external id (the one its session was minted for). */
  customerId: string;
  /**
   * The customer session your backend minted with `POST /v1/customer_sessions`: a function that
   * fetches `{ token, expires_at }` (called again 30 s before `expires_at` and once after the API
   * answers `customer_session_expired` / `customer_session_invalid`), or a fixed grant or token.
   */
  customerSession: CustomerSessionSource;
  /** Milliseconds between background flushes of queued events (default 2000, at least 50). */
  flushIntervalMs?: number;
  /** Events per request (default 100, at most 1000: the API's batch limit). */
  maxBatchSize?: number;
  /** Most events kept unacknowledged; `track` throws `queue_full` beyond it (default 10 000). */
  maxQueueSize?: number;
  /** Milliseconds a check answer is reused (default 5000; 0 disables the cache). */
  cacheTtlMs?: number;
  /** Sending attempts of one event before it is given up with `retries_exhausted` (default 10). */
  maxAttempts?: number;
  /** First retry delay in milliseconds, doubled per failure up to `retryMaxMs` (default 500 / 30 000). */
  retryBaseMs?: number;
  /** Longest retry delay in milliseconds (default 30 000). */
  retryMaxMs?: number;
  /** Where unacknowledged events survive a page change (default `localStorage`; `null` disables). */
  storage?: KeyValueStorage | null;
  /** Whether to flush on `visibilitychange` (hidden) and `pagehide` (default true where a `document` exists). */
  flushOnHide?: boolean;
  /** A `fetch` to use instead of the global one. */
  fetch?: (request: Request) => Promise<Response>;
  /** Receives failures of background sends: non-retryable batch errors, rejections, each retry. */
  onError?: (error: BillingApiError, events: readonly UsageEvent[]) => void;
}

/** Totals of a {@link BrowserBillingClient.flush}. */
export interface FlushResult {
  /** Events stored by the API in this flush. */
  accepted: number;
  /** Events the API had already stored (retries of events it had counted). */
  duplicates: number;
  /** Events the API refused, each with its problem code. */
  rejected: IngestReport["rejected"];
  /** Events still waiting (after a retryable failure), sent again with the same ids later. */
  pending: number;
}

interface Pending {
  event: UsageEvent;
  attempts: number;
  /** Sent with `keepalive` while the page was being hidden; its answer may never arrive. */
  keepaliveSent: boolean;
}

/** Largest body of one keepalive request: browsers refuse more than 64 KiB in flight. */
const KEEPALIVE_MAX_BYTES = 60_000;
/** The API's limit of events per request. */
const API_MAX_BATCH = 1000;
/** A session is renewed this many milliseconds before its `expires_at`. */
const SESSION_RENEW_MS = 30_000;
/** Problem codes after which a fresh customer session may help. */
const SESSION_CODES: ReadonlySet<string> = new Set(["customer_session_expired", "customer_session_invalid"]);

function newEventId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `evt_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function defaultStorage(): KeyValueStorage | null {
  try {
    const storage = (globalThis as { localStorage?: KeyValueStorage }).localStorage;
    return storage ?? null;
  } catch {
    return null; // sandboxed iframes throw on access
  }
}

/** Browser client; build it with {@link createBrowserClient}. */
export class BrowserBillingClient {
  readonly customerId: string;
  readonly #api;
  readonly #options: Required<
    Omit<BrowserClientOptions, "fetch" | "onError" | "storage" | "customerSession">
  >;
  readonly #sessionSource: CustomerSessionSource;
  #session: Promise<{ token: string; renew_ms: number }> | undefined;
  readonly #onError: (error: BillingApiError, events: readonly UsageEvent[]) => void;
  readonly #storage: KeyValueStorage | null;
  readonly #storageKey: string;
  #queue: Pending[] = [];
  #chain: Promise<unknown> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerDue = 0;
  #failures = 0;
  #closed = false;
  readonly #decisions = new Map<string, { decision: Decision; expires_ms: number }>();
  readonly #checks = new Map<string, Promise<Decision>>();
  readonly #onVisibility = () => {
    if ((globalThis as { document?: { visibilityState?: string } }).document?.visibilityState === "hidden") {
      this.#flushOnHide();
    }
  };
  readonly #onPageHide = () => this.#flushOnHide();

  /**
   * @throws {BillingApiError} `secret_key_in_browser` for an `sk_` key, `invalid_key` for anything
   *   else that is not `pk_…`, `invalid_options` for a bad `baseUrl` or limits
   */
  constructor(options: BrowserClientOptions) {
    if (typeof options.publishableKey !== "string" || options.publishableKey.startsWith("sk_")) {
      throw new BillingApiError(
        "secret_key_in_browser",
        "Secret keys (sk_…) must never reach a browser; use the app's publishable key (pk_…)",
      );
    }
    if (!options.publishableKey.startsWith("pk_")) {
      throw new BillingApiError("invalid_key", "publishableKey must start with pk_");
    }
    assertBaseUrl(options.baseUrl);
    if (!options.customerId) throw new BillingApiError("invalid_options", "customerId is required");
    if (!options.customerSession) {
      throw new BillingApiError(
        "invalid_options",
        "customerSession is required: mint one on your backend with POST /v1/customer_sessions",
      );
    }
    this.#sessionSource = options.customerSession;
    this.customerId = options.customerId;
    const hasDocument = typeof (globalThis as { document?: unknown }).document !== "undefined";
    this.#options = {
      baseUrl: options.baseUrl,
      publishableKey: options.publishableKey,
      customerId: options.customerId,
      flushIntervalMs: Math.max(50, options.flushIntervalMs ?? 2000),
      maxBatchSize: Math.min(API_MAX_BATCH, Math.max(1, options.maxBatchSize ?? 100)),
      maxQueueSize: Math.max(1, options.maxQueueSize ?? 10_000),
      cacheTtlMs: Math.max(0, options.cacheTtlMs ?? 5000),
      maxAttempts: Math.max(1, options.maxAttempts ?? 10),
      retryBaseMs: Math.max(1, options.retryBaseMs ?? 500),
      retryMaxMs: Math.max(1, options.retryMaxMs ?? 30_000),
      flushOnHide: options.flushOnHide ?? hasDocument,
    };
    this.#onError = options.onError ?? (() => {});
    this.#storage = options.storage === undefined ? defaultStorage() : options.storage;
    this.#storageKey = `edge-billing:${options.publishableKey.slice(0, 16)}:${options.customerId}`;
    this.#api = createClient<paths>({
      baseUrl: options.baseUrl,
      headers: { authorization: `Bearer ${options.publishableKey}` },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.#api.use({
      onRequest: async ({ request }) => {
        request.headers.set("customer-session", await this.#sessionToken());
        return request;
      },
    });
    if (this.#options.flushOnHide && hasDocument) {
      (globalThis as unknown as { document: EventTarget }).document.addEventListener(
        "visibilitychange",
        this.#onVisibility,
      );
      globalThis.addEventListener?.("pagehide", this.#onPageHide);
    }
    // fetched now so that a page hidden right after its first track() can still send
    this.#sessionToken().catch(() => {});
    this.#restore();
  }

  /** The current session token, fetched (again) when absent or about to expire. */
  async #sessionToken(): Promise<string> {
    const now = Date.now();
    if (this.#session) {
      const current = await this.#session.catch(() => undefined);
      if (current && current.renew_ms > now) return current.token;
      this.#session = undefined;
    }
    const source = this.#sessionSource;
    const fetching = (async () => {
      let grant: CustomerSessionGrant | string;
      try {
        grant = typeof source === "function" ? await source() : source;
      } catch (error) {
        throw new BillingApiError("network_error", `Fetching the customer session failed: ${String(error)}`, {
          cause: error,
        });
      }
      if (typeof grant === "string") return { token: grant, renew_ms: Number.POSITIVE_INFINITY };
      if (!grant || typeof grant.token !== "string") {
        throw new BillingApiError("invalid_options", "customerSession must give { token, expires_at }");
      }
      const expires = Date.parse(grant.expires_at);
      // a fixed grant is never renewed; a function's is renewed shortly before it expires
      const renew = typeof source !== "function" || !Number.isFinite(expires)
        ? Number.POSITIVE_INFINITY
        : Math.max(now, expires - SESSION_RENEW_MS);
      return { token: grant.token, renew_ms: renew };
    })();
    this.#session = fetching;
    return (await fetching).token;
  }

  /**
   * Runs `request`; when the API says the session expired or is invalid and the session comes from
   * a function, fetches a new session and runs it once more.
   */
  async #withSession<T extends { response: Response; error?: unknown }>(
    request: () => Promise<T>,
  ): Promise<T> {
    const first = await request();
    if (
      first.response.status !== 401 || typeof this.#sessionSource !== "function" ||
      !SESSION_CODES.has((first.error as { code?: string } | undefined)?.code ?? "")
    ) {
      return first;
    }
    this.#session = undefined;
    return await request();
  }

  /** Number of events not yet acknowledged by the API. */
  get pendingEvents(): number {
    return this.#queue.length;
  }

  /**
   * Whether the customer may use `feature` now. Served from the local cache when fresh and no
   * option is given; pending events of the feature are flushed first.
   *
   * @throws {BillingApiError} with the problem `code` (`customer_not_found`, `origin_not_allowed`, …),
   *   or `network_error` (offline, or the origin is not allowed and the browser hid the answer)
   */
  async check(feature: string, options: CheckOptions = {} as CheckOptions): Promise<Decision> {
    this.#assertOpen();
    if (this.#queue.some((p) => p.event.feature === feature)) await this.flush();
    const cacheable = Object.keys(options).length === 0 && this.#options.cacheTtlMs > 0;
    if (cacheable) {
      const hit = this.#decisions.get(feature);
      if (hit && hit.expires_ms > Date.now()) return hit.decision;
      const running = this.#checks.get(feature);
      if (running) return await running;
    }
    const request = (async () => {
      let result;
      try {
        result = await this.#withSession(() =>
          this.#api.POST("/v1/entitlements/check", {
            body: { ...options, customer_id: this.customerId, feature } as CheckRequest,
          })
        );
      } catch (error) {
        throw BillingApiError.network(error);
      }
      if (result.error !== undefined || !result.response.ok) {
        throw BillingApiError.fromResponse(result.response, result.error);
      }
      const decision = result.data as Decision;
      if (cacheable) {
        this.#decisions.set(feature, { decision, expires_ms: Date.now() + this.#options.cacheTtlMs });
      }
      return decision;
    })();
    if (cacheable) this.#checks.set(feature, request);
    try {
      return await request;
    } finally {
      if (cacheable) this.#checks.delete(feature);
    }
  }

  /** The cached decision of `feature` if still fresh (no request). */
  peek(feature: string): Decision | undefined {
    const hit = this.#decisions.get(feature);
    return hit && hit.expires_ms > Date.now() ? hit.decision : undefined;
  }

  /**
   * The customer's state for several features at once (each a cached {@link check}).
   *
   * @throws {BillingApiError} as {@link check}
   */
  async state(features: readonly string[]): Promise<Record<string, Decision>> {
    const decisions = await Promise.all(features.map((f) => this.check(f)));
    return Object.fromEntries(features.map((f, i) => [f, decisions[i]]));
  }

  /** Drops cached decisions (all, or one feature's). */
  invalidate(feature?: string): void {
    if (feature === undefined) this.#decisions.clear();
    else this.#decisions.delete(feature);
  }

  /**
   * Queues a usage event and returns its id (the API's idempotency key). Sent within
   * `flushIntervalMs`, at once when a batch is full, and when the page is hidden.
   *
   * @param value units, a non-negative safe integer (default 1)
   * @param extra.id your own idempotency key (letters, digits, `_ . : -`, ≤ 128) instead of a random one
   * @throws {BillingApiError} `invalid_options` for a bad value, `queue_full` past `maxQueueSize`,
   *   `client_closed` after {@link close}
   */
  track(
    feature: string,
    value = 1,
    extra: { id?: string; properties?: Record<string, unknown> } = {},
  ): string {
    this.#assertOpen();
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new BillingApiError("invalid_options", `value must be a non-negative integer, got ${value}`);
    }
    if (this.#queue.length >= this.#options.maxQueueSize) {
      throw new BillingApiError(
        "queue_full",
        `${this.#queue.length} events are waiting to be sent; the limit is ${this.#options.maxQueueSize}`,
      );
    }
    const event: UsageEvent = { id: extra.id ?? newEventId(), customer_id: this.customerId, feature, value };
    if (extra.properties) event.properties = extra.properties;
    this.#queue.push({ event, attempts: 0, keepaliveSent: false });
    this.#decisions.delete(feature);
    if (this.#queue.length >= this.#options.maxBatchSize) void this.flush();
    else this.#schedule(this.#options.flushIntervalMs);
    return event.id;
  }

  /**
   * Sends every queued event now (batches in order, one request at a time). A retryable failure
   * leaves the events queued (same ids) and schedules a retry; it is not thrown.
   */
  flush(): Promise<FlushResult> {
    const run = this.#chain.then(() => this.#drain());
    this.#chain = run.catch(() => {});
    return run;
  }

  /**
   * Stops timers and listeners and sends what is queued with `keepalive` (the page may be going
   * away). Later calls throw `client_closed`.
   */
  close(): void {
    if (this.#closed) return;
    this.#flushOnHide();
    this.#closed = true;
    clearTimeout(this.#timer);
    (globalThis as unknown as { document?: EventTarget }).document?.removeEventListener(
      "visibilitychange",
      this.#onVisibility,
    );
    globalThis.removeEventListener?.("pagehide", this.#onPageHide);
  }

  #assertOpen(): void {
    if (this.#closed) throw new BillingApiError("client_closed", "This billing client was closed");
  }

  /** Arranges a flush in `delayMs` unless one is already due sooner. */
  #schedule(delayMs: number): void {
    if (this.#closed) return;
    const due = Date.now() + delayMs;
    if (this.#timer !== undefined) {
      if (this.#timerDue <= due) return;
      clearTimeout(this.#timer);
    }
    this.#timerDue = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, delayMs);
  }

  async #drain(): Promise<FlushResult> {
    const result: FlushResult = { accepted: 0, duplicates: 0, rejected: [], pending: 0 };
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, this.#options.maxBatchSize);
      try {
        const report = await this.#send(batch.map((p) => p.event), false);
        this.#failures = 0;
        result.accepted += report.accepted;
        result.duplicates += report.duplicates;
        result.rejected.push(...report.rejected);
        this.#acknowledge(batch, report);
      } catch (error) {
        const failure = error instanceof BillingApiError ? error : BillingApiError.network(error);
        if (!failure.retryable) {
          this.#acknowledge(batch, null);
          this.#onError(failure, batch.map((p) => p.event));
          continue;
        }
        this.#failures++;
        const exhausted = batch.filter((p) => ++p.attempts >= this.#options.maxAttempts);
        if (exhausted.length > 0) {
          this.#acknowledge(exhausted, null);
          this.#onError(
            new BillingApiError(
              "retries_exhausted",
              `Gave up after ${this.#options.maxAttempts} attempts: ${failure.message}`,
              {
                status: failure.status,
                problem: failure.problem,
                cause: failure,
              },
            ),
            exhausted.map((p) => p.event),
          );
        }
        this.#onError(failure, batch.map((p) => p.event));
        const backoff = Math.min(
          this.#options.retryMaxMs,
          this.#options.retryBaseMs * 2 ** (this.#failures - 1),
        );
        this.#schedule(backoff * (0.5 + Math.random() / 2));
        break;
      }
    }
    result.pending = this.#queue.length;
    return result;
  }

  /** Removes answered events from the queue and storage; reports rejections. */
  #acknowledge(batch: readonly Pending[], report: IngestReport | null): void {
    const ids = new Set(batch.map((p) => p.event.id));
    this.#queue = this.#queue.filter((p) => !ids.has(p.event.id));
    for (const p of batch) this.#decisions.delete(p.event.feature);
    if (report && report.rejected.length > 0) {
      const rejected = new Set(report.rejected.map((r) => r.id));
      const first = report.rejected[0];
      this.#onError(
        new BillingApiError(
          first.code,
          `${report.rejected.length} event(s) rejected, first: ${first.message}`,
          { status: first.status },
        ),
        batch.filter((p) => rejected.has(p.event.id)).map((p) => p.event),
      );
    }
    this.#persist();
  }

  async #send(events: UsageEvent[], keepalive: boolean): Promise<IngestReport> {
    let result;
    try {
      result = await this.#withSession(() => this.#api.POST("/v1/events", { body: { events }, keepalive }));
    } catch (error) {
      throw BillingApiError.network(error);
    }
    if (result.error !== undefined || !result.response.ok) {
      throw BillingApiError.fromResponse(result.response, result.error);
    }
    return result.data as IngestReport;
  }

  /**
   * The page is being hidden or left: keep every unacknowledged event in storage and send those not
   * yet sent this way with `keepalive` (≤ 60 KB per request). Their answers may never arrive: the
   * stored copies are sent again by the next page with the same ids, which the API counts once.
   */
  #flushOnHide(): void {
    if (this.#closed) return;
    this.#persist();
    const unsent = this.#queue.filter((p) => !p.keepaliveSent);
    let chunk: Pending[] = [];
    let bytes = 20;
    const send = (part: Pending[]) => {
      for (const p of part) p.keepaliveSent = true;
      this.#send(part.map((p) => p.event), true)
        .then((report) => this.#acknowledge(part, report))
        .catch(() => {
          for (const p of part) p.keepaliveSent = false;
          this.#schedule(this.#options.retryBaseMs);
        });
    };
    for (const p of unsent) {
      const size = JSON.stringify(p.event).length + 1;
      if (
        chunk.length > 0 && (bytes + size > KEEPALIVE_MAX_BYTES || chunk.length >= this.#options.maxBatchSize)
      ) {
        send(chunk);
        chunk = [];
        bytes = 20;
      }
      chunk.push(p);
      bytes += size;
    }
    if (chunk.length > 0) send(chunk);
  }

  #persist(): void {
    if (!this.#storage) return;
    try {
      if (this.#queue.length === 0) this.#storage.removeItem(this.#storageKey);
      else this.#storage.setItem(this.#storageKey, JSON.stringify(this.#queue.map((p) => p.event)));
    } catch { /* storage full or blocked: events stay in memory */ }
  }

  /** Takes over events a previous page left unacknowledged (same ids) and sends them soon. */
  #restore(): void {
    if (!this.#storage) return;
    let stored: unknown;
    try {
      stored = JSON.parse(this.#storage.getItem(this.#storageKey) ?? "[]");
    } catch {
      stored = [];
    }
    if (!Array.isArray(stored) || stored.length === 0) return;
    const known = new Set(this.#queue.map((p) => p.event.id));
    for (const event of stored.slice(0, this.#options.maxQueueSize) as UsageEvent[]) {
      if (
        event && typeof event.id === "string" && typeof event.feature === "string" && !known.has(event.id)
      ) {
        this.#queue.push({ event, attempts: 0, keepaliveSent: false });
      }
    }
    this.#schedule(0);
  }
}

/**
 * Creates a {@link BrowserBillingClient}.
 *
 * @throws {BillingApiError} `secret_key_in_browser` when given a secret key, see the constructor
 */
export function createBrowserClient(options: BrowserClientOptions): BrowserBillingClient {
  return new BrowserBillingClient(options);
}
