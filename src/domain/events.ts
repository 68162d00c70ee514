/**
 * Lifecycle events: the typed facts every domain operation emits through one place
 * (`LifecycleSink`), so webhooks, audit and metrics attach without touching operations.
 *
 * @module
 */

/** Names of lifecycle events, `resource.verb`. */
export type LifecycleEventType =
  | "tenant.created"
  | "plan.created"
  | "plan.updated"
  | "plan.archived"
  | "customer.created"
  | "subscription.created"
  | "subscription.canceled"
  | "usage.ingested"
  | "entitlement.checked"
  | "invoice.generated"
  | "invoice.updated"
  | "invoice.finalized"
  | "invoice.paid"
  | "invoice.payment_recorded"
  | "invoice.voided"
  | "ledger.entry_posted";

/** One lifecycle event. `data` is the resource as the API shows it (or a summary). */
export interface LifecycleEvent {
  type: LifecycleEventType;
  tenant_id: string;
  app_id: string;
  /** TypeID of the resource the event is about. */
  resource_id: string;
  occurred_at: Date;
  data: Record<string, unknown>;
}

/**
 * Receives events **after** the change they report has committed. Implementations must not
 * throw into the operation; the dispatcher isolates failures.
 */
export interface LifecycleSubscriber {
  name: string;
  handle(event: LifecycleEvent): void | Promise<void>;
}
