/**
 * Statement limits of each store, and the helpers that cut multi-row INSERTs, upserts and
 * `IN (…)` lists so every statement stays under them.
 *
 * The same service code runs on libSQL (SQLite's own limit: 32,766 bound parameters) and on a
 * Durable Object's SQLite (at most 100 bound parameters and 100 KB of SQL text per statement).
 * Services never size a chunk themselves: they ask the executor they write with
 * ({@link limitsOf}), through {@link rowChunks}, {@link insertChunked} and {@link inChunks}.
 * A store registers its handles ({@link bindLimits}); an executor no store registered gets
 * {@link STRICTEST_LIMITS}, so an unknown handle can only make statements smaller.
 *
 * Driver-free on purpose: the Worker bundle imports this module (ADR 0005).
 *
 * @module
 */
import { type Column, getTableColumns, getTableName, inArray, is, SQL, sql, type Table } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { inList, StaticSql } from "./static_sql.ts";

/** What one SQL statement may carry on a store. */
export interface StatementLimits {
  /** Most bound parameters (`?`) in one statement. */
  readonly maxParameters: number;
  /** Most bytes of SQL text in one statement. */
  readonly maxStatementBytes: number;
  /**
   * Most UTF-8 bytes of rows sent as one JSON text parameter and expanded by SQLite's `json_each`
   * (the ingestion path's INSERT, `usage/repository.ts`); absent: the store has no `json_each`
   * (PostgreSQL, or an executor no store registered) and rows travel as bound values.
   */
  readonly maxJsonRowsBytes?: number;
  /**
   * Present on a store that binds a whole column of values as one array parameter (PostgreSQL):
   * the SQL type of every column, keyed `table.column` (`text`, `bigint`, `boolean`, `json`). The
   * storage layer then writes multi-row statements whose text does not depend on the row count
   * ({@link unnestInsertText}: `insert … select * from unnest(?::text[], …)`; {@link anyOf}:
   * `= any(?)` instead of `in (?, ?, …)`), so a store that prepares each text once per connection
   * (the `postgres` client) prepares it once and pipelines every later use. Absent: one bound
   * parameter per value, as SQLite and a Durable Object take them.
   */
  readonly arrayTypes?: ReadonlyMap<string, string>;
}

/** libSQL / SQLite ≥ 3.32 (`SQLITE_MAX_VARIABLE_NUMBER` 32,766; `SQLITE_MAX_SQL_LENGTH` 1,000,000,000). */
export const LIBSQL_LIMITS: StatementLimits = Object.freeze({
  maxParameters: 32_766,
  maxStatementBytes: 1_000_000_000,
  maxJsonRowsBytes: 16_000_000,
});

/**
 * A Durable Object's SQLite: 100 bound parameters and 100 KB of SQL per statement; a string value
 * at most 2 MB (JSON rows kept to half of it).
 */
export const DURABLE_OBJECT_LIMITS: StatementLimits = Object.freeze({
  maxParameters: 100,
  maxStatementBytes: 100_000,
  maxJsonRowsBytes: 1_000_000,
});

/** The smallest limits of every store: what an executor gets when no store registered it (no `json_each`). */
export const STRICTEST_LIMITS: StatementLimits = Object.freeze({
  maxParameters: DURABLE_OBJECT_LIMITS.maxParameters,
  maxStatementBytes: DURABLE_OBJECT_LIMITS.maxStatementBytes,
});

/**
 * Rows per statement never exceed this, whatever the store allows: a bound on the size of one
 * statement's text and of the work one statement holds the write lock for.
 */
export const MAX_ROWS_PER_STATEMENT = 500;

/**
 * Rows per statement when each column travels as one array parameter ({@link StatementLimits.arrayTypes}):
 * the text is the same whatever the count, so only the work one statement does bounds it (a
 * 1000-event ingestion batch is one statement).
 */
export const MAX_ARRAY_ROWS_PER_STATEMENT = 5000;

const registry = new WeakMap<object, StatementLimits>();

/**
 * Records the limits of a store's handle (its database or an open transaction).
 *
 * @returns `executor` itself, for chaining
 */
export function bindLimits<T extends object>(executor: T, limits: StatementLimits): T {
  registry.set(executor, limits);
  return executor;
}

/** The limits of an executor: what its store registered, else {@link STRICTEST_LIMITS}. */
export function limitsOf(executor: object): StatementLimits {
  return registry.get(executor) ?? STRICTEST_LIMITS;
}

/** Bound parameters one row of `table` takes in a multi-row INSERT (drizzle binds every column). */
export function parametersPerRow(table: Table): number {
  return Object.keys(getTableColumns(table)).length;
}

/**
 * Splits `values` into slices of at most `size` elements (the last may be shorter).
 *
 * @throws RangeError when `size` is not a positive integer
 */
export function slices<T>(values: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`Chunk size ${size} is not a positive integer`);
  }
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

/**
 * Rows per statement for rows of `perRow` parameters plus `reserved` other parameters in the
 * same statement (an upsert's `SET`, a `WHERE`), under `limits`.
 *
 * @throws RangeError when not even one row fits
 */
export function rowsPerStatement(limits: StatementLimits, perRow: number, reserved = 0): number {
  const rows = Math.min(MAX_ROWS_PER_STATEMENT, Math.floor((limits.maxParameters - reserved) / perRow));
  if (rows < 1) {
    throw new RangeError(
      `One row of ${perRow} parameters (+${reserved}) exceeds ${limits.maxParameters} parameters per statement`,
    );
  }
  return rows;
}

/**
 * Cuts rows bound for a multi-row INSERT (or upsert) into `table` into chunks that fit one
 * statement on `executor`'s store.
 *
 * @param reserved parameters the statement binds besides the rows (e.g. an upsert's `SET` values)
 * @throws RangeError when one row alone does not fit
 */
export function rowChunks<T>(executor: object, table: SQLiteTable, rows: readonly T[], reserved = 0): T[][] {
  return slices(rows, rowsPerStatement(limitsOf(executor), parametersPerRow(table), reserved));
}

/**
 * Inserts `rows` into `table` in as many statements as `executor`'s store needs (inside the
 * caller's transaction, so all or nothing).
 *
 * @throws the driver's error of a failing statement; RangeError when one row alone does not fit
 */
export async function insertChunked<T extends SQLiteTable>(
  executor: {
    insert(table: T): { values(rows: T["$inferInsert"][]): PromiseLike<unknown> };
    run(query: SQL): unknown;
  },
  table: T,
  rows: readonly T["$inferInsert"][],
): Promise<void> {
  for (const statement of insertStatements(executor, table, rows)) await statement;
}

/**
 * The statements of {@link insertChunked}, not yet awaited, for a caller that runs independent
 * statements together (the ledger batch's `pipelined`: one round trip on PostgreSQL). drizzle's
 * statements start when awaited, so nothing runs until the caller awaits them, in order.
 */
export function insertStatements<T extends SQLiteTable>(
  executor: {
    insert(table: T): { values(rows: T["$inferInsert"][]): PromiseLike<unknown> };
    run(query: SQL): unknown;
  },
  table: T,
  rows: readonly T["$inferInsert"][],
): PromiseLike<unknown>[] {
  const out: PromiseLike<unknown>[] = [];
  const limits = limitsOf(executor);
  if (limits.arrayTypes) {
    const arrays = slices(rows, MAX_ARRAY_ROWS_PER_STATEMENT).map((chunk) => columnArrays(table, chunk));
    if (arrays.every((a) => a !== null)) {
      const text = unnestInsertText(limits, table);
      for (const params of arrays) {
        out.push(executor.run(new StaticSql(text, params!)) as PromiseLike<unknown>);
      }
      return out;
    }
  }
  for (const chunk of rowChunks(executor, table, rows)) {
    const statement = plainInsert(table, chunk);
    out.push(
      statement ? executor.run(statement) as PromiseLike<unknown> : executor.insert(table).values(chunk),
    );
  }
  return out;
}

/** A table's columns as `plainInsert` binds them, and its INSERT texts by row count. */
interface InsertShape {
  columns: [string, Column][];
  /** `insert into "t" ("a", "b") values ` */
  head: string;
  /** `(?, ?)` */
  row: string;
  texts: Map<number, string>;
}

const insertShapes = new WeakMap<Table, InsertShape>();

/** Row counts whose INSERT text {@link plainInsert} keeps per table (the hot sizes repeat). */
const MAX_CACHED_TEXTS = 64;

function insertShape(table: Table): InsertShape {
  let shape = insertShapes.get(table);
  if (!shape) {
    const columns = Object.entries(getTableColumns(table)) as [string, Column][];
    shape = {
      columns,
      head: `insert into "${getTableName(table)}" (${
        columns.map(([, c]) => `"${c.name}"`).join(", ")
      }) values `,
      row: `(${columns.map(() => "?").join(", ")})`,
      texts: new Map(),
    };
    insertShapes.set(table, shape);
  }
  return shape;
}

/**
 * The multi-row `INSERT` drizzle's `insert(table).values(rows)` renders, built directly: the same
 * text (`insert into "t" ("a", "b") values (?, ?), (?, ?)`) and the same bound values (each
 * mapped by its column's `mapToDriverValue`, as drizzle's `Param` does), handed to the executor
 * as a {@link StaticSql} (text cached per table and row count). Measured on the ingestion path
 * (issue 14): drizzle's builder spent about a third of the CPU of a 1000-event batch classifying
 * its 11 000 `Param` chunks (`is()` walks each chunk's prototype chain once per entity kind);
 * plain chunks still cost the ledger writer's outbox and audit rows a walk over every value and
 * separator per batch (ADR 0015, "Ledger entries over HTTP"), the static text none.
 *
 * A column a row leaves `undefined` is written as drizzle would write it ({@link omittedValue}):
 * the outbox rows (their `seq` is the autoincrement key) take this path too.
 *
 * @returns the statement, or `null` when a row holds an SQL expression or a column's default is
 *   one (those stay with drizzle's builder)
 */
export function plainInsert(table: Table, rows: readonly Record<string, unknown>[]): SQL | null {
  if (rows.length === 0) return null;
  const shape = insertShape(table);
  const columns = shape.columns;
  const params: unknown[] = new Array(rows.length * columns.length);
  let k = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    for (let i = 0; i < columns.length; i++) {
      const [key, column] = columns[i];
      let value = row[key];
      // An omitted column takes what drizzle's builder would write for it (its static default,
      // its default function's value, else NULL: an autoincrement key such as the outbox's `seq`).
      if (value === undefined) value = omittedValue(column);
      if (value === undefined || is(value, SQL)) return null;
      const mapped = value === null ? null : column.mapToDriverValue(value);
      if (mapped !== null && typeof mapped === "object") return null;
      params[k++] = mapped;
    }
  }
  let text = shape.texts.get(rows.length);
  if (text === undefined) {
    text = shape.head + Array(rows.length).fill(shape.row).join(", ");
    if (shape.texts.size < MAX_CACHED_TEXTS) shape.texts.set(rows.length, text);
  }
  return new StaticSql(text, params);
}

/**
 * The value drizzle's `insert().values()` writes for a column a row leaves `undefined`
 * (`buildInsertQuery` of drizzle-orm/sqlite-core): the column's static default, else its
 * `$defaultFn`, else its `$onUpdateFn`, else `null`. `undefined` when that value is an SQL
 * expression (the caller leaves such rows to drizzle's builder).
 */
function omittedValue(column: Column): unknown {
  const candidate = column.default !== null && column.default !== undefined
    ? column.default
    : column.defaultFn !== undefined
    ? column.defaultFn()
    : column.onUpdateFn !== undefined
    ? column.onUpdateFn()
    : null;
  return is(candidate, SQL) ? undefined : candidate;
}

/**
 * The values of `rows` column by column, in `table`'s column order: one array per column, each
 * value mapped as {@link plainInsert} maps it (a column a row leaves `undefined` takes what
 * drizzle would write for it), for an {@link unnestInsertText} statement.
 *
 * @returns the arrays, or `null` when a row holds an SQL expression or a non-scalar driver value
 *   (those stay with drizzle's builder)
 */
export function columnArrays(table: Table, rows: readonly Record<string, unknown>[]): unknown[][] | null {
  const columns = Object.entries(getTableColumns(table)) as [string, Column][];
  const out: unknown[][] = columns.map(() => new Array(rows.length));
  for (let i = 0; i < columns.length; i++) {
    const [key, column] = columns[i];
    const values = out[i];
    for (let r = 0; r < rows.length; r++) {
      let value = rows[r][key];
      if (value === undefined) value = omittedValue(column);
      if (value === undefined || is(value, SQL)) return null;
      const mapped = value === null ? null : column.mapToDriverValue(value);
      if (mapped !== null && typeof mapped === "object") return null;
      values[r] = mapped;
    }
  }
  return out;
}

/**
 * The SQL type of `table`'s column named `column` on a store with {@link StatementLimits.arrayTypes}.
 *
 * @throws {RangeError} when the store does not bind arrays or does not know the column (a table
 *   missing from its schema: a bug)
 */
export function arrayTypeOf(limits: StatementLimits, table: string, column: string): string {
  const type = limits.arrayTypes?.get(`${table}.${column}`);
  if (type === undefined) throw new RangeError(`No array type for ${table}.${column}`);
  return type;
}

const unnestTexts = new WeakMap<Table, string>();

/**
 * `insert into "t" ("a", "b", …) select * from unnest(?::text[], ?::bigint[], …)`: every column of
 * `table` bound as one array ({@link columnArrays}), on a store with
 * {@link StatementLimits.arrayTypes}. One text per table whatever the number of rows (cached);
 * append an `on conflict …` clause as for a `values` insert. The `select` inserts rows in array
 * order (an autoincrement key such as the outbox's `seq` follows it, as with `values`).
 *
 * @throws {RangeError} see {@link arrayTypeOf}
 */
export function unnestInsertText(limits: StatementLimits, table: Table): string {
  let text = unnestTexts.get(table);
  if (text === undefined) {
    const name = getTableName(table);
    const columns = Object.values(getTableColumns(table)) as Column[];
    text = `insert into "${name}" (${columns.map((c) => `"${c.name}"`).join(", ")}) select * from unnest(${
      columns.map((c) => `?::${arrayTypeOf(limits, name, c.name)}[]`).join(", ")
    })`;
    unnestTexts.set(table, text);
  }
  return text;
}

/**
 * `column` is one of `values`: `column = any(?::type[])` with the values bound as one array on a
 * store with {@link StatementLimits.arrayTypes} (one text whatever the count), else drizzle's
 * `column in (?, ?, …)`. An empty list matches nothing. Values are bound as given (ids, keys:
 * strings), not through the column's mapping.
 */
export function anyOf(executor: object, column: Column, values: readonly unknown[]): SQL {
  const limits = limitsOf(executor);
  if (!limits.arrayTypes) return inArray(column, values as unknown[]);
  const type = arrayTypeOf(limits, getTableName(column.table), column.name);
  return sql`${column} = any(${sql.param(values)}${sql.raw(`::${type}[]`)})`;
}

/**
 * "Is one of `values`" for a column of text (ids, keys) in a written-out statement
 * ({@link StaticSql}): ` = any(?::text[])` binding the values as one array on a store with
 * {@link StatementLimits.arrayTypes} (one text whatever the count), else ` in (?, ?, …)` binding
 * one parameter per value. Append `sql` after the column and splice `params` where its
 * placeholders stand.
 *
 * @param values at least one (an empty `in ()` is not SQL; callers answer empty input without a statement)
 */
export function textIn(executor: object, values: readonly string[]): { sql: string; params: unknown[] } {
  if (limitsOf(executor).arrayTypes) return { sql: " = any(?::text[])", params: [values] };
  return { sql: ` in (${inList(values.length)})`, params: values as unknown[] };
}

/**
 * Cuts the values of an `IN (…)` list into chunks that fit one statement on `executor`'s store.
 *
 * @param reserved every other parameter the statement binds (scope columns, other conditions,
 *   `LIMIT`); count generously
 * @throws RangeError when no value fits beside `reserved`
 */
export function inChunks<T>(executor: object, values: Iterable<T>, reserved: number): T[][] {
  const list = [...values];
  const limits = limitsOf(executor);
  if (limits.arrayTypes) return slices(list, MAX_ARRAY_ROWS_PER_STATEMENT);
  return slices(list, rowsPerStatement(limits, 1, reserved));
}
