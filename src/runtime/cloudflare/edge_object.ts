/**
 * The tenant object's side of the edge hot path (ADR 0009): storing the consumptions the Worker
 * already counted in Redis, and resolving customer references for the Worker.
 *
 * @module
 */
import { parseQuantity, quantityProblem } from "../../domain/quantity.ts";
import type { Ctx, Services } from "../../context.ts";
import { loadCustomer } from "../../customers/service.ts";
import { BillingError } from "../../domain/errors.ts";
import type { Clock } from "../../domain/scope.ts";
import { type LiveEntitlementStore, LiveStoreUnavailable } from "../../entitlements/live_store.ts";
import type { RedisLiveEntitlements } from "../../entitlements/live_store_redis.ts";
import { publishEntitlements } from "../../entitlements/service.ts";
import type { UsageEventInput } from "../../usage/service.ts";
import { consumptionWriter } from "../../entitlements/consumption_writer.ts";
import type { UsageMessage } from "./types.ts";

/** Outcome of one queued usage message, as the consumer needs it to ack or retry. */
export interface ConsumptionResult {
  /** Queue message id. */
  id: string;
  /** `done`: stored (or a duplicate); `rejected`: permanently invalid; `retry`: transient. */
  outcome: "done" | "rejected" | "retry";
  /** Events stored by this delivery (0 or 1). */
  accepted?: number;
  /** Events already stored under the same id (a redelivery or a replayed key). */
  duplicates?: number;
  /** Events the store refused. */
  rejected?: number;
  /** The consumption event the store refused (`done`), with why: recorded as a dead letter. */
  refused?: { event: unknown; reason: { id: string; code: string; message: string } }[];
  /** Why the message failed. */
  error?: string;
}

function fixedClock(at: Date): Clock {
  return { now: () => new Date(at.getTime()) };
}

function validConsumption(body: UsageMessage): body is UsageMessage & { consumption: object } {
  const c = body.consumption;
  const event = body.events?.[0] as Partial<UsageEventInput> | undefined;
  return body.v === 1 && typeof body.scope?.tenantId === "string" && typeof body.scope?.appId === "string" &&
    typeof body.key_id === "string" && !Number.isNaN(Date.parse(body.received_at)) &&
    c !== undefined && typeof c.customer_id === "string" && typeof c.feature === "string" &&
    Number.isSafeInteger(c.period_start_ms) && body.events.length === 1 && typeof event?.id === "string" &&
    typeof event.customer_id === "string" && event.feature === c.feature &&
    (typeof event.value === "number" || typeof event.value === "string") &&
    quantityProblem(event.value) === undefined &&
    parseQuantity(event.value) > 0n;
}

/**
 * Stores the consumptions of one queue delivery (group-committed per app, as on the Deno server).
 *
 * @returns one result per message, in any order
 */
export async function ingestConsumptions(
  services: Services,
  envelopes: readonly { id: string; body: UsageMessage }[],
): Promise<ConsumptionResult[]> {
  // The consumption writer group-commits them; the store splits each statement under its limits.
  return await Promise.all(envelopes.map(({ id, body }) => ingestConsumption(services, id, body)));
}

/**
 * Stores one consumption the Worker counted in Redis without counting it again (its event
 * timestamp is the first received time of its group commit). The event's id is the check's idempotency key: a redelivered message stores nothing
 * more. When the event was not stored by this delivery (a redelivery, a replayed key, a
 * rejection) the Redis counter is left alone: it can only be too high, never too low (ADR 0009).
 *
 * @returns the message's outcome (`rejected` for a malformed body; `retry` on a transient failure)
 */
export async function ingestConsumption(
  services: Services,
  id: string,
  body: UsageMessage,
): Promise<ConsumptionResult> {
  if (!validConsumption(body)) {
    return { id, outcome: "rejected", error: "Message body is not a valid consumption" };
  }
  const ctx: Ctx = {
    ...services,
    clock: fixedClock(new Date(body.received_at)),
    scope: body.scope,
    actor: body.key_id,
  };
  const event = body.events[0] as UsageEventInput;
  try {
    // The Deno server's group commit: the consumptions of one queue delivery share a transaction.
    const report = await consumptionWriter(services.database).submit(ctx, { ...event, timestamp: undefined });
    // Not stored by this delivery (a redelivery: the counter holds it once, right; a key used
    // before: the counter holds it twice; a rejection: counted, never stored): the counter is left
    // as it is, too high at worst. Dropping it would rebuild it from the store, which misses every
    // consumption still in the queue, and the Worker would then allow past the hard limit.
    if (report.rejected.length > 0) {
      services.log({
        level: "error",
        msg: "queued consumption rejected",
        message_id: id,
        rejected: report.rejected,
      });
    }
    return {
      id,
      outcome: "done",
      accepted: report.accepted,
      duplicates: report.duplicates,
      rejected: report.rejected.length,
      // Consumed at the edge but refused by the store: kept as a dead letter (still counted in Redis).
      refused: report.rejected.map((r) => ({
        event,
        reason: { id: r.id, code: r.code, message: r.message },
      })),
    };
  } catch (error) {
    const transient = !(error instanceof BillingError) || error.retryable;
    return { id, outcome: transient ? "retry" : "rejected", error: String(error) };
  }
}

/**
 * `GET /__internal/customer?tenant_id=&app_id=&ref=`: the `cus_…` id of a customer reference
 * (id or external id) for the Worker's hot path.
 *
 * @returns `200 {"id"}`, `404` when the customer does not exist, `400` without the parameters
 */
export async function resolveCustomerRef(services: Services, url: URL): Promise<Response> {
  const tenantId = url.searchParams.get("tenant_id");
  const appId = url.searchParams.get("app_id");
  const ref = url.searchParams.get("ref");
  if (!tenantId || !appId || !ref) {
    return new Response("tenant_id, app_id and ref are required", { status: 400 });
  }
  try {
    const ctx: Ctx = { ...services, scope: { tenantId, appId } };
    const customer = await loadCustomer(ctx, services.database.db, ref);
    return Response.json({ id: customer.id });
  } catch (error) {
    if (error instanceof BillingError && error.code === "customer_not_found") {
      return new Response("not found", { status: 404 });
    }
    throw error;
  }
}

/** A live store that publishes on invalidation, and passes on what the wrapped store owes Redis. */
export interface PublishingStore extends LiveEntitlementStore {
  /** Invalidations and counter drops the wrapped store owes Redis (0 for other stores). */
  readonly owed: number;
  /** Delivers them now; whether nothing is owed any more. */
  deliverOwed(): Promise<boolean>;
}

/**
 * Wraps a live store so that invalidating a customer also publishes that customer's fresh
 * entitlements (`publishEntitlements`) before the write that invalidated them answers: the
 * Worker's edge path then serves the first check after a subscription change itself. An app-wide
 * invalidation (a plan edit) stays lazy: each customer's next check reloads through the object.
 *
 * @returns a store with the same behaviour plus the publication (which never fails the write)
 */
export function publishingStore(inner: LiveEntitlementStore, services: Services): PublishingStore {
  const owing = inner as Partial<Pick<PublishingStore, "owed" | "deliverOwed">>;
  const reconciling = inner as Partial<Pick<RedisLiveEntitlements, "reconcile">>;
  return {
    // The reconcile step (maintenance job `reservations`) settles this object's own apps' held
    // reservations: present exactly when the wrapped store has one (the Redis store).
    ...(reconciling.reconcile ? { reconcile: reconciling.reconcile.bind(inner) } : {}),
    get owed(): number {
      return owing.owed ?? 0;
    },
    deliverOwed: (): Promise<boolean> => owing.deliverOwed?.() ?? Promise.resolve(true),
    kind: inner.kind,
    check: (key, consume, nowMs, reservation) => inner.check(key, consume, nowMs, reservation),
    put: (key, gen, entitlement, nowMs) => inner.put(key, gen, entitlement, nowMs),
    seed: (key, snapshot, value) => inner.seed(key, snapshot, value),
    release: (key, consume, periodStartMs, reservation) =>
      inner.release(key, consume, periodStartMs, reservation),
    confirm: (key, reservation) => inner.confirm(key, reservation),
    count: (scope, events) => inner.count(scope, events),
    forget: (keys) => inner.forget(keys),
    invalidateApp: (scope) => inner.invalidateApp(scope),
    async invalidateCustomer(scope, customerId) {
      await inner.invalidateCustomer(scope, customerId);
      await publishEntitlements({ ...services, live: inner, scope }, inner, customerId).catch((error) => {
        if (!(error instanceof LiveStoreUnavailable)) {
          services.log({ level: "error", msg: "entitlements not published", error: String(error) });
        }
      });
    },
  };
}
