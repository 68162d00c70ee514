/**
 * Plans and features: what a customer may use and how it is priced.
 *
 * A plan has one currency and one interval; its features are
 * - `boolean`: on or off (no usage, no price),
 * - `metered`: usage aggregated over the period from events (`sum`, `count`, `max`,
 *   `unique_count` of an event property, `latest` value),
 * - `seat`: a count of seats reported as usage events whose value is the current seat count;
 *   aggregated with `latest` by default (the count at the time of the check / at period end) or
 *   `max` (peak seats in the period).
 * `limit` caps usage per period (`null`: unlimited); `soft_limit: true` lets usage exceed the
 * limit and only flags it. `included` units per period are free: pricing applies to
 * `max(0, usage − included)`.
 *
 * @module
 */
import { type FieldIssue, invalid } from "./errors.ts";
import type { Interval } from "./period.ts";
import { type Pricing, type PricingInput, pricingViolations, toPricing } from "./pricing.ts";

/** Kind of a feature; see the module comment. */
export type FeatureType = "metered" | "boolean" | "seat";
/** How usage events of a feature are combined over a period. */
export type Aggregation = "sum" | "count" | "max" | "unique_count" | "latest";
/** Lifecycle of a plan: archived plans keep their subscriptions but take no new ones. */
export type PlanStatus = "active" | "archived";

/** A checked feature of a plan. */
export interface Feature {
  /** Key clients use in events and checks (`api_calls`), unique within the plan. */
  key: string;
  /** Display name (defaults to `key`). */
  name: string;
  /** Boolean, metered or seat; see the module comment. */
  type: FeatureType;
  /** Units allowed per period, `null` = unlimited. Always `null` for boolean features. */
  limit: number | null;
  /** `true`: usage may pass `limit` and is only flagged; `false`: checks deny at the limit. */
  soft_limit: boolean;
  /** How the period's usage events combine (default `sum`; `latest` for seats). */
  aggregation: Aggregation;
  /** Units free each period before pricing applies. */
  included: number;
  /** Event property counted by `unique_count` (e.g. `user_id`), else `null`. */
  unique_property: string | null;
  /** Price of usage beyond `included` (minor units of the plan's currency); `null` = not billed. */
  pricing: Pricing | null;
}

/** A feature as a client sends it; defaults are applied by {@link checkFeatures}. */
export interface FeatureInput {
  /** Key clients use in events and checks; unique within the plan. */
  key: string;
  /** Display name; default `key`. */
  name?: string;
  /** Boolean, metered or seat. */
  type: FeatureType;
  /** Units per period; default `null` (unlimited). Must be absent or `null` for boolean features. */
  limit?: number | null;
  /** Only flag usage beyond `limit`; default `false`. */
  soft_limit?: boolean;
  /** Default `sum`, `latest` for seats. */
  aggregation?: Aggregation;
  /** Free units per period; default 0. */
  included?: number;
  /** Event property counted by `unique_count`; required with it, else absent. */
  unique_property?: string | null;
  /** Pricing of usage beyond `included`; default none. Not allowed on boolean features. */
  pricing?: PricingInput | null;
}

/** A stored plan. Amounts are integer minor units of `currency`. */
export interface Plan {
  /** TypeID of the plan (`plan_…`). */
  id: string;
  /** Client-chosen key, unique per app (`pro_monthly`). */
  key: string;
  /** Display name. */
  name: string;
  /** Free text for people; `null` when none. */
  description: string | null;
  /** ISO 4217 code of every amount of the plan (ADR 0001). */
  currency: string;
  /** Length of a billing period. */
  interval: Interval;
  /** Days of free trial before the first paid period; 0 = none. */
  trial_days: number;
  /** Recurring fee per period, minor units. */
  base_amount: number;
  /**
   * Hours after a period ends during which its draft invoice still takes late usage; the billing
   * job finalizes it afterwards (issue 6; default {@link DEFAULT_INVOICE_GRACE_PERIOD_HOURS}).
   */
  invoice_grace_period_hours: number;
  /** Features with their limits and pricing, in the order the client sent them. */
  features: Feature[];
  /** `archived` plans keep their subscriptions but take no new ones. */
  status: PlanStatus;
  /** When the plan was created (service clock). */
  created_at: Date;
  /** When the plan last changed (service clock). */
  updated_at: Date;
}

/**
 * Applies defaults and checks the rules a JSON schema cannot express. Returns the checked features.
 *
 * Rules: feature keys unique; boolean features carry no limit, usage or pricing; `unique_count`
 * names its `unique_property`; `soft_limit` needs a limit; pricing is valid for its model
 * ({@link pricingViolations}). Defaults: aggregation `sum` (metered) / `latest` (seat), included 0.
 *
 * @param path path prefix of the features array in the request (`features`)
 * @throws {BillingError} `validation_failed` listing every violation with its field path
 */
export function checkFeatures(inputs: readonly FeatureInput[], path = "features"): Feature[] {
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  const features = inputs.map((input, i): Feature => {
    const at = (field: string) => `${path}.${i}.${field}`;
    if (seen.has(input.key)) {
      issues.push({ path: at("key"), message: `Duplicate feature key "${input.key}"` });
    }
    seen.add(input.key);
    if (input.type === "boolean") {
      if (input.pricing) issues.push({ path: at("pricing"), message: "Boolean features cannot be priced" });
      if (input.limit !== undefined && input.limit !== null) {
        issues.push({ path: at("limit"), message: "Boolean features have no limit" });
      }
      if (input.soft_limit) {
        issues.push({ path: at("soft_limit"), message: "Boolean features have no limit" });
      }
      return {
        key: input.key,
        name: input.name ?? input.key,
        type: "boolean",
        limit: null,
        soft_limit: false,
        aggregation: "count",
        included: 0,
        unique_property: null,
        pricing: null,
      };
    }
    const aggregation = input.aggregation ?? (input.type === "seat" ? "latest" : "sum");
    const limit = input.limit ?? null;
    if (aggregation === "unique_count" && !input.unique_property) {
      issues.push({ path: at("unique_property"), message: 'Required when aggregation is "unique_count"' });
    }
    if (aggregation !== "unique_count" && input.unique_property) {
      issues.push({ path: at("unique_property"), message: 'Only used when aggregation is "unique_count"' });
    }
    if (input.soft_limit && limit === null) {
      issues.push({ path: at("soft_limit"), message: "A soft limit needs a numeric limit" });
    }
    if (input.pricing) issues.push(...pricingViolations(input.pricing, at("pricing")));
    return {
      key: input.key,
      name: input.name ?? input.key,
      type: input.type,
      limit,
      soft_limit: input.soft_limit ?? false,
      aggregation,
      included: input.included ?? 0,
      unique_property: aggregation === "unique_count" ? input.unique_property ?? null : null,
      pricing: input.pricing && issues.length === 0 ? toPricing(input.pricing) : null,
    };
  });
  if (issues.length > 0) throw invalid(issues, "The plan's features break one or more rules");
  return features;
}

/**
 * Default grace period of a period's draft invoice: 1 hour, as Stripe waits about an hour after
 * creating a subscription invoice before finalizing it automatically.
 */
export const DEFAULT_INVOICE_GRACE_PERIOD_HOURS = 1;

/** Largest grace period: 30 days (Lago allows a grace period in days on the same scale). */
export const MAX_INVOICE_GRACE_PERIOD_HOURS = 720;

/** The feature with `key`, or `undefined`. */
export function findFeature(plan: Pick<Plan, "features">, key: string): Feature | undefined {
  return plan.features.find((f) => f.key === key);
}
