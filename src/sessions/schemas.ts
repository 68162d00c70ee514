/**
 * Request and response schemas of customer sessions (`POST /v1/customer_sessions`).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { Key, Ref } from "../http/schemas.ts";

/** Longest life of a customer session, in seconds (one hour). */
export const MAX_SESSION_SECONDS = 3600;
/** Life of a customer session when the request does not say, in seconds (15 minutes). */
export const DEFAULT_SESSION_SECONDS = 900;
/** Most features one session may be limited to. */
export const MAX_SESSION_FEATURES = 64;

/** Body of `POST /v1/customer_sessions`. */
export const CreateSessionBody: z.ZodObject<
  {
    customer_id: z.ZodString;
    expires_in_seconds: z.ZodOptional<z.ZodInt>;
    features: z.ZodOptional<z.ZodArray<z.ZodString>>;
  },
  z.core.$strict
> = z.object({
  customer_id: Ref.openapi({
    description: "The signed-in customer the browser may act for: cus_ id or external id",
    example: "user_42",
  }),
  expires_in_seconds: z.int().min(1).max(MAX_SESSION_SECONDS).optional().openapi({
    description:
      `Seconds the token stays valid (1–${MAX_SESSION_SECONDS}, default ${DEFAULT_SESSION_SECONDS})`,
    example: DEFAULT_SESSION_SECONDS,
  }),
  features: z.array(Key).min(1).max(MAX_SESSION_FEATURES).optional().openapi({
    description: "Features the browser may check and record; absent = every feature",
    example: ["api_calls"],
  }),
}).strict().openapi("CreateCustomerSession");

/** A customer session as minted. */
export const CustomerSessionSchema: z.ZodObject<
  {
    token: z.ZodString;
    expires_at: z.ZodString;
    customer_id: z.ZodString;
    external_id: z.ZodString;
    features: z.ZodNullable<z.ZodArray<z.ZodString>>;
  },
  z.core.$strip
> = z.object({
  token: z.string().openapi({
    description: "Send it from the browser as `Customer-Session: <token>` next to the publishable key",
    example: "cs_eyJ2IjoxfQ.c2lnbmF0dXJl",
  }),
  expires_at: z.string().openapi({
    description: "When the token stops working (ISO 8601 UTC)",
    example: "2026-11-01T00:15:00.000Z",
  }),
  customer_id: z.string().openapi({
    description: "The customer's cus_ id",
    example: "cus_01jd0000000000000000000000",
  }),
  external_id: z.string().openapi({ description: "The customer's external id", example: "user_42" }),
  features: z.array(z.string()).nullable().openapi({
    description: "Features the token is limited to; null = every feature",
    example: ["api_calls"],
  }),
}).openapi("CustomerSession");
