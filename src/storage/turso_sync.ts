/**
 * Turso embedded replicas (`@tursodatabase/sync`): a local database file kept in sync with a
 * remote one by `push()` (send local changes) and `pull()` (apply remote ones). The remote is Turso
 * Cloud (`libsql://…`) in production, or `tursodb --sync-server HOST:PORT FILE` when self-hosted
 * and in the tests (ADR 0014).
 *
 * The client is installed by npm into `tools/edge_replica/node_modules` (`scripts/edge_deps.ts`)
 * and loaded from there on first use, so nothing of it is fetched or loaded unless an edge replica
 * is configured. Only the Deno server uses it (Workers keep usage in the tenant's Durable Object).
 *
 * @module
 */

/** A prepared statement of the sync client. */
export interface ReplicaStatement {
  /** Every row, as objects keyed by column name. */
  all(...params: unknown[]): Promise<Record<string, unknown>[]>;
  /** Runs a write. */
  run(...params: unknown[]): Promise<unknown>;
}

/** The part of `@tursodatabase/sync`'s `Database` this project uses. */
export interface ReplicaDatabase {
  /** Runs SQL without results (several statements allowed). */
  exec(sql: string): Promise<void>;
  /** Prepares one statement. */
  prepare(sql: string): Promise<ReplicaStatement>;
  /** Sends every local change not yet sent to the remote. @throws when the remote cannot be reached */
  push(): Promise<void>;
  /** Applies the remote's changes locally. @returns whether anything changed @throws when unreachable */
  pull(): Promise<boolean>;
  /** Closes the local file. */
  close(): Promise<void>;
}

/** How to open a replica. */
export interface ReplicaOptions {
  /** Local file (the client also writes `<path>-info`, `<path>-wal`, … next to it). */
  path: string;
  /** The remote: `libsql://…` (Turso Cloud) or `http://host:port` (`tursodb --sync-server`). */
  url: string;
  /** Turso auth token of the remote, when it needs one. */
  authToken?: string;
  /** Most CDC operations sent in one push request (a push is split on transaction boundaries). */
  pushOperationsThreshold?: number;
  /** Name the sync server sees (made unique by the client). */
  clientName?: string;
}

/** Where `scripts/edge_deps.ts` installs the client. */
export const SYNC_CLIENT_MODULE: URL = new URL(
  "../../tools/edge_replica/node_modules/@tursodatabase/sync/dist/promise.js",
  import.meta.url,
);

/** The replica could not be opened (client not installed, or a new replica could not bootstrap). */
export class ReplicaUnavailable extends Error {
  /** Always `"ReplicaUnavailable"`. */
  override name = "ReplicaUnavailable";
}

/**
 * Opens (and on first use bootstraps from the remote) a replica.
 *
 * An existing local file opens without the remote; a new one needs the remote once, to copy its
 * current state.
 *
 * @throws {ReplicaUnavailable} when the client is not installed (`deno task edge:install`) or the
 *   remote cannot be reached to create a new replica
 */
export async function openReplica(options: ReplicaOptions): Promise<ReplicaDatabase> {
  let module: { connect(opts: Record<string, unknown>): Promise<ReplicaDatabase> };
  try {
    module = await import(SYNC_CLIENT_MODULE.href);
  } catch (error) {
    throw new ReplicaUnavailable(
      `The Turso sync client is not installed (run "deno task edge:install"): ${(error as Error).message}`,
    );
  }
  try {
    return await module.connect({
      path: options.path,
      url: options.url,
      authToken: options.authToken,
      clientName: options.clientName,
      pushOperationsThreshold: options.pushOperationsThreshold,
    });
  } catch (error) {
    throw new ReplicaUnavailable(
      `Cannot open the replica "${options.path}" of "${options.url}": ${(error as Error).message}`,
    );
  }
}
