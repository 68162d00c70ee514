/**
 * The usage query of `GET /v1/usage`: aggregation per UTC day or over the whole range.
 *
 * @module
 */
import { BillingError, invalid } from "../domain/errors.ts";
import type { Aggregation } from "../domain/plan.ts";
import { usageBuckets } from "../domain/usage_rules.ts";
import { subscriptionRows } from "../subscriptions/repository.ts";
import type { Ctx } from "../context.ts";
import { loadCustomer } from "../customers/service.ts";
import { loadPlan } from "../plans/service.ts";
import { aggregateUsage, aggregateUsageByCombination } from "./service.ts";
import { type DimensionValues, MAX_DIMENSIONS } from "../domain/dimensions.ts";

/** Answer of {@link queryUsage}. */
export interface UsageQueryResult {
  /** The customer's `cus_…` id. */
  customer_id: string;
  /** The feature key queried. */
  feature: string;
  /** How events make a value: the feature's in the latest plan, `sum` when the plan lacks it. */
  aggregation: Aggregation;
  /** Start of the range (inclusive, ISO 8601 UTC). */
  from: string;
  /** End of the range (exclusive, ISO 8601 UTC). */
  to: string;
  /** `day`: one bucket per UTC day; `none`: one bucket for the range; else the property names grouped by, comma-separated. */
  group_by: string;
  /** The aggregation over the whole range (not the sum of buckets for max/latest/unique). */
  value: number;
  /** The buckets in time order, each `[start, end)` (ISO 8601 UTC) with its aggregated value in units. */
  data: { start: string; end: string; value: number }[];
  /** Usage per combination of property values (first usage first) when grouped by properties, else `null`. */
  groups: { dimensions: DimensionValues; value: number }[] | null;
}

/**
 * Aggregated usage of a customer's feature over `[from, to)`, optionally per UTC day. The
 * aggregation is the feature's in the customer's latest subscription plan (`sum` when the plan
 * does not have the feature).
 *
 * `group_by` may instead name up to 4 event properties (`model,token_type`): `groups` then holds
 * the usage of each combination of their values over the range, in order of first usage.
 *
 * @throws {BillingError} `customer_not_found` (404); `validation_failed` when `to ≤ from`, the
 *   range has more than 366 days with `group_by=day`, or `group_by` repeats a property
 */
export async function queryUsage(
  ctx: Ctx,
  input: { customer_id: string; feature: string; from: Date; to: Date; group_by?: string },
): Promise<UsageQueryResult> {
  const db = ctx.database.db;
  if (input.to.getTime() <= input.from.getTime()) {
    throw invalid([{ path: "query.to", message: "Must be after from" }]);
  }
  const groupBy = input.group_by ?? "none";
  const properties = groupBy === "day" || groupBy === "none" ? null : groupBy.split(",");
  if (properties && (properties.length > MAX_DIMENSIONS || new Set(properties).size !== properties.length)) {
    throw invalid([{
      path: "query.group_by",
      message: `At most ${MAX_DIMENSIONS} distinct property names, got "${groupBy}"`,
    }]);
  }
  const buckets = usageBuckets(input.from, input.to, properties ? "none" : groupBy as "day" | "none");
  if (!buckets) throw invalid([{ path: "query.from", message: "At most 366 daily buckets per query" }]);
  const customer = await loadCustomer(ctx, db, input.customer_id);
  const sub = await subscriptionRows.first(db, ctx.scope, { customer_id: customer.id }, [["id", "desc"]]);
  let feature = {
    key: input.feature,
    aggregation: "sum" as Aggregation,
    unique_property: null as string | null,
  };
  if (sub) {
    const found = (await loadPlan(ctx, db, sub.plan_id)).features.find((f) => f.key === input.feature);
    if (found && found.type !== "boolean") {
      feature = { key: found.key, aggregation: found.aggregation, unique_property: found.unique_property };
    }
  }
  const data = [];
  for (const b of buckets) {
    data.push({
      start: b.start.toISOString(),
      end: b.end.toISOString(),
      value: await aggregateUsage(ctx.scope, db, customer.id, feature, b.start, b.end),
    });
  }
  const value = groupBy === "none"
    ? data[0].value
    : await aggregateUsage(ctx.scope, db, customer.id, feature, input.from, input.to);
  if (!Number.isSafeInteger(value)) {
    throw new BillingError("amount_out_of_range", "unprocessable", "The aggregated usage exceeds 2^53 - 1");
  }
  const groups = properties
    ? (await aggregateUsageByCombination(
      ctx.scope,
      db,
      customer.id,
      feature,
      properties,
      input.from,
      input.to,
    ))
      .map((g) => ({ dimensions: g.values, value: g.value }))
    : null;
  return {
    customer_id: customer.id,
    feature: input.feature,
    aggregation: feature.aggregation,
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    group_by: groupBy,
    value,
    data,
    groups,
  };
}
