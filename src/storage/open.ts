/**
 * Picks the store from the database URL: `postgres://` and `postgresql://` open the PostgreSQL
 * store (`postgres.ts`), everything else libSQL (`db.ts`). Deno-only (both drivers are Node-style
 * clients); the Worker has its own Durable Object store.
 *
 * @module
 */
import { Database, MIGRATIONS_FOLDER, openDatabase, type Store } from "./db.ts";
import { isPostgresUrl, openPostgres, PG_MIGRATIONS_FOLDER, PostgresStore } from "./postgres.ts";

/** A store the server opened and must close on shutdown. */
export interface OpenStore extends Store {
  /** Closes every connection. */
  close(): void | Promise<void>;
}

/** What {@link openStore} needs to know. */
export interface OpenStoreOptions {
  /** libSQL (`file:…`, `libsql://…`, `https://…`, `:memory:`) or PostgreSQL (`postgres://…`) URL. */
  url: string;
  /** libSQL only: Turso auth token. */
  authToken?: string;
  /** PostgreSQL only: most open connections of this process. */
  poolMax?: number;
  /** PostgreSQL only: statement timeout in ms (0 = none). */
  statementTimeoutMs?: number;
}

/**
 * Opens and migrates the store `options.url` names.
 *
 * @throws the driver's error when the database cannot be reached or a migration fails
 */
export async function openStore(options: OpenStoreOptions): Promise<OpenStore> {
  if (isPostgresUrl(options.url)) {
    return await openPostgres({
      url: options.url,
      poolMax: options.poolMax,
      statementTimeoutMs: options.statementTimeoutMs,
    });
  }
  return await openDatabase({ url: options.url, authToken: options.authToken });
}

/** Migrations of a store: how many the journal lists and how many the database recorded as applied. */
export interface MigrationStatus {
  /** Entries of the store's `meta/_journal.json`. */
  expected: number;
  /** Rows of drizzle's bookkeeping table. */
  applied: number;
}

/**
 * Counts the migrations `store` has applied against those its folder lists (readiness probes).
 *
 * @throws the driver's error when the database does not answer
 */
export async function migrationStatus(store: OpenStore): Promise<MigrationStatus> {
  const folder = store instanceof PostgresStore ? PG_MIGRATIONS_FOLDER : MIGRATIONS_FOLDER;
  const journal = JSON.parse(await Deno.readTextFile(`${folder}/meta/_journal.json`)) as {
    entries: unknown[];
  };
  let applied = 0;
  if (store instanceof PostgresStore) {
    const [row] = await store.sql`select count(*) as n from drizzle.__drizzle_migrations`;
    applied = Number(row?.n ?? 0);
  } else if (store instanceof Database) {
    const result = await store.client.execute("select count(*) as n from __drizzle_migrations");
    applied = Number(result.rows[0]?.n ?? 0);
  }
  return { expected: journal.entries.length, applied };
}
