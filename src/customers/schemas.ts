/**
 * Request and response schemas of customers (`/v1/customers`).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { Key, listOf, TaxRateIds, typeId } from "../http/schemas.ts";

/** Body of `POST /v1/customers`. */
export const CreateCustomerBody: z.ZodObject<
  {
    external_id: z.ZodString;
    name: z.ZodOptional<z.ZodNullable<z.ZodString>>;
    email: z.ZodOptional<z.ZodNullable<z.ZodEmail>>;
    test_clock: z.ZodOptional<z.ZodNullable<z.ZodString>>;
    tax_rate_ids: z.ZodOptional<z.ZodArray<z.ZodString>>;
  },
  z.core.$strict
> = z.object({
  external_id: Key.openapi({
    description: "Your id of the customer, unique per app; customer_id fields accept it",
    example: "user_42",
  }),
  name: z.string().min(1).max(200).nullable().optional().openapi({
    description: "Display name",
    example: "Ada Lovelace",
  }),
  email: z.email().max(320).nullable().optional().openapi({
    description: "Billing email",
    example: "ada@example.com",
  }),
  test_clock: z.string().min(1).max(64).nullable().optional().openapi({
    description: "clock_ id of a test clock to bind the customer to, for good: its subscriptions, usage, " +
      "entitlements and invoices then run on the clock's frozen time, moved only by POST /v1/test_clocks/{id}/advance",
    example: "clock_01jd0000000000000000000000",
  }),
  tax_rate_ids: TaxRateIds.optional(),
}).strict().openapi("CreateCustomer");
/** A customer. */
export const CustomerSchema: z.ZodObject<
  {
    id: z.ZodString;
    external_id: z.ZodString;
    name: z.ZodNullable<z.ZodString>;
    email: z.ZodNullable<z.ZodString>;
    test_clock: z.ZodNullable<z.ZodString>;
    tax_rate_ids: z.ZodArray<z.ZodString>;
    created_at: z.ZodString;
  },
  z.core.$strip
> = z.object({
  id: typeId("cus", "cus_01jd0000000000000000000000"),
  external_id: z.string().openapi({ description: "Your id of the customer", example: "user_42" }),
  name: z.string().nullable().openapi({ description: "Display name", example: "Ada Lovelace" }),
  email: z.string().nullable().openapi({ description: "Billing email", example: "ada@example.com" }),
  test_clock: z.string().nullable().openapi({
    description: "clock_ id of the test clock the customer lives on; null: the wall clock",
    example: null,
  }),
  tax_rate_ids: z.array(z.string()).openapi({
    description: "The customer's tax rates (txr_ ids, in order); a subscription's own rates replace them",
    example: [],
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("Customer");
/** A page of customers (`GET /v1/customers`). */
export const CustomerList: z.ZodObject<
  { data: z.ZodArray<typeof CustomerSchema>; next_cursor: z.ZodNullable<z.ZodString> },
  z.core.$strip
> = listOf(CustomerSchema, "CustomerList", "customers");
/** Body of `PUT /v1/customers/{id}/tax_rates`. */
export const SetCustomerTaxRatesBody: z.ZodObject<{ tax_rate_ids: z.ZodArray<z.ZodString> }, z.core.$strict> =
  z
    .object({ tax_rate_ids: TaxRateIds }).strict().openapi("SetCustomerTaxRates");
