/**
 * Payment-provider rows of one scope (credentials, the object map, processed events), through
 * the one tenancy filter of `storage/scoped.ts`.
 *
 * @module
 */
import { eq, sql } from "drizzle-orm";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import { paymentProviderConfigs, providerEvents, providerObjects } from "../storage/schema.ts";
import { type NewRow, type Row, scoped, type TableRepository, tableRepository } from "../storage/scoped.ts";

/** A provider configuration row as stored. */
export type ConfigRow = Row<typeof paymentProviderConfigs>;

/** The scope's provider configurations (one per provider). */
export const configRows: TableRepository<typeof paymentProviderConfigs> = tableRepository(
  paymentProviderConfigs,
);
/** The scope's map of our objects to the provider's. */
export const providerObjectRows: TableRepository<typeof providerObjects> = tableRepository(providerObjects);
/** The scope's processed provider events. */
export const providerEventRows: TableRepository<typeof providerEvents> = tableRepository(providerEvents);

/** Stores the provider's credentials of the scope, replacing earlier ones. */
export async function upsertConfig(
  exec: Executor,
  scope: Scope,
  row: NewRow<typeof paymentProviderConfigs>,
  now: Date,
): Promise<void> {
  await scoped(exec, scope).insert(paymentProviderConfigs, row).onConflictDoUpdate({
    target: [
      paymentProviderConfigs.tenant_id,
      paymentProviderConfigs.app_id,
      paymentProviderConfigs.provider,
    ],
    set: { api_key: row.api_key, webhook_secret: row.webhook_secret, updated_at: now },
  });
}

/** Σ `amount` of the scope's processed events of one provider, type and object (0 when none). */
export async function recordedAmount(
  exec: Executor,
  scope: Scope,
  match: { provider: string; type: string; object_id: string },
): Promise<number> {
  const [{ recorded }] = await exec.select({
    recorded: sql<number>`coalesce(sum(${providerEvents.amount}), 0)`,
  })
    .from(providerEvents)
    .where(
      scoped(exec, scope).filter(
        providerEvents,
        eq(providerEvents.provider, match.provider),
        eq(providerEvents.type, match.type),
        eq(providerEvents.object_id, match.object_id),
      ),
    );
  return Number(recorded);
}
