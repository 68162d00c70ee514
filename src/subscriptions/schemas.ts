/**
 * Request and response schemas of subscriptions (`/v1/subscriptions`): creation, cancellation,
 * plan changes, and the report of the billing cycle job.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { Instant, listOf, Ref, TaxRateIds, typeId } from "../http/schemas.ts";

/** Body of `POST /v1/subscriptions`. */
export const CreateSubscriptionBody: z.ZodObject<
  {
    customer_id: z.ZodString;
    plan_id: z.ZodString;
    start_at: z.ZodOptional<z.ZodISODateTime>;
    end_at: z.ZodOptional<z.ZodISODateTime>;
    tax_rate_ids: z.ZodOptional<z.ZodArray<z.ZodString>>;
  },
  z.core.$strict
> = z.object({
  customer_id: z.string().min(1).max(128).openapi({
    description: "cus_ id or external id",
    example: "user_42",
  }),
  plan_id: z.string().min(1).max(128).openapi({ description: "pln_ id or plan key", example: "pro" }),
  start_at: Instant.optional().openapi({ description: "Defaults to now; may be backdated up to 366 days" }),
  end_at: Instant.optional().openapi({
    description: "Fixed end: the subscription becomes expired then (the last period is cut there)",
  }),
  tax_rate_ids: TaxRateIds.optional().openapi({
    description:
      "The subscription's own tax rates (at most 5), replacing the customer's; absent: the customer's",
    example: ["txr_01jd0000000000000000000000"],
  }),
}).strict().openapi("CreateSubscription");
/** Body of `POST /v1/subscriptions/{id}/cancel`. */
export const CancelSubscriptionBody: z.ZodObject<
  { at_period_end: z.ZodDefault<z.ZodBoolean> },
  z.core.$strict
> = z.object({
  at_period_end: z.boolean().default(false).openapi({
    description: "true: keep the subscription until the current period ends; false (default): cancel now",
    example: true,
  }),
}).strict().openapi("CancelSubscription");
/** A subscription with its current period and scheduled changes. */
export const SubscriptionSchema: z.ZodObject<
  {
    id: z.ZodString;
    customer_id: z.ZodString;
    plan_id: z.ZodString;
    status: z.ZodEnum<
      { expired: "expired"; active: "active"; trialing: "trialing"; paused: "paused"; canceled: "canceled" }
    >;
    start_at: z.ZodString;
    trial_end: z.ZodNullable<z.ZodString>;
    billing_anchor: z.ZodString;
    current_period_start: z.ZodString;
    current_period_end: z.ZodString;
    cancel_at_period_end: z.ZodBoolean;
    cancel_at: z.ZodNullable<z.ZodString>;
    canceled_at: z.ZodNullable<z.ZodString>;
    pending_change: z.ZodNullable<
      z.ZodObject<
        {
          plan_id: z.ZodString;
          effective_at: z.ZodString;
          proration: z.ZodEnum<{ prorate: "prorate"; none: "none" }>;
        },
        z.core.$strip
      >
    >;
    paused_at: z.ZodNullable<z.ZodString>;
    tax_rate_ids: z.ZodNullable<z.ZodArray<z.ZodString>>;
    created_at: z.ZodString;
  },
  z.core.$strip
> = z.object({
  id: typeId("sub", "sub_01jd0000000000000000000000"),
  customer_id: z.string().openapi({
    description: "cus_ id of the customer",
    example: "cus_01jd0000000000000000000000",
  }),
  plan_id: z.string().openapi({
    description: "pln_ id of the current plan",
    example: "pln_01jd0000000000000000000000",
  }),
  status: z.enum(["trialing", "active", "paused", "canceled", "expired"]).openapi({
    description: "Derived from the instants below at request time",
    example: "active",
  }),
  start_at: z.string().openapi({
    description: "ISO 8601 UTC instant the subscription started",
    example: "2026-11-01T00:00:00.000Z",
  }),
  trial_end: z.string().nullable().openapi({
    description: "End of the trial; null without trial",
    example: null,
  }),
  billing_anchor: z.string().openapi({
    description: "Instant periods are counted from (month-end days clamp)",
    example: "2026-11-01T00:00:00.000Z",
  }),
  current_period_start: z.string().openapi({
    description: "Start of the current period (inclusive)",
    example: "2026-11-01T00:00:00.000Z",
  }),
  current_period_end: z.string().openapi({
    description: "End of the current period (exclusive)",
    example: "2026-12-01T00:00:00.000Z",
  }),
  cancel_at_period_end: z.boolean().openapi({
    description: "Cancellation is scheduled for the period end",
    example: false,
  }),
  cancel_at: z.string().nullable().openapi({
    description: "When the subscription ends; null if not canceled",
    example: null,
  }),
  canceled_at: z.string().nullable().openapi({
    description: "When the cancellation was requested",
    example: null,
  }),
  pending_change: z.object({
    plan_id: z.string().openapi({
      description: "pln_ id of the plan it changes to",
      example: "pln_01jd0000000000000000000001",
    }),
    effective_at: z.string().openapi({
      description: "ISO 8601 UTC instant the change takes effect",
      example: "2026-12-01T00:00:00.000Z",
    }),
    proration: z.enum(["prorate", "none"]).openapi({
      description: "Whether the change is prorated",
      example: "none",
    }),
  }).nullable()
    .openapi({ description: "A plan change scheduled for later (period-end downgrade)", example: null }),
  paused_at: z.string().nullable().openapi({
    description: "Start of the current pause while paused, else null",
    example: null,
  }),
  tax_rate_ids: z.array(z.string()).nullable().openapi({
    description:
      "The subscription's own tax rates (txr_ ids), replacing the customer's; null: the customer's apply",
    example: null,
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("Subscription");
/** A page of subscriptions (`GET /v1/subscriptions`). */
export const SubscriptionList: z.ZodObject<
  { data: z.ZodArray<typeof SubscriptionSchema>; next_cursor: z.ZodNullable<z.ZodString> },
  z.core.$strip
> = listOf(SubscriptionSchema, "SubscriptionList", "subscriptions");
/** Body of `POST /v1/subscriptions/{id}/change`. */
export const ChangePlanBody: z.ZodObject<
  {
    plan_id: z.ZodString;
    proration: z.ZodOptional<z.ZodEnum<{ prorate: "prorate"; none: "none" }>>;
    effective: z.ZodOptional<z.ZodEnum<{ period_end: "period_end"; now: "now" }>>;
    proration_date: z.ZodOptional<z.ZodISODateTime>;
  },
  z.core.$strict
> = z.object({
  plan_id: Ref.openapi({ description: "pln_ id or key of the new plan", example: "business" }),
  proration: z.enum(["prorate", "none"]).optional().openapi({
    description: "Default prorate (credit unused time, charge the rest, to the second)",
    example: "prorate",
  }),
  effective: z.enum(["now", "period_end"]).optional().openapi({
    description:
      "Default: upgrades now, downgrades at period end. A change of interval (month ↔ year) always takes effect now: " +
      "the current period ends there (its unused time credited, invoiced and finalized at once) and the billing " +
      "anchor resets to the change",
    example: "now",
  }),
  proration_date: Instant.optional().openapi({
    description:
      "As Stripe's: the change takes effect, and prorates to the second, at this instant instead of now. " +
      "Must lie in the current period and not before the last applied change (400 proration_date_outside_period " +
      "otherwise); a later instant than now schedules the change then; an interval change may not be dated after " +
      "now. Not with effective period_end",
    example: "2026-11-10T00:00:00.000Z",
  }),
}).strict().openapi("ChangePlan");

/** What one run of the billing cycle job did (`POST /v1/admin/billing_cycle/run`). */
export const BillingCycleReportSchema: z.ZodObject<
  {
    subscriptions_scanned: z.ZodInt;
    plan_changes_applied: z.ZodInt;
    invoices_generated: z.ZodInt;
    invoices_finalized: z.ZodInt;
    credits_expired: z.ZodInt;
    failures: z.ZodArray<z.ZodObject<{ subscription_id: z.ZodString; error: z.ZodString }, z.core.$strip>>;
  },
  z.core.$strip
> = z.object({
  subscriptions_scanned: z.int().openapi({ description: "Subscriptions looked at", example: 120 }),
  plan_changes_applied: z.int().openapi({
    description: "Scheduled plan changes that took effect",
    example: 2,
  }),
  invoices_generated: z.int().openapi({ description: "Invoices created for ended periods", example: 118 }),
  invoices_finalized: z.int().openapi({ description: "Invoices finalized", example: 118 }),
  credits_expired: z.int().openapi({
    description: "Monetary credit grants closed after expiry (breakage posted)",
    example: 0,
  }),
  failures: z.array(z.object({
    subscription_id: z.string().openapi({
      description: "Subscription that failed",
      example: "sub_01jd0000000000000000000000",
    }),
    error: z.string().openapi({ description: "What went wrong", example: "plan_not_found" }),
  })).openapi({ description: "Subscriptions that failed (the others went on)", example: [] }),
}).openapi("BillingCycleReport");
/** Body of `PUT /v1/subscriptions/{id}/tax_rates`. */
export const SetSubscriptionTaxRatesBody: z.ZodObject<
  { tax_rate_ids: z.ZodNullable<z.ZodArray<z.ZodString>> },
  z.core.$strict
> = z.object({
  tax_rate_ids: TaxRateIds.nullable().openapi({
    description: "The subscription's own tax rates (at most 5); null: bill with the customer's rates again",
    example: ["txr_01jd0000000000000000000000"],
  }),
}).strict().openapi("SetSubscriptionTaxRates");
