/**
 * Request and response schemas of plans and their features and pricing (`/v1/plans`).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { Amount, Currency, decimalQuantity, Key, quantityOut, SafeInt, typeId } from "../http/schemas.ts";

const Tier = z.object({
  up_to: SafeInt.min(1).nullable().openapi({
    description: "Inclusive upper bound in units; null for the last tier",
    example: 1000,
  }),
  unit_amount: Amount,
  flat_amount: Amount.default(0),
}).strict();
/** Pricing of a feature as a client sends it. */
export const PricingSchema: z.ZodObject<
  {
    model: z.ZodEnum<{ per_unit: "per_unit"; graduated: "graduated"; volume: "volume"; package: "package" }>;
    unit_amount: z.ZodOptional<z.ZodInt>;
    package_size: z.ZodOptional<z.ZodInt>;
    tiers: z.ZodOptional<
      z.ZodArray<
        z.ZodObject<
          { up_to: z.ZodNullable<z.ZodInt>; unit_amount: z.ZodInt; flat_amount: z.ZodDefault<z.ZodInt> },
          z.core.$strict
        >
      >
    >;
  },
  z.core.$strict
> = z.object({
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
/** The zod type of a decimal quantity (`decimalQuantity` / `quantityOut` of `http/schemas.ts`). */
export type Quantity = z.ZodUnion<readonly [z.ZodNumber, z.ZodString]>;
const PropertyName = z.string().min(1).max(64).regex(/^[A-Za-z0-9_]+$/);
const DimensionMatchBody = z.record(PropertyName, z.string().max(200)).openapi({
  description: "Dimension → required value; a dimension absent here matches any value",
  example: { model: "m-large" },
});
const DimensionPriceBody = z.object({
  match: DimensionMatchBody,
  credit_cost: decimalQuantity("Credits per unit for events matching `match` (with credit_system)", 5)
    .nullable()
    .optional(),
  pricing: z.unknown().optional().openapi({ description: "Price of matching usage", example: null }),
}).strict();

/** A feature as a client sends it (`features` of plan creation and update). */
export const FeatureBody: z.ZodObject<
  {
    key: z.ZodString;
    name: z.ZodOptional<z.ZodString>;
    type: z.ZodEnum<{ boolean: "boolean"; metered: "metered"; seat: "seat"; credit_system: "credit_system" }>;
    limit: z.ZodOptional<z.ZodNullable<Quantity>>;
    soft_limit: z.ZodOptional<z.ZodBoolean>;
    aggregation: z.ZodOptional<
      z.ZodEnum<{ sum: "sum"; count: "count"; max: "max"; unique_count: "unique_count"; latest: "latest" }>
    >;
    included: z.ZodOptional<Quantity>;
    unique_property: z.ZodOptional<z.ZodNullable<z.ZodString>>;
    pricing: z.ZodOptional<z.ZodNullable<typeof PricingSchema>>;
    credit_system: z.ZodOptional<z.ZodNullable<z.ZodString>>;
    credit_cost: z.ZodOptional<z.ZodNullable<Quantity>>;
    dimensions: z.ZodOptional<z.ZodArray<z.ZodString>>;
    dimension_prices: z.ZodOptional<
      z.ZodArray<
        z.ZodObject<
          {
            match: z.ZodRecord<z.ZodString, z.ZodString>;
            credit_cost: z.ZodOptional<z.ZodNullable<Quantity>>;
            pricing: z.ZodOptional<z.ZodUnknown>;
          },
          z.core.$strict
        >
      >
    >;
  },
  z.core.$strict
> = z.object({
  key: Key.openapi({
    description: "Feature key used by usage events and checks, unique within the plan",
    example: "api_calls",
  }),
  name: z.string().min(1).max(200).optional().openapi({
    description: "Display name (default: the key)",
    example: "API calls",
  }),
  type: z.enum(["metered", "boolean", "seat", "credit_system"]).openapi({
    description: "metered: usage aggregated per period; boolean: on/off; seat: a count of assigned seats; " +
      "credit_system: a pool of credits per period that metered features draw from (credit_system + credit_cost)",
    example: "metered",
  }),
  limit: decimalQuantity("Units per period (credits for a credit_system); null = unlimited", 100000)
    .nullable()
    .optional(),
  soft_limit: z.boolean().optional().openapi({
    description: "true: usage past the limit is allowed and flagged (default false: hard limit)",
    example: false,
  }),
  aggregation: z.enum(["sum", "count", "max", "unique_count", "latest"]).optional().openapi({
    description: "How a period's events make its usage (default sum)",
    example: "sum",
  }),
  included: decimalQuantity("Units free each period", 1000).optional(),
  unique_property: z.string().min(1).max(64).regex(/^[A-Za-z0-9_]+$/).nullable().optional().openapi({
    description: "Event property counted by unique_count",
    example: "user_id",
  }),
  pricing: PricingSchema.nullable().optional().openapi({
    description: "How usage past `included` is priced; null or absent = free",
    example: { model: "per_unit", unit_amount: 2 },
  }),
  credit_system: Key.nullable().optional().openapi({
    description:
      "Key of a credit_system feature of the plan this metered feature (aggregation sum) draws from; " +
      "its checks and limits are then the pool's",
    example: "credits",
  }),
  credit_cost: decimalQuantity(
    "Credits per unit drawn from credit_system (greater than 0; required with it)",
    1,
  )
    .nullable().optional(),
  dimensions: z.array(PropertyName).max(4).optional().openapi({
    description: "Event property names the feature is priced or credited by (at most 4)",
    example: ["model"],
  }),
  dimension_prices: z.array(DimensionPriceBody).max(100).optional().openapi({
    description:
      "Entries by dimension match, first match wins; an entry's credit_cost overrides the feature's",
    example: [{ match: { model: "m-large" }, credit_cost: 5 }],
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
    features: z.ZodOptional<z.ZodArray<typeof FeatureBody>>;
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
    features: z.ZodOptional<z.ZodArray<typeof FeatureBody>>;
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
/** A feature as plans answer it. */
export const FeatureSchema: z.ZodObject<
  {
    key: z.ZodString;
    name: z.ZodString;
    type: z.ZodEnum<{ boolean: "boolean"; metered: "metered"; seat: "seat"; credit_system: "credit_system" }>;
    limit: z.ZodNullable<Quantity>;
    soft_limit: z.ZodBoolean;
    aggregation: z.ZodEnum<
      { sum: "sum"; count: "count"; max: "max"; unique_count: "unique_count"; latest: "latest" }
    >;
    included: Quantity;
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
    credit_system: z.ZodOptional<z.ZodNullable<z.ZodString>>;
    credit_cost: z.ZodOptional<z.ZodNullable<Quantity>>;
    dimensions: z.ZodOptional<z.ZodArray<z.ZodString>>;
    dimension_prices: z.ZodOptional<
      z.ZodArray<
        z.ZodObject<
          {
            match: z.ZodRecord<z.ZodString, z.ZodString>;
            credit_cost: z.ZodOptional<z.ZodNullable<Quantity>>;
            pricing: z.ZodOptional<z.ZodUnknown>;
          },
          z.core.$strip
        >
      >
    >;
  },
  z.core.$strip
> = z.object({
  key: z.string().openapi({ description: "Feature key", example: "api_calls" }),
  name: z.string().openapi({ description: "Display name", example: "API calls" }),
  type: z.enum(["metered", "boolean", "seat", "credit_system"]).openapi({
    description: "metered, boolean, seat or credit_system",
    example: "metered",
  }),
  limit: quantityOut("Units per period (credits for a credit_system); null = unlimited", 100000).nullable(),
  soft_limit: z.boolean().openapi({
    description: "Usage past the limit is allowed and flagged",
    example: false,
  }),
  aggregation: z.enum(["sum", "count", "max", "unique_count", "latest"]).openapi({
    description: "How events make usage",
    example: "sum",
  }),
  included: quantityOut("Units free each period", 1000),
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
  credit_system: z.string().nullable().optional().openapi({
    description: "Credit system this feature draws from (present only when it does)",
    example: "credits",
  }),
  credit_cost: quantityOut("Credits per unit drawn from credit_system", 1).nullable().optional(),
  dimensions: z.array(z.string()).optional().openapi({
    description: "Event property names the feature is priced or credited by",
    example: ["model"],
  }),
  dimension_prices: z.array(z.object({
    match: z.record(z.string(), z.string()).openapi({
      description: "Dimension → required value",
      example: { model: "m-large" },
    }),
    credit_cost: quantityOut("Credits per unit for matching events", 5).nullable().optional(),
    pricing: z.unknown().optional().openapi({ description: "Price of matching usage", example: null }),
  })).optional().openapi({
    description: "Entries by dimension match, first match wins",
    example: [{ match: { model: "m-large" }, credit_cost: 5 }],
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
    features: z.ZodArray<typeof FeatureSchema>;
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
/** Plans of the app (`GET /v1/plans`). */
export const PlanList: z.ZodObject<{ data: z.ZodArray<typeof PlanSchema> }, z.core.$strip> = z.object({
  data: z.array(PlanSchema).openapi({ description: "Plans of the app", example: [] }),
}).openapi("PlanList");
