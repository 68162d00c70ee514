/**
 * Fixed-shape statements for the ledger writer's hot path (issue 14, ADR 0015 "The writer"):
 * SQL text built once per table and row count and reused, values bound positionally, rows read
 * back as arrays and decoded by each column's own `mapFromDriverValue`. What drizzle's builder
 * does for `insert().values()`, `onConflictDoUpdate` and `select().where(inArray())`, without
 * rebuilding the query object tree and re-classifying every chunk on every batch (measured:
 * a quarter of the writer's CPU per entry went to drizzle's query building and result mapping).
 *
 * Every statement runs through the executor's own drizzle session (`prepareOneTimeQuery`), so it
 * is the same call a drizzle query ends in on every store: libSQL, PostgreSQL through the
 * sqlite-proxy driver (which numbers the `?` placeholders) and a Durable Object's SQLite. Chunks
 * are sized by the store's parameter limit (`limits.ts`: 100 on Durable Objects). On a store that
 * binds arrays (PostgreSQL, `StatementLimits.arrayTypes`) the texts do not depend on the row
 * count at all: inserts are `insert … select * from unnest(?::type[], …)` with one array per
 * column and `selectIn` is `= any(?::type[])`, so the client prepares each text once per
 * connection and pipelines every later use. Every select carries the tenancy filter (`tenant_id`
 * and `app_id` first), as `storage/scoped.ts` does.
 *
 * Driver-free on purpose: the Worker bundle imports this module (ADR 0005).
 *
 * @module
 */
import { type Column, getTableColumns, getTableName, type Table } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Scope } from "../domain/scope.ts";
import {
  arrayTypeOf,
  limitsOf,
  MAX_ARRAY_ROWS_PER_STATEMENT,
  rowsPerStatement,
  type StatementLimits,
  unnestInsertText,
} from "./limits.ts";

/** The part of a drizzle SQLite session this module calls (the same on every store). */
interface SessionLike {
  prepareOneTimeQuery(
    query: { sql: string; params: unknown[] },
    fields: undefined,
    executeMethod: "run" | "all" | "get",
    isResponseInArrayMode: boolean,
  ): { run(): unknown; values(): unknown };
}

/** The session of a drizzle database or transaction handle. */
function sessionOf(executor: object): SessionLike {
  const session = (executor as { session?: SessionLike }).session;
  if (!session || typeof session.prepareOneTimeQuery !== "function") {
    throw new TypeError("executor has no drizzle SQLite session");
  }
  return session;
}

/**
 * Runs one statement on `executor` (a drizzle database or open transaction of any store).
 *
 * @throws the driver's error (wrapped by drizzle as for any query)
 */
export async function runStatement(executor: object, text: string, params: unknown[]): Promise<void> {
  await sessionOf(executor).prepareOneTimeQuery({ sql: text, params }, undefined, "run", false).run();
}

/**
 * Runs one query on `executor` and returns its rows as arrays of driver values, in select order.
 *
 * @throws the driver's error (wrapped by drizzle as for any query)
 */
export async function statementValues(
  executor: object,
  text: string,
  params: unknown[],
): Promise<unknown[][]> {
  const rows = await sessionOf(executor).prepareOneTimeQuery({ sql: text, params }, undefined, "all", true)
    .values();
  return rows as unknown[][];
}

/** A table's columns in declaration order, with their property keys and the quoted names. */
export class TableShape<T extends SQLiteTable> {
  /** The drizzle table. */
  readonly table: T;
  /** `"table"`, quoted. */
  readonly name: string;
  /** Property keys, in declaration order. */
  readonly keys: readonly string[];
  /** Columns, in declaration order. */
  readonly columns: readonly Column[];
  /** `"a", "b", …`: every column, in declaration order. */
  readonly columnList: string;
  readonly #insertTexts = new Map<number, string>();
  readonly #selectTexts = new Map<string, string>();

  /** Reads `table`'s columns once. */
  constructor(table: T) {
    this.table = table;
    this.name = `"${getTableName(table as unknown as Table)}"`;
    const entries = Object.entries(getTableColumns(table as unknown as Table)) as [string, Column][];
    this.keys = entries.map(([key]) => key);
    this.columns = entries.map(([, column]) => column);
    this.columnList = this.columns.map((c) => `"${c.name}"`).join(", ");
  }

  /** Quoted column name of a property key. */
  column(key: string): string {
    const i = this.keys.indexOf(key);
    if (i < 0) throw new RangeError(`${this.name} has no column ${key}`);
    return `"${this.columns[i].name}"`;
  }

  /** Rows of this table per statement on `executor`'s store (every column is bound). */
  rowsPerStatement(executor: object): number {
    return rowsPerStatement(limitsOf(executor), this.columns.length);
  }

  /** `insert into "t" ("a", …) values (?, …), …` for `rows` rows (cached), plus `suffix`. */
  insertText(rows: number, suffix = ""): string {
    const key = rows;
    let text = this.#insertTexts.get(key);
    if (text === undefined) {
      const one = `(${this.columns.map(() => "?").join(", ")})`;
      text = `insert into ${this.name} (${this.columnList}) values ${Array(rows).fill(one).join(", ")}`;
      this.#insertTexts.set(key, text);
    }
    return suffix ? text + suffix : text;
  }

  /**
   * Appends one row's values to `out` in column order, each mapped by its column's
   * `mapToDriverValue` (instants to epoch ms, JSON to text, booleans to 1/0), as drizzle binds them.
   *
   * @throws {TypeError} when the row leaves a column `undefined` (every column is written explicitly)
   */
  bind(row: Record<string, unknown>, out: unknown[]): void {
    for (let i = 0; i < this.keys.length; i++) {
      const value = row[this.keys[i]];
      if (value === undefined) throw new TypeError(`${this.name}.${this.keys[i]} is undefined`);
      out.push(value === null ? null : this.columns[i].mapToDriverValue(value));
    }
  }

  /**
   * The values of `rows` column by column (one array per column, in column order), each mapped as
   * {@link bind} maps it: the parameters of an `unnest` insert on a store that binds arrays.
   *
   * @throws {TypeError} when a row leaves a column `undefined` (every column is written explicitly)
   */
  bindColumns(rows: readonly Record<string, unknown>[]): unknown[][] {
    const out: unknown[][] = [];
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.keys[i];
      const column = this.columns[i];
      const values = new Array(rows.length);
      for (let r = 0; r < rows.length; r++) {
        const value = rows[r][key];
        if (value === undefined) throw new TypeError(`${this.name}.${key} is undefined`);
        values[r] = value === null ? null : column.mapToDriverValue(value);
      }
      out.push(values);
    }
    return out;
  }

  /**
   * The statements inserting `rows` (chunked for `executor`'s store), each as text and values;
   * `suffix` (an `on conflict …` clause without parameters) ends every statement.
   */
  inserts(
    executor: object,
    rows: readonly Record<string, unknown>[],
    suffix = "",
  ): { text: string; params: unknown[] }[] {
    const out: { text: string; params: unknown[] }[] = [];
    const limits = limitsOf(executor);
    if (limits.arrayTypes) {
      // One text whatever the count: each column's values bound as one array (`unnest`).
      const text = unnestInsertText(limits, this.table as unknown as Table) + suffix;
      for (let start = 0; start < rows.length; start += MAX_ARRAY_ROWS_PER_STATEMENT) {
        out.push({ text, params: this.bindColumns(rows.slice(start, start + MAX_ARRAY_ROWS_PER_STATEMENT)) });
      }
      return out;
    }
    const per = this.rowsPerStatement(executor);
    for (let start = 0; start < rows.length; start += per) {
      const chunk = rows.slice(start, start + per);
      const params: unknown[] = [];
      for (const row of chunk) this.bind(row, params);
      out.push({ text: this.insertText(chunk.length, suffix), params });
    }
    return out;
  }

  /**
   * `on conflict (<target>) do update set c = excluded.c, …`: the upsert clause drizzle renders
   * for `onConflictDoUpdate({ target, set: { c: sql\`excluded.c\` } })`.
   */
  upsertSuffix(target: readonly string[], set: readonly string[]): string {
    return ` on conflict (${target.map((k) => this.column(k)).join(", ")}) do update set ${
      set.map((k) => `${this.column(k)} = excluded.${this.column(k)}`).join(", ")
    }`;
  }

  /**
   * `select <every column> from "t" where "tenant_id" = ? and "app_id" = ? and <key> in (?, …)`
   * for `n` values (cached per key and size): the scope is always the first two parameters.
   */
  selectInText(key: string, n: number): string {
    const cacheKey = `${key}\u0000${n}`;
    let text = this.#selectTexts.get(cacheKey);
    if (text === undefined) {
      text = `select ${this.columnList} from ${this.name} where ${this.column("tenant_id")} = ? and ${
        this.column("app_id")
      } = ? and ${this.column(key)} in (${Array(n).fill("?").join(", ")})`;
      this.#selectTexts.set(cacheKey, text);
    }
    return text;
  }

  /**
   * `select <every column> from "t" where "tenant_id" = ? and "app_id" = ? <rest>`, cached by
   * `rest` (a condition with its own `?` placeholders, an `order by`, a `limit ?`).
   */
  selectWhereText(rest: string): string {
    const cacheKey = `\u0001${rest}`;
    let text = this.#selectTexts.get(cacheKey);
    if (text === undefined) {
      text = `select ${this.columnList} from ${this.name} where ${this.column("tenant_id")} = ? and ${
        this.column("app_id")
      } = ? ${rest}`;
      this.#selectTexts.set(cacheKey, text);
    }
    return text;
  }

  /** A row of this table from driver values in column order, decoded as drizzle's `select()` does. */
  decode(values: readonly unknown[]): T["$inferSelect"] {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < this.keys.length; i++) {
      const raw = values[i];
      row[this.keys[i]] = raw === null || raw === undefined ? null : this.columns[i].mapFromDriverValue(raw);
    }
    return row as T["$inferSelect"];
  }

  /**
   * Rows of `scope` whose `key` column is one of `values`, in as many statements as the store
   * needs (distinct values; order of rows unspecified).
   *
   * @throws the driver's error
   */
  async selectIn(
    executor: object,
    scope: Scope,
    key: string,
    values: Iterable<string>,
  ): Promise<T["$inferSelect"][]> {
    const list = [...new Set(values)];
    if (list.length === 0) return [];
    const limits = limitsOf(executor);
    if (limits.arrayTypes) return await this.#selectAny(executor, limits, scope, key, list);
    // Two scope parameters plus a margin, as the drizzle selects of the batch reserved.
    const per = rowsPerStatement(limits, 1, 8);
    const out: T["$inferSelect"][] = [];
    for (let start = 0; start < list.length; start += per) {
      const chunk = list.slice(start, start + per);
      const rows = await statementValues(executor, this.selectInText(key, chunk.length), [
        scope.tenantId,
        scope.appId,
        ...chunk,
      ]);
      for (const r of rows) out.push(this.decode(r));
    }
    return out;
  }

  /** {@link selectIn} on a store that binds arrays: `<key> = any(?::type[])`, one text per key. */
  async #selectAny(
    executor: object,
    limits: StatementLimits,
    scope: Scope,
    key: string,
    list: string[],
  ): Promise<T["$inferSelect"][]> {
    const cacheKey = `\u0002${key}`;
    let text = this.#selectTexts.get(cacheKey);
    if (text === undefined) {
      const type = arrayTypeOf(limits, this.name.slice(1, -1), this.columns[this.keys.indexOf(key)].name);
      text = this.selectWhereText(`and ${this.column(key)} = any(?::${type}[])`);
      this.#selectTexts.set(cacheKey, text);
    }
    const out: T["$inferSelect"][] = [];
    for (let start = 0; start < list.length; start += MAX_ARRAY_ROWS_PER_STATEMENT) {
      const chunk = list.slice(start, start + MAX_ARRAY_ROWS_PER_STATEMENT);
      const rows = await statementValues(executor, text, [scope.tenantId, scope.appId, chunk]);
      for (const r of rows) out.push(this.decode(r));
    }
    return out;
  }
}
