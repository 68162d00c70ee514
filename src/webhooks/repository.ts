/**
 * Webhook endpoints, deliveries and attempts. A scope's rows go through the one tenancy filter of
 * `storage/scoped.ts`; the delivery worker drains every tenant at once, so its queue reads are
 * global on purpose and named `…OfAllScopes` (each row it then writes goes through the row's own
 * scope).
 *
 * @module
 */
import { and, asc, desc, eq, inArray, isNull, lt, lte, or, type SQL, sql } from "drizzle-orm";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import { outboxEvents, webhookAttempts, webhookDeliveries, webhookEndpoints } from "../storage/schema.ts";
import { inChunks, rowChunks } from "../storage/limits.ts";
import {
  matchWhere,
  type NewRow,
  pageRows,
  type Row,
  scoped,
  type TableRepository,
  tableRepository,
} from "../storage/scoped.ts";
import type { Page, PageRequest } from "../domain/paging.ts";

/** A webhook endpoint row as stored. */
export type EndpointRow = Row<typeof webhookEndpoints>;
/** A webhook delivery row as stored. */
export type DeliveryRow = Row<typeof webhookDeliveries>;
/** An outbox message row as stored. */
export type MessageRow = Row<typeof outboxEvents>;

/** The scope's webhook endpoints. */
export const endpointRows: TableRepository<typeof webhookEndpoints> = tableRepository(webhookEndpoints);

/** One page of the scope's webhook endpoints, newest first, optionally in one status. */
export function endpointPage(
  exec: Executor,
  scope: Scope,
  filter: { status?: "enabled" | "disabled" },
  request: PageRequest,
): Promise<Page<Row<typeof webhookEndpoints>>> {
  return pageRows(
    exec,
    scope,
    webhookEndpoints,
    matchWhere(webhookEndpoints, { status: filter.status }),
    request,
    "wep",
  );
}
/** The scope's webhook deliveries. */
export const deliveryRows: TableRepository<typeof webhookDeliveries> = tableRepository(webhookDeliveries);
/** The scope's delivery attempts (append-only log). */
export const attemptRows: TableRepository<typeof webhookAttempts> = tableRepository(webhookAttempts);

/** The scope of a row. */
export function scopeOf(row: { tenant_id: string; app_id: string }): Scope {
  return { tenantId: row.tenant_id, appId: row.app_id };
}

/** A page of an endpoint's deliveries, newest message first, below `beforeSeq` when given. */
export function deliveryPage(
  exec: Executor,
  scope: Scope,
  endpointId: string,
  filter: { status?: DeliveryRow["status"]; before_seq?: number },
  limit: number,
): Promise<DeliveryRow[]> {
  const s = scoped(exec, scope);
  return s.select(
    webhookDeliveries,
    s.filter(
      webhookDeliveries,
      eq(webhookDeliveries.endpoint_id, endpointId),
      filter.status ? eq(webhookDeliveries.status, filter.status) : undefined,
      filter.before_seq !== undefined ? lt(webhookDeliveries.message_seq, filter.before_seq) : undefined,
    ),
    { orderBy: [desc(webhookDeliveries.message_seq)], limit },
  );
}

/** Inserts deliveries, each under its own scope, skipping ones that exist (endpoint, message). */
export async function insertDeliveriesIfAbsent(exec: Executor, rows: readonly DeliveryRow[]): Promise<void> {
  const byScope = new Map<string, { scope: Scope; rows: NewRow<typeof webhookDeliveries>[] }>();
  for (const { tenant_id, app_id, ...row } of rows) {
    const key = `${tenant_id}/${app_id}`;
    if (!byScope.has(key)) byScope.set(key, { scope: { tenantId: tenant_id, appId: app_id }, rows: [] });
    byScope.get(key)!.rows.push(row);
  }
  for (const group of byScope.values()) {
    for (const chunk of rowChunks(exec, webhookDeliveries, group.rows)) {
      await scoped(exec, group.scope).insert(webhookDeliveries, chunk).onConflictDoNothing();
    }
  }
}

// ---- the delivery worker's global queue ----

/** Outbox messages of every scope not fanned out yet, in commit order, at most `limit`. */
export function unfannedMessagesOfAllScopes(exec: Executor, limit: number): Promise<MessageRow[]> {
  return exec.select().from(outboxEvents).where(isNull(outboxEvents.fanned_out_at))
    .orderBy(asc(outboxEvents.seq)).limit(limit);
}

/** Enabled endpoints of these apps (of any tenant; the caller matches tenant and app). */
export async function enabledEndpointsOfApps(
  exec: Executor,
  appIds: readonly string[],
): Promise<EndpointRow[]> {
  const out: EndpointRow[] = [];
  for (const chunk of inChunks(exec, appIds, 4)) {
    out.push(
      ...await exec.select().from(webhookEndpoints)
        .where(and(inArray(webhookEndpoints.app_id, chunk), eq(webhookEndpoints.status, "enabled"))),
    );
  }
  return out;
}

/** The outbox sequence of each endpoint's `webhook_endpoint.created` message. */
export async function endpointBirths(
  exec: Executor,
  endpoints: readonly EndpointRow[],
): Promise<Map<string, number>> {
  const createdAt = new Map<string, number>();
  const byScope = Map.groupBy(endpoints, (e) => `${e.tenant_id}\u0000${e.app_id}`);
  for (const group of byScope.values()) {
    const s = scoped(exec, scopeOf(group[0]));
    for (const chunk of inChunks(exec, group.map((e) => e.id), 6)) {
      const births = await exec.select({ resource_id: outboxEvents.resource_id, seq: outboxEvents.seq })
        .from(outboxEvents)
        .where(s.filter(
          outboxEvents,
          eq(outboxEvents.type, "webhook_endpoint.created"),
          inArray(outboxEvents.resource_id, chunk),
        ));
      for (const b of births) createdAt.set(b.resource_id, b.seq);
    }
  }
  return createdAt;
}

/** Stamps outbox messages (by global sequence) as fanned out at `now`. */
export async function markFannedOut(exec: Executor, seqs: readonly number[], now: Date): Promise<void> {
  for (const chunk of inChunks(exec, seqs, 4)) {
    await exec.update(outboxEvents).set({ fanned_out_at: now }).where(inArray(outboxEvents.seq, chunk));
  }
}

/**
 * The due head delivery (oldest pending message) of up to `limit` enabled endpoints of every
 * scope, not leased at `now`, with its endpoint and message.
 */
export function claimableHeadsOfAllScopes(
  exec: Executor,
  now: Date,
  limit: number,
): Promise<{ delivery: DeliveryRow; endpoint: EndpointRow; message: MessageRow }[]> {
  return exec.select({ delivery: webhookDeliveries, endpoint: webhookEndpoints, message: outboxEvents })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpoint_id))
    .innerJoin(
      outboxEvents,
      and(
        eq(outboxEvents.tenant_id, webhookDeliveries.tenant_id),
        eq(outboxEvents.app_id, webhookDeliveries.app_id),
        eq(outboxEvents.id, webhookDeliveries.message_id),
      ),
    )
    .where(and(
      eq(webhookDeliveries.status, "pending"),
      eq(webhookEndpoints.status, "enabled"),
      // The endpoint's oldest pending delivery (written out: the correlated column must stay
      // qualified with the outer table's name).
      sql`${webhookDeliveries.message_seq} = (select min(d2.message_seq) from webhook_deliveries d2
          where d2.tenant_id = "webhook_deliveries"."tenant_id" and d2.app_id = "webhook_deliveries"."app_id"
          and d2.endpoint_id = "webhook_deliveries"."endpoint_id" and d2.status = 'pending')`,
      lte(webhookDeliveries.next_attempt_at, now),
      or(isNull(webhookDeliveries.locked_until), lte(webhookDeliveries.locked_until, now)),
    ))
    .orderBy(asc(webhookDeliveries.message_seq))
    .limit(limit);
}

/** Leases deliveries (by id, of any scope) until `until`. */
export async function leaseDeliveries(exec: Executor, ids: readonly string[], until: Date): Promise<void> {
  for (const chunk of inChunks(exec, ids, 4)) {
    await exec.update(webhookDeliveries).set({ locked_until: until }).where(
      inArray(webhookDeliveries.id, chunk),
    );
  }
}

/**
 * Deletes finished (succeeded or failed) deliveries of every scope last changed before `cutoff`,
 * with their attempts, at most `limit` deliveries.
 *
 * @returns how many deliveries and attempts were deleted
 */
export async function pruneFinishedDeliveriesOfAllScopes(
  exec: Executor,
  cutoff: Date,
  limit: number,
): Promise<{ deliveries: number; attempts: number }> {
  const old = await exec.select({ id: webhookDeliveries.id }).from(webhookDeliveries)
    .where(
      and(
        inArray(webhookDeliveries.status, ["succeeded", "failed"]),
        lt(webhookDeliveries.updated_at, cutoff),
      ),
    )
    .limit(limit);
  const ids = old.map((d) => d.id);
  let attempts = 0;
  for (const chunk of inChunks(exec, ids, 4)) {
    attempts +=
      (await exec.delete(webhookAttempts).where(inArray(webhookAttempts.delivery_id, chunk)).returning({
        id: webhookAttempts.id,
      })).length;
    await exec.delete(webhookDeliveries).where(inArray(webhookDeliveries.id, chunk));
  }
  return { deliveries: ids.length, attempts };
}

/**
 * Deletes outbox messages of every scope fanned out and occurred before `cutoff` that no delivery
 * references any more, oldest first, at most `limit`.
 *
 * @returns how many were deleted
 */
export async function pruneDeliveredMessagesOfAllScopes(
  exec: Executor,
  cutoff: Date,
  limit: number,
): Promise<number> {
  const where: SQL = and(
    sql`${outboxEvents.fanned_out_at} is not null`,
    lt(outboxEvents.occurred_at, cutoff),
    sql`not exists (select 1 from webhook_deliveries d where d.tenant_id = ${outboxEvents.tenant_id}
          and d.app_id = ${outboxEvents.app_id} and d.message_id = ${outboxEvents.id})`,
  )!;
  const messages = await exec.select({ seq: outboxEvents.seq }).from(outboxEvents).where(where)
    .orderBy(asc(outboxEvents.seq)).limit(limit);
  for (const chunk of inChunks(exec, messages.map((m) => m.seq), 4)) {
    await exec.delete(outboxEvents).where(inArray(outboxEvents.seq, chunk));
  }
  return messages.length;
}
