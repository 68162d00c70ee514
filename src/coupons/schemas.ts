/**
 * Request and response schemas of coupons (`/v1/coupons`) and of discounts, coupons applied to subscriptions.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { Amount, Currency, Instant, Key, Ref } from "../http/schemas.ts";

/** Body of `POST /v1/coupons`. */
export const CreateCouponBody: z.ZodObject<
  {
    code: z.ZodString;
    name: z.ZodOptional<z.ZodString>;
    percent_off: z.ZodOptional<z.ZodNumber>;
    amount_off: z.ZodOptional<z.ZodInt>;
    currency: z.ZodOptional<z.ZodString>;
    duration: z.ZodEnum<{ once: "once"; repeating: "repeating"; forever: "forever" }>;
    duration_periods: z.ZodOptional<z.ZodInt>;
    max_redemptions: z.ZodOptional<z.ZodInt>;
    valid_from: z.ZodOptional<z.ZodISODateTime>;
    redeem_by: z.ZodOptional<z.ZodISODateTime>;
    plan_ids: z.ZodOptional<z.ZodArray<z.ZodString>>;
  },
  z.core.$strict
> = z.object({
  code: Key.openapi({ description: "Code customers type, unique per app", example: "LAUNCH25" }),
  name: z.string().min(1).max(200).optional().openapi({
    description: "Display name",
    example: "Launch discount",
  }),
  percent_off: z.number().gt(0).max(100).optional().openapi({
    description: "Percentage with at most 2 decimals",
    example: 25,
  }),
  amount_off: Amount.optional().openapi({
    description: "Fixed discount per period in minor units (instead of percent_off)",
    example: 500,
  }),
  currency: Currency.optional().openapi({
    description: "Currency of amount_off (required with it)",
    example: "USD",
  }),
  duration: z.enum(["once", "repeating", "forever"]).openapi({
    description: "How many periods the discount lasts",
    example: "repeating",
  }),
  duration_periods: z.int().min(1).max(1200).optional().openapi({
    description: "Periods discounted (repeating only)",
    example: 3,
  }),
  max_redemptions: z.int().min(1).max(Number.MAX_SAFE_INTEGER).optional().openapi({
    description: "Times the coupon may be applied in total",
    example: 100,
  }),
  valid_from: Instant.optional().openapi({
    description: "Not redeemable before",
    example: "2026-11-01T00:00:00Z",
  }),
  redeem_by: Instant.optional().openapi({
    description: "Not redeemable after",
    example: "2026-12-31T23:59:59Z",
  }),
  plan_ids: z.array(Ref).max(100).optional().openapi({
    description: "Only for these plans (ids or keys); absent = any plan",
    example: ["pro"],
  }),
}).strict().openapi("CreateCoupon");
/** A coupon. */
export const CouponSchema: z.ZodObject<
  {
    id: z.ZodString;
    code: z.ZodString;
    name: z.ZodNullable<z.ZodString>;
    percent_off: z.ZodNullable<z.ZodNumber>;
    amount_off: z.ZodNullable<z.ZodInt>;
    currency: z.ZodNullable<z.ZodString>;
    duration: z.ZodEnum<{ once: "once"; repeating: "repeating"; forever: "forever" }>;
    duration_periods: z.ZodNullable<z.ZodInt>;
    max_redemptions: z.ZodNullable<z.ZodInt>;
    times_redeemed: z.ZodInt;
    valid_from: z.ZodNullable<z.ZodString>;
    redeem_by: z.ZodNullable<z.ZodString>;
    plan_ids: z.ZodNullable<z.ZodArray<z.ZodString>>;
    created_at: z.ZodString;
  },
  z.core.$strip
> = z.object({
  id: z.string().openapi({ description: "TypeID of the coupon", example: "cpn_01jd0000000000000000000000" }),
  code: z.string().openapi({ description: "Code customers type", example: "LAUNCH25" }),
  name: z.string().nullable().openapi({ description: "Display name", example: "Launch discount" }),
  percent_off: z.number().nullable().openapi({
    description: "Percentage off (at most 2 decimals)",
    example: 25,
  }),
  amount_off: z.int().nullable().openapi({ description: "Minor units off per period", example: null }),
  currency: z.string().nullable().openapi({ description: "Currency of amount_off", example: null }),
  duration: z.enum(["once", "repeating", "forever"]).openapi({
    description: "How many periods the discount lasts",
    example: "repeating",
  }),
  duration_periods: z.int().nullable().openapi({ description: "Periods discounted (repeating)", example: 3 }),
  max_redemptions: z.int().nullable().openapi({
    description: "Redemption limit; null = unlimited",
    example: 100,
  }),
  times_redeemed: z.int().openapi({ description: "Redemptions so far", example: 12 }),
  valid_from: z.string().nullable().openapi({ description: "Not redeemable before", example: null }),
  redeem_by: z.string().nullable().openapi({
    description: "Not redeemable after",
    example: "2026-12-31T23:59:59.000Z",
  }),
  plan_ids: z.array(z.string()).nullable().openapi({
    description: "Plans it applies to; null = any",
    example: null,
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("Coupon", { description: "A coupon: a percentage or amount off for once, some or all periods" });
/** A coupon applied to a subscription. */
export const DiscountSchema: z.ZodObject<
  {
    id: z.ZodString;
    subscription_id: z.ZodString;
    coupon: typeof CouponSchema;
    redeemed_at: z.ZodString;
    first_period_index: z.ZodInt;
  },
  z.core.$strip
> = z.object({
  id: z.string().openapi({
    description: "TypeID of the discount",
    example: "sdi_01jd0000000000000000000000",
  }),
  subscription_id: z.string().openapi({
    description: "Subscription discounted",
    example: "sub_01jd0000000000000000000000",
  }),
  coupon: CouponSchema,
  redeemed_at: z.string().openapi({
    description: "ISO 8601 UTC instant it was applied",
    example: "2026-11-01T00:00:00.000Z",
  }),
  first_period_index: z.int().openapi({
    description: "First recurring period discounted (0 = the first paid period)",
    example: 0,
  }),
}).openapi("Discount");
/** Body of `POST /v1/subscriptions/{id}/discount`. */
export const ApplyDiscountBody: z.ZodObject<{ coupon: z.ZodString }, z.core.$strict> = z.object({
  coupon: Ref.openapi({ description: "Coupon code or cpn_ id", example: "LAUNCH25" }),
}).strict().openapi("ApplyDiscount");
