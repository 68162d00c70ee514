/**
 * Request and response schemas of plans and their features and pricing (`/v1/plans`).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { Amount, Currency, Key, listOf, SafeInt, typeId } from "../http/schemas.ts";
import type { CreatePlanInput, PlanView, UpdatePlanInput } from "./service.ts";

const DecimalString = z.string().regex(/^\d{1,20}(\.\d{1,12})?$/, {
  message: 'Must be a decimal string with at most 12 decimal places, such as "0.000015"',
});
const AmountDecimal = DecimalString.openapi({
  description:
    "Exact amount in the currency's minor unit as a decimal string, at most 12 decimal places (Stripe's unit_amount_decimal)",
  example: "0.000015",
});
const PropertyName = z.string().min(1).max(64).regex(/^[A-Za-z0-9_]+$/);
const Tier = z.object({
  up_to: z.union([SafeInt.min(1), DecimalString]).nullable().openapi({
    description:
      "Inclusive upper bound in units (an integer, or a decimal string for fractional quantities); null for the last tier",
    example: 1000,
  }),
  unit_amount: Amount.optional().openapi({
    description: "Minor units per unit in this tier; exactly one of unit_amount and unit_amount_decimal",
    example: 2,
  }),
  unit_amount_decimal: AmountDecimal.optional().openapi({
    description: "Minor units per unit as a decimal string (≤ 12 places); instead of unit_amount",
    example: "0.000015",
  }),
  flat_amount: Amount.optional().openapi({
    description: "Minor units charged once when the tier applies (default 0); at most one of the flat pair",
    example: 0,
  }),
  flat_amount_decimal: AmountDecimal.optional().openapi({
    description: "The flat amount as a decimal string (≤ 12 places); instead of flat_amount",
    example: "0.5",
  }),
}).strict();
const PricingSchema = z.object({
  model: z.enum(["per_unit", "graduated", "volume", "package"]).openapi({
    description:
      "per_unit: units × unit_amount; graduated: each tier prices its own units; volume: the tier reached prices all units; " +
      "package: started packages of package_size × unit_amount",
    example: "graduated",
  }),
  unit_amount: Amount.optional().openapi({
    description:
      "Minor units per unit (per_unit) or per package (package); exactly one of unit_amount and unit_amount_decimal",
    example: 2,
  }),
  unit_amount_decimal: AmountDecimal.optional().openapi({
    description:
      'The same price as a decimal string of minor units, at most 12 places ("0.000015" = $0.15 per million in USD); instead of unit_amount',
    example: "0.000015",
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
const DimensionPriceBody = z.object({
  match: z.record(PropertyName, z.string().max(200)).openapi({
    description:
      "Dimension → required value (strings); a dimension absent here matches any value. Keys must be declared in dimensions",
    example: { model: "m-large", token_type: "output" },
  }),
  pricing: PricingSchema.nullable().optional().openapi({
    description:
      "Price of the matching usage; optional when credit_cost is given (the feature's pricing applies)",
    example: { model: "per_unit", unit_amount_decimal: "0.00006" },
  }),
  credit_cost: z.union([DecimalString, z.number().min(0)]).nullable().optional().openapi({
    description: "Credits per unit of the matching usage (a decimal, ≤ 12 places), for credit systems",
    example: "5",
  }),
}).strict().openapi("DimensionPriceInput");
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
    description:
      "How usage past `included` is priced (and combinations no dimension price matches); null or absent = free",
    example: { model: "per_unit", unit_amount: 2 },
  }),
  dimensions: z.array(PropertyName).max(4).optional().openapi({
    description:
      "Event property names (at most 4, metered features) whose values split usage for dimension_prices",
    example: ["model", "token_type"],
  }),
  dimension_prices: z.array(DimensionPriceBody).max(100).optional().openapi({
    description:
      "Prices per combination of dimension values, tried in order: the first whose match fits an event prices it; " +
      "usage matching none uses pricing. Invoices show one line per combination (and tier)",
    example: [{
      match: { token_type: "input" },
      pricing: { model: "per_unit", unit_amount_decimal: "0.000015" },
    }],
  }),
}).strict().openapi("FeatureInput");
/** Body of `POST /v1/plans`. */
export const CreatePlanBody: z.ZodType<CreatePlanInput> = z.object({
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
export const UpdatePlanBody: z.ZodType<UpdatePlanInput> = z.object({
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
const PricingView = z.object({
  model: z.enum(["per_unit", "graduated", "volume", "package"]).openapi({
    description: "Pricing model",
    example: "graduated",
  }),
  unit_amount: z.int().nullable().optional().openapi({
    description:
      "Minor units per unit or per package; null when the price has a fraction (see unit_amount_decimal)",
    example: 2,
  }),
  unit_amount_decimal: z.string().optional().openapi({
    description: "The exact price per unit or package as a decimal string of minor units (always set)",
    example: "2",
  }),
  package_size: z.int().optional().openapi({ description: "Units per package", example: 1000 }),
  tiers: z.array(z.object({
    up_to: z.union([z.int(), z.string()]).nullable().openapi({
      description:
        "Inclusive upper bound in units (a decimal string when fractional); null for the last tier",
      example: 1000,
    }),
    unit_amount: z.int().nullable().openapi({
      description: "Minor units per unit in this tier; null when fractional",
      example: 2,
    }),
    unit_amount_decimal: z.string().openapi({
      description: "Exact minor units per unit in this tier (decimal string)",
      example: "2",
    }),
    flat_amount: z.int().nullable().openapi({
      description: "Minor units charged once when the tier is reached; null when fractional",
      example: 0,
    }),
    flat_amount_decimal: z.string().openapi({
      description: "Exact flat amount (decimal string)",
      example: "0",
    }),
  })).optional().openapi({
    description: "Tiers in ascending order",
    example: [{
      up_to: null,
      unit_amount: 1,
      unit_amount_decimal: "1",
      flat_amount: 0,
      flat_amount_decimal: "0",
    }],
  }),
}).openapi("PricingView");
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
  pricing: PricingView.nullable().openapi({
    description: "Price of usage past included; null = free",
    example: { model: "per_unit", unit_amount: 2, unit_amount_decimal: "2" },
  }),
  dimensions: z.array(z.string()).openapi({
    description: "Event property names whose values split usage for dimension_prices",
    example: ["model", "token_type"],
  }),
  dimension_prices: z.array(z.object({
    match: z.record(z.string(), z.string()).openapi({
      description: "Dimension → required value; absent dimensions match any value",
      example: { token_type: "input" },
    }),
    pricing: PricingView.nullable().openapi({
      description: "Price of the matching usage; null = the feature's pricing applies",
      example: { model: "per_unit", unit_amount: null, unit_amount_decimal: "0.000015" },
    }),
    credit_cost: z.string().nullable().openapi({
      description: "Credits per unit of the matching usage (canonical decimal string), or null",
      example: null,
    }),
  })).openapi({
    description: "Prices per combination of dimension values, first match wins",
    example: [],
  }),
}).openapi("Feature");
/** A plan with its features. */
export const PlanSchema: z.ZodType<PlanView> = z.object({
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
      dimensions: [],
      dimension_prices: [],
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
