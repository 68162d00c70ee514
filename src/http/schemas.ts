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
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  code: z.string().openapi({ example: "validation_failed" }),
  request_id: z.string(),
  fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
}).openapi("Problem");

// ---- tenants ----
export const CreateTenantBody = z.object({
  name: Key.openapi({ example: "acme" }),
  app: Key.openapi({ example: "production" }),
}).strict().openapi("CreateTenant");
export const TenantCreated = z.object({
  tenant_id: z.string(),
  app_id: z.string(),
  secret_key: z.string().openapi({ description: "Shown once. Full access to this tenant+app." }),
  publishable_key: z.string().openapi({ description: "Shown once. Entitlement checks and usage only, for browsers." }),
}).openapi("TenantCreated");

// ---- plans ----
const Tier = z.object({
  up_to: safeInt.min(1).nullable().openapi({ description: "Inclusive upper bound in units; null for the last tier" }),
  unit_amount: Amount,
  flat_amount: Amount.default(0),
}).strict();
const PricingSchema = z.object({
  model: z.enum(["per_unit", "graduated", "volume", "package"]),
  unit_amount: Amount.optional(),
  package_size: safeInt.min(1).optional(),
  tiers: z.array(Tier).max(50).optional(),
}).strict().openapi("Pricing");
const FeatureBody = z.object({
  key: Key.openapi({ example: "api_calls" }),
  name: z.string().min(1).max(200).optional(),
  type: z.enum(["metered", "boolean", "seat"]),
  limit: safeInt.nullable().optional().openapi({ description: "Units per period; null = unlimited" }),
  soft_limit: z.boolean().optional(),
  aggregation: z.enum(["sum", "count", "max", "unique_count", "latest"]).optional(),
  included: safeInt.optional().openapi({ description: "Units free each period" }),
  unique_property: z.string().min(1).max(64).regex(/^[A-Za-z0-9_]+$/).nullable().optional(),
  pricing: PricingSchema.nullable().optional(),
}).strict().openapi("FeatureInput");
export const CreatePlanBody = z.object({
  key: Key.openapi({ example: "pro" }),
  name: z.string().min(1).max(200),
  description: z.string().max(2000).nullable().optional(),
  currency: Currency,
  interval: z.enum(["month", "year"]),
  trial_days: z.int().min(0).max(730).optional(),
  base_amount: Amount.optional(),
  invoice_grace_period_hours: z.int().min(0).max(720).optional()
    .openapi({ description: "Hours after a period ends during which late usage is still accepted (default 1)" }),
  features: z.array(FeatureBody).max(100).optional(),
}).strict().openapi("CreatePlan");
export const UpdatePlanBody = z.object({
  name: z.string().min(1).max(200).optional(),
  description: z.string().max(2000).nullable().optional(),
  trial_days: z.int().min(0).max(730).optional(),
  base_amount: Amount.optional(),
  features: z.array(FeatureBody).max(100).optional(),
}).strict().openapi("UpdatePlan");
const FeatureSchema = z.object({
  key: z.string(),
  name: z.string(),
  type: z.enum(["metered", "boolean", "seat"]),
  limit: z.int().nullable(),
  soft_limit: z.boolean(),
  aggregation: z.enum(["sum", "count", "max", "unique_count", "latest"]),
  included: z.int(),
  unique_property: z.string().nullable(),
  pricing: z.object({
    model: z.enum(["per_unit", "graduated", "volume", "package"]),
    unit_amount: z.int().optional(),
    package_size: z.int().optional(),
    tiers: z.array(z.object({ up_to: z.int().nullable(), unit_amount: z.int(), flat_amount: z.int() })).optional(),
  }).nullable(),
}).openapi("Feature");
export const PlanSchema = z.object({
  id: Id("pln", "pln_01jd0000000000000000000000"),
  key: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  currency: z.string(),
  interval: z.enum(["month", "year"]),
  trial_days: z.int(),
  base_amount: z.int(),
  invoice_grace_period_hours: z.int(),
  features: z.array(FeatureSchema),
  status: z.enum(["active", "archived"]),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Plan");
export const PlanList = z.object({ data: z.array(PlanSchema) }).openapi("PlanList");

// ---- customers ----
export const CreateCustomerBody = z.object({
  external_id: Key.openapi({ example: "user_42" }),
  name: z.string().min(1).max(200).nullable().optional(),
  email: z.email().max(320).nullable().optional(),
}).strict().openapi("CreateCustomer");
export const CustomerSchema = z.object({
  id: Id("cus", "cus_01jd0000000000000000000000"),
  external_id: z.string(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  created_at: z.string(),
}).openapi("Customer");

// ---- subscriptions ----
export const CreateSubscriptionBody = z.object({
  customer_id: z.string().min(1).max(128).openapi({ description: "cus_ id or external id" }),
  plan_id: z.string().min(1).max(128),
  start_at: Instant.optional().openapi({ description: "Defaults to now; may be backdated up to 366 days" }),
  end_at: Instant.optional().openapi({ description: "Fixed end: the subscription becomes expired then (the last period is cut there)" }),
}).strict().openapi("CreateSubscription");
export const CancelSubscriptionBody = z.object({ at_period_end: z.boolean().default(false) }).strict().openapi("CancelSubscription");
export const SubscriptionSchema = z.object({
  id: Id("sub", "sub_01jd0000000000000000000000"),
  customer_id: z.string(),
  plan_id: z.string(),
  status: z.enum(["trialing", "active", "canceled", "expired"]),
  start_at: z.string(),
  trial_end: z.string().nullable(),
  billing_anchor: z.string(),
  current_period_start: z.string(),
  current_period_end: z.string(),
  cancel_at_period_end: z.boolean(),
  cancel_at: z.string().nullable(),
  canceled_at: z.string().nullable(),
  pending_change: z.object({ plan_id: z.string(), effective_at: z.string(), proration: z.enum(["prorate", "none"]) }).nullable()
    .openapi({ description: "A plan change scheduled for later (period-end downgrade)" }),
  created_at: z.string(),
}).openapi("Subscription");

// ---- events ----
const EventBody = z.object({
  id: Key.openapi({ description: "Idempotency key of the event, unique per app", example: "req_8f2a" }),
  customer_id: z.string().min(1).max(128),
  feature: Key.openapi({ example: "api_calls" }),
  value: safeInt.optional().openapi({ description: "Units (default 1)" }),
  timestamp: Instant.optional(),
  properties: z.record(z.string().max(64), z.unknown()).optional()
    .refine((p) => p === undefined || JSON.stringify(p).length <= 4096, "Properties must serialize to at most 4096 bytes"),
}).strict();
export const IngestBody = z.object({
  events: z.array(EventBody).min(1).max(MAX_EVENTS_PER_BATCH),
}).strict().openapi("IngestEvents");
export const IngestReportSchema = z.object({
  accepted: z.int(),
  duplicates: z.int(),
  rejected: z.array(z.object({ id: z.string(), code: z.string(), status: z.int(), message: z.string() })),
}).openapi("IngestReport");

// ---- entitlements ----
export const CheckBody = z.object({
  customer_id: z.string().min(1).max(128),
  feature: Key,
}).strict().openapi("EntitlementCheck");
export const DecisionSchema = z.object({
  allowed: z.boolean(),
  feature: z.string(),
  type: z.enum(["metered", "boolean", "seat"]).nullable(),
  used: z.int(),
  limit: z.int().nullable(),
  remaining: z.int().nullable(),
  soft_limit: z.boolean(),
  reason: z.enum([
    "no_active_subscription",
    "feature_not_in_plan",
    "included",
    "unlimited",
    "within_limit",
    "limit_reached",
    "soft_limit_exceeded",
  ]),
  resets_at: z.string().nullable(),
}).openapi("EntitlementDecision");

// ---- invoices ----
export const GenerateInvoiceBody = z.object({
  subscription_id: z.string().min(1).max(128),
  period_start: Instant.optional(),
  period_end: Instant.optional(),
}).strict().refine((b) => (b.period_start === undefined) === (b.period_end === undefined), {
  message: "Give both period_start and period_end, or neither",
  path: ["period_end"],
}).openapi("GenerateInvoice");
export const PayInvoiceBody = z.object({
  amount: safeInt.min(1).optional(),
  reference: Key.optional().openapi({ description: "Your payment reference; makes retries safe" }),
}).strict().openapi("PayInvoice");
export const InvoiceSchema = z.object({
  id: Id("inv", "inv_01jd0000000000000000000000"),
  number: z.string().nullable(),
  status: z.enum(["draft", "open", "paid", "void", "uncollectible"]),
  customer_id: z.string(),
  subscription_id: z.string(),
  currency: z.string(),
  lines: z.array(z.object({
    kind: z.enum(["base", "usage", "proration"]),
    description: z.string(),
    feature: z.string().nullable(),
    quantity: z.int(),
    unit_amount: z.int().openapi({ description: "Negative for proration credits" }),
    amount: z.int(),
    tier: z.int().nullable(),
    plan_id: z.string().nullable(),
    discount_amount: z.int(),
    tax_amount: z.int(),
  })),
  subtotal: z.int(),
  discount: z.int(),
  tax: z.int(),
  total: z.int(),
  credits_applied: z.int().openapi({ description: "Prepaid monetary credits applied" }),
  credited: z.int().openapi({ description: "Sum of credit notes" }),
  amount_paid: z.int(),
  amount_due: z.int(),
  coupon_id: z.string().nullable(),
  tax_rate: z.object({ id: z.string(), percentage_bp: z.int(), inclusive: z.boolean() }).nullable(),
  period_start: z.string(),
  period_end: z.string(),
  due_at: z.string().nullable(),
  finalized_at: z.string().nullable(),
  paid_at: z.string().nullable(),
  voided_at: z.string().nullable(),
  uncollectible_at: z.string().nullable(),
  created_at: z.string(),
}).openapi("Invoice");
export const InvoiceList = z.object({ data: z.array(InvoiceSchema), next_cursor: z.string().nullable() }).openapi("InvoiceList");

// ---- ledger (read side used by billing) ----
export const AccountBalanceSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(["asset", "liability", "equity", "revenue", "expense"]),
  currency: z.string(),
  normal_balance: z.enum(["debit", "credit"]),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  created_at: z.string(),
  debits_minus_credits: z.int(),
  balance: z.int().openapi({ description: "Balance on the account's normal side" }),
}).openapi("AccountBalance");
export const AccountBalanceList = z.object({ data: z.array(AccountBalanceSchema) }).openapi("AccountBalanceList");

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
