/**
 * The payment-provider port: what billing needs from a processor, independent of which one.
 * `stripe.ts` implements it with the official `stripe` package; another processor (Adyen,
 * Paddle) would implement the same three calls and its own webhook handler.
 *
 * Amounts are integer minor units in the invoice's currency (ISO 4217, upper case here; an
 * adapter converts to the provider's spelling).
 *
 * @module
 */

/** A billing customer as a provider needs it. */
export interface ProviderCustomerInput {
  /** Our `cus_…` id (stored in the provider's metadata). */
  id: string;
  /** The client's own id of the customer (stored in the provider's metadata). */
  external_id: string;
  /** Display name, or `null` (not sent). */
  name: string | null;
  /** Billing email, or `null` (not sent). */
  email: string | null;
}

/** One line to mirror on the provider's invoice; `amount` may be negative (a discount). */
export interface ProviderInvoiceLine {
  /** Line text as shown on our invoice. */
  description: string;
  /** Minor units of the invoice's currency; negative for a discount. */
  amount: number;
}

/** An invoice to mirror at the provider. */
export interface ProviderInvoiceInput {
  /** Our `inv_…` id. */
  id: string;
  /** Our gapless invoice number (`INV-000001`), or `null` while a draft. */
  number: string | null;
  /** ISO 4217 code, upper case. */
  currency: string;
  /** The lines in invoice order; their sum is the amount the provider shows. */
  lines: ProviderInvoiceLine[];
}

/** A payment collection started at the provider. */
export interface ProviderPayment {
  /** The provider's payment id (Stripe: `pi_…`). */
  id: string;
  /** Secret the customer's browser uses to confirm the payment (Stripe: the PaymentIntent client secret). */
  client_secret: string | null;
  /** The provider's own status word, passed through (Stripe: `requires_payment_method`, `succeeded`…). */
  status: string;
  /** Minor units being collected. */
  amount: number;
  /** ISO 4217 code, upper case. */
  currency: string;
}

/**
 * A payment provider. Every call is idempotent on `idempotencyKey`: repeating it returns the
 * object the first call created instead of creating another.
 */
export interface PaymentProvider {
  /** Provider name as used in routes and storage (`stripe`). */
  readonly name: string;
  /** Creates the customer at the provider. @returns the provider's customer id */
  createCustomer(customer: ProviderCustomerInput, idempotencyKey: string): Promise<string>;
  /** Mirrors an invoice (header + lines) for the customer. @returns the provider's invoice id */
  createInvoice(
    remoteCustomerId: string,
    invoice: ProviderInvoiceInput,
    idempotencyKey: string,
  ): Promise<string>;
  /** Starts collecting `amount` for an invoice. */
  createPayment(
    remoteCustomerId: string,
    input: { invoiceId: string; appId: string; amount: number; currency: string; description: string },
    idempotencyKey: string,
  ): Promise<ProviderPayment>;
  /**
   * The processing fee of a settled payment, in the payment's currency, or `null` when the
   * provider has not settled it yet or settled it in another currency.
   */
  paymentFee(chargeId: string, currency: string): Promise<number | null>;
}
