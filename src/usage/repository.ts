/**
 * Usage events of one scope, through the one tenancy filter of `storage/scoped.ts`.
 *
 * @module
 */
import { desc, eq, gte, lt, sql } from "drizzle-orm";
import type { Feature } from "../domain/plan.ts";
import { type Decimal, decimalFromInteger } from "../domain/decimal.ts";
import { joinQuantity, joinScaledParts } from "../domain/quantity.ts";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import { usageDeadLetters, usageEvents } from "../storage/schema.ts";
import { type NewRow, scoped } from "../storage/scoped.ts";
import {
  anyOf,
  arrayTypeOf,
  limitsOf,
  MAX_ARRAY_ROWS_PER_STATEMENT,
  rowChunks,
  slices,
  type StatementLimits,
  textIn,
} from "../storage/limits.ts";
import { StaticSql } from "../storage/static_sql.ts";

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

/** One usage event row in the ingestion path's column order ({@link USAGE_EVENT_COLUMNS}), scope excluded. */
export interface UsageEventValues {
  /** Row id (`evt_…` TypeID, increasing in ingestion order). */
  id: string;
  /** The client's id (idempotency key per tenant + app). */
  event_id: string;
  /** The customer's `cus_…` id. */
  customer_id: string;
  /** Feature key. */
  feature: string;
  /** Whole units. */
  value: number;
  /** Fraction in 10^-12 units. */
  value_frac: number;
  /** When the usage happened, ms since the epoch. */
  timestamp: number;
  /** Properties as JSON text, or null. */
  properties: string | null;
  /** SHA-256 hex of the client payload. */
  payload_hash: string;
  /** When the row was written, ms since the epoch. */
  created_at: number;
}

/** Columns of {@link insertNewUsageEvents}, in order: 12 bound values per row. */
export const USAGE_EVENT_COLUMNS = [
  "id",
  "tenant_id",
  "app_id",
  "event_id",
  "customer_id",
  "feature",
  "value",
  "value_frac",
  "timestamp",
  "properties",
  "payload_hash",
  "created_at",
] as const;

const insertTexts = new Map<number, string>();
const CONFLICT = `on conflict ("tenant_id", "app_id", "event_id") do nothing`;
const COLUMN_LIST = USAGE_EVENT_COLUMNS.map((c) => `"${c}"`).join(", ");

/** The INSERT of `rows` rows as bound values: one text per row count, so full chunks send the same text. */
function insertText(rows: number): string {
  let text = insertTexts.get(rows);
  if (text === undefined) {
    const row = `(${USAGE_EVENT_COLUMNS.map(() => "?").join(", ")})`;
    text = `insert into "usage_events" (${COLUMN_LIST}) values ${
      Array.from({ length: rows }, () => row).join(", ")
    } ${CONFLICT}`;
    insertTexts.set(rows, text);
  }
  return text;
}

/**
 * The INSERT of rows sent as one JSON array of arrays (SQLite's `json_each`; `->>` reads an
 * element as the SQL value it holds: integers as INTEGER, strings as TEXT, null as NULL); the
 * scope and `created_at` are bound once. `WHERE true` tells SQLite's parser the `ON CONFLICT`
 * belongs to the INSERT, not to a join.
 */
const JSON_INSERT = `insert into "usage_events" (${COLUMN_LIST}) select value ->> 0, ?, ?, value ->> 1, ` +
  `value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8, ? ` +
  `from json_each(?) where true ${CONFLICT}`;

/** Rows of one JSON INSERT at most (the bound on one statement's work, as for bound values). */
const MAX_JSON_ROWS = 1000;

/**
 * Inserts the scope's new usage events, skipping (not failing on) any whose `event_id` the scope
 * already holds: `INSERT … ON CONFLICT (tenant_id, app_id, event_id) DO NOTHING`. The statement
 * text is fixed and handed to the executor as is ({@link StaticSql}: no drizzle builder on the
 * ingestion path). On SQLite stores (libSQL, a Durable Object's SQLite: `maxJsonRowsBytes` in
 * their limits) up to 1000 rows go as one JSON text parameter expanded by `json_each`, so the
 * statement is short whatever the batch (measured on a 1000-event batch, issue 14: preparing two
 * 500-row VALUES statements took about a sixth of the path's CPU). On a store that binds arrays
 * (PostgreSQL) up to {@link MAX_ARRAY_ROWS_PER_STATEMENT} rows go as one array per column,
 * expanded by `unnest` ({@link unnestText}): one text whatever the batch, prepared once per
 * connection. Otherwise, and when the rows' `created_at` differ (the JSON and array forms bind it
 * once: one batch's write time), as multi-row VALUES chunked to the parameter limit (12 per row).
 *
 * @returns how many rows were inserted, or `null` when the store does not report it (then the
 *   caller must read which rows are its own; libSQL and PostgreSQL report it)
 * @throws the driver's error (e.g. a primary-key collision: nothing else is skipped)
 */
export async function insertNewUsageEvents(
  exec: Executor,
  scope: Scope,
  rows: readonly UsageEventValues[],
): Promise<number | null> {
  let inserted: number | null = 0;
  const add = (result: unknown) => {
    const affected = (result as { rowsAffected?: unknown } | undefined)?.rowsAffected;
    inserted = inserted !== null && typeof affected === "number" ? inserted + affected : null;
  };
  const limits = limitsOf(exec);
  const maxBytes = limits.maxJsonRowsBytes;
  const oneWriteTime = rows.length > 0 && rows.every((r) => r.created_at === rows[0].created_at);
  if (limits.arrayTypes && oneWriteTime) {
    for (const chunk of slices(rows, MAX_ARRAY_ROWS_PER_STATEMENT)) {
      add(await exec.run(new StaticSql(unnestText(limits), unnestParams(scope, chunk))));
    }
    return inserted;
  }
  if (maxBytes !== undefined && oneWriteTime) {
    for (const chunk of jsonChunks(rows, maxBytes)) {
      add(
        await exec.run(new StaticSql(JSON_INSERT, [scope.tenantId, scope.appId, rows[0].created_at, chunk])),
      );
    }
    return inserted;
  }
  for (const chunk of rowChunks(exec, usageEvents, rows)) {
    const params: unknown[] = new Array(chunk.length * USAGE_EVENT_COLUMNS.length);
    let k = 0;
    for (const r of chunk) {
      params[k++] = r.id;
      params[k++] = scope.tenantId;
      params[k++] = scope.appId;
      params[k++] = r.event_id;
      params[k++] = r.customer_id;
      params[k++] = r.feature;
      params[k++] = r.value;
      params[k++] = r.value_frac;
      params[k++] = r.timestamp;
      params[k++] = r.properties;
      params[k++] = r.payload_hash;
      params[k++] = r.created_at;
    }
    add(await exec.run(new StaticSql(insertText(chunk.length), params)));
  }
  return inserted;
}

/** Columns of the ingestion INSERT bound once per statement (the rest travel as arrays). */
const SCALAR_COLUMNS = new Set(["tenant_id", "app_id", "created_at"]);
let unnestInsert: string | undefined;

/**
 * The ingestion INSERT on a store that binds arrays (PostgreSQL): the scope and `created_at`
 * bound once, every other column as one array expanded by `unnest`, so the text is the same
 * whatever the number of rows and the client prepares it once per connection.
 */
function unnestText(limits: StatementLimits): string {
  if (unnestInsert === undefined) {
    const type = (c: string) => arrayTypeOf(limits, "usage_events", c);
    const arrays = USAGE_EVENT_COLUMNS.filter((c) => !SCALAR_COLUMNS.has(c));
    unnestInsert = `insert into "usage_events" (${COLUMN_LIST}) select ${
      USAGE_EVENT_COLUMNS.map((c) => SCALAR_COLUMNS.has(c) ? `?::${type(c)}` : `u."${c}"`).join(", ")
    } from unnest(${arrays.map((c) => `?::${type(c)}[]`).join(", ")}) as u(${
      arrays.map((c) => `"${c}"`).join(", ")
    }) ${CONFLICT}`;
  }
  return unnestInsert;
}

/**
 * Parameters of {@link unnestText} for `rows`: the scope and `created_at`, then one array per
 * other column. `created_at` is the first row's (the caller checked that every row has it).
 */
function unnestParams(scope: Scope, rows: readonly UsageEventValues[]): unknown[] {
  const n = rows.length;
  const id = new Array<string>(n), eventId = new Array<string>(n), customer = new Array<string>(n);
  const feature = new Array<string>(n), value = new Array<number>(n), frac = new Array<number>(n);
  const timestamp = new Array<number>(n), properties = new Array<string | null>(n);
  const hash = new Array<string>(n);
  const createdAt = rows[0].created_at;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    id[i] = r.id;
    eventId[i] = r.event_id;
    customer[i] = r.customer_id;
    feature[i] = r.feature;
    value[i] = r.value;
    frac[i] = r.value_frac;
    timestamp[i] = r.timestamp;
    properties[i] = r.properties;
    hash[i] = r.payload_hash;
  }
  // In USAGE_EVENT_COLUMNS order: the scalars where they stand in the select list, then the arrays.
  return [
    scope.tenantId,
    scope.appId,
    createdAt,
    id,
    eventId,
    customer,
    feature,
    value,
    frac,
    timestamp,
    properties,
    hash,
  ];
}

/**
 * `rows` as JSON arrays of `[id, event_id, customer_id, feature, value, value_frac, timestamp,
 * properties, payload_hash]`, at most {@link MAX_JSON_ROWS} rows and about `maxBytes` UTF-8 bytes
 * each (a row's text counted at 3 bytes per UTF-16 unit beyond ASCII, an upper bound).
 */
function jsonChunks(rows: readonly UsageEventValues[], maxBytes: number): string[] {
  const out: string[] = [];
  let text = "[";
  let count = 0;
  let bytes = 2;
  for (const r of rows) {
    // each value as JSON.stringify writes it, without a call for the plain ones (ids, keys, digits)
    const row = `[${str(r.id)},${str(r.event_id)},${str(r.customer_id)},${str(r.feature)},${num(r.value)},${
      num(r.value_frac)
    },${num(r.timestamp)},${r.properties === null ? "null" : JSON.stringify(r.properties)},${
      str(r.payload_hash)
    }]`;
    // 3 bytes per UTF-16 unit bounds the UTF-8 size; count exactly only when the bound does not fit
    let size = row.length * 3 + 1;
    if (bytes + size > maxBytes) size = utf8Bound(row) + 1;
    if (count > 0 && (count >= MAX_JSON_ROWS || bytes + size > maxBytes)) {
      out.push(`${text}]`);
      text = "[";
      count = 0;
      bytes = 2;
    }
    text += count === 0 ? row : `,${row}`;
    count++;
    bytes += size;
  }
  if (count > 0) out.push(`${text}]`);
  return out;
}

/** Text JSON writes between quotes unchanged: no quote, backslash, control or non-ASCII character. */
const PLAIN_TEXT = /^[A-Za-z0-9_.:-]*$/;

/** `JSON.stringify(s)` of a string. */
function str(s: string): string {
  return PLAIN_TEXT.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** `JSON.stringify(n)` of a number (`null` for NaN and infinities, as JSON writes them). */
function num(n: number): string {
  return Number.isFinite(n) ? `${n}` : "null";
}

/** An upper bound of the UTF-8 size of `text`: 1 byte per ASCII unit, 3 per other UTF-16 unit. */
function utf8Bound(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) n += 2;
  return n;
}

/** A stored event's row id and payload hash, by client id (see {@link storedEventsOf}). */
export interface StoredEventKey {
  /** The client's id. */
  event_id: string;
  /** The row's `evt_…` id (tells a row this transaction inserted from an older one). */
  id: string;
  /** SHA-256 hex of the stored event's client payload. */
  hash: string;
}

/** Row id and payload hash of the scope's events whose client id is in `eventIds` (one IN list). */
export async function storedEventsOf(
  exec: Executor,
  scope: Scope,
  eventIds: readonly string[],
): Promise<StoredEventKey[]> {
  if (eventIds.length === 0) return [];
  const s = scoped(exec, scope);
  return await exec.select({
    event_id: usageEvents.event_id,
    id: usageEvents.id,
    hash: usageEvents.payload_hash,
  })
    .from(usageEvents)
    .where(s.filter(usageEvents, anyOf(exec, usageEvents.event_id, eventIds)));
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
    .where(s.filter(usageEvents, anyOf(exec, usageEvents.event_id, eventIds)));
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

/** Usage of one combination of dimension values (see {@link aggregateUsageByDimensions}). */
export interface DimensionGroupRow {
  /** Values of the dimensions, in the order asked for; `null` where events lack the property. */
  values: (string | null)[];
  /** The aggregated value of the combination's events, exact (decimal values included). */
  value: Decimal;
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
  if (feature.aggregation === "latest" || feature.aggregation === "max") {
    // the latest (or largest) event of each combination: walk the period's events in that order and
    // keep the first of each combination (a max of the (value, value_frac) pair has no one SQL form)
    const order = feature.aggregation === "latest"
      ? sql`${usageEvents.timestamp} desc, ${usageEvents.id} desc`
      : sql`${usageEvents.value} desc, ${usageEvents.value_frac} desc`;
    const rows = await exec.select({
      ...columns,
      value: usageEvents.value,
      frac: usageEvents.value_frac,
      ts: usageEvents.timestamp,
    })
      .from(usageEvents).where(where).orderBy(order);
    const groups = new Map<string, DimensionGroupRow>();
    for (const row of rows as Record<string, unknown>[]) {
      const values = valuesOf(row);
      const key = JSON.stringify(values);
      const at = (row.ts as Date).getTime();
      const group = groups.get(key);
      if (group) group.first_at = Math.min(group.first_at, at);
      else {
        groups.set(key, {
          values,
          value: joinQuantity(row.value as number, row.frac as number),
          first_at: at,
        });
      }
    }
    return sortGroups([...groups.values()]);
  }
  if (feature.aggregation === "sum") {
    const rows = await exec.select({
      ...columns,
      whole: sql<string | null>`cast(sum(${usageEvents.value}) as text)`,
      high: sql<string | null>`cast(sum(${usageEvents.value_frac} / 1000000) as text)`,
      low: sql<string | null>`cast(sum(${usageEvents.value_frac} % 1000000) as text)`,
      first: sql<number>`min(${usageEvents.timestamp})`,
    })
      .from(usageEvents).where(where).groupBy(...Object.values(columns));
    // without dimensions and without events, SQL answers one row of NULL sums: no group
    return sortGroups(
      (rows as Record<string, unknown>[]).filter((row) => row.whole !== null).map((row) => ({
        values: valuesOf(row),
        value: joinScaledParts(
          row.whole as string | null,
          row.high as string | null,
          row.low as string | null,
        ),
        first_at: Number(row.first),
      })),
    );
  }
  const expression = {
    count: sql<number>`count(*)`,
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
    value: decimalFromInteger(Number(row.value ?? 0)),
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

/**
 * Which of `messageIds` have a dead letter (global: message ids name their source, e.g.
 * `edge:<node>:<seq>`; an edge node asks before pruning its outbox, ADR 0014).
 */
export async function deadLetterMessageIds(
  exec: Executor,
  messageIds: readonly string[],
): Promise<Set<string>> {
  if (messageIds.length === 0) return new Set();
  const rows = await exec.select({ message_id: usageDeadLetters.message_id }).from(usageDeadLetters)
    .where(anyOf(exec, usageDeadLetters.message_id, messageIds));
  return new Set(rows.map((r) => r.message_id));
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

/** One row of {@link timingRowsOfCustomers}: a closed invoice period or a subscription pause. */
export interface TimingRow {
  /** `closed`: an open, paid or uncollectible invoice's period; `paused`: a subscription pause. */
  kind: "closed" | "paused";
  /** `cus_…` id. */
  customer_id: string;
  /** Start of the period or pause (inclusive). */
  start: Date;
  /** End of the period (exclusive); of a pause, `null` while it lasts. */
  end: Date | null;
  /** The invoice's number (`closed` rows; `null` for pauses and unnumbered invoices). */
  number: string | null;
}

const TIMING_ROWS = (list: string) =>
  `select 'closed', "customer_id", "period_start", "period_end", "number" from "invoices" where ` +
  `("invoices"."tenant_id" = ? and "invoices"."app_id" = ? and "invoices"."customer_id"${list} ` +
  `and "invoices"."status" in ('open', 'paid', 'uncollectible')) union all ` +
  `select 'paused', "subscriptions"."customer_id", "subscription_pauses"."start_at", "subscription_pauses"."end_at", null ` +
  `from "subscription_pauses" inner join "subscriptions" on ("subscriptions"."id" = ` +
  `"subscription_pauses"."subscription_id" and "subscriptions"."tenant_id" = "subscription_pauses"."tenant_id" ` +
  `and "subscriptions"."app_id" = "subscription_pauses"."app_id") where ("subscription_pauses"."tenant_id" = ? ` +
  `and "subscription_pauses"."app_id" = ? and "subscriptions"."customer_id"${list})`;

/**
 * The closed invoice periods (open, paid or uncollectible invoices) and the subscription pauses
 * of these customers in the scope: what the late-event gate of ingestion judges a batch against
 * (`late_usage.ts`), in one statement (`union all` of the two reads, each with one IN list).
 *
 * Every ingestion batch and every group commit of consumptions runs it, so the text is written
 * out ({@link StaticSql}) rather than rendered by drizzle's select builder on each call, and the
 * two reads share one statement: the embedded driver's fixed cost per statement (prepare, bind,
 * result columns) is paid once (issue 14, ADR 0015). On PostgreSQL each list is one bound array
 * (`= any(?)`, {@link textIn}), so the text is the same whatever the number of customers. Instants are read as epoch ms (a number on
 * SQLite, a `bigint` text on PostgreSQL), as the `timestamp_ms` columns map them.
 *
 * @param customerIds each id binds twice beside 4 scope values: chunk with `inChunks(…, 8)` and half the ids
 */
export async function timingRowsOfCustomers(
  exec: Executor,
  scope: Scope,
  customerIds: readonly string[],
): Promise<TimingRow[]> {
  if (customerIds.length === 0) return [];
  const list = textIn(exec, customerIds);
  const rows = await exec.values<[string, string, number | string, number | string | null, string | null]>(
    new StaticSql(TIMING_ROWS(list.sql), [
      scope.tenantId,
      scope.appId,
      ...list.params,
      scope.tenantId,
      scope.appId,
      ...list.params,
    ]),
  );
  // Indexed, not destructured: libSQL's rows are array-like objects, not iterables.
  return rows.map((r) => ({
    kind: r[0] === "paused" ? "paused" : "closed",
    customer_id: r[1],
    start: new Date(Number(r[2])),
    end: r[3] === null ? null : new Date(Number(r[3])),
    number: r[4],
  }));
}
