/**
 * The live store a context uses and the invalidation of resolved entitlements. Plans,
 * subscriptions and the billing cycle call {@link invalidateEntitlements} after a change that
 * alters what a customer may use; it depends on no service, so no import cycle runs through it.
 *
 * @module
 */
import type { Store } from "../storage/db.ts";
import type { Ctx } from "../context.ts";
import { type LiveEntitlementStore, LiveStoreUnavailable, MemoryLiveEntitlements } from "./live_store.ts";

const defaultStores = new WeakMap<Store, LiveEntitlementStore>();

/** The live store of a context: the configured one, else one in-process store per database. */
export function liveStore(ctx: Pick<Ctx, "live" | "database">): LiveEntitlementStore {
  if (ctx.live) return ctx.live;
  let store = defaultStores.get(ctx.database);
  if (!store) defaultStores.set(ctx.database, store = new MemoryLiveEntitlements());
  return store;
}

/**
 * Invalidates cached entitlements after a change that alters them: a customer's (subscription
 * created, canceled, changed) or the whole app's (plan updated, archived). Awaited by the writer
 * so the next check sees the change; when Redis is unreachable the invalidation is delivered
 * before Redis is used again.
 */
export async function invalidateEntitlements(ctx: Ctx, target: { customerId?: string } = {}): Promise<void> {
  const store = liveStore(ctx);
  if (target.customerId) {
    ctx.entitlementCache.invalidateCustomer(ctx.scope, target.customerId);
    await store.invalidateCustomer(ctx.scope, target.customerId).catch(ignoreUnavailable);
  } else {
    ctx.entitlementCache.invalidateApp(ctx.scope);
    await store.invalidateApp(ctx.scope).catch(ignoreUnavailable);
  }
}

function ignoreUnavailable(error: unknown): void {
  if (!(error instanceof LiveStoreUnavailable)) throw error;
}
