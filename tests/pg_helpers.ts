/**
 * A fresh PostgreSQL database per test run on the machine's server (127.0.0.1:5432, trust auth;
 * `scripts/test_deps.ts` installs and starts one when it is missing). `PG_TEST_URL` points at
 * another server (its database is only used to create and drop the test databases).
 *
 * @module
 */
import postgres from "postgres";

/** The maintenance database the test databases are created from. */
export const PG_ADMIN_URL: string = Deno.env.get("PG_TEST_URL") ??
  "postgres://postgres@127.0.0.1:5432/postgres";

/** A database created for one test; {@link FreshDatabase.drop} removes it. */
export interface FreshDatabase {
  /** `postgres://…/<name>` of the new database. */
  url: string;
  /** Drops the database (ends its remaining connections first). */
  drop(): Promise<void>;
}

/**
 * Creates an empty database with the C collation (byte order, as SQLite compares text).
 *
 * @throws {Error} naming the server when it cannot be reached
 */
export async function freshPostgresDatabase(prefix = "billing_test"): Promise<FreshDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${crypto.randomUUID().slice(0, 8)}`;
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(
      `create database "${name}" template template0 encoding 'UTF8' lc_collate 'C' lc_ctype 'C'`,
    );
  } catch (error) {
    await admin.end({ timeout: 1 });
    throw new Error(`Cannot create a test database on ${PG_ADMIN_URL} (is PostgreSQL running?)`, {
      cause: error,
    });
  }
  await admin.end({ timeout: 1 });
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const sql = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await sql.end({ timeout: 1 });
      }
    },
  };
}
