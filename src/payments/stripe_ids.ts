/**
 * Our ids ↔ Stripe ids (`provider_objects`), so every Stripe object is created once.
 *
 * @module
 */
import type { Executor } from "../storage/db.ts";
import { providerObjectRows } from "./repository.ts";
import type { Services } from "../context.ts";
import type { Scope } from "../domain/scope.ts";

/** The Stripe id of one of our objects, if it was created. */
export async function remoteIdOf(
  services: Services,
  scope: Scope,
  kind: string,
  localId: string,
): Promise<string | undefined> {
  const row = await providerObjectRows.first(services.database.db, scope, {
    provider: "stripe",
    kind,
    local_id: localId,
  });
  return row?.remote_id;
}

/** Our id of a Stripe object, if we created it. */
export async function localIdOf(
  exec: Executor,
  scope: Scope,
  kind: string,
  remoteId: string,
): Promise<string | undefined> {
  const row = await providerObjectRows.first(exec, scope, { provider: "stripe", kind, remote_id: remoteId });
  return row?.local_id;
}

/** Records our id ↔ Stripe id (first write wins). */
export async function remember(
  services: Services,
  scope: Scope,
  kind: string,
  localId: string,
  remoteId: string,
): Promise<void> {
  const now = services.clock.now();
  await services.database.write(async (tx) => {
    await providerObjectRows.insert(tx, scope, {
      provider: "stripe",
      kind,
      local_id: localId,
      remote_id: remoteId,
      created_at: now,
    }).onConflictDoNothing();
  });
}
