/**
 * Usage events of one scope, through the one tenancy filter of `storage/scoped.ts`.
 *
 * @module
 */
import { desc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import type { Feature } from "../domain/plan.ts";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import { usageDeadLetters, usageEvents } from "../storage/schema.ts";
import { type NewRow, scoped } from "../storage/scoped.ts";

/** A usage event row to insert (the scope columns are stamped by the repository). */
export type NewUsageEventRow = NewRow<typeof usageEvents>;

/** Inserts usage event rows of the scope, chunked to the store's statement limits. */
export async function insertUsageEvents(
  exec: Executor,
  scope: Scope,
  rows: NewUsageEventRow[],
): Promise<void> {
  await scoped(exec, scope).insertMany(usageEvents, rows);
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

/** A dead letter row as stored. */
export type DeadLetterRow = typeof usageDeadLetters.$inferSelect;

/**
 * Records a dead letter unless one exists for its queue message. Global on purpose: dead letters
 * are the operator's (admin route), and a malformed message may carry no valid scope at all.
 *
 * @returns whether a row was inserted
 */
export async function insertDeadLetterIfAbsent(
  exec: Executor,
  row: typeof usageDeadLetters.$inferInsert,
): Promise<boolean> {
  const inserted = await exec.insert(usageDeadLetters).values(row).onConflictDoNothing()
    .returning({ id: usageDeadLetters.id });
  return inserted.length > 0;
}

/** A page of every dead letter, newest first, with ids below `beforeId` when given (global, admin). */
export function deadLetterPage(
  exec: Executor,
  beforeId: string | undefined,
  limit: number,
): Promise<DeadLetterRow[]> {
  return exec.select().from(usageDeadLetters)
    .where(beforeId ? lt(usageDeadLetters.id, beforeId) : undefined)
    .orderBy(desc(usageDeadLetters.id)).limit(limit);
}
