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
 * A metered feature may declare `dimensions` (≤ {@link MAX_DIMENSIONS} event property names) and
 * `dimension_prices`: entries `{ match, pricing?, credit_cost? }` tried in order, the first whose
 * `match` fits an event's properties pricing it (`dimensions.ts`); events matching none use the
 * feature's `pricing`. An entry carries a `pricing`, a `credit_cost` (a decimal of credits per
 * unit, for credit systems), or both. Limits and the included allowance stay per feature
 * (ADR 0004 says how the allowance is shared among combinations).
 *
 * @module
 */
import { type FieldIssue, invalid } from "./errors.ts";
import type { Interval } from "./period.ts";
import { canonicalPricing, type PricingInput, type PricingSpec, pricingViolations } from "./pricing.ts";
import { type DimensionMatch, MAX_DIMENSIONS } from "./dimensions.ts";
import { formatDecimal, parseDecimal, tryParseDecimal } from "./decimal.ts";

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
  /**
   * Price of usage beyond `included` (minor units of the plan's currency), in its stored form
   * (`pricing.ts`: integers, or canonical decimal strings in the `_decimal` fields); `null` = not
   * billed (unless a dimension price applies).
   */
  pricing: PricingSpec | null;
  /**
   * Event property names whose values split the usage into combinations; absent (as on every
   * feature defined without them, so such plans are stored exactly as before) = none.
   */
  dimensions?: string[];
  /** Prices (and credit costs) per dimension match, first match wins; absent = none. */
  dimension_prices?: DimensionPrice[];
}

/** A checked entry of `dimension_prices`. */
export interface DimensionPrice {
  /** Dimension name → required value; a dimension absent here matches any value. */
  match: DimensionMatch;
  /** Price of the matching combinations (stored form), or `null` (then the feature's applies). */
  pricing: PricingSpec | null;
  /** Credits per unit of the matching usage, canonical decimal string, or `null` (credit systems). */
  credit_cost: string | null;
}

/** An entry of `dimension_prices` as a client sends it. */
export interface DimensionPriceInput {
  /** Dimension name → required value (keys among the feature's `dimensions`). */
  match: Record<string, string>;
  /** Price of matching usage; optional when `credit_cost` is given. */
  pricing?: PricingInput | null;
  /** Credits per unit of matching usage: a decimal string (≤ 12 places) or number ≥ 0. */
  credit_cost?: string | number | null;
}

/** Most `dimension_prices` entries one feature may have. */
export const MAX_DIMENSION_PRICES = 100;

/** Whether any price applies to the feature's usage (its own or a dimension price). */
export function isPriced(feature: Pick<Feature, "pricing" | "dimension_prices">): boolean {
  return feature.pricing !== null || (feature.dimension_prices ?? []).some((e) => e.pricing !== null);
}

/** Whether the feature's usage is split by dimension values for pricing. */
export function isDimensioned(feature: Pick<Feature, "dimensions" | "dimension_prices">): boolean {
  return (feature.dimensions ?? []).length > 0 && (feature.dimension_prices ?? []).length > 0;
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
  /** Event property names to price by (metered only, ≤ 4, unique); default none. */
  dimensions?: string[];
  /** Prices per dimension match, first match wins; needs `dimensions`. Default none. */
  dimension_prices?: DimensionPriceInput[];
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
   * job finalizes it afterwards (ADR 0004; default {@link DEFAULT_INVOICE_GRACE_PERIOD_HOURS}).
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
      if (input.dimensions?.length || input.dimension_prices?.length) {
        issues.push({ path: at("dimensions"), message: "Only metered features have dimensions" });
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
    const before = issues.length;
    const dimensionPrices = checkDimensions(input, at, issues);
    return {
      key: input.key,
      name: input.name ?? input.key,
      type: input.type,
      limit,
      soft_limit: input.soft_limit ?? false,
      aggregation,
      included: input.included ?? 0,
      unique_property: aggregation === "unique_count" ? input.unique_property ?? null : null,
      pricing: input.pricing && issues.length === 0 ? canonicalPricing(input.pricing) : null,
      ...(input.dimensions?.length ? { dimensions: [...input.dimensions] } : {}),
      ...(dimensionPrices.length && issues.length === before ? { dimension_prices: dimensionPrices } : {}),
    };
  });
  if (issues.length > 0) throw invalid(issues, "The plan's features break one or more rules");
  return features;
}

/** Property names: letters, digits and `_` (they become JSON paths in queries). */
const PROPERTY_NAME = /^[A-Za-z0-9_]{1,64}$/;

/**
 * Checks `dimensions` and `dimension_prices` of one feature, pushing violations to `issues`, and
 * returns the entries in stored form (meaningful only when no issue was added).
 */
function checkDimensions(
  input: FeatureInput,
  at: (field: string) => string,
  issues: FieldIssue[],
): DimensionPrice[] {
  const dimensions = input.dimensions ?? [];
  const entries = input.dimension_prices ?? [];
  if (dimensions.length > 0 && input.type !== "metered") {
    issues.push({ path: at("dimensions"), message: "Only metered features have dimensions" });
  }
  if (dimensions.length > MAX_DIMENSIONS) {
    issues.push({ path: at("dimensions"), message: `At most ${MAX_DIMENSIONS} dimensions` });
  }
  const declared = new Set<string>();
  for (const [j, name] of dimensions.entries()) {
    if (!PROPERTY_NAME.test(name)) {
      issues.push({
        path: at(`dimensions.${j}`),
        message: `"${name}" is not a property name (A-Z, a-z, 0-9, _)`,
      });
    }
    if (declared.has(name)) {
      issues.push({ path: at(`dimensions.${j}`), message: `Duplicate dimension "${name}"` });
    }
    declared.add(name);
  }
  if (entries.length > 0 && dimensions.length === 0) {
    issues.push({ path: at("dimension_prices"), message: "dimension_prices needs declared dimensions" });
    return [];
  }
  if (entries.length > MAX_DIMENSION_PRICES) {
    issues.push({ path: at("dimension_prices"), message: `At most ${MAX_DIMENSION_PRICES} entries` });
    return [];
  }
  return entries.map((entry, j): DimensionPrice => {
    const entryAt = (field: string) => at(`dimension_prices.${j}.${field}`);
    for (const [key, value] of Object.entries(entry.match ?? {})) {
      if (!declared.has(key)) {
        issues.push({
          path: entryAt(`match.${key}`),
          message: `"${key}" is not one of the feature's dimensions`,
        });
      }
      if (typeof value !== "string") {
        issues.push({ path: entryAt(`match.${key}`), message: "Match values are strings" });
      }
    }
    const cost = entry.credit_cost ?? null;
    const parsedCost = cost === null ? null : tryParseDecimal(cost);
    if (cost !== null && (parsedCost === undefined || parsedCost === null || parsedCost < 0n)) {
      issues.push({
        path: entryAt("credit_cost"),
        message: `Must be a decimal ≥ 0 with at most 12 decimal places, got ${JSON.stringify(cost)}`,
      });
    }
    if (!entry.pricing && cost === null) {
      issues.push({ path: entryAt("pricing"), message: "Give a pricing, a credit_cost, or both" });
    }
    const before = issues.length;
    if (entry.pricing) issues.push(...pricingViolations(entry.pricing, entryAt("pricing")));
    return {
      match: { ...entry.match },
      pricing: entry.pricing && issues.length === before ? canonicalPricing(entry.pricing) : null,
      credit_cost: cost !== null && parsedCost !== undefined && parsedCost !== null
        ? formatDecimal(parseDecimal(cost))
        : null,
    };
  });
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
