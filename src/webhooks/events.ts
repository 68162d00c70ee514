/**
 * The body of every webhook delivery, as zod schemas: one envelope
 * (`{ id, type, timestamp, app_id, resource_id, data }`, built by `webhookBody` in `delivery.ts`)
 * and, per lifecycle event type, the schema of its `data` (the resource as the API shows it where
 * the event reports a resource, a summary otherwise). The OpenAPI document's `webhooks` section
 * and the SDK's event types are generated from these.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { LifecycleEventType } from "../domain/events.ts";

export type { LifecycleEventType };
import { CouponSchema, DiscountSchema } from "../coupons/schemas.ts";
import { CreditGrantSchema } from "../credits/schemas.ts";
import { CustomerSchema } from "../customers/schemas.ts";
import { CreditNoteSchema, InvoiceSchema } from "../invoices/schemas.ts";
import { LedgerAccountSchema } from "../ledger/schemas.ts";
import { PlanSchema } from "../plans/schemas.ts";
import { SubscriptionSchema } from "../subscriptions/schemas.ts";
import { TaxRateSchema } from "../tax/schemas.ts";

const Instant = z.string().openapi({ format: "date-time", example: "2026-11-01T00:00:00.000Z" });
const Minor = z.int().openapi({ description: "Integer amount in minor units", example: 4900 });
const Id = (description: string, example: string) => z.string().openapi({ description, example });

/** A summary whose fields are listed; further fields may be added later (receivers ignore unknown ones). */
function summary<T extends z.ZodRawShape>(shape: T, description: string) {
  return z.looseObject(shape).openapi({ description });
}

const ApiKeyData = summary({
  id: Id("TypeID of the key", "key_01jd0000000000000000000000"),
  name: z.string().openapi({ description: "Name of the key", example: "usage sender" }),
  kind: z.enum(["secret", "publishable"]).openapi({ description: "Kind of the key", example: "secret" }),
  scope: z.string().nullable().openapi({ description: "Scope of a secret key", example: "full" }),
  prefix: z.string().openapi({ description: "First 10 characters of the key", example: "sk_4f3c2b1" }),
  expires_at: z.string().nullable().openapi({ description: "ISO 8601 end of validity", example: null }),
  status: z.enum(["active", "expired", "revoked"]).openapi({
    description: "Whether it works",
    example: "active",
  }),
}, "The key (never the key itself)");

const LedgerEntryData = summary({
  id: Id("TypeID of the entry", "ent_01jd0000000000000000000000"),
  idempotency_key: z.string().nullable().openapi({
    description: "Idempotency key of the entry",
    example: "pay_42",
  }),
  description: z.string().nullable().openapi({ description: "Description of the entry", example: "Payment" }),
  reverses_entry_id: z.string().nullable().openapi({ description: "Entry this one reverses", example: null }),
  postings: z.array(z.object({
    account_id: Id("TypeID of the account", "acc_01jd0000000000000000000000"),
    amount: Minor.openapi({ description: "Signed minor units (debits positive)" }),
    currency: z.string().openapi({ description: "ISO 4217 code", example: "USD" }),
  })).openapi({
    description: "Postings; they sum to zero per currency",
    example: [
      { account_id: "acc_01jd0000000000000000000001", amount: 4900, currency: "USD" },
      { account_id: "acc_01jd0000000000000000000002", amount: -4900, currency: "USD" },
    ],
  }),
  created_at: Instant.openapi({ description: "When the entry was posted" }),
}, "The posted entry");

const HoldData = summary({
  ledger: z.enum(["money", "inventory"]).openapi({
    description: "Which book the hold belongs to",
    example: "money",
  }),
  id: Id("TypeID of the hold", "hld_01jd0000000000000000000000"),
  status: z.string().openapi({ description: "Status after the change", example: "pending" }),
}, "The hold after the change");

const PaymentData = summary({
  provider: z.literal("stripe").openapi({ description: "Payment provider", example: "stripe" }),
  invoice_id: z.string().nullable().openapi({
    description: "Invoice the payment belongs to",
    example: "inv_01jd…",
  }),
  amount: Minor,
  currency: z.string().openapi({ description: "ISO 4217 code", example: "USD" }),
}, "What the payment provider reported");

const SubscriptionEventData = summary({
  id: Id("TypeID of the subscription", "sub_01jd0000000000000000000000").optional(),
  customer_id: Id("TypeID of the customer", "cus_01jd0000000000000000000000").optional(),
  plan_id: Id("TypeID of the plan", "pln_01jd0000000000000000000000").optional(),
  status: z.string().optional().openapi({ description: "Status of the subscription", example: "active" }),
}, "The subscription as the API shows it (or, for changes applied by the billing cycle, the plan switch)");

const QuotaData = summary({
  customer_id: z.string().openapi({ description: "Customer reference as sent", example: "user_42" }),
  feature: z.string().openapi({ description: "Feature key", example: "api_calls" }),
  limit: z.int().nullable().openapi({ description: "Limit of the feature", example: 1000 }),
  soft_limit: z.boolean().openapi({ description: "Whether the limit is soft", example: false }),
  used: z.int().openapi({ description: "Usage after the crossing check", example: 1000 }),
  period_end: Instant.nullable().openapi({ description: "When usage resets" }),
}, "The limit that was crossed and the usage that crossed it");

const WebhookEndpointData = summary({
  id: Id("TypeID of the endpoint", "wep_01jd0000000000000000000000"),
  url: z.string().openapi({
    description: "Where deliveries are POSTed",
    example: "https://example.com/hooks",
  }),
  status: z.enum(["enabled", "disabled"]).openapi({
    description: "Status of the endpoint",
    example: "enabled",
  }),
}, "The endpoint (never its secret)");

/** What the document says about one event type. */
export interface EventDoc {
  /** The zod schema of the event's `data`. */
  data: unknown;
  /** One sentence: what happened. */
  description: string;
}

/** `data` schema and description of every lifecycle event type. */
export const EVENT_DATA: Readonly<Record<LifecycleEventType, EventDoc>> = {
  "tenant.created": {
    data: summary({
      name: z.string().openapi({ description: "Tenant name", example: "acme" }),
      app: z.string().openapi({ description: "App name", example: "production" }),
    }, "The new tenant app"),
    description: "A tenant app and its keys were created",
  },
  "api_key.created": {
    data: ApiKeyData,
    description: "An API key was created (the key itself is never sent)",
  },
  "api_key.rolled": {
    data: ApiKeyData,
    description: "An API key was rolled: data is the old key with the end of its grace period",
  },
  "api_key.revoked": { data: ApiKeyData, description: "An API key was revoked" },
  "plan.created": { data: PlanSchema, description: "A plan was created" },
  "plan.updated": { data: PlanSchema, description: "A plan was updated" },
  "plan.archived": { data: PlanSchema, description: "A plan was archived" },
  "customer.created": { data: CustomerSchema, description: "A customer was created" },
  "customer.tax_rate_set": {
    data: summary({
      customer_id: Id("TypeID of the customer", "cus_01jd0000000000000000000000"),
      tax_rate_id: z.string().nullable().openapi({
        description: "The first of the new tax rates, null when cleared",
        example: null,
      }),
      tax_rate_ids: z.array(z.string()).openapi({
        description: "Every tax rate of the customer now, in order (empty when cleared)",
        example: [],
      }),
    }, "The customer and its new tax rates"),
    description: "A customer's tax rates were set or cleared",
  },
  "subscription.tax_rates_set": {
    data: summary({
      subscription_id: Id("TypeID of the subscription", "sub_01jd0000000000000000000000"),
      tax_rate_ids: z.array(z.string()).nullable().openapi({
        description: "The subscription's own tax rates now; null when cleared (the customer's apply)",
        example: null,
      }),
    }, "The subscription and its own tax rates"),
    description: "A subscription's own tax rates were set or cleared",
  },
  "subscription.created": { data: SubscriptionSchema, description: "A subscription was created" },
  "subscription.canceled": { data: SubscriptionSchema, description: "A subscription was canceled" },
  "subscription.changed": { data: SubscriptionEventData, description: "A subscription changed plan" },
  "subscription.expired": { data: SubscriptionEventData, description: "A subscription reached its end" },
  "subscription.trial_ending": {
    data: SubscriptionEventData,
    description: "A subscription's trial ends soon",
  },
  "subscription.paused": { data: SubscriptionSchema, description: "A subscription was paused" },
  "subscription.resumed": { data: SubscriptionSchema, description: "A subscription was resumed" },
  "subscription.discount_applied": {
    data: DiscountSchema,
    description: "A coupon was applied to a subscription",
  },
  "usage.ingested": {
    data: summary({
      accepted: z.int().openapi({ description: "Events newly stored", example: 1000 }),
      duplicates: z.int().openapi({ description: "Events already stored (replays)", example: 0 }),
    }, "Counts of the ingested batch"),
    description: "A batch of usage events was stored",
  },
  "usage.flushed": {
    data: summary({
      message_id: z.string().openapi({ description: "Id of the buffered batch", example: "msg_01jd…" }),
      accepted: z.int().openapi({ description: "Events newly stored", example: 1000 }),
      duplicates: z.int().openapi({ description: "Events already stored", example: 0 }),
      rejected: z.int().openapi({ description: "Events refused", example: 0 }),
    }, "Counts of the flushed batch"),
    description: "A buffered usage batch was written",
  },
  "entitlement.quota_exceeded": { data: QuotaData, description: "A consuming check reached a hard limit" },
  "entitlement.soft_limit_reached": { data: QuotaData, description: "A consuming check passed a soft limit" },
  "invoice.generated": { data: InvoiceSchema, description: "An invoice was generated" },
  "invoice.updated": {
    data: summary({
      total: Minor.openapi({ description: "New total" }),
      previous_total: Minor.openapi({ description: "Total before the change" }),
    }, "The invoice's new and previous total"),
    description: "A draft invoice was recomputed",
  },
  "invoice.finalized": { data: InvoiceSchema, description: "An invoice was finalized" },
  "invoice.paid": { data: InvoiceSchema, description: "An invoice was paid in full" },
  "invoice.payment_recorded": {
    data: summary({
      amount: Minor,
      reference: z.string().nullable().openapi({ description: "Your payment reference", example: "wire-42" }),
      entry_id: Id("Ledger entry of the payment", "ent_01jd0000000000000000000000"),
    }, "The recorded payment"),
    description: "A payment was recorded on an invoice",
  },
  "invoice.payment_failed": { data: PaymentData, description: "A payment attempt of an invoice failed" },
  "invoice.voided": { data: InvoiceSchema, description: "An invoice was voided" },
  "invoice.marked_uncollectible": { data: InvoiceSchema, description: "An invoice was written off" },
  "invoice.credit_note_issued": { data: CreditNoteSchema, description: "A credit note was issued" },
  "ledger.entry_posted": { data: LedgerEntryData, description: "A ledger entry was posted" },
  "ledger.account_created": { data: LedgerAccountSchema, description: "A ledger account was created" },
  "hold.created": { data: HoldData, description: "A hold was authorized" },
  "hold.captured": { data: HoldData, description: "A hold was captured" },
  "hold.voided": { data: HoldData, description: "A hold was voided" },
  "hold.expired": { data: HoldData, description: "A hold expired and was released" },
  "inventory.changed": {
    data: summary({
      kind: z.string().openapi({ description: "The inventory operation", example: "inventory_consume" }),
    }, "The operation, hold and resulting balances"),
    description: "Inventory quantities moved",
  },
  "payment.succeeded": { data: PaymentData, description: "A payment succeeded" },
  "payment.failed": { data: PaymentData, description: "A payment failed" },
  "payment.refunded": { data: PaymentData, description: "A payment was refunded" },
  "dispute.opened": { data: PaymentData, description: "A payment was disputed" },
  "webhook.received": {
    data: summary({
      provider: z.string().openapi({ description: "Provider", example: "stripe" }),
      event_id: z.string().openapi({ description: "Provider's event id", example: "evt_123" }),
      type: z.string().openapi({ description: "Provider's event type", example: "payment_intent.succeeded" }),
    }, "The inbound provider event"),
    description: "An inbound provider webhook was processed",
  },
  "webhook_endpoint.created": { data: WebhookEndpointData, description: "A webhook endpoint was created" },
  "webhook_endpoint.disabled": { data: WebhookEndpointData, description: "A webhook endpoint was disabled" },
  "webhook_delivery.redelivered": {
    data: summary({
      id: Id("TypeID of the delivery", "whd_01jd0000000000000000000000"),
      endpoint_id: Id("TypeID of the endpoint", "wep_01jd0000000000000000000000"),
      event_type: z.string().openapi({
        description: "Type of the redelivered event",
        example: "invoice.paid",
      }),
    }, "The delivery put back in its queue"),
    description: "A delivery was queued again by hand",
  },
  "payment_provider.configured": {
    data: summary({
      provider: z.string().openapi({ description: "Provider", example: "stripe" }),
    }, "The provider configuration (never its secrets)"),
    description: "The app's payment provider was configured",
  },
  "coupon.created": { data: CouponSchema, description: "A coupon was created" },
  "tax_rate.created": { data: TaxRateSchema, description: "A tax rate was created" },
  "credit_grant.created": { data: CreditGrantSchema, description: "Credit was granted to a customer" },
};

/** The envelope of every delivery; `data` is typed per event in {@link webhookEventSchema}. */
const WebhookEnvelope = z.object({
  id: z.string().openapi({
    description: "Message id (also `webhook-id`), stable across retries",
    example: "msg_01jd…",
  }),
  type: z.string().openapi({ description: "Event type", example: "invoice.paid" }),
  timestamp: Instant.openapi({ description: "When the change committed (ISO 8601 UTC)" }),
  app_id: z.string().openapi({ description: "TypeID of the app", example: "app_01jd0000000000000000000000" }),
  resource_id: z.string().openapi({
    description: "TypeID of the resource",
    example: "inv_01jd0000000000000000000000",
  }),
  data: z.unknown().openapi({ description: "The event's data" }),
});

/** The delivered body of a webhook, as `webhookBody` writes it (the shape of `WebhookEnvelope`). */
export interface WebhookPayload {
  /** Message id (also the `webhook-id` header), stable across retries. */
  id: string;
  /** Event type, e.g. `invoice.paid`. */
  type: string;
  /** ISO 8601 UTC instant the change committed. */
  timestamp: string;
  /** TypeID of the app. */
  app_id: string;
  /** TypeID of the resource the event is about. */
  resource_id: string;
  /** The event's data (see {@link EVENT_DATA}). */
  data: unknown;
}

// The interface above and the zod envelope stay one shape.
const _sameShape: WebhookPayload = {} as z.infer<typeof WebhookEnvelope>;
void _sameShape;

function pascal(type: string): string {
  return type.split(/[._]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
}

/**
 * The zod schema of the whole body delivered for `type`, registered as component `<Type>Event`
 * (e.g. `InvoicePaidEvent`).
 */
export function webhookEventSchema(type: LifecycleEventType): unknown {
  const entry = EVENT_DATA[type];
  return WebhookEnvelope.extend({
    type: z.literal(type).openapi({ description: "Event type", example: type }),
    data: entry.data as z.ZodType,
  }).openapi(`${pascal(type)}Event`, {
    description: `${entry.description}: the body of a \`${type}\` delivery`,
  });
}
