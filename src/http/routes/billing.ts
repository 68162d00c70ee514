/**
 * Billing-depth routes (issue 6): plan changes, discounts and coupons, tax rates, prepaid credit
 * grants, invoice write-offs and credit notes, the usage query, and an admin trigger of the
 * billing cycle job. Rules live in `src/domain/`; handlers only translate HTTP.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { runBillingCycle } from "../../services/billing_cycle.ts";
import { applyDiscount, createCoupon, getCoupon } from "../../services/coupons.ts";
import { grantCredits, listCreditGrants } from "../../services/credits.ts";
import { createCreditNote, listCreditNotes, markUncollectible } from "../../services/invoices.ts";
import { changePlan, pauseSubscription, resumeSubscription } from "../../services/subscriptions.ts";
import { createTaxRate, setCustomerTaxRate } from "../../services/tax_rates.ts";
import { queryUsage } from "../../services/usage_windows.ts";
import type { Services } from "../../services/context.ts";
import { body, errors, json, router, secured } from "../env.ts";
import { Amount, Currency, Instant, InvoiceSchema, Key, SubscriptionSchema } from "../schemas.ts";

const IdParam = z.object({
  id: z.string().min(1).max(128).openapi({ description: "Id of the resource in the path (TypeID; customers also by external id)", example: "sub_01jd0000000000000000000000" }),
});
const Ref = z.string().min(1).max(128);

const ChangePlanBody = z.object({
  plan_id: Ref.openapi({ description: "pln_ id or key of the new plan", example: "business" }),
  proration: z.enum(["prorate", "none"]).optional().openapi({
    description: "Default prorate (credit unused time, charge the rest, to the second)",
    example: "prorate",
  }),
  effective: z.enum(["now", "period_end"]).optional().openapi({ description: "Default: upgrades now, downgrades at period end", example: "now" }),
}).strict().openapi("ChangePlan");

const CouponBody = z.object({
  code: Key.openapi({ description: "Code customers type, unique per app", example: "LAUNCH25" }),
  name: z.string().min(1).max(200).optional().openapi({ description: "Display name", example: "Launch discount" }),
  percent_off: z.number().gt(0).max(100).optional().openapi({ description: "Percentage with at most 2 decimals", example: 25 }),
  amount_off: Amount.optional().openapi({ description: "Fixed discount per period in minor units (instead of percent_off)", example: 500 }),
  currency: Currency.optional().openapi({ description: "Currency of amount_off (required with it)", example: "USD" }),
  duration: z.enum(["once", "repeating", "forever"]).openapi({ description: "How many periods the discount lasts", example: "repeating" }),
  duration_periods: z.int().min(1).max(1200).optional().openapi({ description: "Periods discounted (repeating only)", example: 3 }),
  max_redemptions: z.int().min(1).max(Number.MAX_SAFE_INTEGER).optional().openapi({ description: "Times the coupon may be applied in total", example: 100 }),
  valid_from: Instant.optional().openapi({ description: "Not redeemable before", example: "2026-11-01T00:00:00Z" }),
  redeem_by: Instant.optional().openapi({ description: "Not redeemable after", example: "2026-12-31T23:59:59Z" }),
  plan_ids: z.array(Ref).max(100).optional().openapi({ description: "Only for these plans (ids or keys); absent = any plan", example: ["pro"] }),
}).strict().openapi("CreateCoupon");
const CouponSchema = z.object({
  id: z.string().openapi({ description: "TypeID of the coupon", example: "cpn_01jd0000000000000000000000" }),
  code: z.string().openapi({ description: "Code customers type", example: "LAUNCH25" }),
  name: z.string().nullable().openapi({ description: "Display name", example: "Launch discount" }),
  percent_off: z.number().nullable().openapi({ description: "Percentage off (at most 2 decimals)", example: 25 }),
  amount_off: z.int().nullable().openapi({ description: "Minor units off per period", example: null }),
  currency: z.string().nullable().openapi({ description: "Currency of amount_off", example: null }),
  duration: z.enum(["once", "repeating", "forever"]).openapi({ description: "How many periods the discount lasts", example: "repeating" }),
  duration_periods: z.int().nullable().openapi({ description: "Periods discounted (repeating)", example: 3 }),
  max_redemptions: z.int().nullable().openapi({ description: "Redemption limit; null = unlimited", example: 100 }),
  times_redeemed: z.int().openapi({ description: "Redemptions so far", example: 12 }),
  valid_from: z.string().nullable().openapi({ description: "Not redeemable before", example: null }),
  redeem_by: z.string().nullable().openapi({ description: "Not redeemable after", example: "2026-12-31T23:59:59.000Z" }),
  plan_ids: z.array(z.string()).nullable().openapi({ description: "Plans it applies to; null = any", example: null }),
  created_at: z.string().openapi({ description: "ISO 8601 UTC instant", example: "2026-11-01T00:00:00.000Z" }),
}).openapi("Coupon", { description: "A coupon: a percentage or amount off for once, some or all periods" });
const DiscountSchema = z.object({
  id: z.string().openapi({ description: "TypeID of the discount", example: "sdi_01jd0000000000000000000000" }),
  subscription_id: z.string().openapi({ description: "Subscription discounted", example: "sub_01jd0000000000000000000000" }),
  coupon: CouponSchema,
  redeemed_at: z.string().openapi({ description: "ISO 8601 UTC instant it was applied", example: "2026-11-01T00:00:00.000Z" }),
  first_period_index: z.int().openapi({ description: "First recurring period discounted (0 = the first paid period)", example: 0 }),
}).openapi("Discount");

const TaxRateBody = z.object({
  display_name: z.string().min(1).max(100).openapi({ description: "Name on invoices", example: "VAT" }),
  jurisdiction: z.string().min(1).max(100).optional().openapi({ description: "Where the rate applies", example: "DE" }),
  percentage: z.number().min(0).max(100).openapi({ description: "At most 2 decimals", example: 19 }),
  inclusive: z.boolean().openapi({ description: "Prices already include the tax (it is carved out, not added)", example: false }),
}).strict().openapi("CreateTaxRate");
const TaxRateSchema = z.object({
  id: z.string().openapi({ description: "TypeID of the tax rate", example: "txr_01jd0000000000000000000000" }),
  display_name: z.string().openapi({ description: "Name on invoices", example: "VAT" }),
  jurisdiction: z.string().nullable().openapi({ description: "Where the rate applies", example: "DE" }),
  percentage: z.number().openapi({ description: "Rate in percent", example: 19 }),
  percentage_bp: z.int().openapi({ description: "Rate in basis points (1900 = 19 %)", example: 1900 }),
  inclusive: z.boolean().openapi({ description: "Prices already include the tax", example: false }),
  created_at: z.string().openapi({ description: "ISO 8601 UTC instant", example: "2026-11-01T00:00:00.000Z" }),
}).openapi("TaxRate", { description: "A tax rate applied to invoices of customers that have it" });

const GrantBody = z.object({
  reference: Key.openapi({ description: "Idempotency key of the grant", example: "grant_2026_11_welcome" }),
  kind: z.enum(["monetary", "units"]).openapi({ description: "monetary: money off invoices; units: free units of a feature", example: "monetary" }),
  amount: Amount.openapi({ description: "Minor units of currency (monetary) or units of feature", example: 2000 }),
  currency: Currency.optional().openapi({ description: "Currency of a monetary grant", example: "USD" }),
  feature: Key.optional().openapi({ description: "Feature of a units grant", example: "api_calls" }),
  priority: z.int().min(0).max(1000).optional().openapi({ description: "Higher spends first (default 0)", example: 0 }),
  effective_at: Instant.optional().openapi({ description: "Usable from (default now)", example: "2026-11-01T00:00:00Z" }),
  expires_at: Instant.optional().openapi({ description: "Unusable from; absent = never expires", example: "2027-11-01T00:00:00Z" }),
  source: z.enum(["purchased", "promotional"]).optional().openapi({ description: "Why it was granted (default promotional)", example: "promotional" }),
}).strict().openapi("CreateCreditGrant");
const GrantSchema = z.object({
  id: z.string().openapi({ description: "TypeID of the grant", example: "cgr_01jd0000000000000000000000" }),
  customer_id: z.string().openapi({ description: "cus_ id", example: "cus_01jd0000000000000000000000" }),
  kind: z.enum(["monetary", "units"]).openapi({ description: "monetary or units", example: "monetary" }),
  currency: z.string().nullable().openapi({ description: "Currency of a monetary grant", example: "USD" }),
  feature: z.string().nullable().openapi({ description: "Feature of a units grant", example: null }),
  amount: z.int().openapi({ description: "Granted minor units or units", example: 2000 }),
  remaining: z.int().openapi({ description: "Not yet spent", example: 1500 }),
  priority: z.int().openapi({ description: "Higher spends first", example: 0 }),
  effective_at: z.string().openapi({ description: "Usable from", example: "2026-11-01T00:00:00.000Z" }),
  expires_at: z.string().nullable().openapi({ description: "Unusable from; null = never", example: null }),
  source: z.enum(["purchased", "promotional"]).openapi({ description: "Why it was granted", example: "promotional" }),
  reference: z.string().openapi({ description: "Your idempotency key", example: "grant_2026_11_welcome" }),
  entry_id: z.string().nullable().openapi({ description: "Ledger entry that booked it (monetary)", example: "ent_01jd0000000000000000000000" }),
  created_at: z.string().openapi({ description: "ISO 8601 UTC instant", example: "2026-11-01T00:00:00.000Z" }),
}).openapi("CreditGrant");

const CreditNoteBody = z.object({
  amount: Amount.min(1).openapi({ description: "Minor units credited (tax included on tax-inclusive invoices)", example: 1000 }),
  reason: z.string().min(1).max(500).optional().openapi({ description: "Why", example: "Service outage on 2026-11-12" }),
  reference: Key.openapi({ description: "Idempotency key of the credit note", example: "cn_outage_1112" }),
}).strict().openapi("CreateCreditNote");
const CreditNoteSchema = z.object({
  id: z.string().openapi({ description: "TypeID of the credit note", example: "cn_01jd0000000000000000000000" }),
  number: z.string().openapi({ description: "Sequential number per app", example: "CN-000001" }),
  invoice_id: z.string().openapi({ description: "Invoice credited", example: "inv_01jd0000000000000000000000" }),
  amount: z.int().openapi({ description: "Minor units credited", example: 1000 }),
  tax: z.int().openapi({ description: "Tax part of amount in minor units", example: 160 }),
  reason: z.string().nullable().openapi({ description: "Why", example: "Service outage on 2026-11-12" }),
  reference: z.string().nullable().openapi({ description: "Your idempotency key", example: "cn_outage_1112" }),
  entry_id: z.string().openapi({ description: "Ledger entry that booked it", example: "ent_01jd0000000000000000000000" }),
  created_at: z.string().openapi({ description: "ISO 8601 UTC instant", example: "2026-11-01T00:00:00.000Z" }),
}).openapi("CreditNote", { description: "A credit note reducing what an open or paid invoice asks for" });

const UsageQuery = z.object({
  customer_id: Ref.openapi({ description: "cus_ id or external id", example: "user_42" }),
  feature: Key.openapi({ description: "Feature key", example: "api_calls" }),
  from: Instant.openapi({ description: "Window start (inclusive, ISO 8601)", example: "2026-11-01T00:00:00Z" }),
  to: Instant.openapi({ description: "Window end (exclusive, ISO 8601)", example: "2026-12-01T00:00:00Z" }),
  group_by: z.enum(["day", "none"]).optional().openapi({ description: "day: one bucket per UTC day (default none)", example: "day" }),
});
const UsageResult = z.object({
  customer_id: z.string().openapi({ description: "cus_ id", example: "cus_01jd0000000000000000000000" }),
  feature: z.string().openapi({ description: "Feature key", example: "api_calls" }),
  aggregation: z.string().openapi({ description: "Aggregation of the feature", example: "sum" }),
  from: z.string().openapi({ description: "Window start", example: "2026-11-01T00:00:00.000Z" }),
  to: z.string().openapi({ description: "Window end", example: "2026-12-01T00:00:00.000Z" }),
  group_by: z.enum(["day", "none"]).openapi({ description: "Bucketing", example: "day" }),
  value: z.int().openapi({ description: "Aggregate over the whole window", example: 2500 }),
  data: z.array(z.object({
    start: z.string().openapi({ description: "Bucket start", example: "2026-11-01T00:00:00.000Z" }),
    end: z.string().openapi({ description: "Bucket end", example: "2026-11-02T00:00:00.000Z" }),
    value: z.int().openapi({ description: "Aggregate of the bucket", example: 120 }),
  })).openapi({ description: "Buckets (one when group_by is none)", example: [{ start: "2026-11-01T00:00:00.000Z", end: "2026-11-02T00:00:00.000Z", value: 120 }] }),
}).openapi("UsageAggregate");

const CycleReport = z.object({
  subscriptions_scanned: z.int().openapi({ description: "Subscriptions looked at", example: 120 }),
  plan_changes_applied: z.int().openapi({ description: "Scheduled plan changes that took effect", example: 2 }),
  invoices_generated: z.int().openapi({ description: "Invoices created for ended periods", example: 118 }),
  invoices_finalized: z.int().openapi({ description: "Invoices finalized", example: 118 }),
  credits_expired: z.int().openapi({ description: "Monetary credit grants closed after expiry (breakage posted)", example: 0 }),
  failures: z.array(z.object({
    subscription_id: z.string().openapi({ description: "Subscription that failed", example: "sub_01jd0000000000000000000000" }),
    error: z.string().openapi({ description: "What went wrong", example: "plan_not_found" }),
  })).openapi({ description: "Subscriptions that failed (the others went on)", example: [] }),
}).openapi("BillingCycleReport");

/** The routes of this module; `services` is used by the admin trigger of the billing job. */
export function billingRoutes(services: Services) {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/subscriptions/{id}/change",
      tags: ["subscriptions"],
      summary: "Change the plan (upgrade now with proration, downgrade at period end by default)",
      security: secured,
      request: { params: IdParam, body: body(ChangePlanBody) },
      responses: { 200: json(SubscriptionSchema), ...errors },
    }),
    async (c) => c.json((await changePlan(c.var.ctx, c.req.valid("param").id, c.req.valid("json"))).subscription, 200),
  );
  for (const [verb, summary, run] of [
    ["pause", "Pause now: no base fee, no usage and no entitlements while paused (idempotent)", pauseSubscription],
    ["resume", "Resume now; the billing cycle keeps its anchor (idempotent)", resumeSubscription],
  ] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/v1/subscriptions/{id}/${verb}`,
        tags: ["subscriptions"],
        summary,
        security: secured,
        request: { params: IdParam },
        responses: { 200: json(SubscriptionSchema), ...errors },
      }),
      async (c) => c.json(await run(c.var.ctx, c.req.valid("param").id), 200),
    );
  }
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/subscriptions/{id}/discount",
      tags: ["subscriptions"],
      summary: "Apply a coupon (by code or id) to a subscription",
      security: secured,
      request: { params: IdParam, body: body(z.object({ coupon: Ref.openapi({ description: "Coupon code or cpn_ id", example: "LAUNCH25" }) }).strict().openapi("ApplyDiscount")) },
      responses: { 201: json(DiscountSchema, "Applied"), 200: json(DiscountSchema, "Already applied"), ...errors },
    }),
    async (c) => {
      const { discount, replayed } = await applyDiscount(c.var.ctx, c.req.valid("param").id, c.req.valid("json"));
      return replayed ? c.json(discount, 200) : c.json(discount, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/coupons",
      tags: ["coupons"],
      summary: "Create a coupon (an identical repeat returns it with 200)",
      security: secured,
      request: { body: body(CouponBody) },
      responses: { 201: json(CouponSchema, "Created"), 200: json(CouponSchema, "Already existed"), ...errors },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { coupon, replayed } = await createCoupon(c.var.ctx, {
        ...input,
        valid_from: input.valid_from ? new Date(input.valid_from) : undefined,
        redeem_by: input.redeem_by ? new Date(input.redeem_by) : undefined,
      });
      return replayed ? c.json(coupon, 200) : c.json(coupon, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/coupons/{id}",
      tags: ["coupons"],
      summary: "Get a coupon by id or code",
      security: secured,
      request: { params: IdParam },
      responses: { 200: json(CouponSchema), ...errors },
    }),
    async (c) => c.json(await getCoupon(c.var.ctx, c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/tax_rates",
      tags: ["tax"],
      summary: "Create a tax rate (an identical repeat returns it with 200)",
      security: secured,
      request: { body: body(TaxRateBody) },
      responses: { 201: json(TaxRateSchema, "Created"), 200: json(TaxRateSchema, "Already existed"), ...errors },
    }),
    async (c) => {
      const { tax_rate, replayed } = await createTaxRate(c.var.ctx, c.req.valid("json"));
      return replayed ? c.json(tax_rate, 200) : c.json(tax_rate, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "put",
      path: "/v1/customers/{id}/tax_rate",
      tags: ["tax"],
      summary: "Set (or clear with null) the tax rate a customer is billed with",
      security: secured,
      request: { params: IdParam, body: body(
        z.object({
          tax_rate_id: Ref.nullable().openapi({ description: "txr_ id; null removes the customer's rate", example: "txr_01jd0000000000000000000000" }),
        }).strict().openapi("SetCustomerTaxRate"),
      ) },
      responses: {
        200: json(
          z.object({
            customer_id: z.string().openapi({ description: "cus_ id", example: "cus_01jd0000000000000000000000" }),
            tax_rate: TaxRateSchema.nullable(),
          }).openapi("CustomerTaxRate"),
        ),
        ...errors,
      },
    }),
    async (c) => c.json(await setCustomerTaxRate(c.var.ctx, c.req.valid("param").id, c.req.valid("json").tax_rate_id), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/customers/{id}/credit_grants",
      tags: ["credits"],
      summary: "Grant prepaid credit (monetary or units); `reference` makes it retry-safe",
      security: secured,
      request: { params: IdParam, body: body(GrantBody) },
      responses: { 201: json(GrantSchema, "Granted"), 200: json(GrantSchema, "Already granted"), ...errors },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { grant, replayed } = await grantCredits(c.var.ctx, c.req.valid("param").id, {
        ...input,
        effective_at: input.effective_at ? new Date(input.effective_at) : undefined,
        expires_at: input.expires_at ? new Date(input.expires_at) : undefined,
      });
      return replayed ? c.json(grant, 200) : c.json(grant, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/customers/{id}/credit_grants",
      tags: ["credits"],
      summary: "A customer's credit grants with remaining balances",
      security: secured,
      request: { params: IdParam },
      responses: { 200: json(z.object({ data: z.array(GrantSchema).openapi({ description: "Grants of the customer", example: [] }) }).openapi("CreditGrantList")), ...errors },
    }),
    async (c) => c.json({ data: await listCreditGrants(c.var.ctx, c.req.valid("param").id) }, 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/invoices/{id}/mark_uncollectible",
      tags: ["invoices"],
      summary: "Write an open invoice off as uncollectible",
      security: secured,
      request: { params: IdParam },
      responses: { 200: json(InvoiceSchema), ...errors },
    }),
    async (c) => c.json(await markUncollectible(c.var.ctx, c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/invoices/{id}/credit_notes",
      tags: ["invoices"],
      summary: "Issue a credit note against an open or paid invoice",
      security: secured,
      request: { params: IdParam, body: body(CreditNoteBody) },
      responses: {
        201: json(z.object({ credit_note: CreditNoteSchema, invoice: InvoiceSchema }).openapi("CreditNoteIssued"), "Issued"),
        200: json(z.object({ credit_note: CreditNoteSchema, invoice: InvoiceSchema }), "Already issued"),
        ...errors,
      },
    }),
    async (c) => {
      const { credit_note, invoice, replayed } = await createCreditNote(c.var.ctx, c.req.valid("param").id, c.req.valid("json"));
      return replayed ? c.json({ credit_note, invoice }, 200) : c.json({ credit_note, invoice }, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/invoices/{id}/credit_notes",
      tags: ["invoices"],
      summary: "Credit notes of an invoice",
      security: secured,
      request: { params: IdParam },
      responses: { 200: json(z.object({ data: z.array(CreditNoteSchema).openapi({ description: "Credit notes of the invoice", example: [] }) }).openapi("CreditNoteList")), ...errors },
    }),
    async (c) => c.json({ data: await listCreditNotes(c.var.ctx, c.req.valid("param").id) }, 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/usage",
      tags: ["usage"],
      summary: "Aggregated usage of a customer's feature over [from, to), optionally per UTC day",
      security: secured,
      request: { query: UsageQuery },
      responses: { 200: json(UsageResult), ...errors },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(await queryUsage(c.var.ctx, { ...q, from: new Date(q.from), to: new Date(q.to) }), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/billing_cycle/run",
      tags: ["admin"],
      summary: "Run the billing cycle job once now (it also runs on an interval in the server)",
      security: [{ adminAuth: [] }],
      responses: { 200: json(CycleReport), ...errors },
    }),
    async (c) => c.json(await runBillingCycle(services), 200),
  );
  return app;
}
