/**
 * The catalog of problem codes: every `code` an `application/problem+json` answer of the API can
 * carry, with its HTTP status, a one-line explanation and the operation groups (OpenAPI tags) that
 * can answer it. The OpenAPI document lists these codes per operation (see `openapi.ts`), and each
 * problem's `type` URI (`/problems/{code}`) serves the explanation: HTML to browsers, JSON to
 * everything else. A test scans `src/` so that no code is thrown without an entry here.
 *
 * @module
 */

/** One entry of {@link PROBLEM_TYPES}. */
export interface ProblemType {
  /** HTTP status the code is answered with. */
  status: number;
  /** Short title of the problem type, capitalised, no trailing period. */
  title: string;
  /** What happened and what the client can do about it. */
  explanation: string;
  /** Tags of the operations that can answer it; `"*"` means every authenticated operation. */
  tags: readonly string[] | "*";
  /** Whether sending the same request again later may succeed. */
  retryable?: boolean;
}

const ALL = "*" as const;
const LEDGER = ["ledger", "payments", "invoices", "credits"] as const;

/** Every problem code of the API, by code. */
export const PROBLEM_TYPES: Readonly<Record<string, ProblemType>> = {
  // Any route
  validation_failed: {
    status: 400,
    title: "Invalid fields",
    explanation:
      "One or more fields are invalid; `fields` lists each failing path and why. Fix them and resend.",
    tags: ALL,
  },
  malformed_json: {
    status: 400,
    title: "Malformed JSON",
    explanation: "The request body is not valid JSON.",
    tags: ALL,
  },
  bad_request: {
    status: 400,
    title: "Bad request",
    explanation: "The request could not be read.",
    tags: ALL,
  },
  unauthorized: {
    status: 401,
    title: "Unauthorized",
    explanation:
      "No API key, or one that is unknown or revoked: send `Authorization: Bearer sk_…` (or `pk_…` on the " +
      "publishable routes, the admin token on `/v1/admin/*`).",
    tags: ALL,
  },
  publishable_key_not_allowed: {
    status: 403,
    title: "Publishable key not allowed",
    explanation:
      "Publishable keys may only check entitlements and send usage; call this route with a secret key from a server.",
    tags: ALL,
  },
  key_scope_not_allowed: {
    status: 403,
    title: "Key scope does not allow this route",
    explanation:
      "The secret key's scope (`read_only`, `usage_only` or `ledger_only`) does not reach this route; the " +
      "README's key scope table lists what each scope may call. Use a key of another scope, or a `full` key.",
    tags: ALL,
  },
  encryption_key_missing: {
    status: 503,
    title: "Encryption key missing",
    explanation:
      "This server has no `BILLING_ENCRYPTION_KEY`, so it cannot store or read secrets (webhook signing secrets, " +
      "Stripe keys). The operator must set it (ADR 0012).",
    tags: ["webhooks", "payments"],
  },
  server_misconfigured: {
    status: 503,
    title: "Server misconfigured",
    explanation:
      "The server's configuration is invalid (for example an admin token shorter than 32 characters); the detail " +
      "names the variable. The operator must fix it.",
    tags: ALL,
  },
  too_many_failed_attempts: {
    status: 429,
    title: "Too many failed attempts",
    explanation:
      "Too many wrong API keys, admin tokens or session tokens came from this address within a minute. Every " +
      "authenticated request from it is refused until `Retry-After` seconds have passed.",
    tags: ALL,
    retryable: true,
  },
  customer_session_required: {
    status: 401,
    title: "Customer session required",
    explanation:
      "A publishable key alone may do nothing. Have your backend mint a token with `POST /v1/customer_sessions` " +
      "(secret key) and send it from the browser as `Customer-Session: <token>`.",
    tags: ["usage", "entitlements"],
  },
  customer_session_invalid: {
    status: 401,
    title: "Customer session invalid",
    explanation:
      "The `Customer-Session` token is malformed, signed for another app, or its minting key was revoked. Mint a new one.",
    tags: ["usage", "entitlements"],
  },
  customer_session_expired: {
    status: 401,
    title: "Customer session expired",
    explanation:
      "The `Customer-Session` token is past its `expires_at`. Mint a new one from your backend and resend.",
    tags: ["usage", "entitlements"],
  },
  customer_not_allowed: {
    status: 403,
    title: "Customer not allowed",
    explanation:
      "A publishable-key request named a customer other than its session's. Browsers may act only on the customer " +
      "their token was minted for.",
    tags: ["usage", "entitlements"],
  },
  feature_not_allowed: {
    status: 403,
    title: "Feature not allowed",
    explanation: "The customer session was minted for a list of features that does not include this one.",
    tags: ["usage", "entitlements"],
  },
  cors_not_allowed: {
    status: 403,
    title: "CORS not allowed",
    explanation:
      "A browser preflight for a secret-key route. Only the publishable-key routes answer browsers; call this one from a server.",
    tags: ALL,
  },
  origin_not_allowed: {
    status: 403,
    title: "Origin not allowed",
    explanation:
      "The page's origin is not in the app's `allowed_origins` (`PATCH /v1/apps/current`); nothing was read or written.",
    tags: ["usage", "entitlements"],
  },
  route_not_found: {
    status: 404,
    title: "Route not found",
    explanation: "No route answers this method and path.",
    tags: [],
  },
  payload_too_large: {
    status: 413,
    title: "Payload too large",
    explanation: "The request body is larger than the server accepts (2 MiB by default); split it.",
    tags: ALL,
  },
  unsupported_media_type: {
    status: 415,
    title: "Unsupported media type",
    explanation: "Send the body as `application/json`.",
    tags: ALL,
  },
  rate_limited: {
    status: 429,
    title: "Rate limited",
    explanation:
      "Too many requests for this customer with a publishable key. Wait for `Retry-After` seconds " +
      "(`RateLimit-Reset` says the same) and retry.",
    tags: ["usage", "entitlements"],
    retryable: true,
  },
  internal_error: {
    status: 500,
    title: "Internal error",
    explanation: "An unexpected error; it has been logged with the request id. Retrying may help.",
    tags: ALL,
    retryable: true,
  },
  database_busy: {
    status: 503,
    title: "Database busy",
    explanation: "The database could not take the write in time; nothing was written. Retry with backoff.",
    tags: ALL,
    retryable: true,
  },
  database_unavailable: {
    status: 503,
    title: "Database unavailable",
    explanation: "The database could not be reached or dropped the connection (a restart, a network cut); " +
      "the write may or may not have happened. Retry with backoff and the same idempotency key.",
    tags: ALL,
    retryable: true,
  },
  tenant_busy: {
    status: 503,
    title: "Tenant busy",
    explanation: "The tenant's writer is restarting or overloaded; nothing was written. Retry with backoff.",
    tags: [],
    retryable: true,
  },
  upstream_unavailable: {
    status: 503,
    title: "Upstream unavailable",
    explanation: "A component behind the edge did not answer; retry with backoff.",
    tags: [],
    retryable: true,
  },
  not_ready: {
    status: 503,
    title: "Not ready",
    explanation: "A readiness check failed (the detail names each one) or the process is stopping; send " +
      "traffic to another instance and probe again.",
    tags: ["health"],
    retryable: true,
  },
  docs_unavailable: {
    status: 503,
    title: "Docs unavailable",
    explanation: "This runtime does not ship the `/docs` renderer; read `/openapi.json` instead.",
    tags: [],
  },
  idempotency_key_reused: {
    status: 409,
    title: "Idempotency key reused",
    explanation:
      "The idempotency key (or the natural key of the request) was already used with a different body. " +
      "Use a new key for a different request, or resend the original body.",
    tags: ["ledger", "payments", "invoices", "credits", "entitlements", "usage", "webhooks", "inventory"],
  },
  idempotency_key_mismatch: {
    status: 400,
    title: "Idempotency keys differ",
    explanation:
      "The request names an idempotency key twice, in the `Idempotency-Key` header and in the body's " +
      "`idempotency_key`, and they differ. Send one, or the same key in both.",
    tags: ["ledger", "inventory", "entitlements"],
  },
  idempotency_key_required: {
    status: 400,
    title: "Idempotency key required",
    explanation:
      "A consuming entitlement check needs an idempotency key so that a retry does not consume twice.",
    tags: ["entitlements"],
  },
  invalid_cursor: {
    status: 400,
    title: "Invalid cursor",
    explanation: "The pagination cursor is not one this API handed out; start again without it.",
    tags: ["webhooks", "ledger", "audit", "plans", "invoices"],
  },
  // Tenants and apps
  tenant_app_exists: {
    status: 409,
    title: "Tenant app exists",
    explanation: "A tenant with this name already has an app with this name.",
    tags: ["admin"],
  },
  app_not_found: {
    status: 404,
    title: "App not found",
    explanation: "The key's app no longer exists.",
    tags: ["apps"],
  },
  invalid_origin: {
    status: 400,
    title: "Invalid origin",
    explanation: "An allowed origin must be `scheme://host[:port]` over http(s), without path or wildcard.",
    tags: ["apps"],
  },
  too_many_origins: {
    status: 400,
    title: "Too many origins",
    explanation: "An app may list a bounded number of allowed origins.",
    tags: ["apps"],
  },
  // Plans, customers, subscriptions
  plan_not_found: {
    status: 404,
    title: "Plan not found",
    explanation: "No plan with this id or key in this app.",
    tags: ["plans", "subscriptions", "coupons"],
  },
  plan_key_exists: {
    status: 409,
    title: "Plan key exists",
    explanation: "Another plan of this app has this key with different attributes.",
    tags: ["plans"],
  },
  plan_archived: {
    status: 422,
    title: "Plan archived",
    explanation: "Archived plans take no new subscriptions.",
    tags: ["subscriptions"],
  },
  interval_mismatch: {
    status: 422,
    title: "Interval change at period end",
    explanation:
      "A change of billing interval (month ↔ year) takes effect now and resets the billing anchor; it cannot be " +
      'scheduled for the period end. Send it without `effective: "period_end"`.',
    tags: ["subscriptions"],
  },
  proration_date_outside_period: {
    status: 400,
    title: "Proration date outside the period",
    explanation:
      "`proration_date` must lie in the subscription's current period, not before its last applied plan change " +
      "(and, for an interval change, not after now).",
    tags: ["subscriptions"],
  },
  test_clock_not_found: {
    status: 404,
    title: "Test clock not found",
    explanation: "No test clock with this id in this app (or it was deleted).",
    tags: ["test_clocks", "customers"],
  },
  frozen_time_in_past: {
    status: 400,
    title: "Frozen time in the past",
    explanation: "A test clock only moves forward: `frozen_time` must not be before the clock's current one.",
    tags: ["test_clocks"],
  },
  test_clock_advance_too_far: {
    status: 400,
    title: "Advance too far",
    explanation: "One advance moves a test clock at most 5 × 366 days; advance in several steps.",
    tags: ["test_clocks"],
  },
  customer_not_found: {
    status: 404,
    title: "Customer not found",
    explanation: "No customer with this id or external id in this app.",
    tags: ["customers", "subscriptions", "usage", "entitlements", "invoices", "credits", "tax"],
  },
  customer_exists: {
    status: 409,
    title: "Customer exists",
    explanation: "A customer with this external id exists with different attributes.",
    tags: ["customers"],
  },
  subscription_not_found: {
    status: 404,
    title: "Subscription not found",
    explanation: "No subscription with this id in this app.",
    tags: ["subscriptions", "invoices", "coupons"],
  },
  subscription_exists: {
    status: 409,
    title: "Subscription exists",
    explanation: "The customer already has an active subscription to a plan of this app.",
    tags: ["subscriptions"],
  },
  subscription_canceled: {
    status: 409,
    title: "Subscription canceled",
    explanation: "The subscription is canceled; it can no longer change.",
    tags: ["subscriptions", "coupons"],
  },
  subscription_paused: {
    status: 409,
    title: "Subscription paused",
    explanation: "The subscription is paused: resume it first.",
    tags: ["subscriptions", "usage", "entitlements"],
  },
  subscription_ending: {
    status: 422,
    title: "Subscription ending",
    explanation: "The subscription ends before the requested change would take effect.",
    tags: ["subscriptions"],
  },
  start_at_in_future: {
    status: 422,
    title: "Start in the future",
    explanation: "`start_at` may not lie in the future.",
    tags: ["subscriptions"],
  },
  start_at_too_old: {
    status: 422,
    title: "Start too old",
    explanation: "`start_at` lies further back than the allowed backdating window.",
    tags: ["subscriptions"],
  },
  end_at_not_after_start: {
    status: 422,
    title: "End not after start",
    explanation: "`end_at` must be later than the start.",
    tags: ["subscriptions"],
  },
  // Usage and entitlements
  amount_out_of_range: {
    status: 422,
    title: "Amount out of range",
    explanation: "The value is outside the range a safe integer total can hold.",
    tags: ["usage", "entitlements"],
  },
  consume_not_supported: {
    status: 422,
    title: "Consume not supported",
    explanation: "Only metered features can be consumed by a check.",
    tags: ["entitlements"],
  },
  // Invoices, coupons, tax, credits
  invoice_not_found: {
    status: 404,
    title: "Invoice not found",
    explanation: "No invoice with this id in this app.",
    tags: ["invoices", "payments"],
  },
  invoice_not_open: {
    status: 409,
    title: "Invoice not open",
    explanation: "Only open invoices take this action.",
    tags: ["invoices", "payments"],
  },
  invoice_paid: {
    status: 409,
    title: "Invoice paid",
    explanation: "The invoice is already paid.",
    tags: ["invoices"],
  },
  invoice_voided: {
    status: 409,
    title: "Invoice voided",
    explanation: "The invoice is void.",
    tags: ["invoices"],
  },
  invoice_uncollectible: {
    status: 409,
    title: "Invoice uncollectible",
    explanation: "The invoice was written off.",
    tags: ["invoices"],
  },
  invoice_has_payments: {
    status: 409,
    title: "Invoice has payments",
    explanation: "An invoice with recorded payments cannot be voided; issue a credit note.",
    tags: ["invoices"],
  },
  invoice_has_credit_notes: {
    status: 409,
    title: "Invoice has credit notes",
    explanation: "An invoice with credit notes cannot be voided.",
    tags: ["invoices"],
  },
  invoice_not_creditable: {
    status: 409,
    title: "Invoice not creditable",
    explanation: "Credit notes apply to open or paid invoices only.",
    tags: ["invoices"],
  },
  credit_note_exceeds_creditable: {
    status: 422,
    title: "Credit note too large",
    explanation: "The credit note is larger than what remains creditable on the invoice.",
    tags: ["invoices"],
  },
  payment_exceeds_amount_due: {
    status: 422,
    title: "Payment exceeds amount due",
    explanation: "The payment is larger than the invoice's amount due.",
    tags: ["invoices"],
  },
  invalid_period: {
    status: 422,
    title: "Invalid period",
    explanation: "The period is not one of the subscription's billing periods.",
    tags: ["invoices", "usage"],
  },
  coupon_not_found: {
    status: 404,
    title: "Coupon not found",
    explanation: "No such coupon.",
    tags: ["coupons", "subscriptions"],
  },
  coupon_code_exists: {
    status: 409,
    title: "Coupon code exists",
    explanation: "Another coupon of this app has this code with different terms.",
    tags: ["coupons"],
  },
  discount_exists: {
    status: 409,
    title: "Discount exists",
    explanation: "The subscription already has a discount.",
    tags: ["coupons", "subscriptions"],
  },
  coupon_expired: {
    status: 422,
    title: "Coupon expired",
    explanation: "The coupon's `redeem_by` has passed.",
    tags: ["coupons", "subscriptions"],
  },
  coupon_not_yet_valid: {
    status: 422,
    title: "Coupon not yet valid",
    explanation: "The coupon's `valid_from` lies ahead.",
    tags: ["coupons", "subscriptions"],
  },
  coupon_max_redemptions_reached: {
    status: 422,
    title: "Coupon used up",
    explanation: "The coupon reached its `max_redemptions`.",
    tags: ["coupons", "subscriptions"],
  },
  coupon_not_applicable_to_plan: {
    status: 422,
    title: "Coupon not applicable",
    explanation: "The coupon is restricted to other plans.",
    tags: ["coupons", "subscriptions"],
  },
  coupon_currency_mismatch: {
    status: 422,
    title: "Coupon currency mismatch",
    explanation: "An amount-off coupon applies only to plans in its currency.",
    tags: ["coupons", "subscriptions"],
  },
  tax_rate_not_found: {
    status: 404,
    title: "Tax rate not found",
    explanation: "No such tax rate.",
    tags: ["tax", "customers", "subscriptions"],
  },
  tax_rates_incompatible: {
    status: 422,
    title: "Tax rates incompatible",
    explanation:
      "An inclusive tax rate must be the only rate of a customer or subscription; several rates must all be exclusive.",
    tags: ["tax", "customers", "subscriptions"],
  },
  unsupported_currency: {
    status: 400,
    title: "Unsupported currency",
    explanation: "The currency is not an ISO 4217 code this API knows the minor unit of.",
    tags: ["plans", "ledger", "credits", "coupons", "payments"],
  },
  // Ledger
  account_not_found: {
    status: 404,
    title: "Account not found",
    explanation: "No such ledger account.",
    tags: LEDGER,
  },
  entry_not_found: {
    status: 404,
    title: "Entry not found",
    explanation: "No such ledger entry.",
    tags: ["ledger"],
  },
  hold_not_found: {
    status: 404,
    title: "Hold not found",
    explanation: "No such hold.",
    tags: ["ledger", "inventory"],
  },
  account_type_mismatch: {
    status: 409,
    title: "Account type mismatch",
    explanation: "An account with this name exists with another type.",
    tags: ["ledger"],
  },
  account_constraints_mismatch: {
    status: 409,
    title: "Account constraints mismatch",
    explanation: "An account with this name exists with other balance constraints.",
    tags: ["ledger"],
  },
  currency_mismatch: {
    status: 422,
    title: "Currency mismatch",
    explanation: "The amount's currency differs from the account's or the invoice's.",
    tags: LEDGER,
  },
  postings_not_balanced: {
    status: 422,
    title: "Postings not balanced",
    explanation: "The postings of an entry must sum to zero per currency.",
    tags: ["ledger"],
  },
  insufficient_balance: {
    status: 422,
    title: "Insufficient balance",
    explanation: "The account's available balance does not cover the amount; nothing was posted.",
    tags: LEDGER,
  },
  invalid_amount: {
    status: 400,
    title: "Invalid amount",
    explanation: "Amounts are positive safe integers of minor units.",
    tags: LEDGER,
  },
  fees_exceed_amount: {
    status: 422,
    title: "Fees exceed amount",
    explanation: "A payment's fees may not exceed its amount.",
    tags: ["ledger"],
  },
  entry_already_reversed: {
    status: 409,
    title: "Entry already reversed",
    explanation: "An entry is reversed at most once.",
    tags: ["ledger"],
  },
  hold_not_pending: {
    status: 409,
    title: "Hold not pending",
    explanation: "The hold was already captured, voided or expired.",
    tags: ["ledger", "inventory"],
  },
  hold_expired: {
    status: 409,
    title: "Hold expired",
    explanation: "The hold passed its expiry and was released.",
    tags: ["ledger", "inventory"],
  },
  capture_exceeds_hold: {
    status: 422,
    title: "Capture exceeds hold",
    explanation: "A capture may take at most the held amount.",
    tags: ["ledger"],
  },
  writer_overloaded: {
    status: 503,
    title: "Writer overloaded",
    explanation: "The tenant's ledger writer queue is full; nothing was written. Retry with backoff.",
    tags: ["ledger", "inventory"],
    retryable: true,
  },
  // Inventory
  insufficient_quantity: {
    status: 422,
    title: "Insufficient quantity",
    explanation: "The subject's free quantity does not cover the request; nothing moved.",
    tags: ["inventory"],
  },
  invalid_quantity: {
    status: 400,
    title: "Invalid quantity",
    explanation: "Quantities are positive safe integers.",
    tags: ["inventory"],
  },
  quantity_out_of_range: {
    status: 422,
    title: "Quantity out of range",
    explanation: "The resulting balance would leave the safe integer range.",
    tags: ["inventory"],
  },
  // Webhooks and payments
  webhook_endpoint_not_found: {
    status: 404,
    title: "Webhook endpoint not found",
    explanation: "No such webhook endpoint.",
    tags: ["webhooks"],
  },
  webhook_delivery_not_found: {
    status: 404,
    title: "Webhook delivery not found",
    explanation: "No such delivery of this endpoint.",
    tags: ["webhooks"],
  },
  webhook_endpoint_disabled: {
    status: 409,
    title: "Webhook endpoint disabled",
    explanation: "The endpoint is disabled; create a new one.",
    tags: ["webhooks"],
  },
  webhook_endpoint_limit_reached: {
    status: 409,
    title: "Webhook endpoint limit reached",
    explanation: "The app has the maximum number of enabled endpoints; disable one first.",
    tags: ["webhooks"],
  },
  payment_provider_not_configured: {
    status: 404,
    title: "Payment provider not configured",
    explanation: "Set the app's Stripe keys with `PUT /v1/providers/stripe` first.",
    tags: ["payments"],
  },
  payment_provider_error: {
    status: 503,
    title: "Payment provider error",
    explanation: "Stripe failed or did not answer; retry with backoff.",
    tags: ["payments"],
    retryable: true,
  },
  api_key_not_found: {
    status: 404,
    title: "API key not found",
    explanation: "No API key with this id belongs to the app (or it is already revoked, for a roll).",
    tags: ["api_keys"],
  },
  admin_token_not_found: {
    status: 404,
    title: "Admin token not found",
    explanation: "No rolled admin token has this id.",
    tags: ["admin"],
  },
  admin_token_rotation_unavailable: {
    status: 409,
    title: "Admin token rotation unavailable",
    explanation:
      "On Cloudflare Workers the admin token is the `BILLING_ADMIN_TOKEN` secret binding: rotate it with " +
      "`wrangler secret put BILLING_ADMIN_TOKEN` (ADR 0013).",
    tags: ["admin"],
  },
  signature_invalid: {
    status: 400,
    title: "Signature invalid",
    explanation: "The `Stripe-Signature` header does not match the body and the app's webhook secret.",
    tags: ["payments"],
  },
};

/** Every problem code, sorted. */
export const PROBLEM_CODES: readonly string[] = Object.keys(PROBLEM_TYPES).sort();

/**
 * The codes an operation with `tags` can answer with `status` (sorted).
 *
 * @param status HTTP status of the problem response
 * @param tags the operation's OpenAPI tags
 */
export function problemCodesFor(status: number, tags: readonly string[]): string[] {
  return PROBLEM_CODES.filter((code) => {
    const type = PROBLEM_TYPES[code];
    if (type.status !== status) return false;
    return type.tags === ALL || type.tags.some((t) => tags.includes(t));
  });
}

/** Whether the client (a browser following the link) prefers HTML over JSON. */
function prefersHtml(accept: string | undefined): boolean {
  const value = accept ?? "";
  const html = value.indexOf("text/html");
  const json = value.indexOf("application/json");
  return html >= 0 && (json < 0 || html < json);
}

function answer(body: string, contentType: string): Response {
  return new Response(body, {
    headers: { "content-type": contentType, "cache-control": "public, max-age=3600" },
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * `GET /problems/{code}`: the explanation of a problem code, as HTML when the client prefers
 * `text/html` (a person following the `type` link) and as JSON otherwise.
 *
 * @param accept the request's `Accept` header
 * @returns the answer, or null for an unknown code (the caller answers 404)
 */
export function problemTypeResponse(code: string, accept: string | undefined): Response | null {
  const type = Object.hasOwn(PROBLEM_TYPES, code) ? PROBLEM_TYPES[code] : undefined;
  if (!type) return null;
  const body = {
    type: `/problems/${code}`,
    code,
    status: type.status,
    title: type.title,
    explanation: type.explanation,
    retryable: type.retryable ?? false,
  };
  if (prefersHtml(accept)) {
    const html =
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(type.title)}` +
      `</title></head><body><h1>${escapeHtml(type.title)}</h1><p><code>${escapeHtml(code)}</code> · HTTP ` +
      `${type.status}${type.retryable ? " · retryable" : ""}</p><p>${escapeHtml(type.explanation)}</p>` +
      `<p><a href="/problems">All problem codes</a> · <a href="/docs">API reference</a></p></body></html>`;
    return answer(html, "text/html; charset=utf-8");
  }
  return answer(JSON.stringify(body), "application/json");
}

/** `GET /problems`: every code with its status and title (JSON, or an HTML list for browsers). */
export function problemIndexResponse(accept: string | undefined): Response {
  if (prefersHtml(accept)) {
    const items = PROBLEM_CODES.map((code) =>
      `<li><a href="/problems/${code}"><code>${code}</code></a> (${PROBLEM_TYPES[code].status}): ` +
      `${escapeHtml(PROBLEM_TYPES[code].title)}</li>`
    ).join("");
    return answer(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Problem codes</title>` +
        `</head><body><h1>Problem codes</h1><ul>${items}</ul></body></html>`,
      "text/html; charset=utf-8",
    );
  }
  const index = PROBLEM_CODES.map((code) => ({
    code,
    status: PROBLEM_TYPES[code].status,
    title: PROBLEM_TYPES[code].title,
  }));
  return answer(JSON.stringify(index), "application/json");
}
