/**
 * Shared schema primitives (zod 4 via @hono/zod-openapi) that every capability's `schemas.ts`
 * builds on: amounts, keys, currencies, instants, ids and the problem document. Each capability
 * keeps its own request and response schemas next to its routes; together they validate input at
 * the edge of the service and generate the OpenAPI 3.1 document served at `/openapi.json`.
 * Amounts are integer minor units; instants are ISO 8601 UTC strings; names are snake_case.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { IdPrefix } from "../domain/ids.ts";
import { cursorId, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from "../domain/paging.ts";

/** Non-negative safe integer (units, counts, minor units). */
export const SafeInt: z.ZodInt = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
/** Non-negative integer amount of minor units. */
export const Amount: z.ZodInt = SafeInt.openapi({
  description: "Integer amount in the currency's minor unit (cents for USD)",
  example: 4900,
});
/** A client-chosen key: letters, digits, `_ . : -`, 1–128 characters. */
export const Key: z.ZodString = z.string().min(1).max(128).regex(
  /^[A-Za-z0-9_.:-]+$/,
  "Use letters, digits, _ . : - only",
);
/** ISO 4217 code. */
export const Currency: z.ZodString = z.string().regex(/^[A-Z]{3}$/, "Use an ISO 4217 code such as USD")
  .openapi({
    example: "USD",
  });
/** ISO 8601 instant (offset allowed; stored in UTC). */
export const Instant: z.ZodISODateTime = z.iso.datetime({ offset: true }).openapi({
  example: "2026-11-01T00:00:00Z",
});
/** A reference to another resource by id, key or code (1–128 characters). */
export const Ref: z.ZodString = z.string().min(1).max(128);
/** `tax_rate_ids` of a customer or subscription: at most 5 `txr_` ids, each once (`domain/tax.ts`). */
export const TaxRateIds: z.ZodArray<z.ZodString> = z.array(z.string().min(1).max(128)).max(5).openapi({
  description:
    "Tax rates (txr_ ids, at most 5), each applied to the same discounted amount and rounded per line and rate; " +
    "an inclusive rate must be the only one",
  example: ["txr_01jd0000000000000000000000"],
});
/** A TypeID field of a response, documented with its prefix. */
export function typeId(prefix: string, example: string): z.ZodString {
  return z.string().min(1).max(128).openapi({ description: `TypeID with prefix ${prefix}_`, example });
}
/** The `{id}` path parameter (1–128 characters), documented with a description and an example. */
export function idParam(
  description: string,
  example: string,
): z.ZodObject<{ id: z.ZodString }, z.core.$strip> {
  return z.object({ id: z.string().min(1).max(128).openapi({ description, example }) });
}
/** `{id}` of the subscription action, coupon, tax, credit and credit-note routes: any resource's TypeID. */
export const ResourceIdParam: z.ZodObject<{ id: z.ZodString }, z.core.$strip> = idParam(
  "Id of the resource in the path (TypeID; customers also by external id)",
  "sub_01jd0000000000000000000000",
);

/** Limits of a free-form JSON object (metadata, properties): see {@link boundedJsonObject}. */
export interface JsonBounds {
  /** Largest size as compact JSON, in UTF-8 bytes. */
  maxBytes: number;
  /** Most object keys, counted at every depth. */
  maxKeys: number;
  /** Deepest nesting of objects and arrays; the object itself is depth 1. */
  maxDepth: number;
}

/** Limits of `metadata` on every route: 8 KiB, 50 keys, 5 levels (like the limits payment APIs publish). */
export const METADATA_BOUNDS: JsonBounds = { maxBytes: 8192, maxKeys: 50, maxDepth: 5 };
/** Limits of usage event `properties`: 4 KiB, 50 keys, 5 levels. */
export const PROPERTIES_BOUNDS: JsonBounds = { maxBytes: 4096, maxKeys: 50, maxDepth: 5 };

/**
 * Why `value` breaks `bounds`, or `null`. Walks iteratively and stops at the first excess, so a
 * value nested 100 000 deep costs no more than one nested `maxDepth + 1` deep; only a value within
 * the depth and key limits is serialized to measure its bytes.
 */
export function jsonBoundsIssue(value: unknown, bounds: JsonBounds): string | null {
  let keys = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (current === null || typeof current !== "object") continue;
    if (depth > bounds.maxDepth) return `Nested deeper than ${bounds.maxDepth} levels`;
    if (Array.isArray(current)) {
      for (const item of current) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    for (const child of Object.values(current)) {
      if (++keys > bounds.maxKeys) return `More than ${bounds.maxKeys} keys (counted at every level)`;
      stack.push({ value: child, depth: depth + 1 });
    }
  }
  const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
  return bytes > bounds.maxBytes ? `Larger than ${bounds.maxBytes} bytes as JSON (${bytes})` : null;
}

/**
 * A free-form JSON object (string keys of at most 64 characters) held to `bounds`: the one schema
 * of `metadata` and `properties` on every route, so no route stores or hashes an unbounded value.
 */
export function boundedJsonObject(
  bounds: JsonBounds,
  description: string,
  example: Record<string, unknown>,
): z.ZodRecord<z.ZodString, z.ZodUnknown> {
  return z.record(z.string().max(64), z.unknown())
    .superRefine((value, ctx) => {
      const issue = jsonBoundsIssue(value, bounds);
      if (issue) ctx.addIssue({ code: "custom", message: issue });
    })
    .openapi({
      description:
        `${description}. At most ${bounds.maxBytes} bytes as JSON, ${bounds.maxKeys} keys counted at ` +
        `every level, ${bounds.maxDepth} levels deep`,
      example,
    });
}

/** Problem details (RFC 9457). */
export const ProblemSchema: z.ZodObject<
  {
    type: z.ZodString;
    title: z.ZodString;
    status: z.ZodInt;
    detail: z.ZodString;
    code: z.ZodString;
    request_id: z.ZodString;
    fields: z.ZodOptional<
      z.ZodArray<z.ZodObject<{ path: z.ZodString; message: z.ZodString }, z.core.$strip>>
    >;
  },
  z.core.$strip
> = z.object({
  type: z.string().openapi({
    description: "Relative URI of the problem type: /problems/{code}",
    example: "/problems/validation_failed",
  }),
  title: z.string().openapi({ description: "Short summary of the HTTP status", example: "Bad Request" }),
  status: z.int().openapi({ description: "HTTP status code of this response", example: 400 }),
  detail: z.string().openapi({
    description: "What went wrong with this request, for humans",
    example: "The request has invalid fields",
  }),
  code: z.string().openapi({
    description: "Stable snake_case code to branch on",
    example: "validation_failed",
  }),
  request_id: z.string().openapi({
    description: "Id of the request (also in the x-request-id header), for support",
    example: "0b6f1c2e-4d1a-4f7e-9d55-2a8b4d1f9e01",
  }),
  fields: z.array(z.object({
    path: z.string().openapi({
      description: "Dotted path of the failing field; `query.` or `path.` prefixed outside the body",
      example: "features.0.key",
    }),
    message: z.string().openapi({
      description: "Why the field is invalid",
      example: "Use letters, digits, _ . : - only",
    }),
  })).optional().openapi({
    description: "Each failing field (validation errors only)",
    example: [{ path: "features.0.key", message: "Use letters, digits, _ . : - only" }],
  }),
}).openapi("Problem");

/** The paging parameters every list takes (see `domain/paging.ts`). */
export type PageQueryShape = {
  limit: z.ZodOptional<z.ZodCoercedNumber<unknown>>;
  cursor: z.ZodOptional<z.ZodString>;
};

/**
 * The query of a list: its `filters` plus `limit` (1…100, default 20) and `cursor`, strict, so
 * an unknown parameter (`expand[]`, a misspelt filter) is refused with 400 `validation_failed`
 * naming it instead of being ignored; a `cursor` this list did not hand out is refused the same way.
 *
 * @param prefix TypeID prefix of the listed resource (binds the cursor to this list)
 * @param filters the list's own optional parameters
 * @param defaultLimit the page size the list's service uses without `limit` (documented here)
 */
export function listQuery<S extends z.ZodRawShape>(
  prefix: IdPrefix,
  filters: S,
  defaultLimit: number = DEFAULT_PAGE_LIMIT,
): z.ZodObject<S & PageQueryShape, z.core.$strict> {
  const paging: PageQueryShape = {
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).optional().openapi({
      description: `Items per page, 1–${MAX_PAGE_LIMIT} (default ${defaultLimit})`,
      example: defaultLimit,
    }),
    cursor: z.string().min(1).max(200)
      .refine(
        (cursor) => cursorId(cursor, prefix) !== null,
        "Use next_cursor of the previous page of this list",
      )
      .optional().openapi({
        description: "`next_cursor` of the previous page (opaque); absent for the first page",
        example: "YzE6aW52XzAxamQwMDAwMDAwMDAwMDAwMDAwMDAwMDAw",
      }),
  };
  return z.object({ ...filters, ...paging }).strict() as unknown as z.ZodObject<
    S & PageQueryShape,
    z.core.$strict
  >;
}

/**
 * The answer of a list: `{ data, next_cursor }`, registered as the component `name`.
 *
 * @param item schema of one item
 * @param what the items, for the description ("customers")
 */
export function listOf<T extends z.ZodType>(
  item: T,
  name: string,
  what: string,
): z.ZodObject<{ data: z.ZodArray<T>; next_cursor: z.ZodNullable<z.ZodString> }, z.core.$strip> {
  return z.object({
    data: z.array(item).openapi({ description: `A page of ${what}, newest first`, example: [] }),
    next_cursor: z.string().nullable().openapi({
      description: "Pass as `cursor` for the next page; null on the last page",
      example: null,
    }),
  }).openapi(name);
}
