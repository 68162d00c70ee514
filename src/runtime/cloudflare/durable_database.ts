/**
 * The {@link Store} of a tenant's Durable Object: drizzle's durable-sqlite driver over the
 * object's own SQLite storage, with the same schema and migrations as libSQL and the same write
 * contract (one serialized lane; each write is one transaction that commits when its closure
 * resolves and rolls back when it throws).
 *
 * Why not drizzle's `db.transaction()`: on Durable Objects it is `storage.transactionSync()`, which
 * cannot span an `await`, and every service writes with `await`ed queries. `storage.transaction()`
 * takes an async closure and rolls back everything it wrote (SQL included) when the closure
 * rejects, so the write lane uses that and hands the closure the database handle itself: inside
 * the closure every statement belongs to the open transaction (one SQLite connection per object).
 * Rationale and limits: docs/adr/0005-where-data-lives-on-workers.md.
 *
 * @module
 */
import { drizzle } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import type { Db, Store, Tx } from "../../storage/db.ts";
import { bindLimits, DURABLE_OBJECT_LIMITS, type StatementLimits } from "../../storage/limits.ts";
import * as schema from "../../storage/schema.ts";
import type { DurableObjectStorage } from "./types.ts";

/** drizzle-kit's journal (`migrations/meta/_journal.json`) plus each migration's SQL by `mNNNN`. */
export interface MigrationBundle {
  /**
   * drizzle-kit's journal: one entry per migration in apply order (`tag` names its SQL file, `when` is
   * epoch ms).
   */
  journal: { entries: { idx: number; when: number; tag: string; breakpoints: boolean }[] };
  /** The SQL of each migration keyed `m0000`, `m0001`… (the journal's `idx`, zero-padded). */
  migrations: Record<string, string>;
}

/** A Durable Object's SQLite as a {@link Store}. */
export class DurableDatabase implements Store {
  readonly db: Db;
  /** 100 bound parameters and 100 KB of SQL per statement. */
  readonly limits: StatementLimits = DURABLE_OBJECT_LIMITS;
  readonly #storage: DurableObjectStorage;
  readonly #durable: ReturnType<typeof drizzle<typeof schema>>;
  #lane: Promise<unknown> = Promise.resolve();

  /**
   * Wraps the object's storage; call {@link DurableDatabase.migrate} (inside
   * `blockConcurrencyWhile`) before the first query.
   */
  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    // deno-lint-ignore no-explicit-any -- our structural DurableObjectStorage vs workers-types' class
    this.#durable = drizzle(storage as any, { schema });
    // Same query builder (sqlite-core) as libSQL; sync results are awaited like async ones.
    this.db = bindLimits(this.#durable as unknown as Db, DURABLE_OBJECT_LIMITS);
  }

  /**
   * Applies the bundled migrations not yet applied to this object (drizzle's durable-sqlite
   * migrator: one synchronous transaction, bookkeeping in `__drizzle_migrations`).
   *
   * @throws the SQLite error of a failing migration (nothing of it is applied)
   */
  async migrate(bundle: MigrationBundle): Promise<void> {
    await migrate(this.#durable, bundle);
  }

  /**
   * Runs `fn` in one transaction after every earlier write of this object.
   *
   * @throws whatever `fn` throws, after rolling back everything it wrote
   */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const run = () => this.#storage.transaction(() => fn(this.db as unknown as Tx));
    const result = this.#lane.then(run, run);
    this.#lane = result.catch(() => undefined);
    return result;
  }

  /** Size of the object's database in bytes (reported by the maintenance endpoint). */
  get sizeBytes(): number {
    return this.#storage.sql.databaseSize;
  }
}
