/**
 * Appending usage to a {@link UsageSink} (an edge node's replica outbox, ADR 0014) in place of
 * the primary: the same payload hashes as `ingestEvents`, the receive time for a missing
 * timestamp, and the appended events for the live counters. Free of runtime APIs, so the
 * entitlement service that calls it bundles for Workers too (where no sink is ever set).
 *
 * @module
 */
import type { Ctx } from "../context.ts";
import { resolveCustomerRefs } from "../customers/service.ts";
import { hashEvents, type IngestReport, type StoredEvent, type UsageEventInput } from "./service.ts";
import type { UsageSink } from "./sink.ts";

/** An event an edge node appended; `resolved`: `customer_id` is the `cus_…` id the primary knows. */
export type AppendedEvent = StoredEvent & { resolved: boolean };

/**
 * `recordUsage` on an edge node: hashes the client payloads (as the primary would), stamps
 * missing timestamps with the receive time, appends to the sink, and returns the report plus the
 * appended events. Their `customer_id` is resolved to `cus_…` through the primary when it answers
 * (`resolved`); only resolved ones may feed live counters (the billing side is the judge of the
 * rest, and counters rebuild from what it stored). `resolveCustomers: false` skips that read of
 * the primary (nothing to count: no live counters on the node).
 */
export async function appendUsage(
  ctx: Ctx,
  sink: UsageSink,
  events: readonly UsageEventInput[],
  options: { resolveCustomers?: boolean } = {},
): Promise<IngestReport & { stored: AppendedEvent[] }> {
  const now = ctx.clock.now();
  const hashed = await hashEvents(events);
  const report = await sink.append(
    ctx.scope,
    hashed.map(({ input, hash }) => ({
      id: input.id,
      customer_id: input.customer_id,
      feature: input.feature,
      value: input.value ?? 1,
      timestamp: input.timestamp ?? now,
      timestamp_sent: input.timestamp !== undefined,
      properties: input.properties ?? null,
      hash,
      ...(input.lifecycle ? { lifecycle: input.lifecycle } : {}),
    })),
    now,
  );
  const storedIds = new Set(report.stored);
  let refs = new Map<string, string>();
  if (storedIds.size > 0 && options.resolveCustomers !== false) {
    refs = await resolveCustomerRefs(
      ctx,
      ctx.database.db,
      events.filter((e) => storedIds.has(e.id)).map((e) => e.customer_id),
    ).catch(() => new Map<string, string>());
  }
  const stored: AppendedEvent[] = [];
  for (const e of events) {
    if (!storedIds.delete(e.id)) continue;
    const customerId = refs.get(e.customer_id);
    stored.push({
      event_id: e.id,
      customer_id: customerId ?? e.customer_id,
      feature: e.feature,
      value: e.value ?? 1,
      timestamp: e.timestamp ?? now,
      resolved: customerId !== undefined,
    });
  }
  return { accepted: report.accepted, duplicates: report.duplicates, rejected: report.rejected, stored };
}
