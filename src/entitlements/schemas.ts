/**
 * Request and response schemas of the entitlement check (`POST /v1/entitlements/check`).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { boundedJsonObject, decimalQuantity, Key, PROPERTIES_BOUNDS, quantityOut } from "../http/schemas.ts";
import { parseQuantity } from "../domain/quantity.ts";

/** Body of `POST /v1/entitlements/check`. */
export const CheckBody: z.ZodObject<
  {
    customer_id: z.ZodString;
    feature: z.ZodString;
    consume: z.ZodOptional<z.ZodUnion<readonly [z.ZodNumber, z.ZodString]>>;
    idempotency_key: z.ZodOptional<z.ZodString>;
    properties: z.ZodOptional<z.ZodRecord<z.ZodString, z.ZodUnknown>>;
  },
  z.core.$strict
> = z.object({
  customer_id: z.string().min(1).max(128).openapi({
    description: "cus_ id or external id",
    example: "user_42",
  }),
  feature: Key.openapi({ description: "Feature key", example: "api_calls" }),
  consume: decimalQuantity(
    "Units to consume atomically if allowed (hard limit: only when used + consume ≤ limit), greater than 0; " +
      "recorded as a usage event whose id is idempotency_key. For a feature drawing from a credit system, " +
      "consume × credit_cost credits are deducted from the pool instead",
    1,
  ).refine((v) => {
    try {
      return parseQuantity(v) > 0n;
    } catch {
      return true; // the format issue is already reported
    }
  }, "Must be greater than 0").optional(),
  idempotency_key: Key.optional().openapi({
    description:
      "Required with consume: the id of the usage event it records; a retry with the same key consumes once",
    example: "chk_3f9a",
  }),
  properties: boundedJsonObject(
    PROPERTIES_BOUNDS,
    "Properties of the consumption's usage event; they pick a credit cost by dimension",
    { model: "m-large" },
  ).optional(),
}).strict().refine((b) => b.consume === undefined || b.idempotency_key !== undefined, {
  message: "Required when consume is given",
  path: ["idempotency_key"],
}).openapi("EntitlementCheck");
/** The answer of an entitlement check. */
export const DecisionSchema: z.ZodObject<
  {
    allowed: z.ZodBoolean;
    feature: z.ZodString;
    type: z.ZodNullable<
      z.ZodEnum<{ boolean: "boolean"; metered: "metered"; seat: "seat"; credit_system: "credit_system" }>
    >;
    used: z.ZodUnion<readonly [z.ZodNumber, z.ZodString]>;
    limit: z.ZodNullable<z.ZodUnion<readonly [z.ZodNumber, z.ZodString]>>;
    remaining: z.ZodNullable<z.ZodUnion<readonly [z.ZodNumber, z.ZodString]>>;
    soft_limit: z.ZodBoolean;
    reason: z.ZodEnum<
      {
        no_active_subscription: "no_active_subscription";
        feature_not_in_plan: "feature_not_in_plan";
        included: "included";
        unlimited: "unlimited";
        within_limit: "within_limit";
        limit_reached: "limit_reached";
        soft_limit_exceeded: "soft_limit_exceeded";
      }
    >;
    resets_at: z.ZodNullable<z.ZodString>;
    consumed: z.ZodUnion<readonly [z.ZodNumber, z.ZodString]>;
    over_soft_limit: z.ZodBoolean;
    credit_system: z.ZodOptional<z.ZodString>;
  },
  z.core.$strip
> = z.object({
  allowed: z.boolean().openapi({
    description: "Whether the customer may use the feature now",
    example: true,
  }),
  feature: z.string().openapi({ description: "The feature key asked about", example: "api_calls" }),
  type: z.enum(["metered", "boolean", "seat", "credit_system"]).nullable().openapi({
    description:
      "Feature type (the credit system's, credit_system, for a feature drawing credits); null when not in the plan",
    example: "metered",
  }),
  used: quantityOut(
    "Usage in the current period (after this call's consumption); credits of the pool for a feature drawing credits",
    2500,
  ),
  limit: quantityOut(
    "Units per period (credits of the pool for a feature drawing credits); null = unlimited",
    100000,
  )
    .nullable(),
  remaining: quantityOut(
    "limit − used, never negative (the pool's balance for a feature drawing credits); null = unlimited",
    97500,
  )
    .nullable(),
  soft_limit: z.boolean().openapi({
    description: "The limit is soft (usage past it is allowed and flagged)",
    example: false,
  }),
  reason: z.enum([
    "no_active_subscription",
    "feature_not_in_plan",
    "included",
    "unlimited",
    "within_limit",
    "limit_reached",
    "soft_limit_exceeded",
  ]).openapi({ description: "Why the answer is what it is", example: "within_limit" }),
  resets_at: z.string().nullable().openapi({
    description: "End of the current period, when usage resets",
    example: "2026-12-01T00:00:00.000Z",
  }),
  consumed: quantityOut(
    "Units consumed by this call (credits for a feature drawing credits; 0 for a plain check or a denial)",
    0,
  ),
  over_soft_limit: z.boolean().openapi({
    description: "A soft limit is exceeded (after this call's consumption)",
    example: false,
  }),
  credit_system: z.string().optional().openapi({
    description: "Key of the credit system the feature draws from; present only then",
    example: "credits",
  }),
}).openapi("EntitlementDecision");
