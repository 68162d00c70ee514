import { BillingApiError } from "./errors.js";
import type { components, paths } from "./schema.gen.js";
export { BillingApiError, isProblem, type Problem, type SdkErrorCode } from "./errors.js";
/** Body of `POST /v1/entitlements/check`. */
export type CheckRequest = paths["/v1/entitlements/check"]["post"]["requestBody"]["content"]["application/json"];
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
export type CustomerSessionSource = string | CustomerSessionGrant | (() => Promise<CustomerSessionGrant | string> | CustomerSessionGrant | string);
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
/** Browser client; build it with {@link createBrowserClient}. */
export declare class BrowserBillingClient {
    #private;
    readonly customerId: string;
    /**
     * @throws {BillingApiError} `secret_key_in_browser` for an `sk_` key, `invalid_key` for anything
     *   else that is not `pk_…`, `invalid_options` for a bad `baseUrl` or limits
     */
    constructor(options: BrowserClientOptions);
    /** Number of events not yet acknowledged by the API. */
    get pendingEvents(): number;
    /**
     * Whether the customer may use `feature` now. Served from the local cache when fresh and no
     * option is given; pending events of the feature are flushed first.
     *
     * @throws {BillingApiError} with the problem `code` (`customer_not_found`, `origin_not_allowed`, …),
     *   or `network_error` (offline, or the origin is not allowed and the browser hid the answer)
     */
    check(feature: string, options?: CheckOptions): Promise<Decision>;
    /** The cached decision of `feature` if still fresh (no request). */
    peek(feature: string): Decision | undefined;
    /**
     * The customer's state for several features at once (each a cached {@link check}).
     *
     * @throws {BillingApiError} as {@link check}
     */
    state(features: readonly string[]): Promise<Record<string, Decision>>;
    /** Drops cached decisions (all, or one feature's). */
    invalidate(feature?: string): void;
    /**
     * Queues a usage event and returns its id (the API's idempotency key). Sent within
     * `flushIntervalMs`, at once when a batch is full, and when the page is hidden.
     *
     * @param value units, a non-negative safe integer (default 1)
     * @param extra.id your own idempotency key (letters, digits, `_ . : -`, ≤ 128) instead of a random one
     * @throws {BillingApiError} `invalid_options` for a bad value, `queue_full` past `maxQueueSize`,
     *   `client_closed` after {@link close}
     */
    track(feature: string, value?: number, extra?: {
        id?: string;
        properties?: Record<string, unknown>;
    }): string;
    /**
     * Sends every queued event now (batches in order, one request at a time). A retryable failure
     * leaves the events queued (same ids) and schedules a retry; it is not thrown.
     */
    flush(): Promise<FlushResult>;
    /**
     * Stops timers and listeners and sends what is queued with `keepalive` (the page may be going
     * away). Later calls throw `client_closed`.
     */
    close(): void;
}
/**
 * Creates a {@link BrowserBillingClient}.
 *
 * @throws {BillingApiError} `secret_key_in_browser` when given a secret key, see the constructor
 */
export declare function createBrowserClient(options: BrowserClientOptions): BrowserBillingClient;
