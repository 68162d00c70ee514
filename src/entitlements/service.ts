/**
 * Entitlement checks, with optional atomic consumption.
 *
 * Flow of `POST /v1/entitlements/check` (setup → compute → execute):
 * 1. resolve the customer reference to its `cus_…` id (cached in-process: the mapping never changes);
 * 2. one round trip to the live store (`live_entitlements.ts`: Redis or in-process) that reads the
 *    cached entitlement and counter and, with `consume`, checks and adds atomically;
 *    a stale snapshot is reloaded from libSQL and a cold counter rebuilt from the stored events;
 * 3. the pure rule `decideConsumption` (`domain/entitlement.ts`) shapes the answer;
 * 4. consumed units are stored as a usage event whose id is the request's `idempotency_key`, so
 *    invoices (which read the events) and counters agree (group-committed with concurrent
 *    consumptions of the app: `consumption_writer.ts`). A retry with the same key consumes once
 *    (the reservation is given back and the answer says `consumed: n` again); the same key with a
 *    different payload is `idempotency_key_reused` (409). Denied consumptions write nothing.
 *
 * Quantities are exact decimals (issue 19): `consume`, usage and limits may have 12 decimal places.
 *
 * Credit systems (issue 19): a check of a feature that draws from a `credit_system` feature is
 * answered and enforced on the pool: `consume` units cost `consume × credit_cost` credits
 * (the cost of the first `dimension_prices` entry the check's `properties` match, else the
 * feature's), deducted from the pool's counter in the same atomic step as any hard limit, and the
 * answer carries the pool's `used` / `limit` / `remaining` in credits with `credit_system` naming
 * it. The recorded usage event is the feature's own (its units and properties); the pool's usage
 * is derived from those events (`featureUsage`), so invoices and counters agree and the pool
 * refills at each period boundary like any per-period usage.
 *
 * Without a reachable Redis, checks answer from libSQL, reading the entitlement fresh (never from a
 * cache another process cannot invalidate); a consumption fails closed (`upstream_unavailable`,
 * 503, retry with the same key), because libSQL does not hold the reservations Redis made that are
 * still on their way to the store (ADR 0009). Without a live store at all
 * (`DatabaseOnlyEntitlements`) a consumption decides and writes inside one write transaction
 * (`BEGIN IMMEDIATE`, serialized across processes), so the hard limit holds there too.
 *
 * @module
 */
import { type ConsumptionDecision, decideConsumption, limitCrossing } from "../domain/entitlement.ts";
import { type Decimal, decimalFromInteger, multiplyDecimal } from "../domain/decimal.ts";
import { parseQuantity, type QuantityJson, quantityToJson } from "../domain/quantity.ts";
import { creditCostOf, type Feature } from "../domain/plan.ts";
import { BillingError } from "../domain/errors.ts";
import { keyReused, onceVerdict } from "../domain/idempotency.ts";
import { findFeature } from "../domain/plan.ts";
import type { Executor, Store } from "../storage/db.ts";
import { consumptionWriter } from "./consumption_writer.ts";
import { liveStore } from "./invalidate.ts";
import type { Ctx } from "../context.ts";
import { writeOp } from "../lifecycle/write.ts";
import { loadCustomer } from "../customers/service.ts";
import type { EntitlementContext } from "./cache.ts";
import {
  type CountedEvent,
  DatabaseOnlyEntitlements,
  type FeatureEntitlement,
  type LiveEntitlementStore,
  type LiveKey,
  LiveStoreUnavailable,
} from "./live_store.ts";
import { loadPlan } from "../plans/service.ts";
import { appendUsage } from "../usage/append.ts";
import { billingPeriodAt, liveSubscription } from "../subscriptions/read.ts";
import { customerCtx, onWallClock } from "../test_clocks/time.ts";
import {
  existingHashes,
  featureUsage,
  hashEvents,
  ingestEvents,
  type IngestReport,
  storeEvents,
  type UsageEventInput,
  type UsageFlush,
} from "../usage/service.ts";

/**
 * Loads the entitlement context of a customer at `now`, from the in-process cache or storage.
 */
export async function entitlementContext(
  ctx: Ctx,
  customerId: string,
  now: Date,
): Promise<EntitlementContext> {
  const cached = ctx.entitlementCache.get(ctx.scope, customerId, now);
  if (cached) return cached;
  const value = await loadEntitlementContext(ctx, ctx.database.db, customerId, now);
  ctx.entitlementCache.set(ctx.scope, customerId, value, now);
  return value;
}

/** Reads a customer's live subscription, plan features and current period from storage. */
async function loadEntitlementContext(
  ctx: Ctx,
  exec: Executor,
  customerId: string,
  now: Date,
): Promise<EntitlementContext> {
  const sub = await liveSubscription(ctx, exec, customerId, now);
  if (!sub) return { subscription: null, features: [] };
  const plan = await loadPlan(ctx, exec, sub.plan_id);
  const period = billingPeriodAt(sub, plan.interval, now);
  return {
    subscription: { id: sub.id, plan_id: plan.id, period_start: period.start, period_end: period.end },
    features: plan.features,
  };
}

/**
 * The snapshot of one feature the live store caches; a credit system's snapshot carries the
 * features that draw from it (its counter is rebuilt from their events).
 */
function featureEntitlement(context: EntitlementContext, featureKey: string): FeatureEntitlement {
  const sub = context.subscription;
  const feature = sub ? findFeature(context, featureKey) ?? null : null;
  return {
    subscribed: sub !== null,
    feature,
    period_start_ms: sub ? sub.period_start.getTime() : null,
    period_end_ms: sub ? sub.period_end.getTime() : null,
    ...(feature?.type === "credit_system"
      ? { consumers: context.features.filter((f) => f.credit_system === feature.key) }
      : {}),
  };
}

/** The usage of an entitlement's feature over its current period (credit systems included). */
function periodUsage(ctx: Ctx, exec: Executor, customerId: string, entitlement: FeatureEntitlement) {
  const f = entitlement.feature!;
  return featureUsage(
    ctx.scope,
    exec,
    customerId,
    f,
    entitlement.consumers ?? [],
    new Date(entitlement.period_start_ms!),
    new Date(entitlement.period_end_ms!),
  );
}

/**
 * Publishes a customer's entitlements to a live store right after they were invalidated: a fresh
 * snapshot of every feature of the current plan under the new generation, and each counter that
 * is not built yet seeded from the stored usage. A check that follows, in any process or at the
 * edge, then answers from the store without reloading anything. Safe against concurrent checks
 * and ingestion (the store's `put` / `seed` rules); a feature a concurrent change made stale again
 * is simply left for the next check to reload.
 *
 * @returns how many features were published
 * @throws {LiveStoreUnavailable} when the store cannot be reached (the next check reloads)
 */
export async function publishEntitlements(
  caller: Ctx,
  store: LiveEntitlementStore,
  customerId: string,
): Promise<number> {
  const ctx = await customerCtx(caller, caller.database.db, customerId);
  const now = ctx.clock.now();
  const context = await loadEntitlementContext(ctx, ctx.database.db, customerId, now);
  let published = 0;
  for (const f of context.features) {
    const key: LiveKey = { scope: ctx.scope, customerId, feature: f.key };
    const zero = decimalFromInteger(0);
    const r = await store.check(key, zero, now.getTime());
    if (r.status !== "stale") continue;
    const entitlement = featureEntitlement(context, f.key);
    await store.put(key, r.gen, entitlement, now.getTime());
    published++;
    const after = await store.check(key, zero, now.getTime());
    if (after.status !== "cold") continue;
    await store.seed(key, after.snapshot, await periodUsage(ctx, ctx.database.db, customerId, entitlement));
  }
  return published;
}

/** Largest number of customer references remembered per database (a limit on everything). */
const MAX_CUSTOMER_REFS = 100_000;
const customerRefs = new WeakMap<Store, Map<string, string>>();

/**
 * Resolves a `cus_…` id or external id to the `cus_…` id. A customer's external id never changes
 * and only a test clock's deletion deletes customers ({@link forgetCustomerRefs}), so a found
 * mapping is cached in-process (bounded).
 *
 * @throws {BillingError} `customer_not_found` (404)
 */
async function resolveCustomerId(ctx: Ctx, ref: string): Promise<string> {
  const hit = rememberedCustomerId(ctx, ref);
  if (hit) return hit;
  let refs = customerRefs.get(ctx.database);
  if (!refs) customerRefs.set(ctx.database, refs = new Map());
  const k = `${ctx.scope.tenantId}:${ctx.scope.appId}:${ref}`;
  const customer = await loadCustomer(ctx, ctx.database.db, ref);
  if (refs.size >= MAX_CUSTOMER_REFS) refs.delete(refs.keys().next().value!);
  refs.set(k, customer.id);
  return customer.id;
}

/** The `cus_…` id {@link resolveCustomerId} remembers for `ref`, without a promise; else undefined. */
function rememberedCustomerId(ctx: Ctx, ref: string): string | undefined {
  return customerRefs.get(ctx.database)?.get(`${ctx.scope.tenantId}:${ctx.scope.appId}:${ref}`);
}

/**
 * Forgets this process's remembered references of deleted customers (`cus_…` ids and external
 * ids; deleting a test clock deletes its customers), so an external id used again resolves to
 * its new customer.
 */
export function forgetCustomerRefs(
  ctx: Ctx,
  customers: readonly { id: string; external_id: string }[],
): void {
  const refs = customerRefs.get(ctx.database);
  if (!refs) return;
  const prefix = `${ctx.scope.tenantId}:${ctx.scope.appId}:`;
  for (const c of customers) {
    refs.delete(prefix + c.id);
    refs.delete(prefix + c.external_id);
  }
}

/** Input of {@link checkEntitlement}. */
export interface CheckInput {
  /** `cus_…` id or external id. */
  customer_id: string;
  /** Feature key. */
  feature: string;
  /** Units to consume if allowed (absent or 0: only ask); a decimal with at most 12 places. */
  consume?: QuantityJson;
  /** Id of the usage event a consumption records; required with `consume`. */
  idempotency_key?: string;
  /** Event properties of the consumption (recorded on its event; pick a credit cost by dimension). */
  properties?: Record<string, unknown>;
}

/**
 * What a check settles on: the feature asked about, or, for a feature drawing from a credit
 * system, the pool. `amount` is what the counter must take (`consume`, or its credits); `ask` is
 * what a plain check asks room for (one unit, or its credits).
 */
export interface Target {
  /** The live entry the decision is made on. */
  key: LiveKey;
  /** Counter units to consume (0 = only ask). */
  amount: Decimal;
  /** Room a plain check asks for. */
  ask: Decimal;
  /** Key of the credit system when the check was routed to one. */
  pool?: string;
}

/** The target of a check of `units` of `feature` (itself, or its credit system). */
function targetOf(key: LiveKey, feature: Feature | null, units: Decimal, input: CheckInput): Target {
  const cost = feature ? creditCostOf(feature, input.properties) : null;
  if (cost === null || !feature?.credit_system) return { key, amount: units, ask: decimalFromInteger(1) };
  return {
    key: { ...key, feature: feature.credit_system },
    amount: multiplyDecimal(units, cost, "ceil"),
    ask: cost,
    pool: feature.credit_system,
  };
}

/** Attempts at the live path before answering from libSQL (stale → reload, cold → rebuild, retry). */
const LIVE_ATTEMPTS = 5;

/**
 * Checks whether a customer may use a feature now and, with `consume`, uses it atomically.
 *
 * @returns the decision; `used` / `remaining` are after this call's consumption
 * @throws {BillingError} `customer_not_found` (404); `consume_not_supported` (422) when the
 *   feature's aggregation is not `sum` (or `count` with `consume: 1`); `idempotency_key_required`
 *   (400) for `consume` without a key; `idempotency_key_reused` (409); `database_busy` (503);
 *   `upstream_unavailable` (503) for a consumption while Redis cannot be reached (never decided
 *   from libSQL alone: see {@link consumeUnavailable})
 */
export async function checkEntitlement(caller: Ctx, input: CheckInput): Promise<ConsumptionDecision> {
  let ctx = caller;
  const consume = parseQuantity(input.consume ?? 0);
  if (consume > 0n && !input.idempotency_key) {
    throw new BillingError(
      "idempotency_key_required",
      "invalid_request",
      "A consuming check needs an idempotency_key",
      {
        fields: [{ path: "idempotency_key", message: "Required when consume is given" }],
      },
    );
  }
  // What the process remembers is taken without awaiting (issue 14: every check asks both).
  const customerId = rememberedCustomerId(ctx, input.customer_id) ??
    await resolveCustomerId(ctx, input.customer_id);
  // Periods and counters on the customer's clock (a test clock's frozen time when bound to one).
  if (!onWallClock(ctx, customerId)) ctx = await customerCtx(ctx, ctx.database.db, customerId);
  const key: LiveKey = { scope: ctx.scope, customerId, feature: input.feature };
  const store = liveStore(ctx);
  try {
    const answer = await checkLive(ctx, store, key, input, consume);
    if (answer) return answer;
  } catch (error) {
    if (!(error instanceof LiveStoreUnavailable)) throw error;
    if (consume > 0n && store.kind === "redis") {
      const replay = await replayFromDatabase(ctx, key, input, consume);
      if (replay) return replay;
      throw consumeUnavailable(input, error);
    }
  }
  const answer = await checkFromDatabase(ctx, key, input, consume);
  if (parseQuantity(answer.consumed) > 0n) {
    const keys = answer.credit_system ? [{ ...key, feature: answer.credit_system }] : [key];
    await store.forget(keys).catch(() => {/* owed; delivered when the store is back */});
  }
  return answer;
}

/**
 * The error of a consumption whose counter (Redis) cannot be reached: nothing was consumed that
 * anybody will be told about, retry with the same key (ADR 0009, "Redis unreachable"). Redis is
 * the only counter that holds every reservation still on its way to the store (the consumption
 * writer's queue here, the usage queue on Workers, other processes'), so the store alone must
 * not allow a consumption: it would allow units those reservations already took. A check that
 * timed out may still have reserved in Redis; that only leaves the counter high (never past the
 * limit), and a retry with the same key stores one event at most (event id = key).
 *
 * @returns `upstream_unavailable` (503, retryable)
 */
export function consumeUnavailable(input: CheckInput, cause?: unknown): BillingError {
  return new BillingError(
    "upstream_unavailable",
    "unavailable",
    `The usage counter could not be reached, so "${input.feature}" was not consumed; retry with the same idempotency key`,
    { cause },
  );
}

/**
 * The decision of a check from a live snapshot and the usage before this call (the pure rule
 * `decideConsumption`), shared by the service and the Worker's edge path.
 *
 * @throws {BillingError} `consume_not_supported` (422) for a consumption the feature's
 *   aggregation cannot take
 */
export function decide(
  input: CheckInput,
  entitlement: FeatureEntitlement,
  used: Decimal,
  consume: Decimal,
  ask?: Decimal,
  pool?: string,
): ConsumptionDecision {
  const f = entitlement.feature;
  if (consume > 0n && entitlement.subscribed && f && f.type !== "boolean") {
    assertConsumable(f.aggregation, consume, input.feature);
  }
  const decision = decideConsumption({
    featureKey: input.feature,
    subscribed: entitlement.subscribed,
    feature: entitlement.feature ?? undefined,
    used,
    consume,
    periodEnd: entitlement.period_end_ms === null ? null : new Date(entitlement.period_end_ms),
    ask,
  });
  return pool ? { ...decision, credit_system: pool } : decision;
}

/** Only additive aggregations can be consumed: `sum` (any amount) and `count` (one event = 1). */
function assertConsumable(aggregation: string, consume: Decimal, feature: string): void {
  if (aggregation === "sum" || (aggregation === "count" && consume === decimalFromInteger(1))) return;
  throw new BillingError(
    "consume_not_supported",
    "unprocessable",
    aggregation === "count"
      ? `Feature "${feature}" counts events: consume 1 unit per check`
      : `Feature "${feature}" is aggregated by "${aggregation}", which a check cannot consume; report usage events instead`,
    { fields: [{ path: "consume", message: `Not supported for aggregation "${aggregation}"` }] },
  );
}

/** The usage event a consumption records (its id is the check's `idempotency_key`). */
export function consumptionEvent(input: CheckInput, consume: Decimal, crossing?: Crossing): UsageEventInput {
  return {
    id: input.idempotency_key!,
    customer_id: input.customer_id,
    feature: input.feature,
    value: quantityToJson(consume),
    ...(input.properties ? { properties: input.properties } : {}),
    ...(crossing ? { lifecycle: crossing } : {}),
  };
}

/** The lifecycle event a consumption event carries when it crosses a limit. */
export type Crossing = NonNullable<UsageEventInput["lifecycle"]>;

/** The lifecycle event of a consumption that crosses the feature's limit (see `limitCrossing`). */
export function crossingOf(
  input: CheckInput,
  entitlement: FeatureEntitlement,
  usedBefore: Decimal,
  consumed: Decimal,
): Crossing | undefined {
  const f = entitlement.feature;
  if (!f || consumed === 0n) return undefined;
  const after = (usedBefore + consumed) as Decimal;
  const type = limitCrossing(f, usedBefore, after);
  if (!type) return undefined;
  return {
    type,
    data: {
      customer_id: input.customer_id,
      feature: f.key,
      limit: f.limit,
      soft_limit: f.soft_limit,
      used: quantityToJson(after),
      period_end: entitlement.period_end_ms ? new Date(entitlement.period_end_ms).toISOString() : null,
    },
  };
}

function replayOrConflict(report: IngestReport, input: CheckInput): "stored" | "replay" {
  if (report.accepted === 1) return "stored";
  if (report.duplicates === 1) return "replay";
  const rejected = report.rejected[0];
  if (rejected?.code === "idempotency_key_reused") {
    throw keyReused(`Idempotency key "${input.idempotency_key}"`);
  }
  throw new BillingError(
    rejected?.code ?? "consume_failed",
    "not_found",
    rejected?.message ?? "The consumption was not recorded",
  );
}

/** The live path; `null` when it could not settle in {@link LIVE_ATTEMPTS} (answer from libSQL). */
async function checkLive(
  ctx: Ctx,
  store: LiveEntitlementStore,
  key: LiveKey,
  input: CheckInput,
  consume: Decimal,
): Promise<ConsumptionDecision | null> {
  let target: Target = { key, amount: consume, ask: decimalFromInteger(1) };
  for (let attempt = 0; attempt < LIVE_ATTEMPTS; attempt++) {
    const now = ctx.clock.now();
    const t = target;
    // The key ties the reservation to this consumption: a retry finds it instead of reserving again.
    const r = await store.check(
      t.key,
      t.amount,
      now.getTime(),
      consume > 0n ? input.idempotency_key : undefined,
    );
    if (r.status === "stale") {
      const context = await loadEntitlementContext(ctx, ctx.database.db, key.customerId, now);
      await store.put(t.key, r.gen, featureEntitlement(context, t.key.feature), now.getTime());
      continue;
    }
    if (t.pool === undefined && r.status === "ok" && r.entitlement.feature?.credit_system) {
      // A feature drawing credits has no counter of its own (nothing was consumed): settle on its pool.
      target = targetOf(key, r.entitlement.feature, consume, input);
      continue;
    }
    if (r.status === "cold") {
      const value = await periodUsage(ctx, ctx.database.db, key.customerId, r.entitlement);
      const seeded = await store.seed(t.key, r.snapshot, value);
      if (seeded === null && t.amount === 0n) {
        return decide(input, r.entitlement, value, t.amount, t.ask, t.pool);
      }
      continue;
    }
    if (r.status === "denied") {
      const decision = decide(input, r.entitlement, r.used, t.amount, t.ask, t.pool);
      if (decision.allowed) {
        throw new Error(`Live store denied what the rule allows (used ${r.used}, consume ${t.amount})`);
      }
      return (await replayedConsumption(ctx, input, r.entitlement, r.used, consume, t)) ?? decision;
    }
    // Gives back this call's reservation (a held one only if no other attempt took it over).
    const giveBack = () =>
      store.release(
        t.key,
        r.consumed,
        r.entitlement.period_start_ms!,
        r.held ? input.idempotency_key : undefined,
      )
        .catch(() => {});
    let decision: ConsumptionDecision;
    try {
      decision = decide(input, r.entitlement, r.used, t.amount, t.ask, t.pool);
    } catch (error) {
      if (r.consumed > 0n) {
        await giveBack();
      }
      throw error;
    }
    const decided = parseQuantity(decision.consumed);
    if (r.consumed === 0n && decided === 0n) return decision;
    if (!decision.allowed || decided !== r.consumed) {
      await giveBack();
      throw new Error(`Live store consumed what the rule denies (used ${r.used}, consume ${t.amount})`);
    }
    let outcome: "stored" | "replay";
    try {
      outcome = replayOrConflict(
        await consumptionWriter(ctx.database).submit(
          ctx,
          consumptionEvent(input, consume, crossingOf(input, r.entitlement, r.used, r.consumed)),
        ),
        input,
      );
    } catch (error) {
      await giveBack();
      throw error;
    }
    if (outcome === "stored") {
      // Committed: the units are kept for good, so the reservation stops being held (ADR 0009).
      if (r.held) store.confirm(t.key, input.idempotency_key!);
      return decision;
    }
    await giveBack();
    // A reused reservation answered the usage before it; the counter holds it already.
    const current = r.held === "reused" ? (r.used + r.consumed) as Decimal : r.used;
    return replayAnswer(input, r.entitlement, current, t.amount, t);
  }
  return null;
}

/**
 * The answer to a retry of a consumption that was already recorded: allowed, `consumed` as the
 * original, reason as the original decision would give (usage before it = current − consumed),
 * `used` / `remaining` as they are now (the current usage already contains the original).
 */
export function replayAnswer(
  input: CheckInput,
  entitlement: FeatureEntitlement,
  currentUsed: Decimal,
  consume: Decimal,
  target?: Pick<Target, "ask" | "pool">,
): ConsumptionDecision {
  const zero = decimalFromInteger(0);
  const before = currentUsed > consume ? (currentUsed - consume) as Decimal : zero;
  const original = decide(input, entitlement, before, consume, target?.ask, target?.pool);
  const limit = original.limit === null ? null : parseQuantity(original.limit);
  return {
    ...original,
    allowed: true,
    reason: original.allowed ? original.reason : "within_limit",
    consumed: quantityToJson(consume),
    used: quantityToJson(currentUsed),
    remaining: limit === null
      ? null
      : quantityToJson(limit > currentUsed ? (limit - currentUsed) as Decimal : zero),
  };
}

/**
 * A denied consumption whose idempotency key already recorded the same consumption is a retry of
 * an allowed one: it answers allowed with `consumed` again. Same key, other payload → 409.
 */
async function replayedConsumption(
  ctx: Ctx,
  input: CheckInput,
  entitlement: FeatureEntitlement,
  used: Decimal,
  consume: Decimal,
  target: Target,
): Promise<ConsumptionDecision | null> {
  if (consume === 0n) return null;
  const [hashed] = await hashEvents([consumptionEvent(input, consume)]);
  const seen = (await existingHashes(ctx.scope, ctx.database.db, [input.idempotency_key!])).get(
    input.idempotency_key!,
  );
  const verdict = onceVerdict(
    input.idempotency_key!,
    hashed.hash,
    seen === undefined ? undefined : { payload_hash: seen },
  );
  if (verdict === "execute") return null;
  if (verdict === "conflict") throw keyReused(`Idempotency key "${input.idempotency_key}"`);
  return replayAnswer(input, entitlement, used, target.amount, target);
}

/**
 * A consumption retried while Redis cannot be reached, answered from libSQL when its key is
 * already stored: a replay consumes nothing, so the store alone may answer it.
 *
 * @returns the replay answer, `null` when the key is not stored (the caller fails closed)
 * @throws {BillingError} `idempotency_key_reused` (409) for the key stored with another payload
 */
async function replayFromDatabase(
  ctx: Ctx,
  key: LiveKey,
  input: CheckInput,
  consume: Decimal,
): Promise<ConsumptionDecision | null> {
  const seen = await existingHashes(ctx.scope, ctx.database.db, [input.idempotency_key!]);
  if (!seen.has(input.idempotency_key!)) return null;
  const now = ctx.clock.now();
  const context = await loadEntitlementContext(ctx, ctx.database.db, key.customerId, now);
  const asked = featureEntitlement(context, input.feature);
  // Answered on the pool a credit-drawing feature settles on, like every other consumption.
  const target = targetOf(key, asked.feature, consume, input);
  const entitlement = target.pool ? featureEntitlement(context, target.pool) : asked;
  const f = entitlement.feature;
  const used = f && entitlement.subscribed && f.type !== "boolean"
    ? await periodUsage(ctx, ctx.database.db, key.customerId, entitlement)
    : decimalFromInteger(0);
  return await replayedConsumption(ctx, input, entitlement, used, consume, target);
}

/**
 * The libSQL path: fresh entitlement, usage aggregated from the events; a consumption decides and
 * writes in one write transaction, so concurrent consumers (in any process) serialize on it.
 */
async function checkFromDatabase(
  ctx: Ctx,
  key: LiveKey,
  input: CheckInput,
  consume: Decimal,
): Promise<ConsumptionDecision> {
  const now = ctx.clock.now();
  const evaluate = async (exec: Executor) => {
    const context = await loadEntitlementContext(ctx, exec, key.customerId, now);
    const asked = featureEntitlement(context, input.feature);
    const target = targetOf(key, asked.feature, consume, input);
    const entitlement = target.pool ? featureEntitlement(context, target.pool) : asked;
    const f = entitlement.feature;
    const used = f && entitlement.subscribed && f.type !== "boolean"
      ? await periodUsage(ctx, exec, key.customerId, entitlement)
      : decimalFromInteger(0);
    return { entitlement, used, target };
  };
  if (consume === 0n) {
    const { entitlement, used, target } = await evaluate(ctx.database.db);
    return decide(input, entitlement, used, target.amount, target.ask, target.pool);
  }
  const hashed = await hashEvents([consumptionEvent(input, consume)]);
  return await writeOp(ctx, async (tx, emit) => {
    const { entitlement, used, target } = await evaluate(tx);
    const decision = decide(input, entitlement, used, target.amount, target.ask, target.pool);
    if (!decision.allowed) {
      return (await replayedConsumption(ctx, input, entitlement, used, consume, target)) ?? decision;
    }
    if (parseQuantity(decision.consumed) === 0n) return decision;
    const crossing = crossingOf(input, entitlement, used, target.amount);
    const toStore = crossing
      ? hashed.map((h) => ({ ...h, input: { ...h.input, lifecycle: crossing } }))
      : hashed;
    const { stored: _stored, ...report } = await storeEvents(ctx, tx, emit, toStore);
    if (replayOrConflict(report, input) === "replay") {
      return replayAnswer(input, entitlement, used, target.amount, target);
    }
    return decision;
  });
}

/**
 * Ingests usage events (`POST /v1/events`) and counts the stored ones in the live counters after
 * the transaction committed. When the live store is unreachable the counters concerned are
 * dropped once it is back (rebuilt from libSQL), so they never miss an event. On an edge node with
 * a replica (`ctx.usageSink`, ADR 0014) the events are appended to its outbox instead, and those
 * whose customer the primary resolves are counted.
 */
export async function recordUsage(
  ctx: Ctx,
  events: readonly UsageEventInput[],
  flush?: UsageFlush,
): Promise<IngestReport> {
  const { stored, ...report } = ctx.usageSink
    ? await appendUsage(ctx, ctx.usageSink, events, {
      // Without live counters (no Redis) nothing is counted: no read of the primary per request.
      resolveCustomers: !(liveStore(ctx) instanceof DatabaseOnlyEntitlements),
    }).then((r) => ({
      ...r,
      stored: r.stored.filter((e) => e.resolved),
    }))
    : await ingestEvents(ctx, events, flush);
  if (stored.length > 0) {
    const counted = await withCredits(ctx, stored, events);
    await liveStore(ctx).count(ctx.scope, counted).catch((error) => {
      if (!(error instanceof LiveStoreUnavailable)) throw error;
    });
  }
  return report;
}

/**
 * The events to count in live counters: the stored events, plus, for each event of a feature that
 * draws from a credit system, its credits on the pool (`value × credit cost`, the cost picked by
 * the event's properties). The features come from the customer's cached entitlement context
 * (current plan); a counter a stale plan miscounts is corrected when it is rebuilt from libSQL,
 * where the pool's usage is derived from the events themselves.
 */
export async function withCredits(
  ctx: Ctx,
  stored: readonly CountedEvent[],
  inputs: readonly UsageEventInput[],
): Promise<CountedEvent[]> {
  const out: CountedEvent[] = [...stored];
  let properties: Map<string, Record<string, unknown> | undefined> | undefined;
  const now = ctx.clock.now();
  // One context per customer of the call (a batch is mostly one customer): the same cached context
  // `entitlementContext` answers for each of its events, without an awaited call per event.
  const contexts = new Map<string, Awaited<ReturnType<typeof entitlementContext>>>();
  for (const e of stored) {
    let context = contexts.get(e.customer_id);
    if (context === undefined) {
      context = await entitlementContext(ctx, e.customer_id, now);
      contexts.set(e.customer_id, context);
    }
    const f = findFeature(context, e.feature);
    if (!f?.credit_system) continue;
    properties ??= new Map(inputs.map((e) => [e.id, e.properties]));
    const cost = creditCostOf(f, properties.get((e as { event_id?: string }).event_id ?? ""));
    if (cost === null) continue;
    out.push({ ...e, feature: f.credit_system, value: multiplyDecimal(e.value, cost, "ceil") });
  }
  return out;
}
