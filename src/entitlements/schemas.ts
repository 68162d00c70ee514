/**
 * Request and response schemas of the entitlement check (`POST /v1/entitlements/check`).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { Key, SafeInt } from "../http/schemas.ts";

/** Body of `POST /v1/entitlements/check`. */
export const CheckBody: z.ZodObject<
  {
    customer_id: z.ZodString;
    feature: z.ZodString;
    consume: z.ZodOptional<z.ZodInt>;
    idempotency_key: z.ZodOptional<z.ZodString>;
  },
  z.core.$strict
> = z.object({
  customer_id: z.string().min(1).max(128).openapi({
    description: "cus_ id or external id",
    example: "user_42",
  }),
  feature: Key.openapi({ description: "Feature key", example: "api_calls" }),
  consume: SafeInt.min(1).optional().openapi({
    description: "Units to consume atomically if allowed (hard limit: only when used + consume ≤ limit); " +
      "recorded as a usage event whose id is idempotency_key",
    example: 1,
  }),
  idempotency_key: Key.optional().openapi({
    description:
      "Required with consume: the id of the usage event it records; a retry with the same key consumes once",
    example: "chk_3f9a",
  }),
}).strict().refine((b) => b.consume === undefined || b.idempotency_key !== undefined, {
  message: "Required when consume is given",
  path: ["idempotency_key"],
}).openapi("EntitlementCheck");
/** The answer of an entitlement check. */
export const DecisionSchema: z.ZodObject<
  {
    allowed: z.ZodBoolean;
    feature: z.ZodString;
    type: z.ZodNullable<z.ZodEnum<{ boolean: "boolean"; metered: "metered"; seat: "seat" }>>;
    used: z.ZodInt;
    limit: z.ZodNullable<z.ZodInt>;
    remaining: z.ZodNullable<z.ZodInt>;
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
    consumed: z.ZodInt;
    over_soft_limit: z.ZodBoolean;
  },
  z.core.$strip
> = z.object({
  allowed: z.boolean().openapi({
    description: "Whether the customer may use the feature now",
    example: true,
  }),
  feature: z.string().openapi({ description: "The feature key asked about", example: "api_calls" }),
  type: z.enum(["metered", "boolean", "seat"]).nullable().openapi({
    description: "Feature type; null when not in the plan",
    example: "metered",
  }),
  used: z.int().openapi({
    description: "Usage in the current period (after this call's consumption)",
    example: 2500,
  }),
  limit: z.int().nullable().openapi({ description: "Units per period; null = unlimited", example: 100000 }),
  remaining: z.int().nullable().openapi({
    description: "limit − used, never negative; null = unlimited",
    example: 97500,
  }),
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
  consumed: z.int().openapi({
    description: "Units consumed by this call (0 for a plain check or a denial)",
    example: 0,
  }),
  over_soft_limit: z.boolean().openapi({
    description: "A soft limit is exceeded (after this call's consumption)",
    example: false,
  }),
}).openapi("EntitlementDecision");
