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
 * @module
 */
import type { Feature, FeatureType } from "./plan.ts";

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
  /** Usage in the current period, in the feature's units, after the aggregation. */
  used: number;
  /** Units allowed per period, in the feature's units; `null` = unlimited, boolean or no access. */
  limit: number | null;
  /** `max(0, limit − used)`; `null` when there is no limit. */
  remaining: number | null;
  /** Whether the limit is soft (reported, never enforced). */
  soft_limit: boolean;
  /** Which rule of this module decided the answer. */
  reason: EntitlementReason;
  /** End of the current period (ISO 8601), `null` without a subscription. */
  resets_at: string | null;
}

/**
 * Decides an entitlement. Pure: the caller supplies usage and the resolved feature.
 *
 * @param input.requested units the caller wants to use now (≥ 1; 1 for a plain check)
 */
export function decideEntitlement(input: {
  featureKey: string;
  subscribed: boolean;
  feature: Feature | undefined;
  used: number;
  requested: number;
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
  const common = { ...base, type: feature.type, used: input.used, soft_limit: feature.soft_limit };
  if (feature.limit === null) {
    return { ...common, allowed: true, limit: null, remaining: null, reason: "unlimited" };
  }
  const remaining = Math.max(0, feature.limit - input.used);
  const fits = input.used + input.requested <= feature.limit;
  if (fits) return { ...common, allowed: true, limit: feature.limit, remaining, reason: "within_limit" };
  if (feature.soft_limit) {
    return { ...common, allowed: true, limit: feature.limit, remaining, reason: "soft_limit_exceeded" };
  }
  return { ...common, allowed: false, limit: feature.limit, remaining, reason: "limit_reached" };
}

/** Aggregations whose usage grows by the consumed amount, so a check may consume units. */
export type ConsumableAggregation = "sum" | "count";

/** A decision that may have consumed units (`POST /v1/entitlements/check` with `consume`). */
export interface ConsumptionDecision extends EntitlementDecision {
  /** Units added to usage by this call: `requested` when allowed and counted, else 0. */
  consumed: number;
  /** A soft limit is passed: usage after this call (for a plain check: current usage) exceeds the limit. */
  over_soft_limit: boolean;
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
 */
export function decideConsumption(input: {
  featureKey: string;
  subscribed: boolean;
  feature: Feature | undefined;
  used: number;
  consume: number;
  periodEnd: Date | null;
}): ConsumptionDecision {
  const decision = decideEntitlement({ ...input, requested: Math.max(1, input.consume) });
  const counted = decision.allowed && decision.type !== null && decision.type !== "boolean";
  const consumed = counted ? input.consume : 0;
  const used = decision.used + consumed;
  return {
    ...decision,
    used,
    remaining: decision.limit === null ? null : Math.max(0, decision.limit - used),
    consumed,
    over_soft_limit: decision.soft_limit && decision.limit !== null && used > decision.limit,
  };
}

/**
 * The hard cap a check-and-consume enforces atomically in a counter store: `limit` for a hard
 * limit, `null` when any amount is allowed (unlimited or soft limit). Stores apply exactly the
 * rule of {@link decideConsumption}: allowed iff `cap === null || used + consume ≤ cap`.
 */
export function consumptionCap(feature: Pick<Feature, "limit" | "soft_limit">): number | null {
  return feature.limit !== null && !feature.soft_limit ? feature.limit : null;
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
  feature: { limit: number | null; soft_limit: boolean },
  before: number,
  after: number,
): "entitlement.quota_exceeded" | "entitlement.soft_limit_reached" | null {
  if (feature.limit === null) return null;
  if (feature.soft_limit) {
    return before <= feature.limit && after > feature.limit ? "entitlement.soft_limit_reached" : null;
  }
  return before < feature.limit && after >= feature.limit ? "entitlement.quota_exceeded" : null;
}
