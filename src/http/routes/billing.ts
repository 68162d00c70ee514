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
import { changePlan } from "../../services/subscriptions.ts";
import { createTaxRate, setCustomerTaxRate } from "../../services/tax_rates.ts";
import { queryUsage } from "../../services/usage_windows.ts";
import type { Services } from "../../services/context.ts";
import { body, errors, json, router, secured } from "../env.ts";
import { Amount, Currency, Instant, InvoiceSchema, Key, SubscriptionSchema } from "../schemas.ts";

const IdParam = z.object({ id: z.string().min(1).max(128) });
const Ref = z.string().min(1).max(128);

const ChangePlanBody = z.object({
  plan_id: Ref,
  proration: z.enum(["prorate", "none"]).optional().openapi({ description: "Default prorate (credit unused time, charge the rest, to the second)" }),
  effective: z.enum(["now", "period_end"]).optional().openapi({ description: "Default: upgrades now, downgrades at period end" }),
}).strict().openapi("ChangePlan");

const CouponBody = z.object({
  code: Key,
  name: z.string().min(1).max(200).optional(),
  percent_off: z.number().gt(0).max(100).optional().openapi({ description: "Percentage with at most 2 decimals", example: 25 }),
  amount_off: Amount.optional(),
  currency: Currency.optional(),
  duration: z.enum(["once", "repeating", "forever"]),
  duration_periods: z.int().min(1).max(1200).optional(),
  max_redemptions: z.int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  valid_from: Instant.optional(),
  redeem_by: Instant.optional(),
  plan_ids: z.array(Ref).max(100).optional(),
}).strict().openapi("CreateCoupon");
const CouponSchema = z.object({
  id: z.string(),
  code: z.string(),
  name: z.string().nullable(),
  percent_off: z.number().nullable(),
  amount_off: z.int().nullable(),
  currency: z.string().nullable(),
  duration: z.enum(["once", "repeating", "forever"]),
  duration_periods: z.int().nullable(),
  max_redemptions: z.int().nullable(),
  times_redeemed: z.int(),
  valid_from: z.string().nullable(),
  redeem_by: z.string().nullable(),
  plan_ids: z.array(z.string()).nullable(),
  created_at: z.string(),
}).openapi("Coupon");
const DiscountSchema = z.object({
  id: z.string(),
  subscription_id: z.string(),
  coupon: CouponSchema,
  redeemed_at: z.string(),
  first_period_index: z.int(),
}).openapi("Discount");

const TaxRateBody = z.object({
  display_name: z.string().min(1).max(100),
  jurisdiction: z.string().min(1).max(100).optional().openapi({ example: "DE" }),
  percentage: z.number().min(0).max(100).openapi({ description: "At most 2 decimals", example: 19 }),
  inclusive: z.boolean(),
}).strict().openapi("CreateTaxRate");
const TaxRateSchema = z.object({
  id: z.string(),
  display_name: z.string(),
  jurisdiction: z.string().nullable(),
  percentage: z.number(),
  percentage_bp: z.int(),
  inclusive: z.boolean(),
  created_at: z.string(),
}).openapi("TaxRate");

const GrantBody = z.object({
  reference: Key.openapi({ description: "Idempotency key of the grant" }),
  kind: z.enum(["monetary", "units"]),
  amount: Amount,
  currency: Currency.optional(),
  feature: Key.optional(),
  priority: z.int().min(0).max(1000).optional(),
  effective_at: Instant.optional(),
  expires_at: Instant.optional(),
  source: z.enum(["purchased", "promotional"]).optional(),
}).strict().openapi("CreateCreditGrant");
const GrantSchema = z.object({
  id: z.string(),
  customer_id: z.string(),
  kind: z.enum(["monetary", "units"]),
  currency: z.string().nullable(),
  feature: z.string().nullable(),
  amount: z.int(),
  remaining: z.int(),
  priority: z.int(),
  effective_at: z.string(),
  expires_at: z.string().nullable(),
  source: z.enum(["purchased", "promotional"]),
  reference: z.string(),
  entry_id: z.string().nullable(),
  created_at: z.string(),
}).openapi("CreditGrant");

const CreditNoteBody = z.object({
  amount: Amount.min(1),
  reason: z.string().min(1).max(500).optional(),
  reference: Key.openapi({ description: "Idempotency key of the credit note" }),
}).strict().openapi("CreateCreditNote");
const CreditNoteSchema = z.object({
  id: z.string(),
  number: z.string(),
  invoice_id: z.string(),
  amount: z.int(),
  tax: z.int(),
  reason: z.string().nullable(),
  reference: z.string().nullable(),
  entry_id: z.string(),
  created_at: z.string(),
}).openapi("CreditNote");

const UsageQuery = z.object({
  customer_id: Ref,
  feature: Key,
  from: Instant,
  to: Instant,
  group_by: z.enum(["day", "none"]).optional(),
});
const UsageResult = z.object({
  customer_id: z.string(),
  feature: z.string(),
  aggregation: z.string(),
  from: z.string(),
  to: z.string(),
  group_by: z.enum(["day", "none"]),
  value: z.int(),
  data: z.array(z.object({ start: z.string(), end: z.string(), value: z.int() })),
}).openapi("UsageAggregate");

const CycleReport = z.object({
  subscriptions_scanned: z.int(),
  plan_changes_applied: z.int(),
  invoices_generated: z.int(),
  invoices_finalized: z.int(),
  failures: z.array(z.object({ subscription_id: z.string(), error: z.string() })),
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
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/subscriptions/{id}/discount",
      tags: ["subscriptions"],
      summary: "Apply a coupon (by code or id) to a subscription",
      security: secured,
      request: { params: IdParam, body: body(z.object({ coupon: Ref }).strict().openapi("ApplyDiscount")) },
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
      request: { params: IdParam, body: body(z.object({ tax_rate_id: Ref.nullable() }).strict().openapi("SetCustomerTaxRate")) },
      responses: {
        200: json(z.object({ customer_id: z.string(), tax_rate: TaxRateSchema.nullable() }).openapi("CustomerTaxRate")),
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
      responses: { 200: json(z.object({ data: z.array(GrantSchema) }).openapi("CreditGrantList")), ...errors },
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
      responses: { 200: json(z.object({ data: z.array(CreditNoteSchema) }).openapi("CreditNoteList")), ...errors },
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
