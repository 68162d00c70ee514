/**
 * Picks the store from the database URL: `postgres://` and `postgresql://` open the PostgreSQL
 * store (`postgres.ts`), everything else libSQL (`db.ts`). Deno-only (both drivers are Node-style
 * clients); the Worker has its own Durable Object store.
 *
 * @module
 */
import { openDatabase, type Store } from "./db.ts";
import { isPostgresUrl, openPostgres } from "./postgres.ts";

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
