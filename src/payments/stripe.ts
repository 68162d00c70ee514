/**
 * Stripe as the payment provider, with the official `stripe` package. This file is the adapter
 * (client and `PaymentProvider`); configuration, id mapping, collection and webhook handling
 * live beside it.
 *
 * **Configuration (per app, `stripe_config.ts`).** `PUT /v1/providers/stripe` stores the app's Stripe secret key
 * (`sk_…`/`rk_…`) and the signing secret (`whsec_…`) of the Stripe webhook endpoint the tenant
 * registers in its Stripe dashboard at `POST /v1/providers/stripe/webhook/{app_id}`. The app id
 * in the path tells which tenant's secret verifies the request; nothing else in the request is
 * trusted before the signature checks out. Both secrets are stored as given (they are needed
 * in clear to call Stripe and to verify HMACs), never returned, logged or put in events.
 *
 * **Outgoing (collection, `stripe_collection.ts`).** `collectInvoice` creates (once, idempotency keys derived from
 * our ids) the Stripe Customer, a Stripe Invoice mirroring our lines (draft, `auto_advance:
 * false`, `collection_method: send_invoice`, so Stripe never charges or emails it on its own),
 * and a PaymentIntent for the amount due: the PaymentIntent is what collects; its client secret
 * goes to the customer's browser. Our ids ↔ Stripe ids live in `provider_objects` (`stripe_ids.ts`).
 *
 * **Incoming (webhooks, `stripe_webhooks.ts`).** `handleStripeWebhook` verifies the `Stripe-Signature` header
 * with `stripe.webhooks.constructEventAsync` (HMAC-SHA256, 300 s tolerance) and then, once per
 * Stripe event id (`provider_events` unique key; a redelivery answers `duplicate: true`):
 * - `payment_intent.succeeded` → `payInvoice` (reference `stripe:{pi}`, itself idempotent) records
 *   the payment (debit cash, credit receivable); the Stripe fee of the charge's balance
 *   transaction is posted as debit `payment_processing_fees` (expense) / credit `cash`.
 * - `payment_intent.payment_failed` → `payment.failed` and `invoice.payment_failed` events.
 * - `charge.refunded` → refund entry for the newly refunded amount (Stripe's cumulative
 *   `amount_refunded` minus what earlier refund events recorded): debit `revenue_refunds`
 *   (a contra-revenue account: type revenue, carried as a debit balance that reduces revenue) /
 *   credit `cash`. The invoice stays `paid` (invoices have no refunded state; the ledger holds it).
 * - `charge.dispute.created` → dispute entry: debit `disputed_funds` (asset: money Stripe holds
 *   back until the dispute closes) / credit `cash`, and a `dispute.opened` event.
 * - any other type is acknowledged and recorded (`webhook.received`) without effect.
 *
 * Amounts: Stripe also counts in the currency's smallest unit, so our integer minor units pass
 * through unchanged; currency codes are sent in lower case as Stripe spells them.
 *
 * @module
 */
import Stripe from "stripe";
import type {
  PaymentProvider,
  ProviderCustomerInput,
  ProviderInvoiceInput,
  ProviderPayment,
} from "./provider.ts";

/** Where and how to reach Stripe's API. */
export interface StripeOptions {
  /**
   * Base URL of the Stripe API (`STRIPE_API_BASE`); default Stripe's own. Tests point it at a
   * local server; stripe-mock works too.
   */
  apiBase?: string;
  /** Per-request timeout, ms (default 20 000). */
  timeoutMs?: number;
  /** Retries of a failed request by the client (default 2; Stripe's idempotency keys make them safe). */
  maxNetworkRetries?: number;
}

/** Ledger account names used by Stripe postings (besides `cash` and the receivables). */
export const STRIPE_ACCOUNTS = {
  fees: "payment_processing_fees",
  refunds: "revenue_refunds",
  disputes: "disputed_funds",
} as const;

/** A Stripe client for one secret key. */
export function stripeClient(apiKey: string, options: StripeOptions = {}): Stripe {
  const config: Stripe.StripeConfig = {
    timeout: options.timeoutMs ?? 20_000,
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    appInfo: { name: "edge-billing-worker" },
  };
  if (options.apiBase) {
    const url = new URL(options.apiBase);
    config.host = url.hostname;
    config.protocol = url.protocol === "http:" ? "http" : "https";
    config.port = url.port ? Number(url.port) : (url.protocol === "http:" ? 80 : 443);
  }
  return new Stripe(apiKey, config);
}

/** {@link PaymentProvider} backed by Stripe. */
export class StripeProvider implements PaymentProvider {
  readonly name = "stripe";
  readonly #stripe: Stripe;

  /** Wraps a Stripe client (see `stripeClient`): its key and API host decide where calls go. */
  constructor(stripe: Stripe) {
    this.#stripe = stripe;
  }

  /** Creates a Stripe Customer carrying our ids in metadata. */
  async createCustomer(customer: ProviderCustomerInput, idempotencyKey: string): Promise<string> {
    const params: Stripe.CustomerCreateParams = {
      metadata: { billing_customer_id: customer.id, external_id: customer.external_id },
    };
    if (customer.name) params.name = customer.name;
    if (customer.email) params.email = customer.email;
    const created = await this.#stripe.customers.create(params, { idempotencyKey });
    return created.id;
  }

  /** Creates a draft Stripe Invoice (no auto-advance) and one invoice item per line. */
  async createInvoice(
    remoteCustomerId: string,
    invoice: ProviderInvoiceInput,
    idempotencyKey: string,
  ): Promise<string> {
    const currency = invoice.currency.toLowerCase();
    const created = await this.#stripe.invoices.create({
      customer: remoteCustomerId,
      currency,
      auto_advance: false,
      collection_method: "send_invoice",
      days_until_due: 30,
      pending_invoice_items_behavior: "exclude",
      metadata: { billing_invoice_id: invoice.id, billing_invoice_number: invoice.number ?? "" },
    }, { idempotencyKey });
    for (const [i, line] of invoice.lines.entries()) {
      await this.#stripe.invoiceItems.create({
        customer: remoteCustomerId,
        invoice: created.id,
        amount: line.amount,
        currency,
        description: line.description,
        metadata: { billing_invoice_id: invoice.id, position: String(i) },
      }, { idempotencyKey: `${idempotencyKey}:line:${i}` });
    }
    return created.id;
  }

  /** Creates a PaymentIntent with automatic payment methods. */
  async createPayment(
    remoteCustomerId: string,
    input: { invoiceId: string; appId: string; amount: number; currency: string; description: string },
    idempotencyKey: string,
  ): Promise<ProviderPayment> {
    const pi = await this.#stripe.paymentIntents.create({
      amount: input.amount,
      currency: input.currency.toLowerCase(),
      customer: remoteCustomerId,
      description: input.description,
      automatic_payment_methods: { enabled: true },
      metadata: { billing_invoice_id: input.invoiceId, billing_app_id: input.appId },
    }, { idempotencyKey });
    return {
      id: pi.id,
      client_secret: pi.client_secret,
      status: pi.status,
      amount: pi.amount,
      currency: pi.currency.toUpperCase(),
    };
  }

  /** Fee of a charge from its balance transaction (`null` if unsettled or in another currency). */
  async paymentFee(chargeId: string, currency: string): Promise<number | null> {
    const charge = await this.#stripe.charges.retrieve(chargeId, { expand: ["balance_transaction"] });
    const bt = charge.balance_transaction;
    if (!bt || typeof bt === "string") return null;
    if (bt.currency.toUpperCase() !== currency.toUpperCase()) return null;
    return bt.fee;
  }
}
