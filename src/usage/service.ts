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
 * Quantities are non-negative decimals in the feature's unit with at most 12 decimal places
 * (`domain/quantity.ts`): integers as before, or fractions such as 0.25 GB-hours. They are stored
 * exactly (whole part and 10^-12 fraction) and aggregated exactly.
 *
 * @module
 */
import { keyReused } from "../domain/idempotency.ts";
import type { LifecycleFact } from "../domain/events.ts";
import { newIds } from "../domain/ids.ts";
import { type EventQuantity, eventQuantity, usagePayloadText } from "../domain/usage_payload.ts";
import { sha256HexSync } from "../domain/hash.ts";
import { consumersOf, creditCostOf, type Feature } from "../domain/plan.ts";
import { type Decimal, DecimalError, multiplyDecimal } from "../domain/decimal.ts";
import { invalid } from "../domain/errors.ts";
import { type QuantityJson, quantityProblem } from "../domain/quantity.ts";
import type { DimensionValues } from "../domain/dimensions.ts";
import type { Executor, Tx } from "../storage/db.ts";
import {
  aggregateUsageByDimensions,
  aggregateUsageEvents,
  hashesOfEvents,
  insertNewUsageEvents,
  storedEventsOf,
  type UsageEventValues,
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
  /** Units (default 1): a number or a decimal string with at most 12 places (`domain/quantity.ts`). */
  value?: QuantityJson;
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
  /** Units recorded (exact). */
  value: Decimal;
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
  /** Its quantity, read once by {@link hashEvents} (absent: {@link storeEvents} reads `input.value`). */
  quantity?: EventQuantity;
}

/**
 * Hashes the client payload of each event (`customer_id`, `feature`, `value`, `timestamp`,
 * `properties`). The value is hashed in its canonical JSON (`0.50`, `"0.5"` and `"0.500"` are one
 * value; integers hash as they always did). The text hashed is `canonicalJson` of those five
 * fields (`domain/usage_payload.ts` builds it directly), SHA-256 synchronous, once per run of
 * consecutive equal texts (ADR 0015).
 *
 * @throws {BillingError} `validation_failed` naming `events.<i>.value` for a value that is not a
 *   quantity (the HTTP schema refuses those first; internal callers pass checked values)
 */
export function hashEvents(events: readonly UsageEventInput[]): Promise<HashedEvent[]> {
  const out: HashedEvent[] = new Array(events.length);
  let issues: { path: string; message: string }[] | undefined;
  // Consecutive events of a batch often carry the same payload (one customer, feature and value, no
  // timestamp, no properties): the digest of a text equal to the previous event's is that event's
  // (ADR 0015 "Events, third pass"). Only the previous text is kept: a batch of distinct payloads
  // pays one string comparison per event, not a map of 1000 texts.
  let lastText: string | undefined;
  let lastHash = "";
  for (let i = 0; i < events.length; i++) {
    const input = events[i];
    const value: unknown = input.value ?? 1;
    let quantity: EventQuantity | undefined;
    if (typeof value === "number" || typeof value === "string") {
      try {
        quantity = eventQuantity(value);
      } catch (error) {
        if (!(error instanceof DecimalError)) throw error;
      }
    }
    if (quantity === undefined) {
      (issues ??= []).push({ path: `events.${i}.value`, message: quantityProblem(value)! });
      continue;
    }
    const text = usagePayloadText({
      customer_id: input.customer_id,
      feature: input.feature,
      value: quantity.canonical,
      timestamp: input.timestamp ? input.timestamp.getTime() : null,
      properties: input.properties ?? null,
    });
    if (text !== lastText) {
      lastText = text;
      lastHash = sha256HexSync(text);
    }
    out[i] = { input, hash: lastHash, quantity };
  }
  if (issues) return Promise.reject(invalid(issues));
  return Promise.resolve(out);
}

/** {@link storeEvents}' verdict of an event that is a retry (a row index ≥ 0 = stored as that row). */
const REPLAY = -1;
/** … of an event whose id is taken by another payload. */
const CONFLICT = -2;
/** … of an event the customer or timing check refused (its rejection is kept aside). */
const REFUSED = -3;

/**
 * Stores hashed events inside an open write transaction (see {@link ingestEvents} for the
 * idempotency rules). Callers that must decide and write in one transaction (a consuming
 * entitlement check without Redis) use this directly.
 *
 * Dedupe without a read first (issue 14, ADR 0015): each event is judged as if no stored event had
 * its id (a later event of the batch with the id of an accepted one is its retry or its conflict),
 * the accepted ones are inserted with `ON CONFLICT (tenant_id, app_id, event_id) DO NOTHING`, and
 * only the ids that may already be stored are read back: all the inserted ones when the store
 * inserted fewer rows than sent (or does not say), and those of events the customer or timing
 * checks refused (a stored id answers as a retry or a conflict before those checks, as it always
 * did). Every event whose id was stored before is then judged against the stored hash: equal =
 * duplicate, other = `idempotency_key_reused`; its row was not inserted. The answer is the one the
 * read-first order gave, in the same order.
 */
export async function storeEvents(
  ctx: Ctx,
  tx: Tx,
  emit: Emit,
  hashed: readonly HashedEvent[],
): Promise<IngestReport & { stored: StoredEvent[] }> {
  const now = ctx.clock.now();
  const nowMs = now.getTime();
  const count = hashed.length;
  const customerIds = await resolveCustomerRefs(ctx, tx, hashed.map((h) => h.input.customer_id));
  // Each customer's now: a test clock's frozen time for a customer bound to one.
  const timeOf = await customerTimes(ctx, tx, [...customerIds.values()]);
  const timing = await timingGate(ctx, tx, [...customerIds.values()], timeOf); // late events, clock skew (docs/adr/0004-billing-rules.md)

  // 1. Judge each event as if no stored event had its id.
  const verdicts = new Int32Array(count); // a row index, or REPLAY, CONFLICT, REFUSED
  const refusals = new Map<number, RejectedEvent>();
  const accepted = new Map<string, string>(); // event id → hash of the event this batch stores
  const gated = new Set<string>(); // ids of events the customer or timing check refused
  const rows: UsageEventValues[] = [];
  const values: Decimal[] = []; // exact value of each row, for the live counters
  const times: Date[] = []; // timestamp of each row
  const rowIds = newIds("evt", count);
  for (let i = 0; i < count; i++) {
    const { input, hash } = hashed[i];
    const seen = accepted.get(input.id);
    if (seen !== undefined) {
      verdicts[i] = seen === hash ? REPLAY : CONFLICT;
      continue;
    }
    const customerId = customerIds.get(input.customer_id);
    if (!customerId) {
      gated.add(input.id);
      verdicts[i] = REFUSED;
      refusals.set(i, {
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
      gated.add(input.id);
      verdicts[i] = REFUSED;
      refusals.set(i, { id: input.id, ...late });
      continue;
    }
    accepted.set(input.id, hash);
    const quantity = hashed[i].quantity ?? eventQuantity(input.value ?? 1);
    verdicts[i] = rows.length;
    values.push(quantity.value);
    times.push(at);
    rows.push({
      id: rowIds[rows.length],
      event_id: input.id,
      customer_id: customerId,
      feature: input.feature,
      value: quantity.whole,
      value_frac: quantity.frac,
      timestamp: at.getTime(),
      properties: input.properties == null ? null : JSON.stringify(input.properties),
      payload_hash: hash,
      created_at: nowMs,
    });
  }

  // 2. Insert the accepted ones; a stored id is skipped, not an error.
  const inserted = rows.length === 0 ? 0 : await insertNewUsageEvents(tx, ctx.scope, rows);

  // 3. Read back only the ids that may have been stored before this batch.
  const maybeStored = inserted === rows.length ? [...gated] : [...new Set([...accepted.keys(), ...gated])];
  const prior = new Map<string, string>(); // event id → hash of the event stored before this batch
  if (maybeStored.length > 0) {
    const ours = new Map(rows.map((r) => [r.event_id, r.id]));
    for (const chunk of inChunks(tx, maybeStored, 4)) {
      for (const r of await storedEventsOf(tx, ctx.scope, chunk)) {
        if (ours.get(r.event_id) !== r.id) prior.set(r.event_id, r.hash);
      }
    }
  }
  const skipped = new Set<number>(); // rows not inserted: their id was stored before
  if (prior.size > 0) {
    for (let i = 0; i < count; i++) {
      const { input, hash } = hashed[i];
      const stored = prior.get(input.id);
      if (stored === undefined) continue;
      if (verdicts[i] >= 0) skipped.add(verdicts[i]);
      verdicts[i] = stored === hash ? REPLAY : CONFLICT;
    }
  }

  // 4. The report, in the batch's order.
  const report: IngestReport = { accepted: 0, duplicates: 0, rejected: [] };
  for (let i = 0; i < count; i++) {
    const verdict = verdicts[i];
    if (verdict === REPLAY) report.duplicates++;
    else if (verdict === REFUSED) report.rejected.push(refusals.get(i)!);
    else if (verdict === CONFLICT) {
      const id = hashed[i].input.id;
      report.rejected.push({
        id,
        code: "idempotency_key_reused",
        status: 409,
        message: keyReused(`Event id "${id}"`).message,
      });
    }
  }
  const stored: StoredEvent[] = [];
  let firstRowId: string | undefined;
  for (let r = 0; r < rows.length; r++) {
    if (skipped.has(r)) continue;
    const row = rows[r];
    firstRowId ??= row.id;
    stored.push({
      event_id: row.event_id,
      customer_id: row.customer_id,
      feature: row.feature,
      value: values[r],
      timestamp: times[r],
    });
  }
  report.accepted = stored.length;
  if (firstRowId !== undefined) {
    emit("usage.ingested", firstRowId, { accepted: stored.length, duplicates: report.duplicates });
  }
  const storedIds = new Set(stored.map((e) => e.event_id));
  for (const { input } of hashed) {
    if (!input.lifecycle || !storedIds.has(input.id)) continue;
    storedIds.delete(input.id); // a duplicate inside the batch is stored (and reported) once
    emitFact(emit, customerIds.get(input.customer_id)!, input.lifecycle);
  }
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
 * it are ignored). No events → 0. Exact: decimal values keep every place.
 */
export async function aggregateUsage(
  scope: Scope,
  exec: Executor,
  customerId: string,
  feature: Pick<Feature, "key" | "aggregation" | "unique_property">,
  start: Date,
  end: Date,
): Promise<Decimal> {
  return await aggregateUsageEvents(exec, scope, customerId, feature, start, end);
}

/**
 * A customer's usage of a feature over `[start, end)`, credit systems included: for a
 * `credit_system` feature, the values of events sent to it plus, for each feature of `features`
 * that draws from it, its exact sums per combination of dimension values × the credits per unit
 * of that combination ({@link creditCostOf}); each product is rounded up to 12 decimal places (it
 * is exact whenever value and cost have at most 12 places together). Other features: as
 * {@link aggregateUsage}.
 *
 * @param features the plan's features (a credit system's consumers are found among them)
 */
export async function featureUsage(
  scope: Scope,
  exec: Executor,
  customerId: string,
  feature: Feature,
  features: readonly Feature[],
  start: Date,
  end: Date,
): Promise<Decimal> {
  let total = await aggregateUsage(scope, exec, customerId, feature, start, end);
  if (feature.type !== "credit_system") return total;
  for (const consumer of consumersOf(features, feature.key)) {
    const dimensions = (consumer.dimension_prices ?? []).some((e) => e.credit_cost != null)
      ? consumer.dimensions ?? []
      : [];
    const groups = await aggregateUsageByCombination(
      scope,
      exec,
      customerId,
      consumer,
      dimensions,
      start,
      end,
    );
    for (const g of groups) {
      const cost = creditCostOf(consumer, g.values);
      if (cost !== null) total = (total + multiplyDecimal(g.value, cost, "ceil")) as Decimal;
    }
  }
  return total;
}

/** Usage of one combination of dimension values (see {@link aggregateUsageByCombination}). */
export interface CombinationAggregate {
  /** Dimension name → value (`null` where the events lack the property), in the asked order. */
  values: DimensionValues;
  /** The combination's aggregated usage in units, exact (decimal event values included). */
  value: Decimal;
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
