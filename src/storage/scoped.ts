/**
 * The one tenancy filter. Every query of a tenant's data goes through {@link scoped}: it ANDs
 * `tenant_id = scope.tenantId AND app_id = scope.appId` into every read, update and delete, and
 * stamps both columns on every inserted row, so a repository cannot forget either half of the
 * scope. Capability repositories (`src/<capability>/repository.ts`) are built on it; services call
 * repositories and never drizzle directly (`tests/storage/no_direct_drizzle_test.ts`).
 *
 * Queries that need a projection, a join or an aggregate build it in the repository with
 * {@link Scoped.filter}, which returns the same tenancy condition plus the given ones. Plain
 * lookups by equal columns need no drizzle at all: {@link tableRepository} gives a table's
 * repository whose filters are objects of column values (`{ id }`, `{ status: "pending" }`,
 * `{ id: [a, b] }` for a list, `{ cancel_at: null }` for SQL NULL).
 *
 * @example
 * ```ts
 * const s = scoped(tx, ctx.scope);
 * const plan = await s.first(plans, eq(plans.id, id));
 * await s.insert(customers, { id, external_id: "user_42", name: null, email: null, created_at: now });
 * ```
 *
 * @module
 */
import { and, asc, count, desc, eq, inArray, isNull, lt, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteInsertBase, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { ResultSet } from "@libsql/client";
import type { Scope } from "../domain/scope.ts";
import type { IdPrefix } from "../domain/ids.ts";
import {
  decodeCursor,
  DEFAULT_PAGE_LIMIT,
  encodeCursor,
  type Page,
  type PageRequest,
} from "../domain/paging.ts";
import type { Executor } from "./db.ts";
import { insertChunked } from "./limits.ts";

/** A table whose rows belong to one tenant's app: it has `tenant_id` and `app_id` columns. */
export type TenantTable = SQLiteTable & { tenant_id: SQLiteColumn; app_id: SQLiteColumn };

/** A row of `T` as read. */
export type Row<T extends TenantTable> = T["$inferSelect"];

/** A row of `T` to insert, without the scope columns ({@link Scoped.insert} stamps them). */
export type NewRow<T extends TenantTable> = Omit<T["$inferInsert"], "tenant_id" | "app_id">;

/** Ordering and paging of {@link Scoped.select}. */
export interface ReadOptions {
  /** Sort keys, first the most significant (columns or `desc(column)`). */
  orderBy?: (SQLiteColumn | SQL)[];
  /** At most this many rows. */
  limit?: number;
  /** Skip this many rows first. */
  offset?: number;
}

/** The insert statement of {@link Scoped.insert}: chain `.onConflictDoNothing()` etc., then await. */
export type ScopedInsert<T extends TenantTable> = SQLiteInsertBase<T, "async", ResultSet>;

/** Typed access to one scope's rows on one executor (database or open transaction). */
export interface Scoped {
  /** The scope every statement is limited to. */
  readonly scope: Scope;
  /** The executor statements run on. */
  readonly exec: Executor;
  /**
   * The tenancy condition of `table` ANDed with `conditions` (undefined ones are skipped), for
   * queries built by hand in a repository (projections, joins, aggregates).
   */
  filter<T extends TenantTable>(table: T, ...conditions: (SQL | undefined)[]): SQL;
  /** The scope's rows of `table` matching `where`. */
  select<T extends TenantTable>(table: T, where?: SQL, options?: ReadOptions): Promise<Row<T>[]>;
  /** The scope's first row of `table` matching `where` (in `options.orderBy`), or undefined. */
  first<T extends TenantTable>(
    table: T,
    where?: SQL,
    options?: Omit<ReadOptions, "limit">,
  ): Promise<Row<T> | undefined>;
  /** How many of the scope's rows of `table` match `where`. */
  count<T extends TenantTable>(table: T, where?: SQL): Promise<number>;
  /** Inserts `rows` stamped with the scope's `tenant_id` and `app_id` (one statement). */
  insert<T extends TenantTable>(table: T, rows: NewRow<T> | NewRow<T>[]): ScopedInsert<T>;
  /**
   * Inserts any number of rows stamped with the scope, in as many statements as the executor's
   * store needs (`storage/limits.ts`); inside a transaction all or nothing. No rows: no statement.
   */
  insertMany<T extends TenantTable>(table: T, rows: readonly NewRow<T>[]): Promise<void>;
  /** Sets `set` on the scope's rows of `table` matching `where`. */
  update<T extends TenantTable>(table: T, set: Partial<NewRow<T>>, where?: SQL): Promise<void>;
  /** Deletes the scope's rows of `table` matching `where`. */
  delete<T extends TenantTable>(table: T, where?: SQL): Promise<void>;
}

/** `tenant_id = … AND app_id = …` of `table` for `scope`. */
export function tenancy(table: TenantTable, scope: Scope): SQL {
  return and(eq(table.tenant_id, scope.tenantId), eq(table.app_id, scope.appId))!;
}

/**
 * Access to the rows of `scope` through `exec`; every statement carries the tenancy filter.
 *
 * @param exec the database (reads) or an open write transaction
 * @param scope the tenant and app every statement is limited to
 */
export function scoped(exec: Executor, scope: Scope): Scoped {
  const filter = <T extends TenantTable>(table: T, ...conditions: (SQL | undefined)[]): SQL =>
    and(tenancy(table, scope), ...conditions)!;
  // drizzle's builders do not resolve row types for a generic table; the public signatures above
  // carry them, so the bodies work on the erased table type.
  const db = exec as unknown as {
    select: (fields?: unknown) => {
      from: (t: SQLiteTable) => {
        where: (w: SQL) => {
          orderBy: (...o: unknown[]) => unknown;
          limit: (n: number) => unknown;
          offset: (n: number) => unknown;
        } & Promise<unknown[]>;
      };
    };
    insert: (t: SQLiteTable) => { values: (v: unknown) => unknown };
    update: (t: SQLiteTable) => { set: (v: unknown) => { where: (w: SQL) => Promise<unknown> } };
    delete: (t: SQLiteTable) => { where: (w: SQL) => Promise<unknown> };
  };
  const select = <T extends TenantTable>(table: T, where?: SQL, options: ReadOptions = {}) => {
    // deno-lint-ignore no-explicit-any -- chained builder of an erased table type
    let query: any = db.select().from(table).where(filter(table, where));
    if (options.orderBy?.length) query = query.orderBy(...options.orderBy);
    if (options.limit !== undefined) query = query.limit(options.limit);
    if (options.offset !== undefined) query = query.offset(options.offset);
    return query as Promise<Row<T>[]>;
  };
  const stamp = (row: object) => ({ ...row, tenant_id: scope.tenantId, app_id: scope.appId });
  return {
    scope,
    exec,
    filter,
    select,
    async first(table, where, options = {}) {
      const rows = await select(table, where, { ...options, limit: 1 });
      return rows[0];
    },
    async count(table, where) {
      const rows = await db.select({ n: count() }).from(table).where(filter(table, where)) as { n: number }[];
      return rows[0]?.n ?? 0;
    },
    insert<T extends TenantTable>(table: T, rows: NewRow<T> | NewRow<T>[]): ScopedInsert<T> {
      const values = Array.isArray(rows) ? rows.map(stamp) : stamp(rows);
      return db.insert(table).values(values) as ScopedInsert<T>;
    },
    async insertMany<T extends TenantTable>(table: T, rows: readonly NewRow<T>[]): Promise<void> {
      if (rows.length === 0) return;
      // deno-lint-ignore no-explicit-any -- the erased executor of a generic table
      await insertChunked(exec as any, table, rows.map(stamp) as T["$inferInsert"][]);
    },
    async update(table, set, where) {
      const { tenant_id: _t, app_id: _a, ...rest } = set as Record<string, unknown>;
      await db.update(table).set(rest).where(filter(table, where));
    },
    async delete(table, where) {
      await db.delete(table).where(filter(table, where));
    },
  };
}

/**
 * A filter by column values: every given column must equal its value (`null` = SQL NULL); an
 * array means "one of" (an empty array matches nothing). Callers keep arrays within the store's
 * bound-parameter limit (100 on Durable Object SQLite, minus the two of the scope).
 */
export type Match<T extends TenantTable> = {
  [K in keyof Row<T>]?: Row<T>[K] | readonly NonNullable<Row<T>[K]>[];
};

/** Sort keys of {@link TableRepository}: `[column, "asc" | "desc"]`, most significant first. */
export type Order<T extends TenantTable> = readonly (readonly [keyof Row<T> & string, "asc" | "desc"])[];

/** Ordering and paging of {@link TableRepository.list}. */
export interface ListOptions<T extends TenantTable> {
  /** Sort keys, most significant first. */
  orderBy?: Order<T>;
  /** At most this many rows. */
  limit?: number;
  /** Skip this many rows first. */
  offset?: number;
}

/** One table's rows of a scope, filtered by column values (no drizzle in the caller). */
export interface TableRepository<T extends TenantTable> {
  /** The scope's first row matching `match` (in `orderBy`), or undefined. */
  first(exec: Executor, scope: Scope, match?: Match<T>, orderBy?: Order<T>): Promise<Row<T> | undefined>;
  /** The scope's rows matching `match`. */
  list(exec: Executor, scope: Scope, match?: Match<T>, options?: ListOptions<T>): Promise<Row<T>[]>;
  /** How many of the scope's rows match `match`. */
  count(exec: Executor, scope: Scope, match?: Match<T>): Promise<number>;
  /** Inserts rows stamped with the scope (chain `.onConflictDoNothing()` etc., then await). */
  insert(exec: Executor, scope: Scope, rows: NewRow<T> | NewRow<T>[]): ScopedInsert<T>;
  /** Inserts any number of rows stamped with the scope, chunked to the store's statement limits. */
  insertMany(exec: Executor, scope: Scope, rows: readonly NewRow<T>[]): Promise<void>;
  /** Sets `set` on the scope's rows matching `match`. */
  update(exec: Executor, scope: Scope, match: Match<T>, set: Partial<NewRow<T>>): Promise<void>;
  /** Deletes the scope's rows matching `match`. */
  delete(exec: Executor, scope: Scope, match: Match<T>): Promise<void>;
}

/**
 * The condition "every column of `match` equals its value" on `table` (no tenancy: callers AND it
 * through {@link Scoped}).
 *
 * @throws {Error} when `match` names a column `table` does not have (a programming error)
 */
export function matchWhere<T extends TenantTable>(table: T, match: Match<T> = {}): SQL | undefined {
  const conditions: SQL[] = [];
  for (const [name, value] of Object.entries(match)) {
    if (value === undefined) continue;
    const column = (table as unknown as Record<string, SQLiteColumn>)[name];
    if (!column) throw new Error(`Table has no column "${name}"`);
    if (value === null) conditions.push(isNull(column));
    else if (Array.isArray(value)) conditions.push(value.length === 0 ? sql`1 = 0` : inArray(column, value));
    else conditions.push(eq(column, value));
  }
  return conditions.length === 0 ? undefined : and(...conditions);
}

function orderOf<T extends TenantTable>(table: T, orderBy: Order<T> = []): SQL[] {
  return orderBy.map(([name, direction]) => {
    const column = (table as unknown as Record<string, SQLiteColumn>)[name];
    return direction === "asc" ? asc(column) : desc(column);
  });
}

/**
 * The repository of one scoped table: lookups by column values through {@link scoped}, so the
 * tenancy filter is always applied.
 *
 * @example
 * ```ts
 * const planRows = tableRepository(plans);
 * const plan = await planRows.first(tx, ctx.scope, { key: "pro" });
 * ```
 */
export function tableRepository<T extends TenantTable>(table: T): TableRepository<T> {
  return {
    first: (exec, scope, match, orderBy) =>
      scoped(exec, scope).first(table, matchWhere(table, match), { orderBy: orderOf(table, orderBy) }),
    list: (exec, scope, match, options = {}) =>
      scoped(exec, scope).select(table, matchWhere(table, match), {
        orderBy: orderOf(table, options.orderBy),
        limit: options.limit,
        offset: options.offset,
      }),
    count: (exec, scope, match) => scoped(exec, scope).count(table, matchWhere(table, match)),
    insert: (exec, scope, rows) => scoped(exec, scope).insert(table, rows),
    insertMany: (exec, scope, rows) => scoped(exec, scope).insertMany(table, rows),
    update: (exec, scope, match, set) => scoped(exec, scope).update(table, set, matchWhere(table, match)),
    delete: (exec, scope, match) => scoped(exec, scope).delete(table, matchWhere(table, match)),
  };
}

/** A scoped table whose primary key `id` is a TypeID (every resource a list shows). */
export type IdTable = TenantTable & { id: SQLiteColumn };

/**
 * One page of the scope's rows of `table` matching `where`, in the one list order of
 * `domain/paging.ts` (id descending: newest first), after the row the cursor names. Reads
 * `limit + 1` rows to learn whether another page follows; binds the scope, the cursor and the
 * limit besides `where`'s own parameters.
 *
 * @param prefix the TypeID prefix of `table`'s ids: a cursor of another list is refused
 * @returns the rows of the page and the cursor of the next one (`null` on the last page)
 * @throws {BillingError} `validation_failed` naming `query.cursor` for a cursor this list did not hand out
 */
export async function pageRows<T extends IdTable>(
  exec: Executor,
  scope: Scope,
  table: T,
  where: SQL | undefined,
  request: PageRequest,
  prefix: IdPrefix,
): Promise<Page<Row<T>>> {
  const limit = request.limit ?? DEFAULT_PAGE_LIMIT;
  const after = request.cursor === undefined ? undefined : lt(table.id, decodeCursor(request.cursor, prefix));
  const rows = await scoped(exec, scope).select(table, and(where, after), {
    orderBy: [desc(table.id)],
    limit: limit + 1,
  }) as (Row<T> & { id: string })[];
  const page = rows.slice(0, limit);
  return {
    data: page,
    next_cursor: rows.length > limit && page.length > 0 ? encodeCursor(page[page.length - 1].id) : null,
  };
}
