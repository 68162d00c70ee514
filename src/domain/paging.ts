/**
 * The one pagination style of every list (pure rules).
 *
 * - A list answers `{ data, next_cursor }`: a page of at most `limit` items (1…100, default 20),
 *   and `next_cursor`, the value to pass as `cursor` for the next page, or `null` on the last page.
 * - Order: by id, descending. Ids are TypeIDs (UUIDv7), which sort by creation time, so a page is
 *   newest first and the order is total and stable: an item created while a client pages through
 *   sorts before the first page and is never seen twice, and no item is skipped.
 * - A cursor is opaque: base64url of `c1:` + the last id of the page. It is bound to its list by
 *   the id's prefix, so a cursor of another list (or a made-up one) is refused as
 *   `validation_failed` naming `query.cursor`, never read as "start somewhere".
 *
 * @module
 */
import { BillingError } from "./errors.ts";
import { type IdPrefix, isId } from "./ids.ts";

/** Largest `limit` of a list. */
export const MAX_PAGE_LIMIT = 100;
/** `limit` of a list when the client gives none. */
export const DEFAULT_PAGE_LIMIT = 20;

/** What one list request asks for. */
export interface PageRequest {
  /** Items per page, 1…{@link MAX_PAGE_LIMIT} (default {@link DEFAULT_PAGE_LIMIT}). */
  limit?: number;
  /** `next_cursor` of the previous page, or absent for the first page. */
  cursor?: string;
}

/** One page of a list, as every list route answers it. */
export interface Page<T> {
  /** At most `limit` items, newest first. */
  data: T[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  next_cursor: string | null;
}

const VERSION = "c1:";

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}

/** The opaque cursor that continues a list after the item `lastId`. */
export function encodeCursor(lastId: string): string {
  return toBase64Url(VERSION + lastId);
}

/**
 * The id a cursor of the list of `prefix` continues after, or `null` when `cursor` is not one
 * this list handed out (malformed, or of another list).
 */
export function cursorId(cursor: string, prefix: IdPrefix): string | null {
  const text = fromBase64Url(cursor);
  if (text === null || !text.startsWith(VERSION)) return null;
  const id = text.slice(VERSION.length);
  return isId(prefix, id) ? id : null;
}

/**
 * {@link cursorId}, for callers past validation.
 *
 * @throws {BillingError} `validation_failed` naming `query.cursor` when the cursor is not valid
 */
export function decodeCursor(cursor: string, prefix: IdPrefix): string {
  const id = cursorId(cursor, prefix);
  if (id === null) {
    throw new BillingError(
      "validation_failed",
      "invalid_request",
      `Cursor "${cursor}" is not one this list handed out`,
      {
        fields: [{ path: "query.cursor", message: "Use next_cursor of the previous page of this list" }],
      },
    );
  }
  return id;
}

/** The page with each row turned into the item the API shows (the cursor stays). */
export async function mapPage<R, T>(page: Page<R>, view: (row: R) => T | Promise<T>): Promise<Page<T>> {
  return { data: await Promise.all(page.data.map(view)), next_cursor: page.next_cursor };
}
