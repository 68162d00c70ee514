/**
 * Request and response schemas of tax rates (`/v1/tax_rates`) and a customer's tax rate.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { Ref } from "../http/schemas.ts";

/** Body of `POST /v1/tax_rates`. */
export const CreateTaxRateBody: z.ZodObject<
  {
    display_name: z.ZodString;
    jurisdiction: z.ZodOptional<z.ZodString>;
    percentage: z.ZodNumber;
    inclusive: z.ZodBoolean;
  },
  z.core.$strict
> = z.object({
  display_name: z.string().min(1).max(100).openapi({ description: "Name on invoices", example: "VAT" }),
  jurisdiction: z.string().min(1).max(100).optional().openapi({
    description: "Where the rate applies",
    example: "DE",
  }),
  percentage: z.number().min(0).max(100).openapi({ description: "At most 2 decimals", example: 19 }),
  inclusive: z.boolean().openapi({
    description: "Prices already include the tax (it is carved out, not added)",
    example: false,
  }),
}).strict().openapi("CreateTaxRate");
/** A tax rate. */
export const TaxRateSchema: z.ZodObject<
  {
    id: z.ZodString;
    display_name: z.ZodString;
    jurisdiction: z.ZodNullable<z.ZodString>;
    percentage: z.ZodNumber;
    percentage_bp: z.ZodInt;
    inclusive: z.ZodBoolean;
    created_at: z.ZodString;
  },
  z.core.$strip
> = z.object({
  id: z.string().openapi({
    description: "TypeID of the tax rate",
    example: "txr_01jd0000000000000000000000",
  }),
  display_name: z.string().openapi({ description: "Name on invoices", example: "VAT" }),
  jurisdiction: z.string().nullable().openapi({ description: "Where the rate applies", example: "DE" }),
  percentage: z.number().openapi({ description: "Rate in percent", example: 19 }),
  percentage_bp: z.int().openapi({ description: "Rate in basis points (1900 = 19 %)", example: 1900 }),
  inclusive: z.boolean().openapi({ description: "Prices already include the tax", example: false }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("TaxRate", { description: "A tax rate applied to invoices of customers that have it" });
/** Body of `PUT /v1/customers/{id}/tax_rate`. */
export const SetCustomerTaxRateBody: z.ZodObject<
  { tax_rate_id: z.ZodNullable<z.ZodString> },
  z.core.$strict
> = z.object({
  tax_rate_id: Ref.nullable().openapi({
    description: "txr_ id; null removes the customer's rate",
    example: "txr_01jd0000000000000000000000",
  }),
}).strict().openapi("SetCustomerTaxRate");
/** The tax rate a customer is billed with. */
export const CustomerTaxRateSchema: z.ZodObject<
  { customer_id: z.ZodString; tax_rate: z.ZodNullable<typeof TaxRateSchema> },
  z.core.$strip
> = z.object({
  customer_id: z.string().openapi({ description: "cus_ id", example: "cus_01jd0000000000000000000000" }),
  tax_rate: TaxRateSchema.nullable(),
}).openapi("CustomerTaxRate");
/** The tax rates a customer is billed with (`PUT /v1/customers/{id}/tax_rates`). */
export const CustomerTaxRatesSchema: z.ZodObject<
  { customer_id: z.ZodString; tax_rates: z.ZodArray<typeof TaxRateSchema> },
  z.core.$strip
> = z.object({
  customer_id: z.string().openapi({ description: "cus_ id", example: "cus_01jd0000000000000000000000" }),
  tax_rates: z.array(TaxRateSchema).openapi({
    description: "The customer's tax rates, in order",
    example: [],
  }),
}).openapi("CustomerTaxRates");
