/**
 * Request and response schemas of plans and their features and pricing (`/v1/plans`).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { Amount, Currency, Key, listOf, SafeInt, typeId } from "../http/schemas.ts";

const Tier = z.object({
  up_to: SafeInt.min(1).nullable().openapi({
    description: "Inclusive upper bound in units; null for the last tier",
    example: 1000,
  }),
  unit_amount: Amount,
  flat_amount: Amount.default(0),
}).strict();
const PricingSchema = z.object({
  model: z.enum(["per_unit", "graduated", "volume", "package"]).openapi({
    description:
      "per_unit: units × unit_amount; graduated: each tier prices its own units; volume: the tier reached prices all units; " +
      "package: started packages of package_size × unit_amount",
    example: "graduated",
  }),
  unit_amount: Amount.optional().openapi({
    description: "Minor units per unit (per_unit) or per package (package)",
    example: 2,
  }),
  package_size: SafeInt.min(1).optional().openapi({
    description: "Units per package (package model)",
    example: 1000,
  }),
  tiers: z.array(Tier).max(50).optional().openapi({
    description: "Tiers in ascending order (graduated and volume); the last has up_to null",
    example: [{ up_to: 1000, unit_amount: 2, flat_amount: 0 }, {
      up_to: null,
      unit_amount: 1,
      flat_amount: 500,
    }],
  }),
}).strict().openapi("Pricing");
const FeatureBody = z.object({
  key: Key.openapi({
    description: "Feature key used by usage events and checks, unique within the plan",
    example: "api_calls",
  }),
  name: z.string().min(1).max(200).optional().openapi({
    description: "Display name (default: the key)",
    example: "API calls",
  }),
  type: z.enum(["metered", "boolean", "seat"]).openapi({
    description: "metered: usage aggregated per period; boolean: on/off; seat: a count of assigned seats",
    example: "metered",
  }),
  limit: SafeInt.nullable().optional().openapi({
    description: "Units per period; null = unlimited",
    example: 100000,
  }),
  soft_limit: z.boolean().optional().openapi({
    description: "true: usage past the limit is allowed and flagged (default false: hard limit)",
    example: false,
  }),
  aggregation: z.enum(["sum", "count", "max", "unique_count", "latest"]).optional().openapi({
    description: "How a period's events make its usage (default sum)",
    example: "sum",
  }),
  included: SafeInt.optional().openapi({ description: "Units free each period", example: 1000 }),
  unique_property: z.string().min(1).max(64).regex(/^[A-Za-z0-9_]+$/).nullable().optional().openapi({
    description: "Event property counted by unique_count",
    example: "user_id",
  }),
  pricing: PricingSchema.nullable().optional().openapi({
    description: "How usage past `included` is priced; null or absent = free",
    example: { model: "per_unit", unit_amount: 2 },
  }),
}).strict().openapi("FeatureInput");
/** Body of `POST /v1/plans`. */
export const CreatePlanBody: z.ZodObject<
  {
    key: z.ZodString;
    name: z.ZodString;
    description: z.ZodOptional<z.ZodNullable<z.ZodString>>;
    currency: z.ZodString;
    interval: z.ZodEnum<{ month: "month"; year: "year" }>;
    trial_days: z.ZodOptional<z.ZodInt>;
    base_amount: z.ZodOptional<z.ZodInt>;
    invoice_grace_period_hours: z.ZodOptional<z.ZodInt>;
    features: z.ZodOptional<
      z.ZodArray<
        z.ZodObject<
          {
            key: z.ZodString;
            name: z.ZodOptional<z.ZodString>;
            type: z.ZodEnum<{ boolean: "boolean"; metered: "metered"; seat: "seat" }>;
            limit: z.ZodOptional<z.ZodNullable<z.ZodInt>>;
            soft_limit: z.ZodOptional<z.ZodBoolean>;
            aggregation: z.ZodOptional<
              z.ZodEnum<
                { sum: "sum"; count: "count"; max: "max"; unique_count: "unique_count"; latest: "latest" }
              >
            >;
            included: z.ZodOptional<z.ZodInt>;
            unique_property: z.ZodOptional<z.ZodNullable<z.ZodString>>;
            pricing: z.ZodOptional<
              z.ZodNullable<
                z.ZodObject<
                  {
                    model: z.ZodEnum<
                      { per_unit: "per_unit"; graduated: "graduated"; volume: "volume"; package: "package" }
                    >;
                    unit_amount: z.ZodOptional<z.ZodInt>;
                    package_size: z.ZodOptional<z.ZodInt>;
                    tiers: z.ZodOptional<
                      z.ZodArray<
                        z.ZodObject<
                          {
                            up_to: z.ZodNullable<z.ZodInt>;
                            unit_amount: z.ZodInt;
                            flat_amount: z.ZodDefault<z.ZodInt>;
                          },
                          z.core.$strict
                        >
                      >
                    >;
                  },
                  z.core.$strict
                >
              >
            >;
          },
          z.core.$strict
        >
      >
    >;
  },
  z.core.$strict
> = z.object({
  key: Key.openapi({ description: "Plan key, unique per app; plan_id fields accept it", example: "pro" }),
  name: z.string().min(1).max(200).openapi({ description: "Display name", example: "Pro" }),
  description: z.string().max(2000).nullable().optional().openapi({
    description: "Free text shown to customers",
    example: "For growing teams",
  }),
  currency: Currency.openapi({
    description: "ISO 4217 currency of every amount of the plan",
    example: "USD",
  }),
  interval: z.enum(["month", "year"]).openapi({ description: "Billing period length", example: "month" }),
  trial_days: z.int().min(0).max(730).optional().openapi({
    description: "Days of free trial before the first paid period (default 0)",
    example: 14,
  }),
  base_amount: Amount.optional().openapi({
    description: "Fixed fee per period in minor units (default 0)",
    example: 4900,
  }),
  invoice_grace_period_hours: z.int().min(0).max(720).optional()
    .openapi({
      description: "Hours after a period ends during which late usage is still accepted (default 1)",
      example: 1,
    }),
  features: z.array(FeatureBody).max(100).optional().openapi({
    description: "Features of the plan (at most 100)",
    example: [{
      key: "api_calls",
      type: "metered",
      limit: 100000,
      included: 1000,
      pricing: { model: "per_unit", unit_amount: 2 },
    }],
  }),
}).strict().openapi("CreatePlan");
/** Body of `PATCH /v1/plans/{id}`. */
export const UpdatePlanBody: z.ZodObject<
  {
    name: z.ZodOptional<z.ZodString>;
    description: z.ZodOptional<z.ZodNullable<z.ZodString>>;
    trial_days: z.ZodOptional<z.ZodInt>;
    base_amount: z.ZodOptional<z.ZodInt>;
    invoice_grace_period_hours: z.ZodOptional<z.ZodInt>;
    features: z.ZodOptional<
      z.ZodArray<
        z.ZodObject<
          {
            key: z.ZodString;
            name: z.ZodOptional<z.ZodString>;
            type: z.ZodEnum<{ boolean: "boolean"; metered: "metered"; seat: "seat" }>;
            limit: z.ZodOptional<z.ZodNullable<z.ZodInt>>;
            soft_limit: z.ZodOptional<z.ZodBoolean>;
            aggregation: z.ZodOptional<
              z.ZodEnum<
                { sum: "sum"; count: "count"; max: "max"; unique_count: "unique_count"; latest: "latest" }
              >
            >;
            included: z.ZodOptional<z.ZodInt>;
            unique_property: z.ZodOptional<z.ZodNullable<z.ZodString>>;
            pricing: z.ZodOptional<
              z.ZodNullable<
                z.ZodObject<
                  {
                    model: z.ZodEnum<
                      { per_unit: "per_unit"; graduated: "graduated"; volume: "volume"; package: "package" }
                    >;
                    unit_amount: z.ZodOptional<z.ZodInt>;
                    package_size: z.ZodOptional<z.ZodInt>;
                    tiers: z.ZodOptional<
                      z.ZodArray<
                        z.ZodObject<
                          {
                            up_to: z.ZodNullable<z.ZodInt>;
                            unit_amount: z.ZodInt;
                            flat_amount: z.ZodDefault<z.ZodInt>;
                          },
                          z.core.$strict
                        >
                      >
                    >;
                  },
                  z.core.$strict
                >
              >
            >;
          },
          z.core.$strict
        >
      >
    >;
  },
  z.core.$strict
> = z.object({
  name: z.string().min(1).max(200).optional().openapi({
    description: "New display name",
    example: "Pro (2026)",
  }),
  description: z.string().max(2000).nullable().optional().openapi({
    description: "New description; null clears it",
    example: "For growing teams",
  }),
  trial_days: z.int().min(0).max(730).optional().openapi({
    description: "Trial days for new subscriptions",
    example: 30,
  }),
  base_amount: Amount.optional().openapi({
    description: "New fixed fee per period in minor units",
    example: 5900,
  }),
  invoice_grace_period_hours: z.int().min(0).max(720).optional()
    .openapi({
      description: "Hours after a period ends during which late usage is still accepted",
      example: 24,
    }),
  features: z.array(FeatureBody).max(100).optional().openapi({
    description: "Replaces the whole feature list",
    example: [{ key: "api_calls", type: "metered", limit: 200000 }],
  }),
}).strict().openapi("UpdatePlan");
const FeatureSchema = z.object({
  key: z.string().openapi({ description: "Feature key", example: "api_calls" }),
  name: z.string().openapi({ description: "Display name", example: "API calls" }),
  type: z.enum(["metered", "boolean", "seat"]).openapi({
    description: "metered, boolean or seat",
    example: "metered",
  }),
  limit: z.int().nullable().openapi({ description: "Units per period; null = unlimited", example: 100000 }),
  soft_limit: z.boolean().openapi({
    description: "Usage past the limit is allowed and flagged",
    example: false,
  }),
  aggregation: z.enum(["sum", "count", "max", "unique_count", "latest"]).openapi({
    description: "How events make usage",
    example: "sum",
  }),
  included: z.int().openapi({ description: "Units free each period", example: 1000 }),
  unique_property: z.string().nullable().openapi({
    description: "Property counted by unique_count",
    example: null,
  }),
  pricing: z.object({
    model: z.enum(["per_unit", "graduated", "volume", "package"]).openapi({
      description: "Pricing model",
      example: "graduated",
    }),
    unit_amount: z.int().optional().openapi({
      description: "Minor units per unit or per package",
      example: 2,
    }),
    package_size: z.int().optional().openapi({ description: "Units per package", example: 1000 }),
    tiers: z.array(z.object({
      up_to: z.int().nullable().openapi({
        description: "Inclusive upper bound in units; null for the last tier",
        example: 1000,
      }),
      unit_amount: z.int().openapi({ description: "Minor units per unit in this tier", example: 2 }),
      flat_amount: z.int().openapi({
        description: "Minor units charged once when the tier is reached",
        example: 0,
      }),
    })).optional().openapi({
      description: "Tiers in ascending order",
      example: [{ up_to: null, unit_amount: 1, flat_amount: 0 }],
    }),
  }).nullable().openapi({
    description: "Price of usage past included; null = free",
    example: { model: "per_unit", unit_amount: 2 },
  }),
}).openapi("Feature");
/** A plan with its features. */
export const PlanSchema: z.ZodObject<
  {
    id: z.ZodString;
    key: z.ZodString;
    name: z.ZodString;
    description: z.ZodNullable<z.ZodString>;
    currency: z.ZodString;
    interval: z.ZodEnum<{ month: "month"; year: "year" }>;
    trial_days: z.ZodInt;
    base_amount: z.ZodInt;
    invoice_grace_period_hours: z.ZodInt;
    features: z.ZodArray<
      z.ZodObject<
        {
          key: z.ZodString;
          name: z.ZodString;
          type: z.ZodEnum<{ boolean: "boolean"; metered: "metered"; seat: "seat" }>;
          limit: z.ZodNullable<z.ZodInt>;
          soft_limit: z.ZodBoolean;
          aggregation: z.ZodEnum<
            { sum: "sum"; count: "count"; max: "max"; unique_count: "unique_count"; latest: "latest" }
          >;
          included: z.ZodInt;
          unique_property: z.ZodNullable<z.ZodString>;
          pricing: z.ZodNullable<
            z.ZodObject<
              {
                model: z.ZodEnum<
                  { per_unit: "per_unit"; graduated: "graduated"; volume: "volume"; package: "package" }
                >;
                unit_amount: z.ZodOptional<z.ZodInt>;
                package_size: z.ZodOptional<z.ZodInt>;
                tiers: z.ZodOptional<
                  z.ZodArray<
                    z.ZodObject<
                      { up_to: z.ZodNullable<z.ZodInt>; unit_amount: z.ZodInt; flat_amount: z.ZodInt },
                      z.core.$strip
                    >
                  >
                >;
              },
              z.core.$strip
            >
          >;
        },
        z.core.$strip
      >
    >;
    status: z.ZodEnum<{ active: "active"; archived: "archived" }>;
    created_at: z.ZodString;
    updated_at: z.ZodString;
  },
  z.core.$strip
> = z.object({
  id: typeId("pln", "pln_01jd0000000000000000000000"),
  key: z.string().openapi({ description: "Plan key, unique per app", example: "pro" }),
  name: z.string().openapi({ description: "Display name", example: "Pro" }),
  description: z.string().nullable().openapi({ description: "Free text", example: "For growing teams" }),
  currency: z.string().openapi({ description: "ISO 4217 currency", example: "USD" }),
  interval: z.enum(["month", "year"]).openapi({ description: "Billing period length", example: "month" }),
  trial_days: z.int().openapi({ description: "Trial days of new subscriptions", example: 14 }),
  base_amount: z.int().openapi({ description: "Fixed fee per period in minor units", example: 4900 }),
  invoice_grace_period_hours: z.int().openapi({
    description: "Hours late usage is still accepted after a period ends",
    example: 1,
  }),
  features: z.array(FeatureSchema).openapi({
    description: "Features of the plan",
    example: [{
      key: "sso",
      name: "Single sign-on",
      type: "boolean",
      limit: null,
      soft_limit: false,
      aggregation: "sum",
      included: 0,
      unique_property: null,
      pricing: null,
    }],
  }),
  status: z.enum(["active", "archived"]).openapi({
    description: "archived plans take no new subscriptions",
    example: "active",
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
  updated_at: z.string().openapi({
    description: "ISO 8601 UTC instant of the last change",
    example: "2026-11-02T09:30:00.000Z",
  }),
}).openapi("Plan");
/** A page of plans (`GET /v1/plans`). */
export const PlanList: z.ZodObject<
  { data: z.ZodArray<typeof PlanSchema>; next_cursor: z.ZodNullable<z.ZodString> },
  z.core.$strip
> = listOf(PlanSchema, "PlanList", "plans");
