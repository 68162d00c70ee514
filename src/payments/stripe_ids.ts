/**
 * Our ids ↔ Stripe ids (`provider_objects`), so every Stripe object is created once.
 *
 * @module
 */
import { and, eq } from "drizzle-orm";
import type { Executor } from "../storage/db.ts";
import { providerObjects } from "../storage/schema.ts";
import type { Services } from "../context.ts";
import type { Scope } from "../domain/scope.ts";

/** The Stripe id of one of our objects, if it was created. */
export async function remoteIdOf(
  services: Services,
  scope: Scope,
  kind: string,
  localId: string,
): Promise<string | undefined> {
  const row = await services.database.db.query.providerObjects.findFirst({
    where: and(
      eq(providerObjects.tenant_id, scope.tenantId),
      eq(providerObjects.app_id, scope.appId),
      eq(providerObjects.provider, "stripe"),
      eq(providerObjects.kind, kind),
      eq(providerObjects.local_id, localId),
    ),
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
  const row = await exec.query.providerObjects.findFirst({
    where: and(
      eq(providerObjects.tenant_id, scope.tenantId),
      eq(providerObjects.app_id, scope.appId),
      eq(providerObjects.provider, "stripe"),
      eq(providerObjects.kind, kind),
      eq(providerObjects.remote_id, remoteId),
    ),
  });
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
    await tx.insert(providerObjects).values({
      tenant_id: scope.tenantId,
      app_id: scope.appId,
      provider: "stripe",
      kind,
      local_id: localId,
      remote_id: remoteId,
      created_at: now,
    }).onConflictDoNothing();
  });
}
