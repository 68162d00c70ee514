/**
 * Usage events of one scope, through the one tenancy filter of `storage/scoped.ts`.
 *
 * @module
 */
import { desc, eq, gte, inArray, lt, type SQL, sql } from "drizzle-orm";
import type { Feature } from "../domain/plan.ts";
import { type Decimal, decimalFromInteger } from "../domain/decimal.ts";
import { joinQuantity, joinScaledParts } from "../domain/quantity.ts";
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
 *
 * Decimal values are exact (`domain/quantity.ts`): `sum` adds the whole parts and the two halves of
 * the fractions as three SQL sums read back as text (no 64-bit overflow from the fractions, no
 * float); `max` and `latest` pick the row and join its two columns.
 */
export async function aggregateUsageEvents(
  exec: Executor,
  scope: Scope,
  customerId: string,
  feature: Pick<Feature, "key" | "aggregation" | "unique_property">,
  start: Date,
  end: Date,
): Promise<Decimal> {
  const where = scoped(exec, scope).filter(
    usageEvents,
    eq(usageEvents.customer_id, customerId),
    eq(usageEvents.feature, feature.key),
    gte(usageEvents.timestamp, start),
    lt(usageEvents.timestamp, end),
  );
  if (feature.aggregation === "latest" || feature.aggregation === "max") {
    const order = feature.aggregation === "latest"
      ? sql`${usageEvents.timestamp} desc, ${usageEvents.id} desc`
      : sql`${usageEvents.value} desc, ${usageEvents.value_frac} desc`;
    const [row] = await exec.select({ value: usageEvents.value, frac: usageEvents.value_frac }).from(
      usageEvents,
    )
      .where(where).orderBy(order).limit(1);
    return row ? joinQuantity(row.value, row.frac) : decimalFromInteger(0);
  }
  if (feature.aggregation === "sum") {
    const [row] = await exec.select({
      whole: sql<string | null>`cast(sum(${usageEvents.value}) as text)`,
      high: sql<string | null>`cast(sum(${usageEvents.value_frac} / 1000000) as text)`,
      low: sql<string | null>`cast(sum(${usageEvents.value_frac} % 1000000) as text)`,
    }).from(usageEvents).where(where);
    return joinScaledParts(row?.whole ?? null, row?.high ?? null, row?.low ?? null);
  }
  const expression = {
    count: sql<number>`count(*)`,
    unique_count: sql<number>`count(distinct json_extract(${usageEvents.properties}, ${
      "$." + (feature.unique_property ?? "")
    }))`,
  }[feature.aggregation];
  const [row] = await exec.select({ value: expression }).from(usageEvents).where(where);
  return decimalFromInteger(Number(row?.value ?? 0));
}

/**
 * Exact sums of a customer's values of `featureKey` over `[start, end)`, one per combination of
 * the event properties named in `dimensions` (each read with `json_extract`; a missing property
 * is `null`). No dimensions → one group. No events → no group.
 */
export async function sumsByDimensions(
  exec: Executor,
  scope: Scope,
  customerId: string,
  featureKey: string,
  dimensions: readonly string[],
  start: Date,
  end: Date,
): Promise<{ properties: Record<string, unknown>; total: Decimal }[]> {
  const where = scoped(exec, scope).filter(
    usageEvents,
    eq(usageEvents.customer_id, customerId),
    eq(usageEvents.feature, featureKey),
    gte(usageEvents.timestamp, start),
    lt(usageEvents.timestamp, end),
  );
  const columns = dimensions.map((d) => sql<unknown>`json_extract(${usageEvents.properties}, ${"$." + d})`);
  const selection: Record<string, SQL<unknown>> = {
    whole: sql<string | null>`cast(sum(${usageEvents.value}) as text)`,
    high: sql<string | null>`cast(sum(${usageEvents.value_frac} / 1000000) as text)`,
    low: sql<string | null>`cast(sum(${usageEvents.value_frac} % 1000000) as text)`,
  };
  columns.forEach((c, i) => selection[`d${i}`] = c);
  const query = exec.select(selection).from(usageEvents).where(where);
  // Grouped by select-list position (4, 5, …): PostgreSQL would see `json_extract(…, $n)` in GROUP BY
  // as another expression than the selected one (each carries its own bound parameter).
  const rows = columns.length > 0
    ? await query.groupBy(...columns.map((_, i) => sql.raw(String(4 + i))))
    : await query;
  return rows.filter((r) => r.whole !== null).map((r) => ({
    properties: Object.fromEntries(dimensions.map((d, i) => [d, r[`d${i}`] ?? null])),
    total: joinScaledParts(r.whole as string, r.high as string, r.low as string),
  }));
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
