/**
 * The PostgreSQL store: several API processes on one database (docs/adr/0011-postgresql-store.md).
 *
 * The services and repositories build their statements with drizzle's sqlite-core query builder
 * over `schema.ts`, the same on every store. This store hands those statements to PostgreSQL
 * through drizzle's `sqlite-proxy` driver over the `postgres` client: the SQL drizzle renders
 * for these statements is also PostgreSQL (double-quoted identifiers, `on conflict … do update
 * … excluded`, `returning`, `limit`/`offset`) except for its `?` placeholders, which
 * {@link toPostgresPlaceholders} numbers. Values match because `schema_pg.ts` gives every column
 * the type of what SQLite binds (instants and amounts `bigint`, booleans `boolean` read from
 * `1`/`0`, JSON `json` kept as text), and `migrations/pg/0001_compat.sql` supplies what SQLite did
 * by itself (the outbox key, the audit triggers, `json_extract`).
 *
 * Writes: each {@link PostgresStore.write} is one READ COMMITTED transaction that first takes
 * PostgreSQL advisory transaction locks, so one tenant's writes are serialized across every
 * process (ledger sequence numbers, balances, hold transitions, entitlement counters):
 * a write for a scope takes the scope's lock exclusively and the global lock shared; a write
 * for no scope (the cross-tenant jobs: webhook fan-out, sweepers) takes the global lock
 * exclusively and so runs alone, as every write does on SQLite.
 *
 * @module
 */
import { FIRST_ANALYZE_AFTER_ROWS, MAX_ANALYZE_INTERVAL_ROWS, TableStatistics } from "./pg_statistics.ts";
import postgres from "postgres";
import { SqliteRemoteDatabase, SQLiteRemoteSession } from "drizzle-orm/sqlite-proxy";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { readMigrationFiles } from "drizzle-orm/migrator";
import {
  createTableRelationsHelpers,
  extractTablesRelationalConfig,
  getTableColumns,
  getTableName,
  is,
} from "drizzle-orm";
import { PgTable } from "drizzle-orm/pg-core";
import { BillingError } from "../domain/errors.ts";
import type { Scope } from "../domain/scope.ts";
import type { Db, Store, Tx } from "./db.ts";
import { bindLimits, type StatementLimits } from "./limits.ts";
import * as schema from "./schema.ts";
import * as schemaPg from "./schema_pg.ts";

/**
 * The type of every column of `schema_pg.ts`, keyed `table.column`, as an array element type
 * (`bigserial` is `bigint`): what `unnest(?::type[])` and `= any(?::type[])` cast a bound array to.
 */
function pgColumnTypes(): ReadonlyMap<string, string> {
  const types = new Map<string, string>();
  for (const table of Object.values(schemaPg)) {
    if (!is(table, PgTable)) continue;
    const name = getTableName(table);
    for (const column of Object.values(getTableColumns(table))) {
      const type = column.getSQLType();
      types.set(`${name}.${column.name}`, type === "bigserial" ? "bigint" : type);
    }
  }
  return types;
}

/**
 * PostgreSQL's limits: 65,535 bound parameters per statement (the wire protocol's Int16 count),
 * and arrays bound as one parameter (`arrayTypes`): multi-row statements keep one text whatever
 * their row count, so the client prepares each once per connection and pipelines the rest.
 */
export const POSTGRES_LIMITS: StatementLimits = Object.freeze({
  maxParameters: 65_535,
  maxStatementBytes: 1_000_000_000,
  arrayTypes: pgColumnTypes(),
});

/** Where drizzle-kit writes the PostgreSQL migrations. */
export const PG_MIGRATIONS_FOLDER: string = new URL("../../migrations/pg", import.meta.url).pathname;

/** Key of the advisory lock held while migrating (any process starting applies them once). */
export const MIGRATION_LOCK_KEY = 7_310_017_001;
/** Key of the global advisory lock (shared by scoped writes, exclusive for unscoped ones). */
export const GLOBAL_WRITE_LOCK_KEY = 7_310_017_002;

/** Attempts of a write transaction that meets a serialization failure or deadlock. */
export const MAX_WRITE_ATTEMPTS = 5;

/** Options of {@link openPostgres}. */
export interface PostgresOptions {
  /** `postgres://user:password@host:port/database` (or `postgresql://…`). */
  url: string;
  /** Most open connections of this process (default 10). */
  poolMax?: number;
  /** Statements running longer are cancelled by the server, in ms (default 30,000; 0 = none). */
  statementTimeoutMs?: number;
  /** Give up connecting after this many seconds (default 10). */
  connectTimeoutSeconds?: number;
  /** Apply `migrations/pg/` before returning (default true). */
  migrate?: boolean;
  /** Called with the text of every statement the client sends (benchmarks, diagnostics). */
  onStatement?: (text: string) => void;
  /**
   * Rows this process inserts into a table before it has the table analyzed, then twice as many
   * each time (default {@link FIRST_ANALYZE_AFTER_ROWS}; 0 = leave statistics to autovacuum).
   * See ADR 0011 "Planner statistics".
   */
  analyzeAfterRows?: number;
}

/** Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/**
 * Numbers SQLite's `?` placeholders as PostgreSQL's `$1, $2, …`, leaving quoted strings and
 * identifiers alone.
 *
 * @throws {Error} when the text has a different count of placeholders than `parameters`
 */
export function toPostgresPlaceholders(text: string, parameters: number): string {
  let out = "";
  let n = 0;
  let quote: string | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === "?") {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  if (n !== parameters) {
    throw new Error(`Statement has ${n} placeholders for ${parameters} parameters: ${text}`);
  }
  return out;
}

/**
 * The PostgreSQL text of a statement drizzle rendered for SQLite: placeholders numbered
 * ({@link toPostgresPlaceholders}) and the columns of an `on conflict (…)` target unqualified
 * (SQLite accepts `"table"."column"` there, PostgreSQL only `"column"`).
 *
 * @throws {Error} when the text has a different count of placeholders than `parameters`
 */
export function toPostgresSql(text: string, parameters: number): string {
  const numbered = toPostgresPlaceholders(text, parameters);
  return numbered.replace(
    /on conflict \(([^)]*)\)/g,
    (_, target: string) => `on conflict (${target.replace(/"[^"]+"\."([^"]+)"/g, '"$1"')})`,
  );
}

type Method = "run" | "all" | "values" | "get";
type Connection = postgres.Sql | postgres.TransactionSql;

/**
 * A text whose shape depends on how many values it carries: a multi-row `values (…), (…)` or an
 * `in (…)` list of several placeholders (drizzle's builder writes both; the storage layer's own
 * statements use arrays on PostgreSQL instead, see `limits.ts`).
 */
const COUNT_SHAPED = /\), \(| in \(\?, /;

/**
 * Whether the client should prepare `text` (a named statement, kept per connection): yes unless
 * its shape depends on a count ({@link COUNT_SHAPED}), since every prepared text stays on its
 * connection (client and server) until the connection closes, and a text per count would pile
 * up. A prepared text costs a `Parse`/`Describe` round trip on its first use on a connection,
 * then each use is one `Bind`/`Execute` that pipelines behind the others; an unprepared text with
 * parameters is described first on every use and holds the connection meanwhile (the `postgres`
 * client's `unsafe` prepares nothing unless asked).
 */
export function shouldPrepare(text: string): boolean {
  return !COUNT_SHAPED.test(text);
}

/**
 * `values` as the text of a PostgreSQL array (`{"a","b\\"c",NULL}`, `{1,2,NULL}`), what the
 * `postgres` client would send for the array bound to an array-typed parameter, built in one pass:
 * numbers and bigints bare, strings quoted with `\\` and `"` escaped (the client runs two regular
 * expressions over each element, and the arrays of a batch's multi-row inserts have thousands of
 * elements; issue 17), booleans as `t`/`f`, `null` as `NULL`. PostgreSQL reads the text as the
 * parameter's declared type (`?::bigint[]`, `?::json[]`, `?::boolean[]` accepts `1`/`0`).
 *
 * @returns the text, or `undefined` for an element this does not write (an object, a nested
 *   array, `undefined`, a number that is not finite): the client then serializes the array itself
 */
export function postgresArrayLiteral(values: readonly unknown[]): string | undefined {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ",";
    const value = values[i];
    if (value === null) {
      out += "NULL";
    } else if (typeof value === "string") {
      out += value.includes('"') || value.includes("\\")
        ? `"${value.replace(/[\\"]/g, "\\$&")}"`
        : `"${value}"`;
    } else if (typeof value === "number") {
      if (!Number.isFinite(value)) return undefined;
      out += String(value);
    } else if (typeof value === "bigint") {
      out += String(value);
    } else if (typeof value === "boolean") {
      out += value ? "t" : "f";
    } else {
      return undefined;
    }
  }
  return out + "}";
}

/**
 * `params` with each array replaced by its {@link postgresArrayLiteral} text (the array itself
 * when that declines it); the same object when there is no array.
 */
function withArrayLiterals(params: unknown[]): unknown[] {
  let out = params;
  for (let i = 0; i < params.length; i++) {
    const value = params[i];
    if (!Array.isArray(value)) continue;
    const literal = postgresArrayLiteral(value);
    if (literal === undefined) continue;
    if (out === params) out = params.slice();
    out[i] = literal;
  }
  return out;
}

/** A statement's PostgreSQL text and whether to prepare it. */
interface PostgresStatement {
  text: string;
  prepare: boolean;
}

/** Most statement texts whose PostgreSQL form {@link proxyOver} remembers (a bound on memory). */
const SQL_CACHE_SIZE = 2000;
const sqlCache = new Map<string, PostgresStatement>();

/** {@link toPostgresSql} and {@link shouldPrepare}, remembered per text: the hot statements repeat. */
function cachedPostgresSql(text: string, parameters: number): PostgresStatement {
  const key = `${parameters}\u0000${text}`;
  let out = sqlCache.get(key);
  if (out === undefined) {
    out = { text: toPostgresSql(text, parameters), prepare: shouldPrepare(text) };
    if (sqlCache.size >= SQL_CACHE_SIZE) sqlCache.delete(sqlCache.keys().next().value!);
    sqlCache.set(key, out);
  }
  return out;
}

/**
 * The schema's relational configuration (what `db.query.<table>` reads), extracted once: drizzle's
 * `drizzle(callback, { schema })` extracts it on every call, and {@link proxyOver} runs once per
 * write transaction (measured, issue 17: about 3% of the CPU of a ledger entry on PostgreSQL).
 */
const RELATIONS = extractTablesRelationalConfig(schema, createTableRelationsHelpers);
const PROXY_SCHEMA = {
  fullSchema: schema,
  schema: RELATIONS.tables,
  tableNamesMap: RELATIONS.tableNamesMap,
};
/** The dialect of every proxy (stateless apart from its cache of column-name casing). */
const PROXY_DIALECT = new SQLiteAsyncDialect();

/**
 * A drizzle sqlite-core database whose statements run on `connection` (the pool, or one write
 * transaction's connection): what `drizzle(callback, { schema })` of `drizzle-orm/sqlite-proxy`
 * builds (no logger, no cache), over the relational configuration extracted once.
 */
function proxyOver(
  connection: Connection,
  onConnectionLost?: (query: postgres.PendingQuery<postgres.Row[]>) => void,
  onRows?: (text: string, rows: number) => void,
): Db {
  const session = new SQLiteRemoteSession(
    async (text: string, params: unknown[], method: Method) => {
      const query = cachedPostgresSql(text, params.length);
      let pending: postgres.PendingQuery<postgres.Row[]> | undefined;
      try {
        // deno-lint-ignore no-explicit-any -- SQLite-encoded values: strings, numbers, null, arrays
        pending = connection.unsafe(query.text, withArrayLiterals(params) as any[], {
          prepare: query.prepare,
        });
        if (method === "run") {
          const result = await pending;
          onRows?.(text, result.count);
          return { rows: [], rowsAffected: result.count };
        }
        const rows = await pending.values();
        if (onRows) onRows(text, rows.count);
        return { rows: method === "get" ? rows[0] : rows };
      } catch (error) {
        if (pending && onConnectionLost && droppedConnection(error)) onConnectionLost(pending);
        throw asUnavailable(error);
      }
    },
    PROXY_DIALECT,
    PROXY_SCHEMA,
  );
  return new SqliteRemoteDatabase("async", PROXY_DIALECT, session, PROXY_SCHEMA) as unknown as Db;
}

/**
 * The driver's error code under `error`: drizzle wraps what a statement throws (`Failed query: …`,
 * the original as `cause`) and {@link asUnavailable} wraps connection errors, so the chain of
 * causes is walked to the first error with a string `code` that is not a {@link BillingError}.
 */
function driverCode(error: unknown): string {
  let e = error;
  for (let depth = 0; depth < 8 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (!(e instanceof BillingError) && typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return "";
}

/** Whether a PostgreSQL error is worth retrying the whole transaction for (SQLSTATE 40001, 40P01). */
function isRetryable(error: unknown): boolean {
  const code = driverCode(error);
  return code === "40001" || code === "40P01";
}

/**
 * Client errors of a connection that never opened: nothing reached the server, so the write can
 * run again at once (the server is restarting, or not accepting connections yet).
 */
const NEVER_CONNECTED = new Set(["ECONNREFUSED", "CONNECT_TIMEOUT", "57P03"]);

/**
 * Whether an error (or one of its causes) means the database could not be reached or dropped
 * the connection (the server restarting or shutting down, a network cut): client codes of the
 * `postgres` driver, SQLSTATE class 08 (connection exception), 57P01–57P03 (admin shutdown, crash
 * shutdown, cannot connect now) and 53300 (too many connections).
 */
export function isConnectionError(error: unknown): boolean {
  const code = driverCode(error);
  return NEVER_CONNECTED.has(code) || code.startsWith("08") || code === "57P01" || code === "57P02" ||
    code === "53300" || code === "ECONNRESET" || code === "EPIPE" || code === "ETIMEDOUT" ||
    code.startsWith("CONNECTION_");
}

/** Whether `error` is a connection that was open and dropped (not one that never opened). */
function droppedConnection(error: unknown): boolean {
  return isConnectionError(error) && !NEVER_CONNECTED.has(driverCode(error));
}

/**
 * A connection error as {@link BillingError} `database_unavailable` (503, retryable): the
 * request's outcome may be unknown (a commit whose answer was lost), so clients retry with the
 * same idempotency key and get the original result or run it once. Other errors pass unchanged.
 */
function asUnavailable(error: unknown): unknown {
  if (error instanceof BillingError || !isConnectionError(error)) return error;
  return new BillingError(
    "database_unavailable",
    "unavailable",
    "The database connection failed; retry with the same idempotency key",
    { cause: error },
  );
}

/**
 * One connection of its own (a `postgres` client of `max: 1`) that runs one write transaction at
 * a time (see {@link PostgresStore.write}).
 */
export interface WriteConnection {
  /** The client: every statement of a transaction on it goes out on its one connection, in order. */
  readonly sql: postgres.Sql;
  /** The connection closed (or failed to open, or a `rollback` failed): never used again. */
  closed: boolean;
  /** Called with the error when the connection closes; set while a transaction runs on it. */
  onClose: ((error: unknown) => void) | null;
  /**
   * The drizzle handle of every transaction on this connection, built once (it holds no state of
   * a transaction; ~14 µs per transaction to build): its statements are refused once the
   * connection closed.
   */
  readonly tx: Tx;
}

/** Opens a {@link WriteConnection}: a `postgres` client of `max: 1` whose `onclose` calls `closed`. */
export type OpenWriteConnection = (closed: () => void) => postgres.Sql;

/**
 * Takes `scope`'s write lock on `connection`'s transaction: the global lock shared, the scope's
 * exclusively (a key hashed by the server from tenant and app, bound as parameters).
 */
function scopeLock(connection: Connection, scope: Scope): postgres.PendingQuery<postgres.Row[]> {
  return connection`select pg_advisory_xact_lock_shared(${GLOBAL_WRITE_LOCK_KEY}::int8),
    pg_advisory_xact_lock(hashtextextended(${scope.tenantId} || chr(1) || ${scope.appId}, 0))`;
}

/** Takes the global write lock exclusively on `connection`'s transaction (writes of no scope). */
function globalLock(connection: Connection): postgres.PendingQuery<postgres.Row[]> {
  return connection`select pg_advisory_xact_lock(${GLOBAL_WRITE_LOCK_KEY}::int8)`;
}

/**
 * Write transactions a process with `poolMax` connections may have open at once: half of them, at
 * least one (a write may read through the pool while it holds its tenant's lock, so reads keep the
 * rest).
 */
function writeSlotsOf(poolMax: number): number {
  return Math.max(1, Math.floor(poolMax / 2));
}

/** What a write whose connection closed fails with (a `CONNECTION_*` code: 503, pool replaced). */
function connectionClosed(): Error {
  return Object.assign(new Error("The write transaction's connection closed"), { code: "CONNECTION_CLOSED" });
}

/**
 * A PostgreSQL database as a {@link Store}: a bounded pool, READ COMMITTED write transactions
 * serialized per tenant by advisory locks.
 */
export class PostgresStore implements Store {
  #sql: postgres.Sql;
  readonly #reopen: (() => postgres.Sql) | undefined;
  /** Reads outside a write transaction (any pooled connection of the current pool). */
  readonly db: Db;
  /** PostgreSQL's statement limits. */
  readonly limits: StatementLimits = POSTGRES_LIMITS;

  /** Write transactions this process may have open at once (the rest of the pool stays for reads). */
  readonly writeSlots: number;
  #writing = 0;
  #waiting: (() => void)[] = [];
  readonly #openWriter: OpenWriteConnection | undefined;
  /** Write connections between transactions (at most {@link PostgresStore.writeSlots}). */
  #idleWriters: WriteConnection[] = [];
  #closing = false;
  /** Rows this process inserted per table (ADR 0011 "Planner statistics"); absent: none kept. */
  readonly #statistics: TableStatistics | undefined;
  /** Tables whose `ANALYZE` is running. */
  readonly #analyzing = new Set<string>();

  /**
   * Wraps an open `postgres` pool (see {@link openPostgres}, which also migrates). `poolMax` is
   * the process's bound on connections, write connections included. `reopen` makes a fresh pool
   * with the same options: given, a write or a read that loses its connection replaces the pool
   * (see {@link PostgresStore.write}). `openWriter`, given, opens the write connections (one per
   * write slot, opened when first needed); without it writes run on the pool's `begin()`.
   * `statistics`, given, counts the rows the inserts of write transactions on those connections
   * report (a rolled-back one too: the count only paces `ANALYZE`) and, after each commit, has the
   * pool `ANALYZE` a table that is due ({@link TableStatistics}).
   */
  constructor(
    sql: postgres.Sql,
    poolMax = 10,
    reopen?: () => postgres.Sql,
    openWriter?: OpenWriteConnection,
    statistics?: TableStatistics,
  ) {
    this.#sql = sql;
    this.#statistics = statistics;
    this.#reopen = reopen;
    this.#openWriter = openWriter;
    // Reads go to whichever pool is current (the proxy only calls `unsafe`); a read that loses its
    // connection replaces the pool it ran on, as a write does.
    const poolOf = new WeakMap<object, postgres.Sql>();
    const current = {
      unsafe: (...args: Parameters<postgres.Sql["unsafe"]>) => {
        const pool = this.#sql;
        const pending = pool.unsafe(...args);
        poolOf.set(pending, pool);
        return pending;
      },
    };
    this.db = bindLimits(
      proxyOver(current as unknown as postgres.Sql, (pending) => {
        const pool = poolOf.get(pending);
        if (pool) this.#replacePool(pool);
      }),
      POSTGRES_LIMITS,
    );
    // A write may read through `db` (another pooled connection) while it holds its tenant's lock;
    // if every connection were a write waiting for that lock, the read would never get one.
    this.writeSlots = writeSlotsOf(poolMax);
  }

  /** The `postgres` client (the current pool). */
  get sql(): postgres.Sql {
    return this.#sql;
  }

  /**
   * Replaces `lost` (the pool a write just lost its connection on) by a fresh pool, once per
   * loss, and ends the old one at once. The `postgres` client (3.4.9) keeps a connection object
   * across reconnects, and when a connection closes with bytes still buffered its `closed()`
   * cancels the pending flush without forgetting it (`nextWriteTimer`, `chunk`): later small
   * writes on that object are appended to the stale buffer and never sent, so a transaction on
   * it waits forever (seen after a server restart: a backend idle in `ClientRead` on the advisory
   * lock's `Parse` for minutes, that tenant's writes queued behind it; ADR 0011). A fresh pool
   * has no such state. Statements still running on the old pool fail with a connection error
   * (503, retryable), as they would during the restart that caused this.
   */
  #replacePool(lost: postgres.Sql): void {
    if (!this.#reopen || lost !== this.#sql) return;
    this.#sql = this.#reopen();
    lost.end({ timeout: 0 }).catch(() => {});
  }

  async #slot(): Promise<void> {
    if (this.#writing < this.writeSlots) {
      this.#writing++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#writing--;
  }

  /**
   * Runs `fn` in one transaction holding the write lock of `scope` (every process's writes of
   * that tenant and app wait for it), or of every scope when `scope` is absent. Commits when `fn`
   * resolves, rolls back when it throws (nothing half-written).
   *
   * @throws whatever `fn` throws; {@link BillingError} `database_busy` (503, retryable) after
   *   {@link MAX_WRITE_ATTEMPTS} serialization failures or deadlocks; `database_unavailable` (503,
   *   retryable, outcome unknown when the connection dropped during the commit) when the server
   *   cannot be reached or drops the connection ({@link isConnectionError}); a connection that
   *   never opened is retried first, with backoff (about 3 s in all, a server restart's length)
   */
  async write<T>(fn: (tx: Tx) => Promise<T>, scope?: Scope): Promise<T> {
    await this.#slot();
    try {
      return await this.#write(fn, scope);
    } finally {
      this.#release();
    }
  }

  async #write<T>(fn: (tx: Tx) => Promise<T>, scope?: Scope): Promise<T> {
    for (let attempt = 1;; attempt++) {
      const pool = this.#sql;
      try {
        if (this.#openWriter) return await this.#onWriteConnection(fn, scope);
        return await pool.begin(async (connection) => {
          await (scope ? scopeLock(connection, scope) : globalLock(connection));
          return await fn(bindLimits(proxyOver(connection), POSTGRES_LIMITS) as unknown as Tx);
        }) as T;
      } catch (error) {
        const neverConnected = NEVER_CONNECTED.has(driverCode(error));
        if (droppedConnection(error)) this.#replacePool(pool);
        if (!isRetryable(error) && !neverConnected) throw asUnavailable(error);
        if (attempt >= MAX_WRITE_ATTEMPTS) {
          if (neverConnected) throw asUnavailable(error);
          throw new BillingError(
            "database_busy",
            "unavailable",
            "The database kept aborting the write; retry later",
            {
              cause: error,
            },
          );
        }
        const delay = neverConnected ? 100 * 2 ** attempt : Math.min(200, 5 * 2 ** attempt);
        await new Promise((r) => setTimeout(r, delay + Math.random() * 10));
      }
    }
  }

  /** An idle write connection that is still open, or a new one. */
  #takeWriter(): WriteConnection {
    for (let writer = this.#idleWriters.pop(); writer; writer = this.#idleWriters.pop()) {
      if (!writer.closed) return writer;
      writer.sql.end({ timeout: 0 }).catch(() => {});
    }
    const writer: { -readonly [K in keyof WriteConnection]?: WriteConnection[K] } = {
      closed: false,
      onClose: null,
    };
    const sql = this.#openWriter!(() => {
      writer.closed = true;
      writer.onClose?.(connectionClosed());
    });
    writer.sql = sql;
    // what transactions' statements go through: refused once the connection closed
    const handle = {
      unsafe: (...args: Parameters<postgres.Sql["unsafe"]>) => {
        if (writer.closed) throw connectionClosed();
        return sql.unsafe(...args);
      },
    };
    const statistics = this.#statistics;
    const onRows = statistics && ((text: string, rows: number) => statistics.noteStatement(text, rows));
    writer.tx = bindLimits(
      proxyOver(handle as unknown as postgres.Sql, undefined, onRows),
      POSTGRES_LIMITS,
    ) as unknown as Tx;
    return writer as WriteConnection;
  }

  /** Gives `writer` back for the next write, or ends it when it closed (or the store is closing). */
  #giveBack(writer: WriteConnection): void {
    if (writer.closed || this.#closing) writer.sql.end({ timeout: 0 }).catch(() => {});
    else this.#idleWriters.push(writer);
  }

  /**
   * One attempt of {@link PostgresStore.write} on a write connection of its own: `begin` and the
   * advisory locks go out together (one socket write, one round trip; the pool's `begin()` awaits
   * its `begin` before sending the lock: two), then `fn`'s statements, then `commit`, or
   * `rollback` when `fn` throws. Values stay bound (the lock statement is the prepared text it
   * was, tenant and app as parameters). When the connection closes, the attempt fails at once
   * (as `begin()` does), and nothing more is sent on that client: the next statement would go out
   * on a reconnected session, outside the transaction. A connection that closed, or whose
   * `rollback` failed, is ended and replaced by a new one for the next write.
   *
   * @throws whatever `fn` throws (after `rollback`); the driver's error when `begin`, a lock,
   *   `commit` or `rollback` fails; `CONNECTION_CLOSED` when the connection closes meanwhile
   */
  async #onWriteConnection<T>(fn: (tx: Tx) => Promise<T>, scope?: Scope): Promise<T> {
    const writer = this.#takeWriter();
    const sql = writer.sql;
    let lost: (error: unknown) => void = () => {};
    const whenClosed = new Promise<never>((_, reject) => (lost = reject));
    whenClosed.catch(() => {});
    writer.onClose = lost;
    const guarded = <R>(work: PromiseLike<R>): Promise<R> => Promise.race([work, whenClosed]);
    let open = true; // in a transaction whose `commit` or `rollback` was not sent yet
    try {
      if (writer.closed) throw connectionClosed();
      const begin = sql.unsafe("begin");
      const lock = scope ? scopeLock(sql, scope) : globalLock(sql);
      await guarded(Promise.all([begin, lock]));
      let result: T;
      try {
        result = await guarded(fn(writer.tx));
      } catch (error) {
        open = false;
        if (!writer.closed) {
          await guarded(sql`rollback`).catch((rollbackError) => {
            writer.closed = true;
            throw rollbackError;
          });
        }
        throw error;
      }
      open = false;
      if (writer.closed) throw connectionClosed();
      await guarded(sql`commit`);
      this.#analyzeDue();
      return result;
    } catch (error) {
      // `begin` or a lock failed (the other's answer is not awaited): end the transaction
      if (open && !writer.closed) {
        await guarded(sql`rollback`).catch(() => {
          writer.closed = true;
        });
      }
      throw error;
    } finally {
      writer.onClose = null;
      this.#giveBack(writer);
    }
  }

  /**
   * Starts an `ANALYZE` of each table {@link TableStatistics.due} names, on the pool, without
   * waiting for it (it reads a sample of the table and takes no lock that blocks writes;
   * `skip_locked` skips a table another process is analyzing). A failure (no privilege, a lost
   * connection) is logged and changes nothing else: autovacuum still analyzes the table later.
   */
  #analyzeDue(): void {
    if (!this.#statistics) return;
    for (const table of this.#statistics.due()) {
      if (this.#analyzing.has(table) || this.#closing) continue;
      this.#analyzing.add(table);
      // `table` came out of one of our statements' `insert into "name"` (no quote in it)
      this.#sql.unsafe(`analyze (skip_locked) "${table}"`).then(
        () => this.#analyzing.delete(table),
        (error) => {
          this.#analyzing.delete(table);
          console.error(JSON.stringify({
            level: "warn",
            msg: "postgres: analyze failed; autovacuum will analyze the table later",
            table,
            error: String(error),
          }));
        },
      );
    }
  }

  /** Closes every connection (waits up to 5 s for running queries). */
  async close(): Promise<void> {
    this.#closing = true;
    const writers = this.#idleWriters.splice(0);
    await Promise.all([
      this.#sql.end({ timeout: 5 }),
      ...writers.map((writer) => writer.sql.end({ timeout: 5 })),
    ]);
  }
}

let writeAfterCloseGuarded = false;

/**
 * Whether `error` is the `postgres` driver's write to a connection that already closed: its
 * batched write (`setImmediate(nextWrite)`) fires after `closed()` nulled the socket and throws
 * `TypeError: Cannot read properties of null (reading 'write')` from a timer, where no caller can
 * catch it (porsager/postgres#1154, #1208; unfixed in 3.4.9, the latest release). It happens when
 * the server ends connections under load (a restart): a transaction whose connection closed sends
 * its `rollback` on it. That transaction has already failed to its caller (`begin` rejects when
 * its connection closes), so the lost write changes nothing.
 */
export function isDriverWriteAfterClose(error: unknown): boolean {
  return error instanceof TypeError && /reading 'write'/.test(error.message) &&
    /postgres[@/][^\n]*connection\.js/.test(error.stack ?? "");
}

/**
 * Keeps the process alive through {@link isDriverWriteAfterClose} (once per process): without
 * this, a database restart under load kills every API process that had a transaction open.
 * Any other uncaught error still ends the process.
 */
function guardDriverWriteAfterClose(): void {
  if (writeAfterCloseGuarded) return;
  writeAfterCloseGuarded = true;
  globalThis.addEventListener("error", (event) => {
    if (!isDriverWriteAfterClose(event.error)) return;
    event.preventDefault();
    console.error(JSON.stringify({
      level: "warn",
      msg: "postgres driver wrote to a closed connection; its transaction had already failed",
    }));
  });
}

/**
 * Opens a pool on `options.url` and (by default) applies `migrations/pg/` under an advisory
 * lock, so processes starting together apply each migration once.
 *
 * @throws the client's error when the server cannot be reached or a migration fails
 */
export async function openPostgres(options: PostgresOptions): Promise<PostgresStore> {
  const statementTimeout = options.statementTimeoutMs ?? 30_000;
  guardDriverWriteAfterClose();
  const poolMax = options.poolMax ?? 10;
  // Reads get what the write connections leave of `poolMax`.
  const open = () => client(Math.max(1, poolMax - writeSlotsOf(poolMax)));
  const client = (max: number, onclose?: () => void) =>
    postgres(options.url, {
      max,
      onclose,
      connect_timeout: options.connectTimeoutSeconds ?? 10,
      idle_timeout: 60,
      onnotice: () => {},
      debug: options.onStatement ? (_connection, text) => options.onStatement!(text) : undefined,
      connection: { statement_timeout: statementTimeout, application_name: "billing" },
      types: {
        // 64-bit integers and sums come back as numbers, as SQLite's INTEGER does (amounts and
        // instants stay far below 2^53).
        integer: {
          to: 20,
          from: [20, 1700],
          serialize: (x: number) => String(x),
          parse: (x: string) => Number(x),
        },
        // SQLite binds booleans as 1/0; the client serializes by the type the server inferred for the
        // parameter, and its own boolean serializer would turn 1 into false.
        boolean: {
          to: 16,
          from: [16],
          serialize: (x: unknown) => (x === true || x === 1 || x === "1" || x === "t" ? "t" : "f"),
          parse: (x: string) => x === "t",
        },
        // JSON stays text: the sqlite-core columns parse it themselves.
        jsonText: { to: 114, from: [114, 3802], serialize: (x: string) => x, parse: (x: string) => x },
      },
    });
  const sql = open();
  const analyzeAfter = options.analyzeAfterRows ?? FIRST_ANALYZE_AFTER_ROWS;
  const statistics = analyzeAfter > 0
    ? new TableStatistics(analyzeAfter, Math.max(analyzeAfter, MAX_ANALYZE_INTERVAL_ROWS))
    : undefined;
  const store = new PostgresStore(sql, poolMax, open, (closed) => client(1, closed), statistics);
  if (options.migrate ?? true) {
    try {
      await migratePostgres(sql);
    } catch (error) {
      await sql.end({ timeout: 1 });
      throw error;
    }
  }
  return store;
}

/**
 * Applies pending `migrations/pg/` in one transaction that holds the advisory lock
 * {@link MIGRATION_LOCK_KEY}: a process that waited for the lock finds them applied and does
 * nothing. Bookkeeping is drizzle's (`drizzle.__drizzle_migrations`: hash and folder timestamp of
 * each applied migration), so drizzle-kit sees the same history.
 *
 * @throws the failing statement's error (nothing of the run is kept)
 */
export async function migratePostgres(sql: postgres.Sql): Promise<void> {
  const migrations = readMigrationFiles({ migrationsFolder: PG_MIGRATIONS_FOLDER });
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}::int8)`;
    await tx`create schema if not exists drizzle`;
    await tx`create table if not exists drizzle.__drizzle_migrations (
      id serial primary key, hash text not null, created_at bigint)`;
    const [last] =
      await tx`select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`;
    const appliedUntil = last ? Number(last.created_at) : -1;
    for (const migration of migrations) {
      if (migration.folderMillis <= appliedUntil) continue;
      for (const statement of migration.sql) if (statement.trim()) await tx.unsafe(statement);
      await tx`insert into drizzle.__drizzle_migrations (hash, created_at)
        values (${migration.hash}, ${migration.folderMillis})`;
    }
  });
}
