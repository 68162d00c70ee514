/**
 * Request and response schemas of usage: event ingestion (`POST /v1/events`) and the usage query (`GET /v1/usage`).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { boundedJsonObject, Instant, Key, PROPERTIES_BOUNDS, Ref, SafeInt } from "../http/schemas.ts";
import { MAX_EVENTS_PER_BATCH } from "./service.ts";

/** One usage event of a batch. */
const EventBody = z.object({
  id: Key.openapi({ description: "Idempotency key of the event, unique per app", example: "req_8f2a" }),
  customer_id: z.string().min(1).max(128).openapi({
    description: "cus_ id or external id",
    example: "user_42",
  }),
  feature: Key.openapi({ description: "Feature key of the customer's plan", example: "api_calls" }),
  value: SafeInt.optional().openapi({ description: "Units (default 1)", example: 1 }),
  timestamp: Instant.optional().openapi({ description: "When the usage happened (default: when received)" }),
  properties: boundedJsonObject(PROPERTIES_BOUNDS, "Free-form properties (unique_count reads one)", {
    endpoint: "/search",
  }).optional(),
}).strict();
/** Body of `POST /v1/events`. */
export const IngestBody: z.ZodObject<
  {
    events: z.ZodArray<
      z.ZodObject<
        {
          id: z.ZodString;
          customer_id: z.ZodString;
          feature: z.ZodString;
          value: z.ZodOptional<z.ZodInt>;
          timestamp: z.ZodOptional<z.ZodISODateTime>;
          properties: z.ZodOptional<z.ZodRecord<z.ZodString, z.ZodUnknown>>;
        },
        z.core.$strict
      >
    >;
  },
  z.core.$strict
> = z.object({
  events: z.array(EventBody).min(1).max(MAX_EVENTS_PER_BATCH).openapi({
    description: `1 to ${MAX_EVENTS_PER_BATCH} events; each is judged on its own`,
    example: [{ id: "req_8f2a", customer_id: "user_42", feature: "api_calls", value: 1 }],
  }),
}).strict().openapi("IngestEvents");
/** What `POST /v1/events` did with each event of the batch. */
export const IngestReportSchema: z.ZodObject<
  {
    accepted: z.ZodInt;
    duplicates: z.ZodInt;
    rejected: z.ZodArray<
      z.ZodObject<
        { id: z.ZodString; code: z.ZodString; status: z.ZodInt; message: z.ZodString },
        z.core.$strip
      >
    >;
  },
  z.core.$strip
> = z.object({
  accepted: z.int().openapi({ description: "Events stored by this request", example: 1 }),
  duplicates: z.int().openapi({
    description: "Events whose id was already stored with the same payload (retries)",
    example: 0,
  }),
  rejected: z.array(z.object({
    id: z.string().openapi({ description: "Id of the refused event", example: "req_8f2b" }),
    code: z.string().openapi({ description: "Problem code of the refusal", example: "customer_not_found" }),
    status: z.int().openapi({ description: "HTTP status the event would have had alone", example: 404 }),
    message: z.string().openapi({
      description: "Why it was refused",
      example: 'Customer "user_43" was not found',
    }),
  })).openapi({ description: "Events refused, each with its code; the others were processed", example: [] }),
}).openapi("IngestReport");

/** Query of `GET /v1/usage`. */
export const UsageQuery: z.ZodObject<
  {
    customer_id: z.ZodString;
    feature: z.ZodString;
    from: z.ZodISODateTime;
    to: z.ZodISODateTime;
    group_by: z.ZodOptional<z.ZodString>;
  },
  z.core.$strip
> = z.object({
  customer_id: Ref.openapi({ description: "cus_ id or external id", example: "user_42" }),
  feature: Key.openapi({ description: "Feature key", example: "api_calls" }),
  from: Instant.openapi({
    description: "Window start (inclusive, ISO 8601)",
    example: "2026-11-01T00:00:00Z",
  }),
  to: Instant.openapi({ description: "Window end (exclusive, ISO 8601)", example: "2026-12-01T00:00:00Z" }),
  group_by: z.string().regex(/^(day|none|[A-Za-z0-9_]{1,64}(,[A-Za-z0-9_]{1,64}){0,3})$/, {
    message: "Must be day, none, or up to 4 comma-separated event property names",
  }).optional().openapi({
    description:
      "day: one bucket per UTC day; none: one bucket (default); or up to 4 comma-separated event property names " +
      "(model,token_type): usage per combination of their values in groups",
    example: "model,token_type",
  }),
});
/** Aggregated usage of a customer's feature over a window (`GET /v1/usage`). */
export const UsageAggregateSchema: z.ZodObject<
  {
    customer_id: z.ZodString;
    feature: z.ZodString;
    aggregation: z.ZodString;
    from: z.ZodString;
    to: z.ZodString;
    group_by: z.ZodString;
    value: z.ZodInt;
    data: z.ZodArray<z.ZodObject<{ start: z.ZodString; end: z.ZodString; value: z.ZodInt }, z.core.$strip>>;
    groups: z.ZodNullable<
      z.ZodArray<
        z.ZodObject<
          { dimensions: z.ZodRecord<z.ZodString, z.ZodNullable<z.ZodString>>; value: z.ZodInt },
          z.core.$strip
        >
      >
    >;
  },
  z.core.$strip
> = z.object({
  customer_id: z.string().openapi({ description: "cus_ id", example: "cus_01jd0000000000000000000000" }),
  feature: z.string().openapi({ description: "Feature key", example: "api_calls" }),
  aggregation: z.string().openapi({ description: "Aggregation of the feature", example: "sum" }),
  from: z.string().openapi({ description: "Window start", example: "2026-11-01T00:00:00.000Z" }),
  to: z.string().openapi({ description: "Window end", example: "2026-12-01T00:00:00.000Z" }),
  group_by: z.string().openapi({
    description: "Bucketing: day, none, or the comma-separated property names usage is grouped by",
    example: "day",
  }),
  value: z.int().openapi({ description: "Aggregate over the whole window", example: 2500 }),
  data: z.array(z.object({
    start: z.string().openapi({ description: "Bucket start", example: "2026-11-01T00:00:00.000Z" }),
    end: z.string().openapi({ description: "Bucket end", example: "2026-11-02T00:00:00.000Z" }),
    value: z.int().openapi({ description: "Aggregate of the bucket", example: 120 }),
  })).openapi({
    description: "Buckets (one when group_by is none or names properties)",
    example: [{ start: "2026-11-01T00:00:00.000Z", end: "2026-11-02T00:00:00.000Z", value: 120 }],
  }),
  groups: z.array(z.object({
    dimensions: z.record(z.string(), z.string().nullable()).openapi({
      description: "Property → value of the combination (null where the events lack it)",
      example: { model: "m-large", token_type: "output" },
    }),
    value: z.int().openapi({ description: "Aggregate of the combination's events", example: 1234567 }),
  })).nullable().openapi({
    description:
      "Usage per combination of property values, in order of first usage, when group_by names properties; else null",
    example: null,
  }),
}).openapi("UsageAggregate");
