/**
 * A statement whose text and bound values are already known, handed to drizzle's executors
 * (`run`, `all`, `values`) without its query builder.
 *
 * drizzle renders an `SQL` by walking its chunks (`buildQueryFromSourceParams`: several `is()`
 * classifications per chunk, then a merge of the pieces): for the ingestion path's 500-row INSERTs
 * that is 12 000 values and as many separators per statement (issue 14, ADR 0015). Every executor
 * of every store (libSQL, PostgreSQL's `sqlite-proxy`, Durable Object SQLite) turns an `SQL` into
 * text and values through its dialect's `sqlToQuery`, which calls `toQuery`; {@link StaticSql}
 * answers that call with the text and values as given. The text uses SQLite's `?` placeholders,
 * like everything drizzle's sqlite-core renders (the PostgreSQL store numbers them).
 *
 * Driver-free: the Worker bundle imports it.
 *
 * @module
 */
import { SQL } from "drizzle-orm";

/**
 * `n` comma-separated `?` placeholders (the inside of an `IN (…)` list of a {@link StaticSql}).
 *
 * @param n at least 1 (an empty `IN ()` is not SQL; callers answer empty input without a statement)
 */
export function inList(n: number): string {
  return n === 1 ? "?" : "?, ".repeat(n - 1) + "?";
}

/** An `SQL` that renders as the given text and values (see the module doc). */
export class StaticSql extends SQL {
  readonly #text: string;
  readonly #params: unknown[];

  /**
   * A statement of `text` binding `params`, in order.
   *
   * @param text the statement with one `?` per value
   * @param params the values, already in driver form (strings, numbers, null)
   */
  constructor(text: string, params: unknown[]) {
    super([]);
    this.#text = text;
    this.#params = params;
  }

  /** The statement as given (drizzle's dialects call this to render any `SQL`). */
  override toQuery(): { sql: string; params: unknown[]; typings?: [] } {
    return { sql: this.#text, params: this.#params };
  }
}
