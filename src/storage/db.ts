/**
 * The libSQL database adapter: opening, migrating, and the write lane.
 *
 * SQLite (and libSQL) admits one writer at a time. Inside one process, {@link Database.write}
 * queues write transactions on a single lane so they never contend with each other; across
 * processes sharing a file, SQLite's lock plus a busy timeout and a bounded retry on
 * `SQLITE_BUSY` keep writers correct (each transaction is `BEGIN IMMEDIATE`, so a busy error
 * arrives before any statement ran and a retry is safe).
 *
 * @module
 */
import { type Client, createClient, LibsqlError } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { BillingError } from "../domain/errors.ts";
import type { Scope } from "../domain/scope.ts";
import { retrying } from "./retry.ts";
import * as schema from "./schema.ts";
import { bindLimits, LIBSQL_LIMITS, type StatementLimits } from "./limits.ts";

/** The drizzle database over the schema. */
export type Db = LibSQLDatabase<typeof schema>;
/** A drizzle transaction handle. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** Anything a query can run on: the database or an open transaction. */
export type Executor = Db | Tx;

/**
 * What services need from storage, whichever runtime holds it: a handle for reads and one
 * serialized write lane. Implemented by {@link Database} (libSQL: embedded file or Turso) and by
 * `DurableDatabase` (`src/runtime/cloudflare/durable_database.ts`: a Durable Object's own SQLite,
 * see docs/adr/0005-where-data-lives-on-workers.md). Services never reach past this interface
 * (no driver client), so the same code runs on both.
 */
export interface Store {
  /** Reads outside a write transaction. */
  readonly db: Db;
  /**
   * Runs `fn` in one write transaction after every earlier write of this store; commits when
   * `fn` resolves, rolls back when it throws (nothing half-written). `scope` names the tenant and
   * app the write touches, when it touches one: a store shared by several processes serializes
   * each scope's writes across them (PostgreSQL); a store with one writer ignores it.
   */
  write<T>(fn: (tx: Tx) => Promise<T>, scope?: Scope): Promise<T>;
  /**
   * What one statement may carry on this store (`limits.ts`); the chunking helpers read it from
   * the executor ({@link Store.db} and every transaction handle are registered with it).
   */
  readonly limits: StatementLimits;
}

/** Options of {@link openDatabase}. */
export interface OpenOptions {
  /** `file:path`, `libsql://…`, `https://…` or `:memory:` */
  url: string;
  /** Bearer token of a remote libSQL server (Turso); unused for files and `:memory:`. */
  authToken?: string;
  /** SQLite busy timeout in ms for embedded files (default 5000). */
  busyTimeoutMs?: number;
  /** Apply `migrations/` before returning (default true). */
  migrate?: boolean;
}

/** Absolute filesystem path of `migrations/`, where drizzle-kit writes the SQL migrations. */
export const MIGRATIONS_FOLDER: string = new URL("../../migrations", import.meta.url).pathname;

/** Attempts of a write transaction that keeps meeting `SQLITE_BUSY` (a limit on everything). */
export const MAX_BUSY_ATTEMPTS = 8;

/**
 * An open database with a serialized write lane.
 */
export class Database implements Store {
  /** The libSQL client underneath, closed by {@link Database.close}. */
  readonly client: Client;
  /** drizzle over {@link Database.client}, for reads outside a write transaction. */
  readonly db: Db;
  /** SQLite's own limits (32,766 parameters per statement). */
  readonly limits: StatementLimits = LIBSQL_LIMITS;
  #lane: Promise<unknown> = Promise.resolve();

  /** Wraps an open libSQL client; {@link openDatabase} opens, configures and migrates one. */
  constructor(client: Client) {
    this.client = client;
    this.db = bindLimits(drizzle(client, { schema }), LIBSQL_LIMITS);
  }

  /**
   * Runs `fn` in one write transaction (`BEGIN IMMEDIATE`), after every earlier write of this
   * process. Commits when `fn` resolves, rolls back when it throws (nothing half-written).
   *
   * @throws whatever `fn` throws; {@link BillingError} `database_busy` (503, retryable) when the
   *   file stayed locked by another process for {@link MAX_BUSY_ATTEMPTS} attempts
   */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const run = async () => {
      try {
        return await retrying(() => this.db.transaction((tx) => fn(bindLimits(tx, LIBSQL_LIMITS))), {
          attempts: MAX_BUSY_ATTEMPTS,
          firstDelayMs: 10,
          maxDelayMs: 200,
          retryIf: isBusy,
        });
      } catch (error) {
        if (!isBusy(error)) throw error;
        throw new BillingError("database_busy", "unavailable", "The database stayed locked; retry later", {
          cause: error,
        });
      }
    };
    const result = this.#lane.then(run, run);
    this.#lane = result.catch(() => undefined);
    return result;
  }

  /** Closes every connection. */
  close(): void {
    this.client.close();
  }
}

/** Whether an error is SQLite's "database is locked" (another process holds the write lock). */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: string; cause?: { code?: string } })?.code ??
    (error as { cause?: { code?: string } })?.cause?.code;
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") return true;
  return error instanceof LibsqlError && /database is locked/i.test(error.message);
}

/** Whether an error is a UNIQUE constraint violation (defined driver-free in `sql_errors.ts`). */
export { isUniqueViolation } from "./sql_errors.ts";

/**
 * Opens (and by default migrates) a database.
 *
 * @throws the client's error when the database cannot be opened or a migration fails
 */
export async function openDatabase(options: OpenOptions): Promise<Database> {
  const client = createClient({
    url: options.url,
    authToken: options.authToken,
    timeout: options.busyTimeoutMs ?? 5000,
  });
  const database = new Database(client);
  if (options.url.startsWith("file:")) {
    await client.execute("PRAGMA journal_mode = WAL");
  }
  if (options.migrate ?? true) await migrateWithRetry(database);
  return database;
}

/** Attempts of the start-up migration (a limit on everything). */
export const MAX_MIGRATION_ATTEMPTS = 5;

/**
 * Applies pending migrations. drizzle's migrator reads the last applied migration *before* its
 * write transaction, so two processes starting together on one file can both try to apply the same
 * migration; the loser fails ("table already exists" or busy) and is retried, and on the retry it
 * reads the winner's bookkeeping and has nothing left to do.
 *
 * @throws the last error after {@link MAX_MIGRATION_ATTEMPTS} failed attempts
 */
async function migrateWithRetry(database: Database): Promise<void> {
  await retrying(() => migrate(database.db, { migrationsFolder: MIGRATIONS_FOLDER }), {
    attempts: MAX_MIGRATION_ATTEMPTS,
    firstDelayMs: 50,
    maxDelayMs: 400,
    retryIf: () => true,
  });
}
