/**
 * Entitlement decisions: may this customer use this feature now, and how much is left.
 *
 * Rules:
 * - no live (trialing or active) subscription → denied, `no_active_subscription`;
 * - the plan lacks the feature → denied, `feature_not_in_plan`;
 * - boolean feature on the plan → allowed, `included`;
 * - `limit: null` → allowed, `unlimited`;
 * - hard limit: allowed iff `used + requested ≤ limit` (`within_limit`, else `limit_reached`);
 *   a plain check asks for `requested = 1`: "is there room for one more unit";
 * - soft limit: always allowed; `soft_limit_exceeded` once `used + requested > limit`.
 * `remaining = max(0, limit − used)`; `resets_at` is the end of the current period.
 *
 * Quantities are exact decimals (`domain/quantity.ts`, issue 19): usage, limits and consumptions
 * may have up to 12 decimal places; answers carry them as JSON numbers when whole (so integer
 * features answer exactly as before) and as decimal strings otherwise.
 *
 * @module
 */
import { type Decimal, decimalFromInteger, maxDecimal } from "./decimal.ts";
import type { Feature, FeatureType } from "./plan.ts";
import { parseQuantity, type QuantityJson, quantityToJson } from "./quantity.ts";

/** Why a check answered as it did. */
export type EntitlementReason =
  | "no_active_subscription"
  | "feature_not_in_plan"
  | "included"
  | "unlimited"
  | "within_limit"
  | "limit_reached"
  | "soft_limit_exceeded";

/** The answer of an entitlement check (the HTTP response body). */
export interface EntitlementDecision {
  /** Whether the customer may use the feature now (soft limits always allow). */
  allowed: boolean;
  /** Key of the feature asked about, as the caller sent it. */
  feature: string;
  /** The plan feature's type; `null` without a subscription or when the plan lacks the feature. */
  type: FeatureType | null;
  /** Usage in the current period, in the feature's units, after the aggregation (exact decimal). */
  used: QuantityJson;
  /** Units allowed per period, in the feature's units; `null` = unlimited, boolean or no access. */
  limit: QuantityJson | null;
  /** `max(0, limit − used)`; `null` when there is no limit. */
  remaining: QuantityJson | null;
  /** Whether the limit is soft (reported, never enforced). */
  soft_limit: boolean;
  /** Which rule of this module decided the answer. */
  reason: EntitlementReason;
  /** End of the current period (ISO 8601), `null` without a subscription. */
  resets_at: string | null;
}

/** A feature's limit as an exact decimal, `null` when unlimited. */
export function featureLimit(feature: Pick<Feature, "limit">): Decimal | null {
  return feature.limit === null ? null : parseQuantity(feature.limit);
}

/**
 * Decides an entitlement. Pure: the caller supplies usage and the resolved feature.
 *
 * @param input.requested units the caller wants to use now (> 0; 1 for a plain check)
 */
export function decideEntitlement(input: {
  featureKey: string;
  subscribed: boolean;
  feature: Feature | undefined;
  used: Decimal;
  requested: Decimal;
  periodEnd: Date | null;
}): EntitlementDecision {
  const base = {
    feature: input.featureKey,
    resets_at: input.periodEnd ? input.periodEnd.toISOString() : null,
  };
  if (!input.subscribed) {
    return {
      ...base,
      allowed: false,
      type: null,
      used: 0,
      limit: null,
      remaining: null,
      soft_limit: false,
      reason: "no_active_subscription",
    };
  }
  const feature = input.feature;
  if (!feature) {
    return {
      ...base,
      allowed: false,
      type: null,
      used: 0,
      limit: null,
      remaining: null,
      soft_limit: false,
      reason: "feature_not_in_plan",
    };
  }
  if (feature.type === "boolean") {
    return {
      ...base,
      allowed: true,
      type: "boolean",
      used: 0,
      limit: null,
      remaining: null,
      soft_limit: false,
      reason: "included",
    };
  }
  const common = {
    ...base,
    type: feature.type,
    used: quantityToJson(input.used),
    soft_limit: feature.soft_limit,
  };
  const cap = featureLimit(feature);
  if (cap === null) {
    return { ...common, allowed: true, limit: null, remaining: null, reason: "unlimited" };
  }
  const limit = quantityToJson(cap);
  const remaining = quantityToJson(maxDecimal(decimalFromInteger(0), (cap - input.used) as Decimal));
  const fits = input.used + input.requested <= cap;
  if (fits) return { ...common, allowed: true, limit, remaining, reason: "within_limit" };
  if (feature.soft_limit) {
    return { ...common, allowed: true, limit, remaining, reason: "soft_limit_exceeded" };
  }
  return { ...common, allowed: false, limit, remaining, reason: "limit_reached" };
}

/** Aggregations whose usage grows by the consumed amount, so a check may consume units. */
export type ConsumableAggregation = "sum" | "count";

/** A decision that may have consumed units (`POST /v1/entitlements/check` with `consume`). */
export interface ConsumptionDecision extends EntitlementDecision {
  /** Units added to usage by this call: `requested` when allowed and counted, else 0. */
  consumed: QuantityJson;
  /** A soft limit is passed: usage after this call (for a plain check: current usage) exceeds the limit. */
  over_soft_limit: boolean;
  /**
   * Set when the feature draws from a credit system: that pool's key. `used`, `limit`,
   * `remaining` and `consumed` are then the pool's, in credits.
   */
  credit_system?: string;
}

/**
 * Decides a check-and-consume. Pure. Same rules as {@link decideEntitlement} with
 * `requested = consume` (a plain check is `consume = 0` and asks about one unit); when the
 * answer is allowed and the feature counts usage (metered or seat), `consume` units are added:
 * `used` and `remaining` in the answer are the values after the consumption.
 *
 * Hard limit: allowed iff `used + consume ≤ limit`, and nothing is consumed when denied.
 * Soft limit: always allowed; `over_soft_limit` once usage after the call exceeds the limit
 * (`used + consume > limit`; for a plain check `used > limit`, while `reason` already says
 * `soft_limit_exceeded` when one more unit would pass it).
 * Boolean features and denials consume nothing.
 *
 * @param input.used usage before this call, in the feature's units
 * @param input.consume units to add (0 = only ask)
 * @param input.ask what a plain check asks room for (default one unit)
 */
export function decideConsumption(input: {
  featureKey: string;
  subscribed: boolean;
  feature: Feature | undefined;
  used: Decimal;
  consume: Decimal;
  periodEnd: Date | null;
  ask?: Decimal;
}): ConsumptionDecision {
  const requested = input.consume > 0n ? input.consume : input.ask ?? decimalFromInteger(1);
  const feature = input.feature;
  if (!input.subscribed || !feature || feature.type === "boolean") {
    // Nothing is counted: the entitlement's answer, with nothing consumed.
    return { ...decideEntitlement({ ...input, requested }), consumed: 0, over_soft_limit: false };
  }
  // One pass over the counted case (the hot path of every check, issue 14): the limit parsed
  // once and each quantity rendered once. The fields and their order are those of
  // `{ ...decideEntitlement(…), used, remaining, consumed, over_soft_limit }`, which
  // `tests/domain/entitlement_test.ts` compares on generated inputs.
  const resetsAt = input.periodEnd ? input.periodEnd.toISOString() : null;
  const cap = featureLimit(feature);
  if (cap === null) {
    return {
      feature: input.featureKey,
      resets_at: resetsAt,
      type: feature.type,
      used: quantityToJson((input.used + input.consume) as Decimal),
      soft_limit: feature.soft_limit,
      allowed: true,
      limit: null,
      remaining: null,
      reason: "unlimited",
      consumed: quantityToJson(input.consume),
      over_soft_limit: feature.soft_limit && false, // as `soft_limit && limited && …` without a limit
    };
  }
  const fits = input.used + requested <= cap;
  const allowed = fits || !!feature.soft_limit;
  const consumed = allowed ? input.consume : decimalFromInteger(0);
  const used = (input.used + consumed) as Decimal;
  return {
    feature: input.featureKey,
    resets_at: resetsAt,
    type: feature.type,
    used: quantityToJson(used),
    soft_limit: feature.soft_limit,
    allowed,
    limit: quantityToJson(cap),
    remaining: quantityToJson(maxDecimal(decimalFromInteger(0), (cap - used) as Decimal)),
    reason: fits ? "within_limit" : feature.soft_limit ? "soft_limit_exceeded" : "limit_reached",
    consumed: quantityToJson(consumed),
    over_soft_limit: feature.soft_limit && used > cap,
  };
}

/**
 * The hard cap a check-and-consume enforces atomically in a counter store: `limit` for a hard
 * limit, `null` when any amount is allowed (unlimited or soft limit). Stores apply exactly the
 * rule of {@link decideConsumption}: allowed iff `cap === null || used + consume ≤ cap`.
 */
export function consumptionCap(feature: Pick<Feature, "limit" | "soft_limit">): Decimal | null {
  return feature.soft_limit ? null : featureLimit(feature);
}

/**
 * The limit crossing a change of usage makes, if any (for lifecycle events):
 * - hard limit: `entitlement.quota_exceeded` when usage reaches the limit (`before < limit ≤ after`):
 *   the quota is used up and the next unit will be denied;
 * - soft limit: `entitlement.soft_limit_reached` when usage first passes it (`before ≤ limit < after`).
 * Each crossing happens in exactly one write (writes of a customer's usage are serialized), so
 * the event is emitted once per crossing. `null` without a limit or without a crossing.
 *
 * @param before usage before the change, after the feature's aggregation
 * @param after usage after the change
 */
export function limitCrossing(
  feature: Pick<Feature, "limit" | "soft_limit">,
  before: Decimal,
  after: Decimal,
): "entitlement.quota_exceeded" | "entitlement.soft_limit_reached" | null {
  const limit = featureLimit(feature);
  if (limit === null) return null;
  if (feature.soft_limit) {
    return before <= limit && after > limit ? "entitlement.soft_limit_reached" : null;
  }
  return before < limit && after >= limit ? "entitlement.quota_exceeded" : null;
}
