/**
 * Finishing of the OpenAPI 3.1 document the routes generate, in one place instead of in every
 * route file: stable `operationId`s (resource and verb), declared tags, a description on every
 * operation, `servers`, documented response headers, the problem codes each operation can answer,
 * `format: date-time` on instants and the `webhooks` of every lifecycle event. The result is
 * lint-clean under Redocly's `recommended` rules and Spectral's `spectral:oas` ruleset (a test runs
 * both on the served document).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { LifecycleEventType } from "../domain/events.ts";
import { EVENT_DATA, webhookEventSchema } from "../webhooks/events.ts";
import { PROBLEM_CODES, problemCodesFor } from "./problem_types.ts";

/** A JSON object of the document (schemas, operations, responses). */
export type Json = Record<string, unknown>;

/** Tags of the API with their descriptions, in the order the reference shows them. */
export const TAGS: readonly { name: string; description: string }[] = [
  { name: "admin", description: "Tenants and their API keys; operator jobs. Admin token only." },
  {
    name: "api_keys",
    description:
      "The app's API keys: create with a name, scope and expiry, list, roll with a grace period, revoke. Full-scope secret keys only.",
  },
  {
    name: "apps",
    description: "The calling app and the browser origins allowed to use its publishable key.",
  },
  {
    name: "plans",
    description: "Plans: base fee, trial and metered or boolean features with limits and pricing.",
  },
  { name: "customers", description: "Customers of an app, addressed by cus_ id or by your own external id." },
  {
    name: "subscriptions",
    description: "Subscriptions of customers to plans: create, change, pause, cancel.",
  },
  { name: "usage", description: "Usage events (idempotent by event id) and aggregated usage." },
  {
    name: "entitlements",
    description: "May this customer use this feature now? Optionally consume atomically.",
  },
  {
    name: "invoices",
    description: "Invoices per subscription period: generate, finalize, pay, void, credit.",
  },
  {
    name: "ledger",
    description: "Double-entry ledger: accounts, balanced entries, holds, payments, refunds.",
  },
  { name: "inventory", description: "Quantities of items per subject: acquire, consume, transfer, hold." },
  { name: "coupons", description: "Coupons and the discounts they give subscriptions." },
  { name: "tax", description: "Tax rates and the rate each customer is billed with." },
  { name: "credits", description: "Prepaid credit grants (money or units) that invoices draw down." },
  {
    name: "test_clocks",
    description:
      "Test clocks (Stripe's): customers bound to a clock live on its frozen time; advancing it runs what came due.",
  },
  {
    name: "webhooks",
    description: "Webhook endpoints and their delivery log (Standard Webhooks signatures).",
  },
  { name: "audit", description: "The audit trail of every change, newest first." },
  {
    name: "payments",
    description: "Stripe: configuration, collection of invoices and inbound Stripe webhooks.",
  },
  { name: "metrics", description: "Prometheus metrics of the process." },
  { name: "health", description: "Liveness and readiness probes (no key)." },
];

/**
 * `operationId` by `METHOD /path` (paths with `-` and `_` treated alike, so a renamed path keeps
 * its id). Ids are `verbResource` in camelCase, the names generated clients give their functions.
 */
const OPERATION_IDS: Readonly<Record<string, string>> = {
  "POST /v1/admin/tenants": "createTenant",
  "GET /v1/admin/admin_tokens": "listAdminTokens",
  "POST /v1/admin/admin_tokens/roll": "rollAdminToken",
  "POST /v1/admin/admin_tokens/{id}/revoke": "revokeAdminToken",
  "GET /v1/api_keys": "listApiKeys",
  "POST /v1/api_keys": "createApiKey",
  "POST /v1/api_keys/{id}/roll": "rollApiKey",
  "POST /v1/api_keys/{id}/revoke": "revokeApiKey",
  "POST /v1/admin/billing_cycle/run": "runBillingCycle",
  "GET /v1/admin/dead_letters": "listDeadLetters",
  "GET /v1/apps/current": "getCurrentApp",
  "PATCH /v1/apps/current": "updateCurrentApp",
  "POST /v1/plans": "createPlan",
  "GET /v1/plans": "listPlans",
  "GET /v1/plans/{id}": "getPlan",
  "PATCH /v1/plans/{id}": "updatePlan",
  "POST /v1/plans/{id}/archive": "archivePlan",
  "POST /v1/customers": "createCustomer",
  "GET /v1/customers": "listCustomers",
  "GET /v1/customers/{id}": "getCustomer",
  "POST /v1/subscriptions": "createSubscription",
  "GET /v1/subscriptions": "listSubscriptions",
  "GET /v1/subscriptions/{id}": "getSubscription",
  "POST /v1/subscriptions/{id}/cancel": "cancelSubscription",
  "POST /v1/subscriptions/{id}/change": "changeSubscription",
  "POST /v1/subscriptions/{id}/pause": "pauseSubscription",
  "POST /v1/subscriptions/{id}/resume": "resumeSubscription",
  "POST /v1/subscriptions/{id}/discount": "applySubscriptionDiscount",
  "POST /v1/events": "ingestEvents",
  "GET /v1/usage": "getUsage",
  "POST /v1/entitlements/check": "checkEntitlement",
  "POST /v1/invoices": "createInvoice",
  "GET /v1/invoices": "listInvoices",
  "GET /v1/invoices/upcoming": "getUpcomingInvoice",
  "GET /v1/invoices/{id}": "getInvoice",
  "POST /v1/invoices/{id}/finalize": "finalizeInvoice",
  "POST /v1/invoices/{id}/void": "voidInvoice",
  "POST /v1/invoices/{id}/pay": "payInvoice",
  "POST /v1/invoices/{id}/mark_uncollectible": "markInvoiceUncollectible",
  "POST /v1/invoices/{id}/credit_notes": "createCreditNote",
  "GET /v1/invoices/{id}/credit_notes": "listCreditNotes",
  "POST /v1/invoices/{id}/collect": "collectInvoice",
  "GET /v1/ledger/balances": "listLedgerBalances",
  "POST /v1/ledger/accounts": "ensureLedgerAccount",
  "GET /v1/ledger/accounts/{id}": "getLedgerAccount",
  "GET /v1/ledger/accounts/{id}/balance": "getLedgerAccountBalance",
  "POST /v1/ledger/entries": "createLedgerEntry",
  "POST /v1/ledger/entries/batch": "createLedgerEntries",
  "GET /v1/ledger/entries": "listLedgerEntries",
  "GET /v1/ledger/entries/{id}": "getLedgerEntry",
  "POST /v1/ledger/entries/{id}/reverse": "reverseLedgerEntry",
  "POST /v1/ledger/holds": "createLedgerHold",
  "GET /v1/ledger/holds/{id}": "getLedgerHold",
  "POST /v1/ledger/holds/{id}/capture": "captureLedgerHold",
  "POST /v1/ledger/holds/{id}/void": "voidLedgerHold",
  "POST /v1/ledger/payments": "recordLedgerPayment",
  "POST /v1/ledger/refunds": "recordLedgerRefund",
  "POST /v1/ledger/payouts": "recordLedgerPayout",
  "POST /v1/ledger/disputes": "recordLedgerDispute",
  "POST /v1/inventory/acquire": "acquireInventory",
  "POST /v1/inventory/consume": "consumeInventory",
  "POST /v1/inventory/transfer": "transferInventory",
  "POST /v1/inventory/holds": "createInventoryHold",
  "GET /v1/inventory/holds/{id}": "getInventoryHold",
  "POST /v1/inventory/holds/{id}/commit": "commitInventoryHold",
  "POST /v1/inventory/holds/{id}/release": "releaseInventoryHold",
  "GET /v1/inventory/balances/{subject}/{item}": "getInventoryBalance",
  "GET /v1/inventory/balances/{subject}": "listInventoryBalances",
  "POST /v1/coupons": "createCoupon",
  "GET /v1/coupons/{id}": "getCoupon",
  "POST /v1/tax_rates": "createTaxRate",
  "PUT /v1/customers/{id}/tax_rate": "setCustomerTaxRate",
  "PUT /v1/customers/{id}/tax_rates": "setCustomerTaxRates",
  "PUT /v1/subscriptions/{id}/tax_rates": "setSubscriptionTaxRates",
  "POST /v1/customers/{id}/credit_grants": "createCreditGrant",
  "GET /v1/customers/{id}/credit_grants": "listCreditGrants",
  "POST /v1/webhook_endpoints": "createWebhookEndpoint",
  "GET /v1/webhook_endpoints": "listWebhookEndpoints",
  "GET /v1/webhook_endpoints/{id}": "getWebhookEndpoint",
  "DELETE /v1/webhook_endpoints/{id}": "disableWebhookEndpoint",
  "GET /v1/webhook_endpoints/{id}/deliveries": "listWebhookDeliveries",
  "GET /v1/webhook_endpoints/{id}/deliveries/{delivery_id}": "getWebhookDelivery",
  "POST /v1/webhook_endpoints/{id}/deliveries/{delivery_id}/redeliver": "redeliverWebhookDelivery",
  "GET /v1/audit_events": "listAuditEvents",
  "PUT /v1/providers/stripe": "configureStripe",
  "GET /v1/providers/stripe": "getStripeConfiguration",
  "POST /v1/providers/stripe/webhook/{app_id}": "receiveStripeWebhook",
  "GET /metrics": "getMetrics",
};

const METHODS = ["get", "put", "post", "delete", "patch", "options", "head"] as const;

/** Fallback id for a route missing from the table: verb + path words in camelCase. */
function derivedOperationId(method: string, path: string): string {
  const words = path.replace(/^\/v1\//, "").split(/[/_\-{}]+/).filter(Boolean);
  const camel = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
  return `${method.toLowerCase()}${camel}`;
}

/** The `operationId` of `method path`: from the table, else derived; deprecated aliases end in `Deprecated`. */
export function operationIdOf(method: string, path: string, deprecated = false): string {
  const key = `${method.toUpperCase()} ${path.replaceAll("-", "_")}`;
  const id = OPERATION_IDS[key] ?? derivedOperationId(method, path);
  return deprecated ? `${id}Deprecated` : id;
}

const REF = (name: string): Json => ({ $ref: `#/components/${name}` });

/** Reusable response headers (`components.headers`). */
const HEADERS: Readonly<Record<string, Json>> = {
  RequestId: {
    description:
      "Id of this request (echoed from the request's `X-Request-Id` or generated); quote it to support",
    schema: { type: "string" },
  },
  IdempotentReplayed: {
    description:
      "`true` when the answer replays an earlier request with the same idempotency key (nothing new was written)",
    schema: { type: "string", enum: ["true"] },
  },
  RateLimitLimit: {
    description:
      "Requests allowed per window for this customer with a publishable key (IETF RateLimit draft)",
    schema: { type: "integer", minimum: 0 },
  },
  RateLimitRemaining: {
    description: "Requests left in the current window",
    schema: { type: "integer", minimum: 0 },
  },
  RateLimitReset: {
    description: "Seconds until the window frees a request again",
    schema: { type: "integer", minimum: 0 },
  },
  RetryAfter: {
    description: "Seconds to wait before retrying (RFC 9110)",
    schema: { type: "integer", minimum: 0 },
  },
};

function isInstantExample(value: unknown): boolean {
  return typeof value === "string" &&
    /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(value);
}

function isStringType(schema: Json): boolean {
  const t = schema.type;
  return t === "string" || (Array.isArray(t) && t.includes("string"));
}

/** Adds `format: date-time` to string properties that hold instants (`*_at`, `*_start`, `*_end`, ISO examples). */
function markInstants(schema: unknown): void {
  if (Array.isArray(schema)) return schema.forEach(markInstants);
  if (typeof schema !== "object" || schema === null) return;
  const s = schema as Json;
  if (s.example === null && s.type === "object") delete s.example; // not nullable: null is no example of it
  const properties = s.properties as Record<string, Json> | undefined;
  for (const [name, prop] of Object.entries(properties ?? {})) {
    const candidates = [prop, ...((prop.anyOf ?? prop.oneOf ?? []) as Json[])];
    for (const candidate of candidates) {
      if (!isStringType(candidate) || candidate.format || candidate.enum) continue;
      if (
        /(_at|_start|_end|_anchor|^redeem_by|^start|^end)$/.test(name) || isInstantExample(candidate.example)
      ) {
        candidate.format = "date-time";
      }
    }
  }
  for (const value of Object.values(s)) markInstants(value);
}

function problemResponse(codes: string[], description: string): Json {
  const listed = codes.length > 0 ? codes.map((c) => `\`${c}\``).join(", ") : "no specific code";
  return {
    description: `${description}. Problem codes: ${listed}`,
    headers: { "x-request-id": REF("headers/RequestId") },
    content: {
      "application/problem+json": {
        schema: codes.length > 0
          ? {
            allOf: [
              REF("schemas/Problem"),
              {
                type: "object",
                properties: {
                  code: {
                    type: "string",
                    enum: codes,
                    description: "The codes this operation answers with this status",
                    example: codes[0],
                  },
                },
              },
            ],
          }
          : REF("schemas/Problem"),
      },
    },
  };
}

const STATUS_TEXT: Record<number, string> = {
  400: "Invalid request",
  401: "Missing or unknown API key",
  403: "Key not allowed here",
  404: "Not found (or another tenant's)",
  409: "Conflict with the resource's state",
  413: "Request body too large",
  422: "Breaks a business rule",
  429: "Rate limited",
  500: "Unexpected error",
  503: "Temporarily unavailable; retry with backoff",
};

/** Options of {@link finishDocument}. */
export interface FinishOptions {
  /** Base URL of the API as the caller reached it (`servers[0].url`). */
  serverUrl: string;
  /** `METHOD /path` of routes that accept publishable keys (rate-limited). */
  publishableRoutes: ReadonlySet<string>;
}

/**
 * Completes the generated document in place and returns it (see the module doc for what it adds).
 *
 * @param document the object `getOpenAPI31Document` returned
 */
export function finishDocument(document: Json, options: FinishOptions): Json {
  document.info = {
    ...(document.info as Json),
    license: { name: "MIT", identifier: "MIT" },
    contact: { name: "Billing API maintainers", url: `${options.serverUrl}/docs` },
  };
  document.servers = [{ url: options.serverUrl, description: "This deployment" }];
  document.tags = TAGS.map((t) => ({ ...t }));

  const components = (document.components ??= {}) as Json;
  components.headers = { ...(components.headers as Json | undefined), ...HEADERS };
  const schemas = (components.schemas ??= {}) as Record<string, Json>;
  const problem = schemas.Problem;
  if (problem?.properties) {
    const code = (problem.properties as Record<string, Json>).code;
    code.enum = [...PROBLEM_CODES];
    code.description = `${code.description ?? "Stable code"}; each one is explained at its \`type\` URI`;
  }
  markInstants(schemas);
  for (const [name, schema] of Object.entries(schemas)) {
    if (name.endsWith("Event")) describeEventData(schema);
  }

  const paths = (document.paths ?? {}) as Record<string, Record<string, Json>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      finishOperation(op, method, path, options);
    }
  }

  markInstants(document.webhooks);
  markInstants(document.paths);
  return document;
}

function finishOperation(op: Json, method: string, path: string, options: FinishOptions): void {
  op.operationId ??= operationIdOf(method, path, op.deprecated === true);
  const tags = (op.tags as string[] | undefined) ?? [];
  const publishable = options.publishableRoutes.has(`${method.toUpperCase()} ${path}`);
  if (!op.security) op.security = []; // routes that declare none authenticate otherwise (signatures)

  const responses = (op.responses ??= {}) as Record<string, Json>;
  if (publishable && !responses["429"]) responses["429"] = {};
  if (method !== "get" && method !== "delete" && op.requestBody && !responses["413"]) responses["413"] = {};
  if (!responses["500"]) responses["500"] = {};

  for (const [status, response] of Object.entries(responses)) {
    const code = Number(status);
    if (code >= 400) {
      const codes = problemCodesFor(code, tags);
      const base = STATUS_TEXT[code] ?? String(response.description ?? "Error");
      responses[status] = problemResponse(codes, base);
      if (code === 429 || code === 503) {
        (responses[status].headers as Json)["Retry-After"] = REF("headers/RetryAfter");
      }
      if (code === 429) addRateLimitHeaders(responses[status]);
      continue;
    }
    const headers = (response.headers ??= {}) as Json;
    headers["x-request-id"] = REF("headers/RequestId");
    if (method === "post" && (code === 200 || code === 201)) {
      headers["Idempotent-Replayed"] = REF("headers/IdempotentReplayed");
    }
    if (publishable) addRateLimitHeaders(response);
  }

  if (!op.description) {
    const auth = path.startsWith("/v1/admin/")
      ? "Requires the admin token."
      : publishable
      ? "Accepts a secret key, or a publishable key from an allowed browser origin (rate-limited per customer; " +
        "every answer carries `RateLimit-*` headers)."
      : (op.security as unknown[]).length === 0
      ? "Takes no API key."
      : "Requires a secret key.";
    op.description = `${String(op.summary ?? operationIdOf(method, path))}. ${auth}`;
  }
}

function addRateLimitHeaders(response: Json): void {
  const headers = (response.headers ??= {}) as Json;
  headers["RateLimit-Limit"] = REF("headers/RateLimitLimit");
  headers["RateLimit-Remaining"] = REF("headers/RateLimitRemaining");
  headers["RateLimit-Reset"] = REF("headers/RateLimitReset");
}

const WebhookHeaders = z.object({
  "webhook-id": z.string().openapi({ description: "Message id, stable across retries (de-duplicate on it)" }),
  "webhook-timestamp": z.string().openapi({
    description: "Unix seconds of this attempt",
    example: "1767225600",
  }),
  "webhook-signature": z.string().openapi({
    description: "`v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` with the endpoint's secret",
  }),
});

/**
 * One `webhooks` entry per lifecycle event type, for `openAPIRegistry.registerWebhook`: the
 * delivered body (envelope and the event's `data` schema), the Standard Webhooks headers and what
 * the receiver should answer.
 *
 * @returns route configs of `@hono/zod-openapi` (`method`, `path` = event type, `request`, `responses`)
 */
export function webhookConfigs(): Json[] {
  return (Object.keys(EVENT_DATA).sort() as LifecycleEventType[]).map((type) => ({
    method: "post",
    path: type,
    operationId: `on${type.split(/[._]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("")}`,
    tags: ["webhooks"],
    summary: `${type} event`,
    description: `${EVENT_DATA[type].description}. Sent to every endpoint subscribed to \`${type}\`, ` +
      `\`${type.split(".")[0]}.*\` or \`*\`, signed per Standard Webhooks with the endpoint's secret. ` +
      "Answer 2xx to acknowledge; other answers and timeouts are retried with backoff; 410 disables the endpoint.",
    security: [],
    request: {
      headers: WebhookHeaders,
      body: { required: true, content: { "application/json": { schema: webhookEventSchema(type) } } },
    },
    responses: {
      200: { description: "Acknowledged (any 2xx)" },
      410: { description: "The receiver is gone: the endpoint is disabled" },
    },
  }));
}

/** The `data` of a webhook body: a described reference, or a summary with an example built from its fields. */
function describeEventData(schema: Json): void {
  const data = (schema.properties as Record<string, Json> | undefined)?.data;
  if (!data) return;
  if (data.$ref) {
    data.description ??= `The ${String(data.$ref).split("/").pop()} as the API shows it`;
    return;
  }
  if (data.example === undefined && data.properties) {
    data.example = Object.fromEntries(
      Object.entries(data.properties as Record<string, Json>)
        .filter(([, prop]) => prop.example !== undefined)
        .map(([key, prop]) => [key, prop.example]),
    );
  }
}
