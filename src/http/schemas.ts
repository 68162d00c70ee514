/**
 * Request and response schemas (zod 4 via @hono/zod-openapi). They validate input at the edge of
 * the service and generate the OpenAPI 3.1 document served at `/openapi.json`.
 * Amounts are integer minor units; instants are ISO 8601 UTC strings; names are snake_case.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { MAX_EVENTS_PER_BATCH } from "../services/usage.ts";

const safeInt = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
/** Non-negative integer amount of minor units. */
export const Amount = safeInt.openapi({ description: "Integer amount in the currency's minor unit (cents for USD)", example: 4900 });
/** A client-chosen key: letters, digits, `_ . : -`, 1–128 characters. */
export const Key = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, "Use letters, digits, _ . : - only");
/** ISO 4217 code. */
export const Currency = z.string().regex(/^[A-Z]{3}$/, "Use an ISO 4217 code such as USD").openapi({ example: "USD" });
/** ISO 8601 instant (offset allowed; stored in UTC). */
export const Instant = z.iso.datetime({ offset: true }).openapi({ example: "2026-11-01T00:00:00Z" });
const Id = (prefix: string, example: string) => z.string().min(1).max(128).openapi({ description: `TypeID with prefix ${prefix}_`, example });

/** Problem details (RFC 9457). */
export const ProblemSchema = z.object({
  type: z.string().openapi({ description: "Relative URI of the problem type: /problems/{code}", example: "/problems/validation_failed" }),
  title: z.string().openapi({ description: "Short summary of the HTTP status", example: "Bad Request" }),
  status: z.int().openapi({ description: "HTTP status code of this response", example: 400 }),
  detail: z.string().openapi({ description: "What went wrong with this request, for humans", example: "The request has invalid fields" }),
  code: z.string().openapi({ description: "Stable snake_case code to branch on", example: "validation_failed" }),
  request_id: z.string().openapi({ description: "Id of the request (also in the x-request-id header), for support", example: "0b6f1c2e-4d1a-4f7e-9d55-2a8b4d1f9e01" }),
  fields: z.array(z.object({
    path: z.string().openapi({ description: "Dotted path of the failing field; `query.` or `path.` prefixed outside the body", example: "features.0.key" }),
    message: z.string().openapi({ description: "Why the field is invalid", example: "Use letters, digits, _ . : - only" }),
  })).optional().openapi({
    description: "Each failing field (validation errors only)",
    example: [{ path: "features.0.key", message: "Use letters, digits, _ . : - only" }],
  }),
}).openapi("Problem");

// ---- tenants ----
export const CreateTenantBody = z.object({
  name: Key.openapi({ description: "Tenant name, unique on this server; an existing name adds the app to that tenant", example: "acme" }),
  app: Key.openapi({ description: "App name within the tenant", example: "production" }),
}).strict().openapi("CreateTenant");
export const TenantCreated = z.object({
  tenant_id: z.string().openapi({ description: "TypeID of the tenant", example: "ten_01jd0000000000000000000000" }),
  app_id: z.string().openapi({ description: "TypeID of the app", example: "app_01jd0000000000000000000000" }),
  secret_key: z.string().openapi({
    description: "Shown once. Full access to this tenant+app.",
    example: "sk_4f3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e",
  }),
  publishable_key: z.string().openapi({
    description: "Shown once. Entitlement checks and usage only, for browsers.",
    example: "pk_9a8b7c6d5e4f30211f0e9d8c7b6a59483726150f1e2d3c4b5a69788796a5b4c3",
  }),
}).openapi("TenantCreated");

// ---- plans ----
const Tier = z.object({
  up_to: safeInt.min(1).nullable().openapi({ description: "Inclusive upper bound in units; null for the last tier", example: 1000 }),
  unit_amount: Amount,
  flat_amount: Amount.default(0),
}).strict();
const PricingSchema = z.object({
  model: z.enum(["per_unit", "graduated", "volume", "package"]).openapi({
    description: "per_unit: units × unit_amount; graduated: each tier prices its own units; volume: the tier reached prices all units; " +
      "package: started packages of package_size × unit_amount",
    example: "graduated",
  }),
  unit_amount: Amount.optional().openapi({ description: "Minor units per unit (per_unit) or per package (package)", example: 2 }),
  package_size: safeInt.min(1).optional().openapi({ description: "Units per package (package model)", example: 1000 }),
  tiers: z.array(Tier).max(50).optional().openapi({
    description: "Tiers in ascending order (graduated and volume); the last has up_to null",
    example: [{ up_to: 1000, unit_amount: 2, flat_amount: 0 }, { up_to: null, unit_amount: 1, flat_amount: 500 }],
  }),
}).strict().openapi("Pricing");
const FeatureBody = z.object({
  key: Key.openapi({ description: "Feature key used by usage events and checks, unique within the plan", example: "api_calls" }),
  name: z.string().min(1).max(200).optional().openapi({ description: "Display name (default: the key)", example: "API calls" }),
  type: z.enum(["metered", "boolean", "seat"]).openapi({
    description: "metered: usage aggregated per period; boolean: on/off; seat: a count of assigned seats",
    example: "metered",
  }),
  limit: safeInt.nullable().optional().openapi({ description: "Units per period; null = unlimited", example: 100000 }),
  soft_limit: z.boolean().optional().openapi({ description: "true: usage past the limit is allowed and flagged (default false: hard limit)", example: false }),
  aggregation: z.enum(["sum", "count", "max", "unique_count", "latest"]).optional().openapi({
    description: "How a period's events make its usage (default sum)",
    example: "sum",
  }),
  included: safeInt.optional().openapi({ description: "Units free each period", example: 1000 }),
  unique_property: z.string().min(1).max(64).regex(/^[A-Za-z0-9_]+$/).nullable().optional().openapi({
    description: "Event property counted by unique_count",
    example: "user_id",
  }),
  pricing: PricingSchema.nullable().optional().openapi({
    description: "How usage past `included` is priced; null or absent = free",
    example: { model: "per_unit", unit_amount: 2 },
  }),
}).strict().openapi("FeatureInput");
export const CreatePlanBody = z.object({
  key: Key.openapi({ description: "Plan key, unique per app; plan_id fields accept it", example: "pro" }),
  name: z.string().min(1).max(200).openapi({ description: "Display name", example: "Pro" }),
  description: z.string().max(2000).nullable().optional().openapi({ description: "Free text shown to customers", example: "For growing teams" }),
  currency: Currency.openapi({ description: "ISO 4217 currency of every amount of the plan", example: "USD" }),
  interval: z.enum(["month", "year"]).openapi({ description: "Billing period length", example: "month" }),
  trial_days: z.int().min(0).max(730).optional().openapi({ description: "Days of free trial before the first paid period (default 0)", example: 14 }),
  base_amount: Amount.optional().openapi({ description: "Fixed fee per period in minor units (default 0)", example: 4900 }),
  invoice_grace_period_hours: z.int().min(0).max(720).optional()
    .openapi({ description: "Hours after a period ends during which late usage is still accepted (default 1)", example: 1 }),
  features: z.array(FeatureBody).max(100).optional().openapi({
    description: "Features of the plan (at most 100)",
    example: [{ key: "api_calls", type: "metered", limit: 100000, included: 1000, pricing: { model: "per_unit", unit_amount: 2 } }],
  }),
}).strict().openapi("CreatePlan");
export const UpdatePlanBody = z.object({
  name: z.string().min(1).max(200).optional().openapi({ description: "New display name", example: "Pro (2026)" }),
  description: z.string().max(2000).nullable().optional().openapi({ description: "New description; null clears it", example: "For growing teams" }),
  trial_days: z.int().min(0).max(730).optional().openapi({ description: "Trial days for new subscriptions", example: 30 }),
  base_amount: Amount.optional().openapi({ description: "New fixed fee per period in minor units", example: 5900 }),
  invoice_grace_period_hours: z.int().min(0).max(720).optional()
    .openapi({ description: "Hours after a period ends during which late usage is still accepted", example: 24 }),
  features: z.array(FeatureBody).max(100).optional().openapi({
    description: "Replaces the whole feature list",
    example: [{ key: "api_calls", type: "metered", limit: 200000 }],
  }),
}).strict().openapi("UpdatePlan");
const FeatureSchema = z.object({
  key: z.string().openapi({ description: "Feature key", example: "api_calls" }),
  name: z.string().openapi({ description: "Display name", example: "API calls" }),
  type: z.enum(["metered", "boolean", "seat"]).openapi({ description: "metered, boolean or seat", example: "metered" }),
  limit: z.int().nullable().openapi({ description: "Units per period; null = unlimited", example: 100000 }),
  soft_limit: z.boolean().openapi({ description: "Usage past the limit is allowed and flagged", example: false }),
  aggregation: z.enum(["sum", "count", "max", "unique_count", "latest"]).openapi({ description: "How events make usage", example: "sum" }),
  included: z.int().openapi({ description: "Units free each period", example: 1000 }),
  unique_property: z.string().nullable().openapi({ description: "Property counted by unique_count", example: null }),
  pricing: z.object({
    model: z.enum(["per_unit", "graduated", "volume", "package"]).openapi({ description: "Pricing model", example: "graduated" }),
    unit_amount: z.int().optional().openapi({ description: "Minor units per unit or per package", example: 2 }),
    package_size: z.int().optional().openapi({ description: "Units per package", example: 1000 }),
    tiers: z.array(z.object({
      up_to: z.int().nullable().openapi({ description: "Inclusive upper bound in units; null for the last tier", example: 1000 }),
      unit_amount: z.int().openapi({ description: "Minor units per unit in this tier", example: 2 }),
      flat_amount: z.int().openapi({ description: "Minor units charged once when the tier is reached", example: 0 }),
    })).optional().openapi({ description: "Tiers in ascending order", example: [{ up_to: null, unit_amount: 1, flat_amount: 0 }] }),
  }).nullable().openapi({ description: "Price of usage past included; null = free", example: { model: "per_unit", unit_amount: 2 } }),
}).openapi("Feature");
export const PlanSchema = z.object({
  id: Id("pln", "pln_01jd0000000000000000000000"),
  key: z.string().openapi({ description: "Plan key, unique per app", example: "pro" }),
  name: z.string().openapi({ description: "Display name", example: "Pro" }),
  description: z.string().nullable().openapi({ description: "Free text", example: "For growing teams" }),
  currency: z.string().openapi({ description: "ISO 4217 currency", example: "USD" }),
  interval: z.enum(["month", "year"]).openapi({ description: "Billing period length", example: "month" }),
  trial_days: z.int().openapi({ description: "Trial days of new subscriptions", example: 14 }),
  base_amount: z.int().openapi({ description: "Fixed fee per period in minor units", example: 4900 }),
  invoice_grace_period_hours: z.int().openapi({ description: "Hours late usage is still accepted after a period ends", example: 1 }),
  features: z.array(FeatureSchema).openapi({
    description: "Features of the plan",
    example: [{
      key: "sso",
      name: "Single sign-on",
      type: "boolean",
      limit: null,
      soft_limit: false,
      aggregation: "sum",
      included: 0,
      unique_property: null,
      pricing: null,
    }],
  }),
  status: z.enum(["active", "archived"]).openapi({ description: "archived plans take no new subscriptions", example: "active" }),
  created_at: z.string().openapi({ description: "ISO 8601 UTC instant", example: "2026-11-01T00:00:00.000Z" }),
  updated_at: z.string().openapi({ description: "ISO 8601 UTC instant of the last change", example: "2026-11-02T09:30:00.000Z" }),
}).openapi("Plan");
export const PlanList = z.object({
  data: z.array(PlanSchema).openapi({ description: "Plans of the app", example: [] }),
}).openapi("PlanList");

// ---- customers ----
export const CreateCustomerBody = z.object({
  external_id: Key.openapi({ description: "Your id of the customer, unique per app; customer_id fields accept it", example: "user_42" }),
  name: z.string().min(1).max(200).nullable().optional().openapi({ description: "Display name", example: "Ada Lovelace" }),
  email: z.email().max(320).nullable().optional().openapi({ description: "Billing email", example: "ada@example.com" }),
}).strict().openapi("CreateCustomer");
export const CustomerSchema = z.object({
  id: Id("cus", "cus_01jd0000000000000000000000"),
  external_id: z.string().openapi({ description: "Your id of the customer", example: "user_42" }),
  name: z.string().nullable().openapi({ description: "Display name", example: "Ada Lovelace" }),
  email: z.string().nullable().openapi({ description: "Billing email", example: "ada@example.com" }),
  created_at: z.string().openapi({ description: "ISO 8601 UTC instant", example: "2026-11-01T00:00:00.000Z" }),
}).openapi("Customer");

// ---- subscriptions ----
export const CreateSubscriptionBody = z.object({
  customer_id: z.string().min(1).max(128).openapi({ description: "cus_ id or external id", example: "user_42" }),
  plan_id: z.string().min(1).max(128).openapi({ description: "pln_ id or plan key", example: "pro" }),
  start_at: Instant.optional().openapi({ description: "Defaults to now; may be backdated up to 366 days" }),
  end_at: Instant.optional().openapi({ description: "Fixed end: the subscription becomes expired then (the last period is cut there)" }),
}).strict().openapi("CreateSubscription");
export const CancelSubscriptionBody = z.object({
  at_period_end: z.boolean().default(false).openapi({
    description: "true: keep the subscription until the current period ends; false (default): cancel now",
    example: true,
  }),
}).strict().openapi("CancelSubscription");
export const SubscriptionSchema = z.object({
  id: Id("sub", "sub_01jd0000000000000000000000"),
  customer_id: z.string().openapi({ description: "cus_ id of the customer", example: "cus_01jd0000000000000000000000" }),
  plan_id: z.string().openapi({ description: "pln_ id of the current plan", example: "pln_01jd0000000000000000000000" }),
  status: z.enum(["trialing", "active", "paused", "canceled", "expired"]).openapi({ description: "Derived from the instants below at request time", example: "active" }),
  start_at: z.string().openapi({ description: "ISO 8601 UTC instant the subscription started", example: "2026-11-01T00:00:00.000Z" }),
  trial_end: z.string().nullable().openapi({ description: "End of the trial; null without trial", example: null }),
  billing_anchor: z.string().openapi({ description: "Instant periods are counted from (month-end days clamp)", example: "2026-11-01T00:00:00.000Z" }),
  current_period_start: z.string().openapi({ description: "Start of the current period (inclusive)", example: "2026-11-01T00:00:00.000Z" }),
  current_period_end: z.string().openapi({ description: "End of the current period (exclusive)", example: "2026-12-01T00:00:00.000Z" }),
  cancel_at_period_end: z.boolean().openapi({ description: "Cancellation is scheduled for the period end", example: false }),
  cancel_at: z.string().nullable().openapi({ description: "When the subscription ends; null if not canceled", example: null }),
  canceled_at: z.string().nullable().openapi({ description: "When the cancellation was requested", example: null }),
  pending_change: z.object({
    plan_id: z.string().openapi({ description: "pln_ id of the plan it changes to", example: "pln_01jd0000000000000000000001" }),
    effective_at: z.string().openapi({ description: "ISO 8601 UTC instant the change takes effect", example: "2026-12-01T00:00:00.000Z" }),
    proration: z.enum(["prorate", "none"]).openapi({ description: "Whether the change is prorated", example: "none" }),
  }).nullable()
    .openapi({ description: "A plan change scheduled for later (period-end downgrade)", example: null }),
  paused_at: z.string().nullable().openapi({ description: "Start of the current pause while paused, else null", example: null }),
  created_at: z.string().openapi({ description: "ISO 8601 UTC instant", example: "2026-11-01T00:00:00.000Z" }),
}).openapi("Subscription");

// ---- events ----
const EventBody = z.object({
  id: Key.openapi({ description: "Idempotency key of the event, unique per app", example: "req_8f2a" }),
  customer_id: z.string().min(1).max(128).openapi({ description: "cus_ id or external id", example: "user_42" }),
  feature: Key.openapi({ description: "Feature key of the customer's plan", example: "api_calls" }),
  value: safeInt.optional().openapi({ description: "Units (default 1)", example: 1 }),
  timestamp: Instant.optional().openapi({ description: "When the usage happened (default: when received)" }),
  properties: z.record(z.string().max(64), z.unknown()).optional()
    .refine((p) => p === undefined || JSON.stringify(p).length <= 4096, "Properties must serialize to at most 4096 bytes")
    .openapi({ description: "Free-form properties, at most 4096 bytes as JSON (unique_count reads one)", example: { endpoint: "/search" } }),
}).strict();
export const IngestBody = z.object({
  events: z.array(EventBody).min(1).max(MAX_EVENTS_PER_BATCH).openapi({
    description: `1 to ${MAX_EVENTS_PER_BATCH} events; each is judged on its own`,
    example: [{ id: "req_8f2a", customer_id: "user_42", feature: "api_calls", value: 1 }],
  }),
}).strict().openapi("IngestEvents");
export const IngestReportSchema = z.object({
  accepted: z.int().openapi({ description: "Events stored by this request", example: 1 }),
  duplicates: z.int().openapi({ description: "Events whose id was already stored with the same payload (retries)", example: 0 }),
  rejected: z.array(z.object({
    id: z.string().openapi({ description: "Id of the refused event", example: "req_8f2b" }),
    code: z.string().openapi({ description: "Problem code of the refusal", example: "customer_not_found" }),
    status: z.int().openapi({ description: "HTTP status the event would have had alone", example: 404 }),
    message: z.string().openapi({ description: "Why it was refused", example: "Customer \"user_43\" was not found" }),
  })).openapi({ description: "Events refused, each with its code; the others were processed", example: [] }),
}).openapi("IngestReport");

// ---- entitlements ----
export const CheckBody = z.object({
  customer_id: z.string().min(1).max(128).openapi({ description: "cus_ id or external id", example: "user_42" }),
  feature: Key.openapi({ description: "Feature key", example: "api_calls" }),
  consume: safeInt.min(1).optional().openapi({
    description: "Units to consume atomically if allowed (hard limit: only when used + consume ≤ limit); " +
      "recorded as a usage event whose id is idempotency_key",
    example: 1,
  }),
  idempotency_key: Key.optional().openapi({
    description: "Required with consume: the id of the usage event it records; a retry with the same key consumes once",
    example: "chk_3f9a",
  }),
}).strict().refine((b) => b.consume === undefined || b.idempotency_key !== undefined, {
  message: "Required when consume is given",
  path: ["idempotency_key"],
}).openapi("EntitlementCheck");
export const DecisionSchema = z.object({
  allowed: z.boolean().openapi({ description: "Whether the customer may use the feature now", example: true }),
  feature: z.string().openapi({ description: "The feature key asked about", example: "api_calls" }),
  type: z.enum(["metered", "boolean", "seat"]).nullable().openapi({ description: "Feature type; null when not in the plan", example: "metered" }),
  used: z.int().openapi({ description: "Usage in the current period (after this call's consumption)", example: 2500 }),
  limit: z.int().nullable().openapi({ description: "Units per period; null = unlimited", example: 100000 }),
  remaining: z.int().nullable().openapi({ description: "limit − used, never negative; null = unlimited", example: 97500 }),
  soft_limit: z.boolean().openapi({ description: "The limit is soft (usage past it is allowed and flagged)", example: false }),
  reason: z.enum([
    "no_active_subscription",
    "feature_not_in_plan",
    "included",
    "unlimited",
    "within_limit",
    "limit_reached",
    "soft_limit_exceeded",
  ]).openapi({ description: "Why the answer is what it is", example: "within_limit" }),
  resets_at: z.string().nullable().openapi({ description: "End of the current period, when usage resets", example: "2026-12-01T00:00:00.000Z" }),
  consumed: z.int().openapi({ description: "Units consumed by this call (0 for a plain check or a denial)", example: 0 }),
  over_soft_limit: z.boolean().openapi({ description: "A soft limit is exceeded (after this call's consumption)", example: false }),
}).openapi("EntitlementDecision");

// ---- invoices ----
export const GenerateInvoiceBody = z.object({
  subscription_id: z.string().min(1).max(128).openapi({ description: "sub_ id", example: "sub_01jd0000000000000000000000" }),
  period_start: Instant.optional().openapi({ description: "Start of the period to bill (default: the last completed period)" }),
  period_end: Instant.optional().openapi({ description: "End of the period to bill; give both or neither" }),
}).strict().refine((b) => (b.period_start === undefined) === (b.period_end === undefined), {
  message: "Give both period_start and period_end, or neither",
  path: ["period_end"],
}).openapi("GenerateInvoice");
export const PayInvoiceBody = z.object({
  amount: safeInt.min(1).optional().openapi({ description: "Minor units paid (default: the amount due)", example: 7400 }),
  reference: Key.optional().openapi({ description: "Your payment reference; makes retries safe", example: "pay_2026_11_0042" }),
}).strict().openapi("PayInvoice");
export const InvoiceSchema = z.object({
  id: Id("inv", "inv_01jd0000000000000000000000"),
  number: z.string().nullable().openapi({ description: "Sequential number per app, set when finalized", example: "INV-000001" }),
  status: z.enum(["draft", "open", "paid", "void", "uncollectible"]).openapi({
    description: "draft (editable) → open (finalized) → paid; or void / uncollectible",
    example: "open",
  }),
  customer_id: z.string().openapi({ description: "cus_ id", example: "cus_01jd0000000000000000000000" }),
  subscription_id: z.string().openapi({ description: "sub_ id", example: "sub_01jd0000000000000000000000" }),
  currency: z.string().openapi({ description: "ISO 4217 currency of every amount", example: "USD" }),
  lines: z.array(z.object({
    kind: z.enum(["base", "usage", "proration"]).openapi({ description: "base fee, usage of a feature, or a proration", example: "usage" }),
    description: z.string().openapi({ description: "Line text", example: "API calls 1001–5000 × 1" }),
    feature: z.string().nullable().openapi({ description: "Feature key of a usage line", example: "api_calls" }),
    quantity: z.int().openapi({ description: "Units billed on this line", example: 4000 }),
    unit_amount: z.int().openapi({ description: "Negative for proration credits", example: 1 }),
    amount: z.int().openapi({ description: "Line amount in minor units (before discount and tax)", example: 4000 }),
    tier: z.int().nullable().openapi({ description: "1-based tier of a tiered price", example: 2 }),
    plan_id: z.string().nullable().openapi({ description: "pln_ id the line is priced from", example: "pln_01jd0000000000000000000000" }),
    discount_amount: z.int().openapi({ description: "Discount allocated to this line in minor units", example: 0 }),
    tax_amount: z.int().openapi({ description: "Tax allocated to this line in minor units", example: 0 }),
  })).openapi({
    description: "Invoice lines",
    example: [{
      kind: "base",
      description: "Pro (monthly)",
      feature: null,
      quantity: 1,
      unit_amount: 4900,
      amount: 4900,
      tier: null,
      plan_id: "pln_01jd0000000000000000000000",
      discount_amount: 0,
      tax_amount: 0,
    }],
  }),
  subtotal: z.int().openapi({ description: "Sum of line amounts in minor units", example: 7400 }),
  discount: z.int().openapi({ description: "Discounts in minor units", example: 0 }),
  tax: z.int().openapi({ description: "Tax in minor units", example: 0 }),
  total: z.int().openapi({ description: "subtotal − discount + exclusive tax, in minor units", example: 7400 }),
  credits_applied: z.int().openapi({ description: "Prepaid monetary credits applied", example: 0 }),
  credited: z.int().openapi({ description: "Sum of credit notes", example: 0 }),
  amount_paid: z.int().openapi({ description: "Paid so far in minor units", example: 0 }),
  amount_due: z.int().openapi({ description: "Still owed in minor units", example: 7400 }),
  coupon_id: z.string().nullable().openapi({ description: "Coupon applied, if any", example: null }),
  tax_rate: z.object({
    id: z.string().openapi({ description: "Tax rate id", example: "txr_01jd0000000000000000000000" }),
    percentage_bp: z.int().openapi({ description: "Rate in basis points (1900 = 19 %)", example: 1900 }),
    inclusive: z.boolean().openapi({ description: "Prices already include the tax", example: false }),
  }).nullable().openapi({ description: "Tax rate applied, if any", example: null }),
  period_start: z.string().openapi({ description: "Start of the billed period (inclusive)", example: "2026-11-01T00:00:00.000Z" }),
  period_end: z.string().openapi({ description: "End of the billed period (exclusive)", example: "2026-12-01T00:00:00.000Z" }),
  due_at: z.string().nullable().openapi({ description: "Payment due date", example: "2026-12-15T00:00:00.000Z" }),
  finalized_at: z.string().nullable().openapi({ description: "When it became open", example: "2026-12-01T01:00:00.000Z" }),
  paid_at: z.string().nullable().openapi({ description: "When fully paid", example: null }),
  voided_at: z.string().nullable().openapi({ description: "When voided", example: null }),
  uncollectible_at: z.string().nullable().openapi({ description: "When marked uncollectible", example: null }),
  created_at: z.string().openapi({ description: "ISO 8601 UTC instant", example: "2026-12-01T01:00:00.000Z" }),
}).openapi("Invoice", { description: "An invoice of one subscription period: lines, totals and payment state; amounts in minor units" });
export const InvoiceList = z.object({
  data: z.array(InvoiceSchema).openapi({ description: "A page of invoices, newest first", example: [] }),
  next_cursor: z.string().nullable().openapi({ description: "Pass as cursor for the next page; null on the last page", example: null }),
}).openapi("InvoiceList");

// ---- ledger (read side used by billing) ----
export const AccountBalanceSchema = z.object({
  id: z.string().openapi({ description: "Ledger account id", example: "acc_01jd0000000000000000000000" }),
  name: z.string().openapi({ description: "Account name (`kind:customer` or `kind`)", example: "accounts_receivable:cus_01jd0000000000000000000000" }),
  type: z.enum(["asset", "liability", "equity", "revenue", "expense"]).openapi({ description: "Account type", example: "asset" }),
  currency: z.string().openapi({ description: "ISO 4217 currency", example: "USD" }),
  normal_balance: z.enum(["debit", "credit"]).openapi({ description: "Side that increases the account", example: "debit" }),
  metadata: z.record(z.string(), z.unknown()).nullable().openapi({ description: "Free-form metadata", example: null }),
  created_at: z.string().openapi({ description: "ISO 8601 UTC instant", example: "2026-11-01T00:00:00.000Z" }),
  debits_minus_credits: z.int().openapi({ description: "Sum of debits minus sum of credits, minor units", example: 7400 }),
  balance: z.int().openapi({ description: "Balance on the account's normal side", example: 7400 }),
}).openapi("AccountBalance");
export const AccountBalanceList = z.object({
  data: z.array(AccountBalanceSchema).openapi({ description: "Accounts of the app with their balances", example: [] }),
}).openapi("AccountBalanceList");

// ---- apps (browser origins of the publishable key) ----
const Origin = z.string().min(1).max(300).openapi({
  description: "Browser origin: http(s) scheme, host and optional port; no path, no wildcard",
  example: "https://app.example.com",
});
export const UpdateAppBody = z.object({
  allowed_origins: z.array(Origin).max(50).openapi({
    description: "Replaces the list of origins whose pages may call the publishable-key routes (CORS); [] closes them to browsers",
    example: ["https://app.example.com", "http://localhost:5173"],
  }),
}).strict().openapi("UpdateApp");
export const AppSchema = z.object({
  id: Id("app", "app_01jd0000000000000000000000"),
  name: z.string().openapi({ description: "App name within the tenant", example: "production" }),
  allowed_origins: z.array(z.string()).openapi({
    description: "Origins allowed to call the publishable-key routes, sorted",
    example: ["https://app.example.com"],
  }),
  created_at: z.string().openapi({ description: "ISO 8601 UTC instant", example: "2026-11-01T00:00:00.000Z" }),
}).openapi("App");
