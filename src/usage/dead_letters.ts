/**
 * Dead letters of queued usage: what the queue consumer could not append is recorded here for an
 * operator instead of being dropped (`GET /v1/admin/dead_letters`). Three reasons:
 * - `failed`: a message kept failing (its tenant object answered errors for every attempt);
 * - `malformed`: a message that can never be appended (no valid scope or batch);
 * - `rejected`: the events of an appended message that its tenant refused (unknown customer,
 *   late event, reused id): a synchronous caller sees those in its 200, an asynchronous one
 *   only here.
 *
 * One row per queue message (unique `message_id`): recording the same message again keeps the
 * first row, so a consumer retry after a lost acknowledgement adds nothing.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { newId } from "../domain/ids.ts";
import type { Services } from "../context.ts";
import { deadLetterPage, insertDeadLetterIfAbsent } from "./repository.ts";

/** Why a queued message (or part of it) became a dead letter. */
export type DeadLetterReason = "failed" | "malformed" | "rejected";

/** What the consumer records for one queue message. */
export interface DeadLetterInput {
  /** The queue's message id. */
  message_id: string;
  /** Why it became a dead letter. */
  reason: DeadLetterReason;
  /** `tenant:<name>` from the message, when it had one. */
  tenant_object?: string | null;
  /** Tenant of the message's scope, when it had a valid one. */
  tenant_id?: string | null;
  /** App of the message's scope, when it had a valid one. */
  app_id?: string | null;
  /** API key id that sent the batch. */
  key_id?: string | null;
  /** When the Worker accepted the batch (ISO 8601), as queued. */
  received_at?: string | null;
  /** The events as queued (`failed`, `malformed`) or the refused ones (`rejected`). */
  events: unknown[];
  /** Why, in one line: the last error, or the count of refused events by code. */
  error: string;
  /** `rejected` only: why each event was refused. */
  refusals?: { id: string; code: string; message: string }[] | null;
  /** Deliveries of the message so far. */
  attempts: number;
}

/** Longest error text kept per dead letter (characters): a limit on everything. */
export const MAX_DEAD_LETTER_ERROR_CHARS = 4_000;

/**
 * Records a dead letter unless this message already has one.
 *
 * @returns whether a new row was written (false: the message was recorded before)
 * @throws the store's error when the write fails (the consumer then retries the message)
 */
export async function recordDeadLetter(services: Services, input: DeadLetterInput): Promise<boolean> {
  const now = services.clock.now();
  const inserted = await services.database.write(async (tx) =>
    await insertDeadLetterIfAbsent(tx, {
      id: newId("dlq"),
      message_id: input.message_id,
      reason: input.reason,
      tenant_object: input.tenant_object ?? null,
      tenant_id: input.tenant_id ?? null,
      app_id: input.app_id ?? null,
      key_id: input.key_id ?? null,
      received_at: input.received_at ?? null,
      events: input.events,
      error: input.error.slice(0, MAX_DEAD_LETTER_ERROR_CHARS),
      refusals: input.refusals ?? null,
      attempts: input.attempts,
      created_at: now,
    })
  );
  if (inserted) {
    services.metrics?.recordDeadLetter(input.reason);
    services.log({
      level: "error",
      msg: "usage dead letter recorded",
      message_id: input.message_id,
      reason: input.reason,
      tenant_object: input.tenant_object ?? null,
      events: input.events.length,
    });
  }
  return inserted;
}

/** One dead letter as the admin route answers it. */
export const DeadLetterSchema: z.ZodObject<
  {
    id: z.ZodString;
    message_id: z.ZodString;
    reason: z.ZodEnum<{ failed: "failed"; malformed: "malformed"; rejected: "rejected" }>;
    tenant_object: z.ZodNullable<z.ZodString>;
    tenant_id: z.ZodNullable<z.ZodString>;
    app_id: z.ZodNullable<z.ZodString>;
    key_id: z.ZodNullable<z.ZodString>;
    received_at: z.ZodNullable<z.ZodString>;
    events: z.ZodArray<z.ZodUnknown>;
    error: z.ZodString;
    refusals: z.ZodNullable<
      z.ZodArray<z.ZodObject<{ id: z.ZodString; code: z.ZodString; message: z.ZodString }, z.core.$strip>>
    >;
    attempts: z.ZodInt;
    created_at: z.ZodString;
  },
  z.core.$strip
> = z.object({
  id: z.string().openapi({
    description: "TypeID of the dead letter",
    example: "dlq_01jd0000000000000000000000",
  }),
  message_id: z.string().openapi({
    description: "The queue message id",
    example: "ef9215392f576c06961c81505a95138e",
  }),
  reason: z.enum(["failed", "malformed", "rejected"]).openapi({
    description:
      "`failed`: kept failing; `malformed`: can never be appended; `rejected`: events the tenant refused",
    example: "rejected",
  }),
  tenant_object: z.string().nullable().openapi({
    description: "Durable Object of the tenant the message was queued for",
    example: "tenant:acme",
  }),
  tenant_id: z.string().nullable().openapi({
    description: "Tenant of the message's scope (null when it had none)",
    example: "ten_01jd0000000000000000000000",
  }),
  app_id: z.string().nullable().openapi({
    description: "App of the message's scope (null when it had none)",
    example: "app_01jd0000000000000000000000",
  }),
  key_id: z.string().nullable().openapi({
    description: "API key that sent the batch",
    example: "key_01jd0000000000000000000000",
  }),
  received_at: z.string().nullable().openapi({
    description: "When the Worker accepted the batch (default timestamp of its events)",
    example: "2026-11-01T12:00:00.000Z",
  }),
  events: z.array(z.unknown()).openapi({
    description: "The events, as queued (`failed`, `malformed`) or as refused (`rejected`)",
    example: [{ id: "evt-1", customer_id: "acme-user", feature: "api_calls", value: 1 }],
  }),
  error: z.string().openapi({
    description: "Why, in one line: the last error, or refused events by code",
    example: "1 events refused: customer_not_found ×1",
  }),
  refusals: z.array(z.object({
    id: z.string().openapi({ description: "Event id", example: "evt-1" }),
    code: z.string().openapi({ description: "Stable refusal code", example: "customer_not_found" }),
    message: z.string().openapi({ description: "Why", example: 'Customer "acme-user" was not found' }),
  })).nullable().openapi({
    description: "`rejected` only: why each event was refused",
    example: [{ id: "evt-1", code: "customer_not_found", message: 'Customer "acme-user" was not found' }],
  }),
  attempts: z.int().openapi({ description: "Deliveries of the message when it was recorded", example: 1 }),
  created_at: z.string().openapi({
    description: "When it was recorded (ISO 8601)",
    example: "2026-11-01T12:00:01.000Z",
  }),
}).openapi("UsageDeadLetter");

/** A page of dead letters, newest first. */
export const DeadLetterPageSchema: z.ZodObject<
  { data: z.ZodArray<typeof DeadLetterSchema>; next_cursor: z.ZodNullable<z.ZodString> },
  z.core.$strip
> = z.object({
  data: z.array(DeadLetterSchema).openapi({ description: "Dead letters, newest first", example: [] }),
  next_cursor: z.string().nullable().openapi({
    description: "Pass as `cursor` for the next page; null on the last page",
    example: "dlq_01jd0000000000000000000000",
  }),
}).openapi("UsageDeadLetterPage");

/** Query of `GET /v1/admin/dead_letters`. */
export const DeadLetterQuery: z.ZodObject<
  { limit: z.ZodDefault<z.ZodCoercedNumber<unknown>>; cursor: z.ZodOptional<z.ZodString> },
  z.core.$strict
> = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({
    description: "Page size (1–200, default 50)",
    example: 50,
  }),
  cursor: z.string().min(1).max(128).optional().openapi({
    description: "`next_cursor` of the previous page",
    example: "dlq_01jd0000000000000000000000",
  }),
}).strict();

/** One page of dead letters, newest first (`cursor`: the last id of the previous page). */
export async function listDeadLetters(
  services: Services,
  query: { limit: number; cursor?: string },
): Promise<z.infer<typeof DeadLetterPageSchema>> {
  const rows = await deadLetterPage(services.database.db, query.cursor, query.limit + 1);
  const page = rows.slice(0, query.limit);
  return {
    data: page.map((r) => ({
      ...r,
      events: r.events as unknown[],
      refusals: r.refusals as { id: string; code: string; message: string }[] | null,
      created_at: r.created_at.toISOString(),
    })),
    next_cursor: rows.length > query.limit ? page[page.length - 1].id : null,
  };
}
