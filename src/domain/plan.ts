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
 * - `credit_system`: a pool of credits (issue 19; Autumn's credit systems): its `limit` and
 *   `included` are credits per period, its usage is the credits its consumers drew (plus events sent
 *   to it directly), and its `pricing` prices credits beyond `included` like any metered feature.
 *   A metered feature names the pool with `credit_system` and pays `credit_cost` credits per unit,
 *   or the `credit_cost` of the first `dimension_prices` entry its event's `dimensions` match
 *   (`domain/dimensions.ts`). Checks and limits of such a feature are the pool's.
 * `limit` caps usage per period (`null`: unlimited); `soft_limit: true` lets usage exceed the
 * limit and only flags it. `included` units per period are free: pricing applies to
 * `max(0, usage − included)`.
 *
 * @module
 */
import { type FieldIssue, invalid } from "./errors.ts";
import type { Interval } from "./period.ts";
import { type Pricing, type PricingInput, pricingViolations, toPricing } from "./pricing.ts";
import { canonicalQuantity, parseQuantity, type QuantityJson, quantityProblem } from "./quantity.ts";
import { type Decimal, decimalToJson } from "./decimal.ts";
import { type DimensionMatch, dimensionValues, findDimensionEntry, MAX_DIMENSIONS } from "./dimensions.ts";

/** Kind of a feature; see the module comment. */
export type FeatureType = "metered" | "boolean" | "seat" | "credit_system";

/** One entry of a feature's `dimension_prices`: what events matching `match` cost (here: in credits). */
export interface DimensionPriceEntry {
  /** Dimension → required value; a dimension absent from it matches anything. */
  match: DimensionMatch;
  /** Credits per unit for matching events (a consumer of a credit system); `null` = the feature's. */
  credit_cost?: QuantityJson | null;
  /** Price of matching usage (the dimension-price branch rates it); kept as sent. */
  pricing?: unknown;
}
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
  /**
   * Units allowed per period, `null` = unlimited. Always `null` for boolean features. A decimal
   * (issue 19) is kept in its canonical JSON: a number when whole, else a decimal string.
   */
  limit: QuantityJson | null;
  /** `true`: usage may pass `limit` and is only flagged; `false`: checks deny at the limit. */
  soft_limit: boolean;
  /** How the period's usage events combine (default `sum`; `latest` for seats). */
  aggregation: Aggregation;
  /** Units free each period before pricing applies (canonical JSON decimal, like `limit`). */
  included: QuantityJson;
  /** Event property counted by `unique_count` (e.g. `user_id`), else `null`. */
  unique_property: string | null;
  /** Price of usage beyond `included` (minor units of the plan's currency); `null` = not billed. */
  pricing: Pricing | null;
  /** Key of the `credit_system` feature this feature draws from; absent/`null` = none. */
  credit_system?: string | null;
  /** Credits per unit drawn from `credit_system` (canonical JSON decimal); with it only. */
  credit_cost?: QuantityJson | null;
  /** Event property names the feature is priced or credited by (at most {@link MAX_DIMENSIONS}). */
  dimensions?: string[];
  /** Ordered entries matched against an event's dimension values (first match wins). */
  dimension_prices?: DimensionPriceEntry[];
}

/** A feature as a client sends it; defaults are applied by {@link checkFeatures}. */
export interface FeatureInput {
  /** Key clients use in events and checks; unique within the plan. */
  key: string;
  /** Display name; default `key`. */
  name?: string;
  /** Boolean, metered or seat. */
  type: FeatureType;
  /** Units per period (a decimal allowed); default `null` (unlimited). Absent or `null` for boolean features. */
  limit?: QuantityJson | null;
  /** Only flag usage beyond `limit`; default `false`. */
  soft_limit?: boolean;
  /** Default `sum`, `latest` for seats. */
  aggregation?: Aggregation;
  /** Free units per period (a decimal allowed); default 0. */
  included?: QuantityJson;
  /** Event property counted by `unique_count`; required with it, else absent. */
  unique_property?: string | null;
  /** Pricing of usage beyond `included`; default none. Not allowed on boolean features. */
  pricing?: PricingInput | null;
  /** Key of the plan's `credit_system` feature this metered feature draws from. */
  credit_system?: string | null;
  /** Credits per unit (decimal > 0); required with `credit_system`. */
  credit_cost?: QuantityJson | null;
  /** Event property names (at most 4). */
  dimensions?: string[];
  /** Entries by dimension match; `match` keys must be among `dimensions`. */
  dimension_prices?: DimensionPriceEntry[];
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
    issues.push(...creditViolations(input, inputs, at));
    const limitProblem = limit === null ? undefined : quantityProblem(limit);
    if (limitProblem) issues.push({ path: at("limit"), message: limitProblem });
    const includedProblem = input.included === undefined ? undefined : quantityProblem(input.included);
    if (includedProblem) issues.push({ path: at("included"), message: includedProblem });
    return {
      key: input.key,
      name: input.name ?? input.key,
      type: input.type,
      limit: limit === null || limitProblem ? null : canonicalQuantity(limit),
      soft_limit: input.soft_limit ?? false,
      aggregation,
      included: input.included === undefined || includedProblem ? 0 : canonicalQuantity(input.included),
      unique_property: aggregation === "unique_count" ? input.unique_property ?? null : null,
      pricing: input.pricing && issues.length === 0 ? toPricing(input.pricing) : null,
      ...creditFields(input),
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

/** The credit and dimension fields of a checked feature (absent when the input has none). */
function creditFields(input: FeatureInput): Partial<Feature> {
  const out: Partial<Feature> = {};
  if (input.credit_system) {
    out.credit_system = input.credit_system;
    out.credit_cost = input.credit_cost === undefined || input.credit_cost === null
      ? null
      : canonicalQuantity(input.credit_cost);
  }
  if (input.dimensions && input.dimensions.length > 0) out.dimensions = [...input.dimensions];
  if (input.dimension_prices && input.dimension_prices.length > 0) {
    out.dimension_prices = input.dimension_prices.map((e) => ({
      ...e,
      match: { ...e.match },
      ...(e.credit_cost === undefined || e.credit_cost === null
        ? {}
        : { credit_cost: canonicalQuantity(e.credit_cost) }),
    }));
  }
  return out;
}

/**
 * The rules of credit systems and dimensions (issue 19): a `credit_system` feature aggregates by
 * `sum` and draws from no pool itself; `credit_system` names a `credit_system` feature of the same
 * plan, only on `metered` features aggregated by `sum`, and needs a `credit_cost` > 0; each
 * `credit_cost` is a decimal quantity; at most 4 `dimensions`; `match` keys are declared dimensions.
 */
function creditViolations(
  input: FeatureInput,
  all: readonly FeatureInput[],
  at: (field: string) => string,
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const positive = (value: QuantityJson, path: string) => {
    const problem = quantityProblem(value);
    if (problem) issues.push({ path, message: problem });
    else if (parseQuantity(value) === 0n) issues.push({ path, message: "Must be greater than 0" });
  };
  if (input.type === "credit_system") {
    if ((input.aggregation ?? "sum") !== "sum") {
      issues.push({ path: at("aggregation"), message: 'A credit system aggregates by "sum"' });
    }
  }
  if (input.credit_system) {
    const pool = all.find((f) => f.key === input.credit_system);
    if (!pool || pool.type !== "credit_system") {
      issues.push({
        path: at("credit_system"),
        message: `Must name a feature of type "credit_system" in this plan, got "${input.credit_system}"`,
      });
    }
    if (input.type !== "metered" || (input.aggregation ?? "sum") !== "sum") {
      issues.push({
        path: at("credit_system"),
        message: 'Only metered features aggregated by "sum" draw credits',
      });
    }
    if (input.credit_cost === undefined || input.credit_cost === null) {
      issues.push({ path: at("credit_cost"), message: "Required with credit_system" });
    } else positive(input.credit_cost, at("credit_cost"));
  } else if (input.credit_cost !== undefined && input.credit_cost !== null) {
    issues.push({ path: at("credit_cost"), message: "Only with credit_system" });
  }
  const dimensions = input.dimensions ?? [];
  if (dimensions.length > MAX_DIMENSIONS) {
    issues.push({ path: at("dimensions"), message: `At most ${MAX_DIMENSIONS} dimensions` });
  }
  (input.dimension_prices ?? []).forEach((entry, j) => {
    for (const k of Object.keys(entry.match)) {
      if (!dimensions.includes(k)) {
        issues.push({
          path: at(`dimension_prices.${j}.match.${k}`),
          message: `"${k}" is not one of dimensions`,
        });
      }
    }
    if (entry.credit_cost !== undefined && entry.credit_cost !== null) {
      if (!input.credit_system) {
        issues.push({ path: at(`dimension_prices.${j}.credit_cost`), message: "Only with credit_system" });
      } else positive(entry.credit_cost, at(`dimension_prices.${j}.credit_cost`));
    }
  });
  return issues;
}

/**
 * Credits one unit of `feature` costs for an event with `properties`: the `credit_cost` of the
 * first `dimension_prices` entry matching the event's dimension values that carries one, else the
 * feature's `credit_cost`. `null` when the feature draws from no credit system.
 */
export function creditCostOf(
  feature: Pick<Feature, "credit_system" | "credit_cost" | "dimensions" | "dimension_prices">,
  properties: Readonly<Record<string, unknown>> | null | undefined,
): Decimal | null {
  if (!feature.credit_system || feature.credit_cost === undefined || feature.credit_cost === null) {
    return null;
  }
  const entries = (feature.dimension_prices ?? []).filter((e) =>
    e.credit_cost !== undefined && e.credit_cost !== null
  );
  if (entries.length > 0) {
    const found = findDimensionEntry(entries, dimensionValues(feature.dimensions ?? [], properties));
    if (found) return parseQuantity(found.entry.credit_cost!);
  }
  return parseQuantity(feature.credit_cost);
}

/** The features of `features` that draw from the credit system `poolKey`. */
export function consumersOf(features: readonly Feature[], poolKey: string): Feature[] {
  return features.filter((f) => f.credit_system === poolKey);
}

/** A credit cost for JSON (number when whole). */
export function creditCostJson(cost: Decimal): QuantityJson {
  return decimalToJson(cost);
}

/** The feature with `key`, or `undefined`. */
export function findFeature(plan: Pick<Plan, "features">, key: string): Feature | undefined {
  return plan.features.find((f) => f.key === key);
}
