/**
 * Refuses U+0000 (NUL) in any text a request carries: JSON string values and keys, query
 * parameters and path segments. SQLite stores such a string, but C-string boundaries in drivers
 * cut it at the NUL when it is read back, so what a client reads would differ from what was
 * acknowledged (an account created as `"cash\u0000evil"` lists as `"cash"`). PostgreSQL refuses
 * NUL in `text` outright; refusing it at the edge makes every store behave the same.
 *
 * `app.ts` runs {@link nulFields} before validation and before any write, so a refused request
 * writes nothing; it answers 400 `validation_failed` whose `fields` name each offending location.
 *
 * @module
 */
import type { FieldIssue } from "../domain/errors.ts";

/** Largest number of offending fields listed in one answer (a limit on everything). */
const MAX_LISTED = 20;

const NUL_MESSAGE = "Must not contain the character U+0000 (NUL)";

/**
 * Paths of every string value or key in `value` that contains U+0000, dotted like
 * validation errors (`features.0.key`). Iterative, so deeply nested input cannot overflow the stack.
 */
export function nulPaths(value: unknown, limit: number = MAX_LISTED): string[] {
  const found: string[] = [];
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: "" }];
  while (stack.length > 0 && found.length < limit) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === "string") {
      if (current.includes("\u0000")) found.push(path);
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) {
        stack.push({ value: current[i], path: join(path, String(i)) });
      }
    } else if (current !== null && typeof current === "object") {
      const entries = Object.entries(current as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i];
        if (key.includes("\u0000")) found.push(join(path, key));
        stack.push({ value: child, path: join(path, key) });
      }
    }
  }
  return found;
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** Whether a raw URL component holds an encoded NUL (`%00`). */
function hasEncodedNul(raw: string): boolean {
  return /%00/i.test(raw);
}

/** The parts of a request {@link nulFields} reads (Hono's `c.req` has them). */
export interface RequestText {
  /** The full request URL (path and query still percent-encoded). */
  url: string;
  /** HTTP method. */
  method: string;
  /** A request header by name (case-insensitive), or `undefined`. */
  header(name: string): string | undefined;
  /** The body as text; Hono caches it, so later readers (the validator, Stripe's signature check) see the same bytes. */
  text(): Promise<string>;
}

/**
 * The locations where a request carries U+0000: path, query parameters, and the JSON body's
 * string values and keys. A JSON text can only carry NUL as the escape `\u0000` (a raw control
 * character is not valid JSON), so bodies without that escape are not parsed here; malformed JSON
 * is left to the route's own validation.
 *
 * @returns at most 20 issues, each `{ path, message }` like validation errors (`query.x`, `path`, `events.0.id`)
 */
export async function nulFields(request: RequestText): Promise<FieldIssue[]> {
  const url = new URL(request.url);
  const fields: FieldIssue[] = [];
  if (hasEncodedNul(url.pathname)) fields.push({ path: "path", message: NUL_MESSAGE });
  if (hasEncodedNul(url.search)) {
    for (const [name, value] of url.searchParams) {
      if (name.includes("\u0000") || value.includes("\u0000")) {
        fields.push({ path: `query.${name}`, message: NUL_MESSAGE });
      }
    }
  }
  const type = request.header("content-type") ?? "";
  if (fields.length === 0 && request.method !== "GET" && request.method !== "HEAD" && type.includes("json")) {
    const text = await request.text();
    if (text.includes("\\u0000")) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      for (const path of nulPaths(parsed)) fields.push({ path, message: NUL_MESSAGE });
    }
  }
  return fields.slice(0, MAX_LISTED);
}
