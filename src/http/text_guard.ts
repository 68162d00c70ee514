/**
 * Refuses U+0000 (NUL) in any text a request carries: JSON string values and keys, query
 * parameters and path segments. SQLite stores such a string, but C-string boundaries in drivers
 * cut it at the NUL when it is read back, so what a client reads would differ from what was
 * acknowledged (an account created as `"cash\u0000evil"` lists as `"cash"`). PostgreSQL refuses
 * NUL in `text` outright; refusing it at the edge makes every store behave the same.
 *
 * The check runs before validation and before any write, so a refused request writes nothing.
 * Answer: 400 `validation_failed` whose `fields` name each offending location.
 *
 * @module
 */
import type { Context, Next } from "hono";
import type { FieldIssue } from "../domain/errors.ts";
import { problem } from "./problem.ts";

/** Hono's request context and continuation, re-exported because {@link refuseNul} names them. */
export type { Context, Next };

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

/**
 * Hono middleware refusing U+0000 in the JSON body, the query and the path of a request.
 * A JSON text can only carry NUL as the escape `\u0000` (a raw control character is not valid
 * JSON), so bodies without that escape are not parsed here. The body is read as text, which
 * Hono caches: the route's validator parses the same text, and signature checks (Stripe) see
 * the exact bytes.
 */
export async function refuseNul(c: Context, next: Next): Promise<Response | void> {
  const url = new URL(c.req.url);
  const fields: FieldIssue[] = [];
  if (hasEncodedNul(url.pathname)) fields.push({ path: "path", message: NUL_MESSAGE });
  if (hasEncodedNul(url.search)) {
    for (const [name, value] of url.searchParams) {
      if (name.includes("\u0000") || value.includes("\u0000")) {
        fields.push({ path: `query.${name}`, message: NUL_MESSAGE });
      }
    }
  }
  const type = c.req.header("content-type") ?? "";
  if (fields.length === 0 && c.req.method !== "GET" && c.req.method !== "HEAD" && type.includes("json")) {
    const text = await c.req.text();
    if (text.includes("\\u0000")) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined; // malformed JSON: the route's own validation answers it
      }
      for (const path of nulPaths(parsed)) fields.push({ path, message: NUL_MESSAGE });
    }
  }
  if (fields.length > 0) {
    return problem(
      c,
      400,
      "validation_failed",
      "The request has invalid fields",
      fields.slice(0, MAX_LISTED),
    );
  }
  await next();
}
