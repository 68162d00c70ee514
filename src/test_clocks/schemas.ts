/**
 * Request and response schemas of test clocks (`/v1/test_clocks`).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { Instant, typeId } from "../http/schemas.ts";

/** Body of `POST /v1/test_clocks`. */
export const CreateTestClockBody: z.ZodObject<
  { frozen_time: z.ZodISODateTime; name: z.ZodOptional<z.ZodNullable<z.ZodString>> },
  z.core.$strict
> = z.object({
  frozen_time: Instant.openapi({
    description: "The clock's starting instant (ISO 8601; any instant, past or future)",
    example: "2026-01-01T00:00:00Z",
  }),
  name: z.string().min(1).max(200).nullable().optional().openapi({
    description: "Your label for the clock",
    example: "Monthly plan with trial",
  }),
}).strict().openapi("CreateTestClock");

/** Body of `POST /v1/test_clocks/{id}/advance`. */
export const AdvanceTestClockBody: z.ZodObject<{ frozen_time: z.ZodISODateTime }, z.core.$strict> = z.object({
  frozen_time: Instant.openapi({
    description:
      "The instant to move the clock to: not before its frozen_time (400 frozen_time_in_past), at most " +
      "5 × 366 days later; the same instant again does nothing",
    example: "2026-03-01T00:00:00Z",
  }),
}).strict().openapi("AdvanceTestClock");

/** A test clock. */
export const TestClockSchema: z.ZodObject<
  {
    id: z.ZodString;
    frozen_time: z.ZodString;
    name: z.ZodNullable<z.ZodString>;
    status: z.ZodEnum<{ ready: "ready" }>;
    created_at: z.ZodString;
  },
  z.core.$strip
> = z.object({
  id: typeId("clock", "clock_01jd0000000000000000000000"),
  frozen_time: z.string().openapi({
    description: "The clock's instant (ISO 8601 UTC): the now of its customers",
    example: "2026-01-01T00:00:00.000Z",
  }),
  name: z.string().nullable().openapi({
    description: "Your label, or null",
    example: "Monthly plan with trial",
  }),
  status: z.enum(["ready"]).openapi({
    description: "Always ready: an advance runs to its end within the request",
    example: "ready",
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant of creation (wall clock)",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("TestClock");

/** A page of test clocks. */
export const TestClockListSchema: z.ZodObject<
  { data: z.ZodArray<typeof TestClockSchema>; next_cursor: z.ZodNullable<z.ZodString> },
  z.core.$strip
> = z.object({
  data: z.array(TestClockSchema).openapi({ description: "A page of test clocks, oldest first", example: [] }),
  next_cursor: z.string().nullable().openapi({
    description: "Pass as cursor for the next page; null on the last page",
    example: null,
  }),
}).openapi("TestClockList");

/** Query of `GET /v1/test_clocks`. */
export const ListTestClocksQuery: z.ZodObject<
  { limit: z.ZodDefault<z.ZodCoercedNumber<unknown>>; cursor: z.ZodOptional<z.ZodString> },
  z.core.$strict
> = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({
    description: "Page size, 1–100 (default 20)",
    example: 20,
  }),
  cursor: z.string().min(1).max(128).optional().openapi({
    description: "next_cursor of the previous page",
    example: "clock_01jd0000000000000000000000",
  }),
}).strict();

/** Answer of `DELETE /v1/test_clocks/{id}`. */
export const DeletedTestClockSchema: z.ZodObject<
  { id: z.ZodString; deleted: z.ZodLiteral<true>; deleted_customers: z.ZodInt },
  z.core.$strip
> = z.object({
  id: typeId("clock", "clock_01jd0000000000000000000000"),
  deleted: z.literal(true).openapi({ description: "Always true", example: true }),
  deleted_customers: z.int().openapi({
    description: "Customers deleted with the clock (with their subscriptions, usage, invoices and credits)",
    example: 1,
  }),
}).openapi("DeletedTestClock");
