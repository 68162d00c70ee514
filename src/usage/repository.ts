/**
 * Usage events of one scope, through the one tenancy filter of `storage/scoped.ts`.
 *
 * @module
 */
import { eq, gte, inArray, lt, sql } from "drizzle-orm";
import type { Feature } from "../domain/plan.ts";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import { usageEvents } from "../storage/schema.ts";
import { type NewRow, scoped } from "../storage/scoped.ts";

/** A usage event row to insert (the scope columns are stamped by the repository). */
export type NewUsageEventRow = NewRow<typeof usageEvents>;

/** Inserts usage event rows of the scope (the caller keeps batches within statement limits). */
export async function insertUsageEvents(
  exec: Executor,
  scope: Scope,
  rows: NewUsageEventRow[],
): Promise<void> {
  if (rows.length > 0) await scoped(exec, scope).insert(usageEvents, rows);
}

/** Stored payload hashes of the scope's events whose client id is in `eventIds` (one IN list). */
export async function hashesOfEvents(
  exec: Executor,
  scope: Scope,
  eventIds: readonly string[],
): Promise<{ event_id: string; hash: string }[]> {
  if (eventIds.length === 0) return [];
  const s = scoped(exec, scope);
  return await exec.select({ event_id: usageEvents.event_id, hash: usageEvents.payload_hash }).from(
    usageEvents,
  )
    .where(s.filter(usageEvents, inArray(usageEvents.event_id, [...eventIds])));
}

/**
 * A customer's usage of a feature over `[start, end)` by the feature's aggregation (see
 * `aggregateUsage` in `service.ts`); no events → 0.
 */
export async function aggregateUsageEvents(
  exec: Executor,
  scope: Scope,
  customerId: string,
  feature: Pick<Feature, "key" | "aggregation" | "unique_property">,
  start: Date,
  end: Date,
): Promise<number> {
  const where = scoped(exec, scope).filter(
    usageEvents,
    eq(usageEvents.customer_id, customerId),
    eq(usageEvents.feature, feature.key),
    gte(usageEvents.timestamp, start),
    lt(usageEvents.timestamp, end),
  );
  if (feature.aggregation === "latest") {
    const [row] = await exec.select({ value: usageEvents.value }).from(usageEvents).where(where)
      .orderBy(sql`${usageEvents.timestamp} desc, ${usageEvents.id} desc`).limit(1);
    return row?.value ?? 0;
  }
  const expression = {
    sum: sql<number>`coalesce(sum(${usageEvents.value}), 0)`,
    count: sql<number>`count(*)`,
    max: sql<number>`coalesce(max(${usageEvents.value}), 0)`,
    unique_count: sql<number>`count(distinct json_extract(${usageEvents.properties}, ${
      "$." + (feature.unique_property ?? "")
    }))`,
  }[feature.aggregation];
  const [row] = await exec.select({ value: expression }).from(usageEvents).where(where);
  return Number(row?.value ?? 0);
}
