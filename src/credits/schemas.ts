/**
 * Request and response schemas of prepaid credit grants (`/v1/customers/{id}/credit_grants`).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { Amount, Currency, Instant, Key, listOf } from "../http/schemas.ts";

/** Body of `POST /v1/customers/{id}/credit_grants`. */
export const CreateCreditGrantBody: z.ZodObject<
  {
    reference: z.ZodString;
    kind: z.ZodEnum<{ monetary: "monetary"; units: "units" }>;
    amount: z.ZodInt;
    currency: z.ZodOptional<z.ZodString>;
    feature: z.ZodOptional<z.ZodString>;
    priority: z.ZodOptional<z.ZodInt>;
    effective_at: z.ZodOptional<z.ZodISODateTime>;
    expires_at: z.ZodOptional<z.ZodISODateTime>;
    source: z.ZodOptional<z.ZodEnum<{ purchased: "purchased"; promotional: "promotional" }>>;
  },
  z.core.$strict
> = z.object({
  reference: Key.openapi({ description: "Idempotency key of the grant", example: "grant_2026_11_welcome" }),
  kind: z.enum(["monetary", "units"]).openapi({
    description: "monetary: money off invoices; units: free units of a feature",
    example: "monetary",
  }),
  amount: Amount.openapi({
    description: "Minor units of currency (monetary) or units of feature",
    example: 2000,
  }),
  currency: Currency.optional().openapi({ description: "Currency of a monetary grant", example: "USD" }),
  feature: Key.optional().openapi({ description: "Feature of a units grant", example: "api_calls" }),
  priority: z.int().min(0).max(1000).optional().openapi({
    description: "Higher spends first (default 0)",
    example: 0,
  }),
  effective_at: Instant.optional().openapi({
    description: "Usable from (default now)",
    example: "2026-11-01T00:00:00Z",
  }),
  expires_at: Instant.optional().openapi({
    description: "Unusable from; absent = never expires",
    example: "2027-11-01T00:00:00Z",
  }),
  source: z.enum(["purchased", "promotional"]).optional().openapi({
    description: "Why it was granted (default promotional)",
    example: "promotional",
  }),
}).strict().openapi("CreateCreditGrant");
/** A prepaid credit grant with its remaining balance. */
export const CreditGrantSchema: z.ZodObject<
  {
    id: z.ZodString;
    customer_id: z.ZodString;
    kind: z.ZodEnum<{ monetary: "monetary"; units: "units" }>;
    currency: z.ZodNullable<z.ZodString>;
    feature: z.ZodNullable<z.ZodString>;
    amount: z.ZodInt;
    remaining: z.ZodInt;
    priority: z.ZodInt;
    effective_at: z.ZodString;
    expires_at: z.ZodNullable<z.ZodString>;
    source: z.ZodEnum<{ purchased: "purchased"; promotional: "promotional" }>;
    reference: z.ZodString;
    entry_id: z.ZodNullable<z.ZodString>;
    created_at: z.ZodString;
  },
  z.core.$strip
> = z.object({
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
  source: z.enum(["purchased", "promotional"]).openapi({
    description: "Why it was granted",
    example: "promotional",
  }),
  reference: z.string().openapi({ description: "Your idempotency key", example: "grant_2026_11_welcome" }),
  entry_id: z.string().nullable().openapi({
    description: "Ledger entry that booked it (monetary)",
    example: "ent_01jd0000000000000000000000",
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("CreditGrant");
/** A page of a customer's credit grants (`GET /v1/customers/{id}/credit_grants`). */
export const CreditGrantList: z.ZodObject<
  { data: z.ZodArray<typeof CreditGrantSchema>; next_cursor: z.ZodNullable<z.ZodString> },
  z.core.$strip
> = listOf(CreditGrantSchema, "CreditGrantList", "credit grants");
