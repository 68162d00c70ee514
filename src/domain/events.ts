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
  | "invoice.generated"
  | "invoice.updated"
  | "invoice.finalized"
  | "invoice.paid"
  | "invoice.payment_recorded"
  | "invoice.voided"
  | "ledger.entry_posted"
  // Issue 7: the rest of the seed engine's lifecycle. Emitted by the operations that own them
  // (subscription changes: issue 6; holds: issue 3; quotas: issue 4; payments: providers).
  | "subscription.changed"
  | "subscription.expired"
  | "subscription.trial_ending"
  | "usage.flushed"
  | "entitlement.quota_exceeded"
  | "entitlement.soft_limit_reached"
  | "invoice.payment_failed"
  | "payment.succeeded"
  | "payment.failed"
  | "payment.refunded"
  | "dispute.opened"
  | "hold.expired"
  | "hold.created"
  | "hold.captured"
  | "hold.voided"
  | "ledger.account_created"
  | "inventory.changed"
  | "webhook.received"
  | "webhook_endpoint.created"
  | "webhook_endpoint.disabled"
  | "webhook_delivery.redelivered"
  | "payment_provider.configured"
  // Issue 6: billing depth.
  | "invoice.marked_uncollectible"
  | "invoice.credit_note_issued"
  | "coupon.created"
  | "subscription.discount_applied"
  | "tax_rate.created"
  | "customer.tax_rate_set"
  | "credit_grant.created"
  | "subscription.paused"
  | "subscription.resumed";

/** One lifecycle event. `data` is the resource as the API shows it (or a summary). */
export interface LifecycleEvent {
  /**
   * Message id (`msg_…` TypeID) of the event's outbox row: the `webhook-id` of its deliveries
   * and the `message_id` of its audit row. Absent only on events built outside a write.
   */
  id?: string;
  /** What happened, `resource.verb` (the webhook event type). */
  type: LifecycleEventType;
  /** Tenant the resource belongs to (`ten_…`). */
  tenant_id: string;
  /** App of the tenant the resource belongs to (`app_…`); webhooks go to this app's endpoints. */
  app_id: string;
  /** TypeID of the resource the event is about. */
  resource_id: string;
  /** When the change happened, by the service clock (the commit's time). */
  occurred_at: Date;
  /** The resource as the API shows it after the change (or a summary); the webhook payload's `data`. */
  data: Record<string, unknown>;
}

/**
 * Receives events **after** the change they report has committed. Implementations must not
 * throw into the operation; the dispatcher isolates failures.
 */
export interface LifecycleSubscriber {
  /** Name in logs when the subscriber fails (e.g. `metrics`, `entitlement-invalidation`). */
  name: string;
  /** Reacts to one committed event; a rejection or throw is logged by the dispatcher and dropped. */
  handle(event: LifecycleEvent): void | Promise<void>;
}
