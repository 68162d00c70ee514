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

/** Usage of one combination of dimension values (see {@link aggregateUsageByDimensions}). */
export interface DimensionGroupRow {
  /** Values of the dimensions, in the order asked for; `null` where events lack the property. */
  values: (string | null)[];
  /** The aggregated value of the combination's events. */
  value: number;
  /** Earliest event timestamp of the combination (ms since the epoch), for ordering. */
  first_at: number;
}

const PROPERTY_NAME = /^[A-Za-z0-9_]{1,64}$/;

/** `json_extract(properties, '$.<name>')`, the path inlined so SELECT and GROUP BY read the same text. */
function propertyExpression(name: string) {
  if (!PROPERTY_NAME.test(name)) throw new RangeError(`propertyExpression(): bad property name ${name}`);
  return sql`json_extract(${usageEvents.properties}, ${sql.raw(`'$.${name}'`)})`;
}

/** A property value read back by `json_extract` as text (SQLite returns numbers as numbers). */
function propertyText(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/**
 * A customer's usage of a feature over `[start, end)` per combination of the values of event
 * properties `dimensions` (`json_extract` on SQLite, its compat function on PostgreSQL), each
 * combination aggregated by the feature's aggregation as {@link aggregateUsageEvents} does, in
 * order of first usage (then by values). Values compare as text: strings as sent, numbers in
 * their JSON form; booleans read as `1`/`0` on SQLite and `true`/`false` on PostgreSQL, so
 * dimension values should be strings (the documented contract).
 */
export async function aggregateUsageByDimensions(
  exec: Executor,
  scope: Scope,
  customerId: string,
  feature: Pick<Feature, "key" | "aggregation" | "unique_property">,
  dimensions: readonly string[],
  start: Date,
  end: Date,
): Promise<DimensionGroupRow[]> {
  const where = scoped(exec, scope).filter(
    usageEvents,
    eq(usageEvents.customer_id, customerId),
    eq(usageEvents.feature, feature.key),
    gte(usageEvents.timestamp, start),
    lt(usageEvents.timestamp, end),
  );
  const columns = Object.fromEntries(dimensions.map((d, i) => [`d${i}`, propertyExpression(d)]));
  const valuesOf = (row: Record<string, unknown>) => dimensions.map((_, i) => propertyText(row[`d${i}`]));
  if (feature.aggregation === "latest") {
    // the latest event of each combination: walk the period's events newest first
    const rows = await exec.select({ ...columns, value: usageEvents.value, ts: usageEvents.timestamp })
      .from(usageEvents).where(where).orderBy(sql`${usageEvents.timestamp} desc, ${usageEvents.id} desc`);
    const groups = new Map<string, DimensionGroupRow>();
    for (const row of rows as Record<string, unknown>[]) {
      const values = valuesOf(row);
      const key = JSON.stringify(values);
      const at = (row.ts as Date).getTime();
      const group = groups.get(key);
      if (group) group.first_at = Math.min(group.first_at, at);
      else groups.set(key, { values, value: Number(row.value), first_at: at });
    }
    return sortGroups([...groups.values()]);
  }
  const expression = {
    sum: sql<number>`coalesce(sum(${usageEvents.value}), 0)`,
    count: sql<number>`count(*)`,
    max: sql<number>`coalesce(max(${usageEvents.value}), 0)`,
    unique_count: sql<number>`count(distinct json_extract(${usageEvents.properties}, ${
      "$." + (feature.unique_property ?? "")
    }))`,
  }[feature.aggregation];
  const rows = await exec.select({
    ...columns,
    value: expression,
    first: sql<number>`min(${usageEvents.timestamp})`,
  })
    .from(usageEvents).where(where).groupBy(...Object.values(columns));
  return sortGroups((rows as Record<string, unknown>[]).map((row) => ({
    values: valuesOf(row),
    value: Number(row.value ?? 0),
    first_at: Number(row.first),
  })));
}

function sortGroups(groups: DimensionGroupRow[]): DimensionGroupRow[] {
  const text = (g: DimensionGroupRow) => JSON.stringify(g.values);
  return groups.sort((a, b) =>
    a.first_at - b.first_at || (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0)
  );
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
