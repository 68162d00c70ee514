/**
 * Server-side client: every route of the API, typed from the API's own OpenAPI document
 * (`schema.gen.ts`, generated), over `openapi-fetch`. Uses only `fetch`, `Request`, `Response`
 * and `Headers`, so it runs unchanged on Deno, Node 20+, Bun, Cloudflare Workers and Deno Deploy.
 *
 * Keys: the secret key (`sk_…`) authenticates every `/v1` route of its app; routes under
 * `/v1/admin/` use `adminToken` instead. Never ship a secret key to a browser: use `./browser`.
 *
 * @example
 * import { createServerClient, unwrap } from "@edge-billing/sdk";
 * const billing = createServerClient({ baseUrl: "https://billing.example.com", secretKey: env.BILLING_SECRET_KEY });
 * const plan = await unwrap(billing.POST("/v1/plans", { body: { key: "pro", name: "Pro", currency: "USD", interval: "month" } }));
 * const decision = await unwrap(billing.POST("/v1/entitlements/check", { body: { customer_id: "user_42", feature: "api_calls" } }));
 *
 * Every `POST` carries an `Idempotency-Key` (generated, or yours via `headers`), reused by the
 * automatic retries of network errors, timeouts, 429 and 5xx (see `RetryOptions`); checks, usage
 * events and ledger entries rely on the keys their bodies carry instead (`BODY_KEYED_PATHS`).
 *
 * @module
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import { assertBaseUrl, BillingApiError } from "./errors.ts";
import { retryingFetch, type RetryOptions } from "./retry.ts";
import type { components, paths } from "./schema.gen.ts";

export { BillingApiError, isProblem, type Problem, type SdkErrorCode } from "./errors.ts";
export type { components, operations, paths, webhooks } from "./schema.gen.ts";
export { backoffMs, isRetryableStatus, retryAfterMs, retryingFetch, type RetryOptions } from "./retry.ts";
export {
  verifyWebhook,
  type WebhookEvent,
  type WebhookEventOf,
  type WebhookEventType,
  type WebhookHeaders,
} from "./webhooks.ts";

/** Named schemas of the API (`Schemas["Plan"]`, `Schemas["Invoice"]`, …). */
export type Schemas = components["schemas"];

/** A typed client of every route: `client.GET(path, …)`, `client.POST(path, { body })`, … */
export type BillingClient = Client<paths>;

/** Options of {@link createServerClient}. */
export interface ServerClientOptions {
  /** Base URL of the API, e.g. `https://billing.example.com` (no trailing `/v1`). */
  baseUrl: string;
  /** Secret key `sk_…` of the app: sent as `Authorization: Bearer` to every non-admin route. */
  secretKey?: string;
  /** `BILLING_ADMIN_TOKEN`: sent to `/v1/admin/*` routes only. */
  adminToken?: string;
  /** A `fetch` to use instead of the global one (tests, instrumentation, service bindings). */
  fetch?: (request: Request) => Promise<Response>;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /**
   * Retries, timeouts and idempotency keys (see `retry.ts`): by default every `POST` gets an
   * `Idempotency-Key` (except the body-keyed hot routes), network errors, timeouts, 429 and 5xx are retried twice with exponential
   * backoff and jitter (honouring `Retry-After`), and each attempt times out after 30 s.
   */
  retry?: RetryOptions;
}

/**
 * Creates the server client. Calls resolve to `{ data, error, response }` (openapi-fetch); use
 * {@link unwrap} to get the data or a thrown {@link BillingApiError}.
 *
 * @throws {BillingApiError} `invalid_key` when `secretKey` is not an `sk_` key;
 *   `invalid_options` when `baseUrl` is not an absolute http(s) URL
 */
export function createServerClient(
  options: ServerClientOptions,
): BillingClient {
  assertBaseUrl(options.baseUrl);
  if (options.secretKey !== undefined && !options.secretKey.startsWith("sk_")) {
    throw new BillingApiError(
      "invalid_key",
      "secretKey must be a secret key (sk_…); publishable keys belong in the browser client",
    );
  }
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    headers: options.headers,
    fetch: retryingFetch(options.fetch, options.retry),
  });
  const auth: Middleware = {
    onRequest({ request }) {
      const admin = new URL(request.url).pathname.startsWith("/v1/admin/");
      const token = admin ? options.adminToken : options.secretKey;
      if (token) request.headers.set("authorization", `Bearer ${token}`);
      return request;
    },
    onError({ error }) {
      return error instanceof BillingApiError ? error : BillingApiError.network(error);
    },
  };
  client.use(auth);
  return client;
}

/** Result shape of an openapi-fetch call: `data` on success, `error` (the parsed body) otherwise. */
export interface FetchResult {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/**
 * The data of a successful call, or a thrown {@link BillingApiError} carrying the problem `code`.
 *
 * @returns the parsed 2xx body (every route of the API answers JSON)
 * @throws {BillingApiError} for every non-2xx response (`error.code` is the problem's code) and for
 *   network failures (`network_error`)
 */
export async function unwrap<R extends FetchResult>(
  call: Promise<R>,
): Promise<NonNullable<R["data"]>> {
  const result = await call;
  if (result.error !== undefined || !result.response.ok) {
    throw BillingApiError.fromResponse(result.response, result.error);
  }
  return result.data as NonNullable<R["data"]>;
}
