/**
 * Stripe as the payment provider, with the official `stripe` package.
 *
 * **Configuration (per app).** `PUT /v1/providers/stripe` stores the app's Stripe secret key
 * (`sk_…`/`rk_…`) and the signing secret (`whsec_…`) of the Stripe webhook endpoint the tenant
 * registers in its Stripe dashboard at `POST /v1/providers/stripe/webhook/{app_id}`. The app id
 * in the path tells which tenant's secret verifies the request; nothing else in the request is
 * trusted before the signature checks out. Both secrets are stored as given (they are needed
 * in clear to call Stripe and to verify HMACs), never returned, logged or put in events.
 *
 * **Outgoing (collection).** {@link collectInvoice} creates (once, idempotency keys derived from
 * our ids) the Stripe Customer, a Stripe Invoice mirroring our lines (draft, `auto_advance:
 * false`, `collection_method: send_invoice`, so Stripe never charges or emails it on its own),
 * and a PaymentIntent for the amount due: the PaymentIntent is what collects; its client secret
 * goes to the customer's browser. Our ids ↔ Stripe ids live in `provider_objects`.
 *
 * **Incoming (webhooks).** {@link handleStripeWebhook} verifies the `Stripe-Signature` header
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
import { and, eq, sql } from "drizzle-orm";
import { BillingError } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import type { Executor, Tx } from "../storage/db.ts";
import { isUniqueViolation } from "../storage/sql_errors.ts";
import { apps, paymentProviderConfigs, providerEvents, providerObjects } from "../storage/schema.ts";
import type { Ctx, Services } from "../context.ts";
import { type Emit, writeOp } from "../lifecycle/write.ts";
import type { Scope } from "../domain/scope.ts";
import { getCustomer } from "../customers/service.ts";
import { payInvoice } from "../invoices/service.ts";
import { getInvoice } from "../invoices/view.ts";
import { ensureAccount, postEntry } from "../ledger/service.ts";
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

// ---------------------------------------------------------------------------------------------
// Configuration

type ConfigRow = typeof paymentProviderConfigs.$inferSelect;

/** The Stripe configuration of an app as the API shows it (no secrets). */
export interface StripeConfigView {
  provider: "stripe";
  livemode: boolean;
  /** Last 4 characters of the secret key, to recognise it. */
  api_key_last4: string;
  /** Path of this app's Stripe webhook endpoint (register it in the Stripe dashboard). */
  webhook_path: string;
  updated_at: string;
}

function configView(row: ConfigRow): StripeConfigView {
  return {
    provider: "stripe",
    livemode: row.api_key.includes("_live_"),
    api_key_last4: row.api_key.slice(-4),
    webhook_path: `/v1/providers/stripe/webhook/${row.app_id}`,
    updated_at: row.updated_at.toISOString(),
  };
}

/**
 * Sets (or replaces) the app's Stripe credentials. Repeating the same call is harmless.
 *
 * @param input.secret_key `sk_test_…`, `sk_live_…` or a restricted `rk_…` key
 * @param input.webhook_secret `whsec_…` signing secret of the Stripe webhook endpoint
 * @throws {BillingError} `validation_failed` (400) for malformed keys
 */
export async function configureStripe(
  ctx: Ctx,
  input: { secret_key: string; webhook_secret: string },
): Promise<StripeConfigView> {
  const fields = [];
  if (!/^(sk|rk)_(test|live)_[A-Za-z0-9]{8,}$/.test(input.secret_key)) {
    fields.push({ path: "secret_key", message: "Use a Stripe secret key (sk_test_…, sk_live_…, rk_…)" });
  }
  if (!/^whsec_[A-Za-z0-9+/=]{8,}$/.test(input.webhook_secret)) {
    fields.push({ path: "webhook_secret", message: "Use the endpoint's signing secret (whsec_…)" });
  }
  if (fields.length > 0) {
    throw new BillingError("validation_failed", "invalid_request", "The Stripe configuration is invalid", {
      fields,
    });
  }
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const row: ConfigRow = {
      tenant_id: ctx.scope.tenantId,
      app_id: ctx.scope.appId,
      provider: "stripe",
      api_key: input.secret_key,
      webhook_secret: input.webhook_secret,
      created_at: now,
      updated_at: now,
    };
    await tx.insert(paymentProviderConfigs).values(row).onConflictDoUpdate({
      target: [
        paymentProviderConfigs.tenant_id,
        paymentProviderConfigs.app_id,
        paymentProviderConfigs.provider,
      ],
      set: { api_key: row.api_key, webhook_secret: row.webhook_secret, updated_at: now },
    });
    const view = configView(row);
    emit("payment_provider.configured", ctx.scope.appId, view as unknown as Record<string, unknown>);
    return view;
  });
}

async function loadConfig(services: Services, scope: Scope): Promise<ConfigRow | undefined> {
  return await services.database.db.query.paymentProviderConfigs.findFirst({
    where: and(
      eq(paymentProviderConfigs.tenant_id, scope.tenantId),
      eq(paymentProviderConfigs.app_id, scope.appId),
      eq(paymentProviderConfigs.provider, "stripe"),
    ),
  });
}

/** GET the app's Stripe configuration. @throws {BillingError} `payment_provider_not_configured` (404) */
export async function getStripeConfig(ctx: Ctx): Promise<StripeConfigView> {
  const row = await loadConfig(ctx, ctx.scope);
  if (!row) throw notConfigured();
  return configView(row);
}

function notConfigured(): BillingError {
  return new BillingError(
    "payment_provider_not_configured",
    "not_found",
    "Stripe is not configured for this app (PUT /v1/providers/stripe)",
  );
}

// ---------------------------------------------------------------------------------------------
// Object map

async function remoteIdOf(
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

async function localIdOf(
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

async function remember(
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

// ---------------------------------------------------------------------------------------------
// Collection

/** Result of {@link collectInvoice}. */
export interface CollectionView {
  invoice_id: string;
  provider: "stripe";
  provider_customer_id: string;
  provider_invoice_id: string;
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
) {
  const lines = invoice.lines.map((l) => ({ description: l.description, amount: l.amount }));
  if (invoice.discount > 0) lines.push({ description: "Discount", amount: -invoice.discount });
  if (invoice.tax > 0) lines.push({ description: "Tax", amount: invoice.tax });
  const sum = lines.reduce((s, l) => s + l.amount, 0);
  if (sum !== invoice.total) lines.push({ description: "Adjustment", amount: invoice.total - sum });
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Webhooks

/** Result of {@link handleStripeWebhook}. */
export interface StripeWebhookResult {
  received: true;
  event_id: string;
  type: string;
  /** `true` when this Stripe event id was processed before (nothing was done again). */
  duplicate: boolean;
  /** What it did: `payment_recorded`, `payment_failed`, `refund_recorded`, `dispute_recorded`, `ignored`, `unapplied`. */
  effect: string;
}

/**
 * Verifies and applies one Stripe webhook request for the app `appId`.
 *
 * @param rawBody the request body exactly as received (the signature covers these bytes)
 * @param signature the `Stripe-Signature` header
 * @throws {BillingError} `payment_provider_not_configured` (404) for an unknown app or one
 *   without Stripe; `signature_invalid` (400) when the signature does not verify;
 *   `payment_provider_error` (503) when Stripe cannot be reached for the fee
 */
export async function handleStripeWebhook(
  services: Services,
  appId: string,
  rawBody: string,
  signature: string | undefined,
  request: { requestId?: string; options?: StripeOptions },
): Promise<StripeWebhookResult> {
  const app = await services.database.db.query.apps.findFirst({ where: eq(apps.id, appId) });
  if (!app) throw notConfigured();
  const scope: Scope = { tenantId: app.tenant_id, appId: app.id };
  const config = await loadConfig(services, scope);
  if (!config) throw notConfigured();
  const stripe = stripeClient(config.api_key, request.options);
  let event: Stripe.Event;
  try {
    if (!signature) throw new Error("No Stripe-Signature header");
    event = await stripe.webhooks.constructEventAsync(rawBody, signature, config.webhook_secret);
  } catch (error) {
    throw new BillingError(
      "signature_invalid",
      "invalid_request",
      `The Stripe signature did not verify: ${(error as Error).message}`,
    );
  }
  const ctx: Ctx = { ...services, scope, actor: "stripe", requestId: request.requestId };
  if (await alreadyProcessed(ctx, event.id)) {
    return { received: true, event_id: event.id, type: event.type, duplicate: true, effect: "duplicate" };
  }
  const provider = new StripeProvider(stripe);
  switch (event.type) {
    case "payment_intent.succeeded":
      return await onPaymentSucceeded(ctx, event, event.data.object, provider);
    case "payment_intent.payment_failed":
      return await onPaymentFailed(ctx, event, event.data.object);
    case "charge.refunded":
      return await onChargeRefunded(ctx, event, event.data.object);
    case "charge.dispute.created":
      return await onDisputeCreated(ctx, event, event.data.object);
    default:
      return await record(ctx, event, {
        objectId: objectIdOf(event),
        invoiceId: null,
        amount: 0,
        effect: "ignored",
      });
  }
}

function objectIdOf(event: Stripe.Event): string {
  return String((event.data.object as { id?: string }).id ?? "");
}

async function alreadyProcessed(ctx: Ctx, eventId: string): Promise<boolean> {
  const row = await ctx.database.db.query.providerEvents.findFirst({
    where: and(
      eq(providerEvents.tenant_id, ctx.scope.tenantId),
      eq(providerEvents.app_id, ctx.scope.appId),
      eq(providerEvents.provider, "stripe"),
      eq(providerEvents.event_id, eventId),
    ),
  });
  return row !== undefined;
}

/**
 * Records the Stripe event (unique on its id) and runs `effect` in the same transaction; a
 * concurrent duplicate loses on the unique key and is reported as such.
 */
async function record(
  ctx: Ctx,
  event: Stripe.Event,
  input: { objectId: string; invoiceId: string | null; amount: number; effect: string },
  effect?: (tx: Tx, emit: Emit) => Promise<{ entryId: string | null; amount?: number }>,
): Promise<StripeWebhookResult> {
  const now = ctx.clock.now();
  try {
    await writeOp(ctx, async (tx, emit) => {
      const done = effect ? await effect(tx, emit) : { entryId: null };
      const entryId = done.entryId;
      await tx.insert(providerEvents).values({
        id: newId("pev"),
        tenant_id: ctx.scope.tenantId,
        app_id: ctx.scope.appId,
        provider: "stripe",
        event_id: event.id,
        type: event.type,
        object_id: input.objectId,
        invoice_id: input.invoiceId,
        amount: done.amount ?? input.amount,
        entry_id: entryId,
        processed_at: now,
      });
      emit("webhook.received", event.id, {
        provider: "stripe",
        event_id: event.id,
        type: event.type,
        object_id: input.objectId,
        effect: input.effect,
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      return { received: true, event_id: event.id, type: event.type, duplicate: true, effect: "duplicate" };
    }
    throw error;
  }
  return { received: true, event_id: event.id, type: event.type, duplicate: false, effect: input.effect };
}

async function invoiceOfPaymentIntent(
  ctx: Ctx,
  paymentIntentId: string | null | undefined,
): Promise<string | null> {
  if (!paymentIntentId) return null;
  const local = await localIdOf(ctx.database.db, ctx.scope, "payment_intent", paymentIntentId);
  return local ? local.slice(0, local.lastIndexOf(":")) : null;
}

async function postTwoLegs(
  ctx: Ctx,
  tx: Tx,
  emit: Emit,
  input: {
    key: string;
    description: string;
    debit: { name: string; type: "asset" | "expense" | "revenue" };
    amount: number;
    currency: string;
    metadata: Record<string, unknown>;
  },
): Promise<string> {
  const now = ctx.clock.now();
  const debit = await ensureAccount(tx, ctx.scope, now, {
    name: input.debit.name,
    type: input.debit.type,
    currency: input.currency,
  });
  const cash = await ensureAccount(tx, ctx.scope, now, {
    name: "cash",
    type: "asset",
    currency: input.currency,
  });
  const { entry, replayed } = await postEntry(tx, ctx.scope, now, {
    idempotency_key: input.key,
    description: input.description,
    postings: [
      { account_id: debit.id, amount: input.amount, currency: input.currency },
      { account_id: cash.id, amount: -input.amount, currency: input.currency },
    ],
    metadata: input.metadata,
  });
  if (!replayed) emit("ledger.entry_posted", entry.id, entry as unknown as Record<string, unknown>);
  return entry.id;
}

async function onPaymentSucceeded(
  ctx: Ctx,
  event: Stripe.Event,
  pi: Stripe.PaymentIntent,
  provider: StripeProvider,
): Promise<StripeWebhookResult> {
  const invoiceId = await invoiceOfPaymentIntent(ctx, pi.id);
  const amount = pi.amount_received || pi.amount;
  if (!invoiceId) {
    return await record(ctx, event, { objectId: pi.id, invoiceId: null, amount, effect: "ignored" });
  }
  let applied = true;
  try {
    await payInvoice(ctx, invoiceId, { amount, reference: `stripe:${pi.id}` });
  } catch (error) {
    // Paid by other means meanwhile, voided, or more than is due: keep the fact, change nothing.
    if (!(error instanceof BillingError) || !["conflict", "unprocessable"].includes(error.kind)) throw error;
    applied = false;
    ctx.log({
      level: "error",
      msg: "stripe payment not applied",
      request_id: ctx.requestId,
      invoice_id: invoiceId,
      payment_intent: pi.id,
      code: error.code,
    });
  }
  const currency = pi.currency.toUpperCase();
  const chargeId = typeof pi.latest_charge === "string" ? pi.latest_charge : pi.latest_charge?.id;
  let fee: number | null = null;
  if (applied && chargeId) {
    try {
      fee = await provider.paymentFee(chargeId, currency);
    } catch (error) {
      throw new BillingError(
        "payment_provider_error",
        "unavailable",
        `Stripe could not be reached for the fee: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  return await record(ctx, event, {
    objectId: pi.id,
    invoiceId,
    amount,
    effect: applied ? "payment_recorded" : "unapplied",
  }, async (tx, emit) => {
    let entryId: string | null = null;
    if (fee !== null && fee > 0) {
      entryId = await postTwoLegs(ctx, tx, emit, {
        key: `stripe:${event.id}:fee`,
        description: `Stripe fee on ${pi.id}`,
        debit: { name: STRIPE_ACCOUNTS.fees, type: "expense" },
        amount: fee,
        currency,
        metadata: {
          invoice_id: invoiceId,
          payment_intent: pi.id,
          charge: chargeId ?? null,
          stripe_event: event.id,
        },
      });
    }
    if (applied) {
      emit("payment.succeeded", pi.id, {
        provider: "stripe",
        invoice_id: invoiceId,
        amount,
        currency,
        fee: fee ?? 0,
        charge: chargeId ?? null,
      });
    }
    return { entryId };
  });
}

async function onPaymentFailed(
  ctx: Ctx,
  event: Stripe.Event,
  pi: Stripe.PaymentIntent,
): Promise<StripeWebhookResult> {
  const invoiceId = await invoiceOfPaymentIntent(ctx, pi.id);
  return await record(ctx, event, {
    objectId: pi.id,
    invoiceId,
    amount: pi.amount,
    effect: invoiceId ? "payment_failed" : "ignored",
  }, (_tx, emit) => {
    if (!invoiceId) return Promise.resolve({ entryId: null });
    const failure = {
      provider: "stripe",
      invoice_id: invoiceId,
      amount: pi.amount,
      currency: pi.currency.toUpperCase(),
      reason: pi.last_payment_error?.message ?? null,
    };
    emit("payment.failed", pi.id, failure);
    emit("invoice.payment_failed", invoiceId, failure);
    return Promise.resolve({ entryId: null });
  });
}

async function onChargeRefunded(
  ctx: Ctx,
  event: Stripe.Event,
  charge: Stripe.Charge,
): Promise<StripeWebhookResult> {
  const paymentIntent = typeof charge.payment_intent === "string"
    ? charge.payment_intent
    : charge.payment_intent?.id;
  const invoiceId = await invoiceOfPaymentIntent(ctx, paymentIntent);
  const currency = charge.currency.toUpperCase();
  return await record(
    ctx,
    event,
    { objectId: charge.id, invoiceId, amount: 0, effect: "refund_recorded" },
    async (tx, emit) => {
      const [{ recorded }] = await tx.select({
        recorded: sql<number>`coalesce(sum(${providerEvents.amount}), 0)`,
      }).from(providerEvents)
        .where(and(
          eq(providerEvents.tenant_id, ctx.scope.tenantId),
          eq(providerEvents.app_id, ctx.scope.appId),
          eq(providerEvents.provider, "stripe"),
          eq(providerEvents.type, "charge.refunded"),
          eq(providerEvents.object_id, charge.id),
        ));
      // Stripe's amount_refunded is cumulative; record only what earlier refund events did not.
      const delta = Math.max(0, charge.amount_refunded - Number(recorded));
      if (delta === 0) return { entryId: null, amount: 0 };
      const entryId = await postTwoLegs(ctx, tx, emit, {
        key: `stripe:${event.id}:refund`,
        description: `Stripe refund on ${charge.id}`,
        debit: { name: STRIPE_ACCOUNTS.refunds, type: "revenue" },
        amount: delta,
        currency,
        metadata: {
          invoice_id: invoiceId,
          charge: charge.id,
          payment_intent: paymentIntent ?? null,
          stripe_event: event.id,
        },
      });
      emit("payment.refunded", charge.id, {
        provider: "stripe",
        invoice_id: invoiceId,
        amount: delta,
        amount_refunded: charge.amount_refunded,
        currency,
      });
      return { entryId, amount: delta };
    },
  );
}

async function onDisputeCreated(
  ctx: Ctx,
  event: Stripe.Event,
  dispute: Stripe.Dispute,
): Promise<StripeWebhookResult> {
  const paymentIntent = typeof dispute.payment_intent === "string"
    ? dispute.payment_intent
    : dispute.payment_intent?.id;
  const invoiceId = await invoiceOfPaymentIntent(ctx, paymentIntent);
  const currency = dispute.currency.toUpperCase();
  const chargeId = typeof dispute.charge === "string" ? dispute.charge : dispute.charge.id;
  return await record(ctx, event, {
    objectId: dispute.id,
    invoiceId,
    amount: dispute.amount,
    effect: "dispute_recorded",
  }, async (tx, emit) => {
    if (dispute.amount <= 0) return { entryId: null };
    const entryId = await postTwoLegs(ctx, tx, emit, {
      key: `stripe:${event.id}:dispute`,
      description: `Stripe dispute ${dispute.id} (${dispute.reason})`,
      debit: { name: STRIPE_ACCOUNTS.disputes, type: "asset" },
      amount: dispute.amount,
      currency,
      metadata: { invoice_id: invoiceId, charge: chargeId, dispute: dispute.id, stripe_event: event.id },
    });
    emit("dispute.opened", dispute.id, {
      provider: "stripe",
      invoice_id: invoiceId,
      charge: chargeId,
      amount: dispute.amount,
      currency,
      reason: dispute.reason,
    });
    return { entryId };
  });
}
