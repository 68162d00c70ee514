/**
 * Usage ingestion and aggregation.
 *
 * Idempotency: an event's `id` is the client's idempotency key per tenant+app. The same id with
 * the same payload is counted once and reported as a duplicate; the same id with a different
 * payload is rejected with `idempotency_key_reused` (status 409 on the item) and leaves the stored
 * event untouched. The payload compared is what the client sent (`customer_id`, `feature`, `value`,
 * `timestamp`, `properties`), so a retry without a timestamp is still a duplicate even though the
 * server stamped the first delivery. Each item succeeds or fails on its own; the accepted ones are
 * written in one transaction.
 *
 * Quantities are non-negative safe integers in the feature's unit (report MB, not 0.5 GB).
 *
 * @module
 */
import { payloadHashEach } from "../domain/hash.ts";
import { keyReused, onceVerdict } from "../domain/idempotency.ts";
import type { LifecycleFact } from "../domain/events.ts";
import { newId } from "../domain/ids.ts";
import type { Feature } from "../domain/plan.ts";
import type { DimensionValues } from "../domain/dimensions.ts";
import type { Executor, Tx } from "../storage/db.ts";
import {
  aggregateUsageByDimensions,
  aggregateUsageEvents,
  hashesOfEvents,
  insertUsageEvents,
  type NewUsageEventRow,
} from "./repository.ts";
import type { Ctx } from "../context.ts";
import { type Emit, emitFact, writeOp } from "../lifecycle/write.ts";
import type { Scope } from "../domain/scope.ts";
import { resolveCustomerRefs } from "../customers/service.ts";
import { timingGate } from "./late_usage.ts";
import { customerTimes } from "../test_clocks/time.ts";
import { inChunks } from "../storage/limits.ts";

/** Largest batch accepted by one ingestion call. */
export const MAX_EVENTS_PER_BATCH = 1000;

/** A usage event as a client sends it. */
export interface UsageEventInput {
  /** Client idempotency key, unique per app. */
  id: string;
  /** `cus_…` id or the customer's external id. */
  customer_id: string;
  /** Feature key the usage counts toward (as in the plan's features). */
  feature: string;
  /** Units (default 1). */
  value?: number;
  /** When the usage happened (default: ingestion time). */
  timestamp?: Date;
  /** Free-form JSON properties (hashed; `unique_count` counts one of them). */
  properties?: Record<string, unknown>;
  /**
   * Server-side only (never from a client, never hashed): a lifecycle event to emit in the same
   * transaction if, and only if, this usage event is newly stored (e.g. the limit crossing of a
   * consuming entitlement check). Its resource is the customer.
   */
  lifecycle?: LifecycleFact<"entitlement.quota_exceeded" | "entitlement.soft_limit_reached">;
}

/** Why one event of a batch was not counted. */
export interface RejectedEvent {
  /** The client's id (idempotency key) of the refused event. */
  id: string;
  /** Stable refusal code, as the single-event error would carry it. */
  code:
    | "idempotency_key_reused"
    | "customer_not_found"
    | "timestamp_in_future"
    | "period_closed"
    | "subscription_paused";
  /** HTTP status the same error would have as a single request (404, 409, 422). */
  status: number;
  /** Human-readable reason naming the offending value. */
  message: string;
}

/** Outcome of a batch. */
export interface IngestReport {
  /** Events newly stored by this call. */
  accepted: number;
  /** Retries of events already stored with the same payload (not counted again). */
  duplicates: number;
  /** Events refused, each with its reason; the others of the batch are still stored. */
  rejected: RejectedEvent[];
}

/** An event that was stored by a call (for counters and lifecycle events). */
export interface StoredEvent {
  /** The client's id (idempotency key) of the event. */
  event_id: string;
  /** The customer's `cus_…` id (resolved from an external id when one was sent). */
  customer_id: string;
  /** Feature key the usage counts toward. */
  feature: string;
  /** Units recorded. */
  value: number;
  /** When the usage happened. */
  timestamp: Date;
}

/**
 * Ingests a batch of usage events.
 *
 * @param events at most {@link MAX_EVENTS_PER_BATCH} (the HTTP schema enforces it)
 * @returns the per-batch report and the events newly stored
 */
export async function ingestEvents(
  ctx: Ctx,
  events: readonly UsageEventInput[],
  flush?: UsageFlush,
): Promise<IngestReport & { stored: StoredEvent[] }> {
  return await ingestHashed(ctx, await hashEvents(events), flush);
}

/**
 * {@link ingestEvents} of events whose payload hashes were computed earlier: the billing process
 * ingesting what edge replicas accepted (`replica_ingest.ts`) passes the hash of what the client
 * sent together with the event as the edge stamped it (a timestamp the client left out is the
 * edge's receive time, not the ingestion time).
 */
export async function ingestHashed(
  ctx: Ctx,
  hashed: readonly HashedEvent[],
  flush?: UsageFlush,
): Promise<IngestReport & { stored: StoredEvent[] }> {
  return await writeOp(ctx, async (tx, emit) => {
    const report = await storeEvents(ctx, tx, emit, hashed);
    if (flush && report.accepted > 0) {
      emit("usage.flushed", flush.message_id, {
        message_id: flush.message_id,
        received_at: flush.received_at,
        accepted: report.accepted,
        duplicates: report.duplicates,
        rejected: report.rejected.length,
      });
    }
    return report;
  });
}

/**
 * A buffered batch being written (the Workers usage queue): `usage.flushed` is emitted with the
 * batch's counts in the same transaction, when it stored at least one new event (a redelivered,
 * fully duplicate batch reports nothing new).
 */
export interface UsageFlush {
  /** Id of the buffered batch (the queue message id). */
  message_id: string;
  /** When the batch was accepted from the client (ISO 8601). */
  received_at: string;
}

/** An event with the hash of its client payload (what idempotency compares). */
export interface HashedEvent {
  /** The event as the client sent it. */
  input: UsageEventInput;
  /** SHA-256 hex of its client payload: equal hash = retry, other hash = `idempotency_key_reused`. */
  hash: string;
}

/** Hashes the client payload of each event (`customer_id`, `feature`, `value`, `timestamp`, `properties`). */
export function hashEvents(events: readonly UsageEventInput[]): Promise<HashedEvent[]> {
  // Synchronous digests: 1000 concurrent Web Crypto digests cost several times the CPU.
  const hashes = payloadHashEach(events.map((e) => ({
    customer_id: e.customer_id,
    feature: e.feature,
    value: e.value ?? 1,
    timestamp: e.timestamp ? e.timestamp.getTime() : null,
    properties: e.properties ?? null,
  })));
  return Promise.resolve(events.map((input, i) => ({ input, hash: hashes[i] })));
}

/**
 * Stores hashed events inside an open write transaction (see {@link ingestEvents} for the
 * idempotency rules). Callers that must decide and write in one transaction (a consuming
 * entitlement check without Redis) use this directly.
 */
export async function storeEvents(
  ctx: Ctx,
  tx: Tx,
  emit: Emit,
  hashed: readonly HashedEvent[],
): Promise<IngestReport & { stored: StoredEvent[] }> {
  const now = ctx.clock.now();
  const events = hashed.map((h) => h.input);
  const report: IngestReport = { accepted: 0, duplicates: 0, rejected: [] };
  const customerIds = await resolveCustomerRefs(ctx, tx, events.map((e) => e.customer_id));
  // Each customer's now: a test clock's frozen time for a customer bound to one.
  const timeOf = await customerTimes(ctx, tx, [...customerIds.values()]);
  const timing = await timingGate(ctx, tx, [...customerIds.values()], timeOf); // late events, clock skew (docs/adr/0004-billing-rules.md)
  const existing = await existingHashes(ctx.scope, tx, events.map((e) => e.id));
  const rows: NewUsageEventRow[] = [];
  for (const { input, hash } of hashed) {
    const seen = existing.get(input.id);
    const verdict = onceVerdict(input.id, hash, seen === undefined ? undefined : { payload_hash: seen });
    if (verdict === "replay") {
      report.duplicates++;
      continue;
    }
    if (verdict === "conflict") {
      const error = keyReused(`Event id "${input.id}"`);
      report.rejected.push({
        id: input.id,
        code: "idempotency_key_reused",
        status: 409,
        message: error.message,
      });
      continue;
    }
    const customerId = customerIds.get(input.customer_id);
    if (!customerId) {
      report.rejected.push({
        id: input.id,
        code: "customer_not_found",
        status: 404,
        message: `Customer "${input.customer_id}" was not found`,
      });
      continue;
    }
    const at = input.timestamp ?? timeOf(customerId);
    const late = timing.check(customerId, at);
    if (late) {
      report.rejected.push({ id: input.id, ...late });
      continue;
    }
    existing.set(input.id, hash);
    rows.push({
      id: newId("evt"),
      event_id: input.id,
      customer_id: customerId,
      feature: input.feature,
      value: input.value ?? 1,
      timestamp: at,
      properties: input.properties ?? null,
      payload_hash: hash,
      created_at: now,
    });
  }
  await insertUsageEvents(tx, ctx.scope, rows);
  report.accepted = rows.length;
  if (rows.length > 0) {
    emit("usage.ingested", rows[0].id as string, { accepted: rows.length, duplicates: report.duplicates });
  }
  const storedIds = new Set(rows.map((r) => r.event_id));
  for (const { input } of hashed) {
    if (!input.lifecycle || !storedIds.has(input.id)) continue;
    storedIds.delete(input.id); // a duplicate inside the batch is stored (and reported) once
    emitFact(emit, customerIds.get(input.customer_id)!, input.lifecycle);
  }
  const stored = rows.map((r) => ({
    event_id: r.event_id,
    customer_id: r.customer_id,
    feature: r.feature,
    value: r.value,
    timestamp: r.timestamp,
  }));
  return { ...report, stored };
}

/** Payload hashes of already stored events by client id (`event_id`), within the scope. */
export async function existingHashes(
  scope: Scope,
  exec: Executor,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const unique = [...new Set(ids)];
  for (const chunk of inChunks(exec, unique, 4)) {
    const rows = await hashesOfEvents(exec, scope, chunk);
    for (const r of rows) out.set(r.event_id, r.hash);
  }
  return out;
}

/**
 * Aggregates a customer's usage of a feature over `[start, end)` by the feature's aggregation:
 * `sum` of values, `count` of events, `max` value, `latest` value (by timestamp, then ingestion
 * order), or `unique_count` of distinct values of `properties.<unique_property>` (events without
 * it are ignored). No events → 0.
 */
export async function aggregateUsage(
  scope: Scope,
  exec: Executor,
  customerId: string,
  feature: Pick<Feature, "key" | "aggregation" | "unique_property">,
  start: Date,
  end: Date,
): Promise<number> {
  return await aggregateUsageEvents(exec, scope, customerId, feature, start, end);
}

/** Usage of one combination of dimension values (see {@link aggregateUsageByCombination}). */
export interface CombinationAggregate {
  /** Dimension name → value (`null` where the events lack the property), in the asked order. */
  values: DimensionValues;
  /** The combination's aggregated usage, in units. */
  value: number;
}

/**
 * A customer's usage of a feature over `[start, end)` per combination of the values of the event
 * properties `dimensions`, each aggregated by the feature's aggregation, in order of first usage
 * (ADR 0004 shares the included allowance in this order). No events → `[]`.
 */
export async function aggregateUsageByCombination(
  scope: Scope,
  exec: Executor,
  customerId: string,
  feature: Pick<Feature, "key" | "aggregation" | "unique_property">,
  dimensions: readonly string[],
  start: Date,
  end: Date,
): Promise<CombinationAggregate[]> {
  const groups = await aggregateUsageByDimensions(exec, scope, customerId, feature, dimensions, start, end);
  return groups.map((g) => ({
    values: Object.fromEntries(dimensions.map((d, i) => [d, g.values[i]])),
    value: g.value,
  }));
}
