/**
 * Request and response schemas of invoices (`/v1/invoices`) and their credit notes.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { Amount, Instant, Key, listOf, SafeInt, typeId } from "../http/schemas.ts";

/** Body of `POST /v1/invoices`. */
export const GenerateInvoiceBody: z.ZodObject<
  {
    subscription_id: z.ZodString;
    period_start: z.ZodOptional<z.ZodISODateTime>;
    period_end: z.ZodOptional<z.ZodISODateTime>;
  },
  z.core.$strict
> = z.object({
  subscription_id: z.string().min(1).max(128).openapi({
    description: "sub_ id",
    example: "sub_01jd0000000000000000000000",
  }),
  period_start: Instant.optional().openapi({
    description:
      "Start of the period to bill (default: the period that contains now, billed with usage up to now; completed periods are invoiced by the billing cycle on their own)",
  }),
  period_end: Instant.optional().openapi({ description: "End of the period to bill; give both or neither" }),
}).strict().refine((b) => (b.period_start === undefined) === (b.period_end === undefined), {
  message: "Give both period_start and period_end, or neither",
  path: ["period_end"],
}).openapi("GenerateInvoice");
/** Body of `POST /v1/invoices/{id}/pay`. */
export const PayInvoiceBody: z.ZodObject<
  { amount: z.ZodOptional<z.ZodInt>; reference: z.ZodOptional<z.ZodString> },
  z.core.$strict
> = z.object({
  amount: SafeInt.min(1).optional().openapi({
    description: "Minor units paid (default: the amount due)",
    example: 7400,
  }),
  reference: Key.optional().openapi({
    description: "Your payment reference; makes retries safe",
    example: "pay_2026_11_0042",
  }),
}).strict().openapi("PayInvoice");
/** An invoice with its lines, totals and payment state. */
export const InvoiceSchema: z.ZodObject<
  {
    id: z.ZodString;
    number: z.ZodNullable<z.ZodString>;
    status: z.ZodEnum<
      { void: "void"; draft: "draft"; open: "open"; paid: "paid"; uncollectible: "uncollectible" }
    >;
    customer_id: z.ZodString;
    subscription_id: z.ZodString;
    currency: z.ZodString;
    lines: z.ZodArray<
      z.ZodObject<
        {
          kind: z.ZodEnum<{ base: "base"; usage: "usage"; proration: "proration" }>;
          description: z.ZodString;
          feature: z.ZodNullable<z.ZodString>;
          quantity: z.ZodUnion<readonly [z.ZodInt, z.ZodString]>;
          unit_amount: z.ZodNullable<z.ZodInt>;
          unit_amount_decimal: z.ZodString;
          amount: z.ZodInt;
          tier: z.ZodNullable<z.ZodInt>;
          plan_id: z.ZodNullable<z.ZodString>;
          dimensions: z.ZodNullable<z.ZodRecord<z.ZodString, z.ZodNullable<z.ZodString>>>;
          discount_amount: z.ZodInt;
          tax_amount: z.ZodInt;
        },
        z.core.$strip
      >
    >;
    subtotal: z.ZodInt;
    discount: z.ZodInt;
    tax: z.ZodInt;
    total: z.ZodInt;
    credits_applied: z.ZodInt;
    credited: z.ZodInt;
    amount_paid: z.ZodInt;
    amount_due: z.ZodInt;
    coupon_id: z.ZodNullable<z.ZodString>;
    tax_rate: z.ZodNullable<
      z.ZodObject<{ id: z.ZodString; percentage_bp: z.ZodInt; inclusive: z.ZodBoolean }, z.core.$strip>
    >;
    taxes: z.ZodArray<
      z.ZodObject<
        {
          tax_rate_id: z.ZodNullable<z.ZodString>;
          percentage_bp: z.ZodInt;
          inclusive: z.ZodBoolean;
          amount: z.ZodInt;
        },
        z.core.$strip
      >
    >;
    period_start: z.ZodString;
    period_end: z.ZodString;
    due_at: z.ZodNullable<z.ZodString>;
    finalized_at: z.ZodNullable<z.ZodString>;
    paid_at: z.ZodNullable<z.ZodString>;
    voided_at: z.ZodNullable<z.ZodString>;
    uncollectible_at: z.ZodNullable<z.ZodString>;
    created_at: z.ZodString;
  },
  z.core.$strip
> = z.object({
  id: typeId("inv", "inv_01jd0000000000000000000000"),
  number: z.string().nullable().openapi({
    description: "Sequential number per app, set when finalized",
    example: "INV-000001",
  }),
  status: z.enum(["draft", "open", "paid", "void", "uncollectible"]).openapi({
    description: "draft (editable) → open (finalized) → paid; or void / uncollectible",
    example: "open",
  }),
  customer_id: z.string().openapi({ description: "cus_ id", example: "cus_01jd0000000000000000000000" }),
  subscription_id: z.string().openapi({ description: "sub_ id", example: "sub_01jd0000000000000000000000" }),
  currency: z.string().openapi({ description: "ISO 4217 currency of every amount", example: "USD" }),
  lines: z.array(z.object({
    kind: z.enum(["base", "usage", "proration"]).openapi({
      description: "base fee, usage of a feature, or a proration",
      example: "usage",
    }),
    description: z.string().openapi({ description: "Line text", example: "API calls 1001–5000 × 1" }),
    feature: z.string().nullable().openapi({
      description: "Feature key of a usage line",
      example: "api_calls",
    }),
    quantity: z.union([z.int(), z.string()]).openapi({
      description: "Units billed on this line: a number when whole, else the exact decimal as a string",
      example: 4000,
    }),
    unit_amount: z.int().nullable().openapi({
      description:
        "Price per unit in minor units (negative for proration credits); null when the price has a fraction (see unit_amount_decimal)",
      example: 1,
    }),
    unit_amount_decimal: z.string().openapi({
      description: "The exact price per unit as a decimal string of minor units",
      example: "0.000015",
    }),
    amount: z.int().openapi({
      description: "Line amount in minor units (before discount and tax)",
      example: 4000,
    }),
    tier: z.int().nullable().openapi({ description: "1-based tier of a tiered price", example: 2 }),
    plan_id: z.string().nullable().openapi({
      description: "pln_ id the line is priced from",
      example: "pln_01jd0000000000000000000000",
    }),
    dimensions: z.record(z.string(), z.string().nullable()).nullable().openapi({
      description:
        "Dimension values of the combination a usage line prices (null where events lack the property); null for other lines",
      example: { model: "m-large", token_type: "output" },
    }),
    discount_amount: z.int().openapi({
      description: "Discount allocated to this line in minor units",
      example: 0,
    }),
    tax_amount: z.int().openapi({ description: "Tax allocated to this line in minor units", example: 0 }),
  })).openapi({
    description: "Invoice lines",
    example: [{
      kind: "base",
      description: "Pro (monthly)",
      feature: null,
      quantity: 1,
      unit_amount: 4900,
      unit_amount_decimal: "4900",
      amount: 4900,
      tier: null,
      plan_id: "pln_01jd0000000000000000000000",
      dimensions: null,
      discount_amount: 0,
      tax_amount: 0,
    }],
  }),
  subtotal: z.int().openapi({ description: "Sum of line amounts in minor units", example: 7400 }),
  discount: z.int().openapi({ description: "Discounts in minor units", example: 0 }),
  tax: z.int().openapi({ description: "Tax in minor units", example: 0 }),
  total: z.int().openapi({
    description: "subtotal − discount + exclusive tax, in minor units",
    example: 7400,
  }),
  credits_applied: z.int().openapi({ description: "Prepaid monetary credits applied", example: 0 }),
  credited: z.int().openapi({ description: "Sum of credit notes", example: 0 }),
  amount_paid: z.int().openapi({ description: "Paid so far in minor units", example: 0 }),
  amount_due: z.int().openapi({ description: "Still owed in minor units", example: 7400 }),
  coupon_id: z.string().nullable().openapi({ description: "Coupon applied, if any", example: null }),
  tax_rate: z.object({
    id: z.string().openapi({ description: "Tax rate id", example: "txr_01jd0000000000000000000000" }),
    percentage_bp: z.int().openapi({ description: "Rate in basis points (1900 = 19 %)", example: 1900 }),
    inclusive: z.boolean().openapi({ description: "Prices already include the tax", example: false }),
  }).nullable().openapi({
    description: "The first tax rate applied, if any (the single-rate field; `taxes` lists every rate)",
    example: null,
  }),
  taxes: z.array(z.object({
    tax_rate_id: z.string().nullable().openapi({
      description: "Tax rate id",
      example: "txr_01jd0000000000000000000000",
    }),
    percentage_bp: z.int().openapi({ description: "Rate in basis points (1900 = 19 %)", example: 1900 }),
    inclusive: z.boolean().openapi({ description: "Prices already include the tax", example: false }),
    amount: z.int().openapi({
      description: "Tax of this rate in minor units: per line and rate rounded half up, summed",
      example: 1900,
    }),
  })).openapi({
    description: "Tax of each rate applied, in order; their amounts sum to `tax`",
    example: [{
      tax_rate_id: "txr_01jd0000000000000000000000",
      percentage_bp: 1900,
      inclusive: false,
      amount: 1900,
    }],
  }),
  period_start: z.string().openapi({
    description: "Start of the billed period (inclusive)",
    example: "2026-11-01T00:00:00.000Z",
  }),
  period_end: z.string().openapi({
    description: "End of the billed period (exclusive)",
    example: "2026-12-01T00:00:00.000Z",
  }),
  due_at: z.string().nullable().openapi({
    description: "Payment due date",
    example: "2026-12-15T00:00:00.000Z",
  }),
  finalized_at: z.string().nullable().openapi({
    description: "When it became open",
    example: "2026-12-01T01:00:00.000Z",
  }),
  paid_at: z.string().nullable().openapi({ description: "When fully paid", example: null }),
  voided_at: z.string().nullable().openapi({ description: "When voided", example: null }),
  uncollectible_at: z.string().nullable().openapi({
    description: "When marked uncollectible",
    example: null,
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-12-01T01:00:00.000Z",
  }),
}).openapi("Invoice", {
  description:
    "An invoice of one subscription period: lines, totals and payment state; amounts in minor units",
});
/** The invoice a period would produce now (`GET /v1/invoices/upcoming`): not stored, so no id. */
export const UpcomingInvoiceSchema: z.ZodObject<
  Omit<(typeof InvoiceSchema)["shape"], "id"> & { id: z.ZodNull },
  z.core.$strip
> = InvoiceSchema.extend({
  id: z.null().openapi({ description: "Always null: a preview is not stored", example: null }),
}).openapi("UpcomingInvoice", {
  description:
    "The invoice the subscription's current period would produce now: lines, subtotal, discount, tax per rate, " +
    "credits and total, computed as POST /v1/invoices computes them, without storing or spending anything",
});
/** Query of `GET /v1/invoices/upcoming`. */
export const UpcomingInvoiceQuery: z.ZodObject<{ subscription_id: z.ZodString }, z.core.$strict> = z.object({
  subscription_id: z.string().min(1).max(128).openapi({
    description: "The subscription whose current period is previewed (sub_ id)",
    example: "sub_01jd0000000000000000000000",
  }),
}).strict();
/** A page of invoices (`GET /v1/invoices`). */
export const InvoiceList: z.ZodObject<
  { data: z.ZodArray<typeof InvoiceSchema>; next_cursor: z.ZodNullable<z.ZodString> },
  z.core.$strip
> = listOf(InvoiceSchema, "InvoiceList", "invoices");

/** Body of `POST /v1/invoices/{id}/credit_notes`. */
export const CreateCreditNoteBody: z.ZodObject<
  { amount: z.ZodInt; reason: z.ZodOptional<z.ZodString>; reference: z.ZodString },
  z.core.$strict
> = z.object({
  amount: Amount.min(1).openapi({
    description: "Minor units credited (tax included on tax-inclusive invoices)",
    example: 1000,
  }),
  reason: z.string().min(1).max(500).optional().openapi({
    description: "Why",
    example: "Service outage on 2026-11-12",
  }),
  reference: Key.openapi({ description: "Idempotency key of the credit note", example: "cn_outage_1112" }),
}).strict().openapi("CreateCreditNote");
/** A credit note against an invoice. */
export const CreditNoteSchema: z.ZodObject<
  {
    id: z.ZodString;
    number: z.ZodString;
    invoice_id: z.ZodString;
    amount: z.ZodInt;
    tax: z.ZodInt;
    reason: z.ZodNullable<z.ZodString>;
    reference: z.ZodNullable<z.ZodString>;
    entry_id: z.ZodString;
    created_at: z.ZodString;
  },
  z.core.$strip
> = z.object({
  id: z.string().openapi({
    description: "TypeID of the credit note",
    example: "cn_01jd0000000000000000000000",
  }),
  number: z.string().openapi({ description: "Sequential number per app", example: "CN-000001" }),
  invoice_id: z.string().openapi({
    description: "Invoice credited",
    example: "inv_01jd0000000000000000000000",
  }),
  amount: z.int().openapi({ description: "Minor units credited", example: 1000 }),
  tax: z.int().openapi({ description: "Tax part of amount in minor units", example: 160 }),
  reason: z.string().nullable().openapi({ description: "Why", example: "Service outage on 2026-11-12" }),
  reference: z.string().nullable().openapi({
    description: "Your idempotency key",
    example: "cn_outage_1112",
  }),
  entry_id: z.string().openapi({
    description: "Ledger entry that booked it",
    example: "ent_01jd0000000000000000000000",
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("CreditNote", { description: "A credit note reducing what an open or paid invoice asks for" });
/** A credit note just issued, with the invoice it reduced. */
export const CreditNoteIssued: z.ZodObject<
  { credit_note: typeof CreditNoteSchema; invoice: typeof InvoiceSchema },
  z.core.$strip
> = z.object({ credit_note: CreditNoteSchema, invoice: InvoiceSchema }).openapi(
  "CreditNoteIssued",
);
/** A page of an invoice's credit notes (`GET /v1/invoices/{id}/credit_notes`). */
export const CreditNoteList: z.ZodObject<
  { data: z.ZodArray<typeof CreditNoteSchema>; next_cursor: z.ZodNullable<z.ZodString> },
  z.core.$strip
> = listOf(CreditNoteSchema, "CreditNoteList", "credit notes");
