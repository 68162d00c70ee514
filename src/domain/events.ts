/**
 * Lifecycle events: the typed facts every domain operation emits through one place
 * (`LifecycleSink`), so webhooks, audit and metrics attach without touching operations.
 *
 * @module
 */

import type {
  ApiKeyView,
  CouponView,
  CreditGrantView,
  CreditNoteView,
  CustomerView,
  DiscountView,
  EntryView,
  InvoiceView,
  PlanView,
  StripeConfigView,
  SubscriptionView,
  TaxRateView,
  WebhookEndpointView,
} from "./views.ts";

/** A JSON object whose fields are not pinned down further (a copy of a ledger value). */
export interface JsonFields {
  /** Any field, JSON-ready. */
  [field: string]: unknown;
}

/** `ledger.entry_posted`: the committed entry (the writer's copy omits metadata and external ids). */
export type EntryPostedData =
  & Pick<EntryView, "id" | "seq" | "idempotency_key" | "description" | "reverses_entry_id" | "created_at">
  & Partial<EntryView>
  & { postings: EntryView["postings"] };

/** `hold.*`: the money or inventory hold after the change, instants as ISO 8601 strings. */
export interface HoldEventData extends JsonFields {
  /** Which book the hold is in. */
  ledger: "money" | "inventory";
  /** TypeID of the hold. */
  id: string;
}

/** `ledger.account_created`: the new account, instants as ISO 8601 strings. */
export interface AccountCreatedData extends JsonFields {
  /** TypeID `acc_…`. */
  id: string;
}

/** `inventory.changed`: one accepted inventory mutation. */
export interface InventoryChangedData {
  /** The command: `inventory_acquire`, `inventory_consume`, `inventory_hold`… */
  kind: string;
  /** The operation recorded, if any. */
  operation: unknown;
  /** The hold created or settled, if any. */
  hold: unknown;
  /** Balances after the change. */
  balances: unknown;
}

/** `entitlement.quota_exceeded` / `entitlement.soft_limit_reached`: a consuming check crossed a limit. */
export interface LimitCrossingData {
  /** Customer TypeID. */
  customer_id: string;
  /** Feature key. */
  feature: string;
  /** Hard limit of the feature (null: none). */
  limit: number | null;
  /** Whether the limit is soft (usage may exceed it). */
  soft_limit: boolean;
  /** Usage after the consumption. */
  used: number;
  /** ISO 8601 end of the current period, if any. */
  period_end: string | null;
}

/** `payment.failed` / `invoice.payment_failed`. */
export interface PaymentFailedData {
  /** Payment provider (`stripe`). */
  provider: string;
  /** Invoice TypeID. */
  invoice_id: string;
  /** Minor units. */
  amount: number;
  /** ISO 4217. */
  currency: string;
  /** The provider's reason, if given. */
  reason: string | null;
}

/** `subscription.expired` / `subscription.trial_ending`, emitted by the sweeper. */
export interface SubscriptionTimedData {
  /** Subscription TypeID. */
  id: string;
  /** Customer TypeID. */
  customer_id: string;
  /** Plan TypeID. */
  plan_id: string;
  /** `trialing` or `expired`. */
  status: string;
  /** ISO 8601 end of the trial (trial_ending). */
  trial_end?: string;
  /** ISO 8601 end of the subscription (expired). */
  ended_at?: string;
}

/**
 * The one map of lifecycle events: each `resource.verb` name to the shape of its `data`. Resource
 * events carry the resource as the API shows it (`views.ts`); the rest carry a summary. Emitting
 * an event with another shape does not compile.
 */
export interface LifecycleEventMap {
  /** A tenant and its first app were created. */
  "tenant.created": { name: string; app: string };
  /** An API key was created (`POST /v1/api_keys`); never the key itself. */
  "api_key.created": ApiKeyView;
  /** An API key was rolled: `data` is the old key, now expiring (or revoked) by the grace period. */
  "api_key.rolled": ApiKeyView;
  /** An API key was revoked; it stopped working at once. */
  "api_key.revoked": ApiKeyView;
  /** A plan was created. */
  "plan.created": PlanView;
  /** A plan was updated. */
  "plan.updated": PlanView;
  /** A plan was archived. */
  "plan.archived": PlanView;
  /** A customer was created. */
  "customer.created": CustomerView;
  /** A subscription was created. */
  "subscription.created": SubscriptionView;
  /** A subscription was canceled (now or at period end). */
  "subscription.canceled": SubscriptionView;
  /** A plan change was scheduled or applied (by the API, or by the billing cycle when due). */
  "subscription.changed":
    | (SubscriptionView & { direction?: "upgrade" | "downgrade" })
    | { plan_id: string; previous_plan_id: string; applied_by: "billing_cycle" };
  /** A canceled subscription reached its end. */
  "subscription.expired": SubscriptionTimedData;
  /** A trial ends within the notice window. */
  "subscription.trial_ending": SubscriptionTimedData;
  /** A subscription was paused. */
  "subscription.paused": SubscriptionView;
  /** A subscription was resumed. */
  "subscription.resumed": SubscriptionView;
  /** A coupon was applied to a subscription. */
  "subscription.discount_applied": DiscountView;
  /** Usage events were stored (the resource id is the first event's). */
  "usage.ingested": { accepted: number; duplicates: number };
  /** A buffered usage batch was written (Workers usage queue). */
  "usage.flushed": {
    message_id: string;
    received_at: string;
    accepted: number;
    duplicates: number;
    rejected: number;
  };
  /** A consuming check reached a hard limit. */
  "entitlement.quota_exceeded": LimitCrossingData;
  /** A consuming check first passed a soft limit. */
  "entitlement.soft_limit_reached": LimitCrossingData;
  /** An invoice was generated (draft). */
  "invoice.generated": InvoiceView;
  /** A draft's total changed on refresh. */
  "invoice.updated": { total: number; previous_total: number };
  /** An invoice was finalized (numbered, posted). */
  "invoice.finalized": InvoiceView;
  /** An invoice was paid in full. */
  "invoice.paid": InvoiceView;
  /** A payment was recorded on an invoice. */
  "invoice.payment_recorded": { amount: number; reference: string | null; entry_id: string };
  /** A provider reported a failed payment of an invoice. */
  "invoice.payment_failed": PaymentFailedData;
  /** An invoice was voided. */
  "invoice.voided": InvoiceView;
  /** An invoice was written off. */
  "invoice.marked_uncollectible": InvoiceView;
  /** A credit note was issued. */
  "invoice.credit_note_issued": CreditNoteView;
  /** A ledger entry was posted. */
  "ledger.entry_posted": EntryPostedData;
  /** A ledger account was created. */
  "ledger.account_created": AccountCreatedData;
  /** A money hold was created. */
  "hold.created": HoldEventData;
  /** A money hold was captured. */
  "hold.captured": HoldEventData;
  /** A money hold was voided. */
  "hold.voided": HoldEventData;
  /** A money or inventory hold expired. */
  "hold.expired": HoldEventData;
  /** An inventory mutation was accepted. */
  "inventory.changed": InventoryChangedData;
  /** A provider payment succeeded. */
  "payment.succeeded": {
    provider: string;
    invoice_id: string;
    amount: number;
    currency: string;
    fee: number;
    charge: string | null;
  };
  /** A provider payment failed. */
  "payment.failed": PaymentFailedData;
  /** A provider charge was refunded (`amount`: newly refunded). */
  "payment.refunded": {
    provider: string;
    invoice_id: string | null;
    amount: number;
    amount_refunded: number;
    currency: string;
  };
  /** A provider dispute was opened. */
  "dispute.opened": {
    provider: string;
    invoice_id: string | null;
    charge: string;
    amount: number;
    currency: string;
    reason: string;
  };
  /** A provider webhook was received and processed once. */
  "webhook.received": { provider: string; event_id: string; type: string; object_id: string; effect: string };
  /** A webhook endpoint was created. */
  "webhook_endpoint.created": WebhookEndpointView;
  /** A webhook endpoint was disabled (by the API, or by the worker on 410 Gone with a reason). */
  "webhook_endpoint.disabled": WebhookEndpointView & { reason?: string };
  /** A delivery was put back in its endpoint's queue. */
  "webhook_delivery.redelivered": {
    id: string;
    endpoint_id: string;
    message_id: string;
    event_type: string;
    status: "pending";
    previous_status: string;
    previous_attempts: number;
    next_attempt_at: string;
  };
  /** A payment provider was configured for an app. */
  "payment_provider.configured": StripeConfigView;
  /** A coupon was created. */
  "coupon.created": CouponView;
  /** A tax rate was created. */
  "tax_rate.created": TaxRateView;
  /** A customer's tax rates were set: `tax_rate_id` is the first (null: none), `tax_rate_ids` all of them. */
  "customer.tax_rate_set": { customer_id: string; tax_rate_id: string | null; tax_rate_ids: string[] };
  /** A subscription's own tax rates were set, or cleared (`null`: the customer's apply). */
  "subscription.tax_rates_set": { subscription_id: string; tax_rate_ids: string[] | null };
  /** A credit grant was created. */
  "credit_grant.created": CreditGrantView;
}

/** Names of lifecycle events, `resource.verb`. */
export type LifecycleEventType = keyof LifecycleEventMap;

/** One lifecycle event of type `K`. `data` is the resource as the API shows it (or a summary). */
export interface LifecycleEventOf<K extends LifecycleEventType> {
  /**
   * Message id (`msg_…` TypeID) of the event's outbox row: the `webhook-id` of its deliveries
   * and the `message_id` of its audit row. Absent only on events built outside a write.
   */
  id?: string;
  /** What happened, `resource.verb` (the webhook event type). */
  type: K;
  /** Tenant the resource belongs to (`ten_…`). */
  tenant_id: string;
  /** App of the tenant the resource belongs to (`app_…`); webhooks go to this app's endpoints. */
  app_id: string;
  /** TypeID of the resource the event is about. */
  resource_id: string;
  /** When the change happened, by the service clock (the commit's time). */
  occurred_at: Date;
  /** The resource as the API shows it after the change (or a summary), by {@link LifecycleEventMap}. */
  data: LifecycleEventMap[K];
}

/**
 * A lifecycle event of one of the types `K` (default: any): a union discriminated by `type`, so
 * checking `event.type` narrows `event.data`.
 */
export type LifecycleEvent<K extends LifecycleEventType = LifecycleEventType> = {
  [T in K]: LifecycleEventOf<T>;
}[K];

/** A type with its payload, correlated: what an operation hands to `emit`. */
export type LifecycleFact<K extends LifecycleEventType = LifecycleEventType> = {
  [T in K]: { type: T; data: LifecycleEventMap[T] };
}[K];

/**
 * Builds an event of type `K` (the one place where a generic `K` meets the union).
 *
 * @returns the event, typed so that `type` and `data` agree
 */
export function lifecycleEvent<K extends LifecycleEventType>(event: LifecycleEventOf<K>): LifecycleEvent {
  return event as unknown as LifecycleEvent;
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
