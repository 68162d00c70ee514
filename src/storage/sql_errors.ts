/**
 * Classifying SQLite errors without importing a driver, so code that runs on every runtime
 * (libSQL on Deno, a Durable Object's SQLite on Workers) can use it: the Worker bundle must not
 * pull in `db.ts` and its libSQL client (docs/adr/0005-where-data-lives-on-workers.md).
 *
 * @module
 */

/**
 * Whether an error is a UNIQUE constraint violation. Matches libSQL's `SQLITE_CONSTRAINT_UNIQUE`
 * code (on the error or its cause, as drizzle wraps it) and SQLite's message text, which is all a
 * Durable Object's SQL API reports, and PostgreSQL's `23505` (`unique_violation`).
 */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const text = `${e?.code} ${e?.message} ${e?.cause?.code} ${e?.cause?.message}`;
  return /SQLITE_CONSTRAINT_UNIQUE|UNIQUE constraint failed|\b23505\b|duplicate key value violates unique constraint/
    .test(text);
}
