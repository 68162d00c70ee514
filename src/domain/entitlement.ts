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
  allowed: boolean;
  feature: string;
  type: FeatureType | null;
  /** Usage in the current period, in the feature's units, after the aggregation. */
  used: number;
  limit: number | null;
  remaining: number | null;
  soft_limit: boolean;
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
    return { ...base, allowed: false, type: null, used: 0, limit: null, remaining: null, soft_limit: false, reason: "no_active_subscription" };
  }
  const feature = input.feature;
  if (!feature) {
    return { ...base, allowed: false, type: null, used: 0, limit: null, remaining: null, soft_limit: false, reason: "feature_not_in_plan" };
  }
  if (feature.type === "boolean") {
    return { ...base, allowed: true, type: "boolean", used: 0, limit: null, remaining: null, soft_limit: false, reason: "included" };
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
