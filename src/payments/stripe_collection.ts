/**
 * Collection through Stripe: the Stripe Customer, a Stripe Invoice mirroring our lines and the
 * PaymentIntent that collects the amount due (see `stripe.ts`).
 *
 * @module
 */
import Stripe from "stripe";
import { BillingError } from "../domain/errors.ts";
import type { Ctx } from "../context.ts";
import { getCustomer } from "../customers/service.ts";
import { getInvoice } from "../invoices/view.ts";
import type { ProviderPayment } from "./provider.ts";
import { stripeClient, type StripeOptions, StripeProvider } from "./stripe.ts";
import { loadConfig, notConfigured } from "./stripe_config.ts";
import { remember, remoteIdOf } from "./stripe_ids.ts";

/** Result of {@link collectInvoice}. */
export interface CollectionView {
  /** Our invoice (`inv_…`). */
  invoice_id: string;
  /** The payment provider. */
  provider: "stripe";
  /** Stripe's customer id (`cus_…`). */
  provider_customer_id: string;
  /** Stripe's invoice id (`in_…`). */
  provider_invoice_id: string;
  /** The payment Stripe started for it. */
  payment: ProviderPayment;
}

/**
 * Syncs the invoice's customer and the invoice to Stripe and creates a PaymentIntent for the
 * amount due. Safe to retry: each Stripe call carries an idempotency key derived from our ids
 * (and, for the PaymentIntent, the amount already paid, so a partial payment gets a new one).
 *
 * @throws {BillingError} `invoice_not_found` (404); `invoice_not_open` (409);
 *   `payment_provider_not_configured` (404); `payment_provider_error` (503, retryable) when Stripe
 *   fails or refuses
 */
export async function collectInvoice(
  ctx: Ctx,
  invoiceId: string,
  options: StripeOptions = {},
): Promise<CollectionView> {
  const invoice = await getInvoice(ctx, invoiceId);
  if (invoice.status !== "open" || invoice.amount_due <= 0) {
    throw new BillingError(
      "invoice_not_open",
      "conflict",
      `Invoice "${invoiceId}" is ${invoice.status}; only open invoices with an amount due are collected`,
    );
  }
  const config = await loadConfig(ctx, ctx.scope);
  if (!config) throw notConfigured();
  const provider = new StripeProvider(stripeClient(config.api_key, options));
  try {
    let remoteCustomer = await remoteIdOf(ctx, ctx.scope, "customer", invoice.customer_id);
    if (!remoteCustomer) {
      const customer = await getCustomer(ctx, invoice.customer_id);
      remoteCustomer = await provider.createCustomer(
        customer,
        `billing:${ctx.scope.appId}:customer:${customer.id}`,
      );
      await remember(ctx, ctx.scope, "customer", customer.id, remoteCustomer);
    }
    let remoteInvoice = await remoteIdOf(ctx, ctx.scope, "invoice", invoice.id);
    if (!remoteInvoice) {
      remoteInvoice = await provider.createInvoice(remoteCustomer, {
        id: invoice.id,
        number: invoice.number,
        currency: invoice.currency,
        lines: mirrorLines(invoice),
      }, `billing:${ctx.scope.appId}:invoice:${invoice.id}`);
      await remember(ctx, ctx.scope, "invoice", invoice.id, remoteInvoice);
    }
    const payment = await provider.createPayment(remoteCustomer, {
      invoiceId: invoice.id,
      appId: ctx.scope.appId,
      amount: invoice.amount_due,
      currency: invoice.currency,
      description: `Invoice ${invoice.number ?? invoice.id}`,
    }, `billing:${ctx.scope.appId}:invoice:${invoice.id}:payment:${invoice.amount_paid}`);
    await remember(ctx, ctx.scope, "payment_intent", `${invoice.id}:${invoice.amount_paid}`, payment.id);
    return {
      invoice_id: invoice.id,
      provider: "stripe",
      provider_customer_id: remoteCustomer,
      provider_invoice_id: remoteInvoice,
      payment,
    };
  } catch (error) {
    if (error instanceof BillingError) throw error;
    if (error instanceof Stripe.errors.StripeError) {
      throw new BillingError(
        "payment_provider_error",
        "unavailable",
        `Stripe refused the request: ${error.message}`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Lines of the Stripe mirror: our lines, the discount (negative) and tax, plus an adjustment
 * line for anything else (credits) so that the Stripe invoice total equals ours exactly.
 */
export function mirrorLines(
  invoice: { lines: { description: string; amount: number }[]; discount: number; tax: number; total: number },
): { description: string; amount: number }[] {
  const lines = invoice.lines.map((l) => ({ description: l.description, amount: l.amount }));
  if (invoice.discount > 0) lines.push({ description: "Discount", amount: -invoice.discount });
  if (invoice.tax > 0) lines.push({ description: "Tax", amount: invoice.tax });
  const sum = lines.reduce((s, l) => s + l.amount, 0);
  if (sum !== invoice.total) lines.push({ description: "Adjustment", amount: invoice.total - sum });
  return lines;
}
