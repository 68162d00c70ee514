/**
 * Incoming Stripe webhooks: signature check, once per Stripe event id, and the ledger entries
 * and lifecycle events of payments, failures, refunds and disputes (see `stripe.ts`).
 *
 * @module
 */
import Stripe from "stripe";
import { BillingError } from "../domain/errors.ts";
import { newId } from "../domain/ids.ts";
import type { Tx } from "../storage/db.ts";
import { isUniqueViolation } from "../storage/sql_errors.ts";
import { appOfAnyTenant } from "../tenants/repository.ts";
import { providerEventRows, recordedAmount } from "./repository.ts";
import type { Ctx, Services } from "../context.ts";
import { type Emit, writeOp } from "../lifecycle/write.ts";
import type { Scope } from "../domain/scope.ts";
import { payInvoice } from "../invoices/service.ts";
import { ensureAccount, postEntry } from "../ledger/service.ts";
import { STRIPE_ACCOUNTS, stripeClient, type StripeOptions, StripeProvider } from "./stripe.ts";
import { loadConfig, notConfigured } from "./stripe_config.ts";
import { localIdOf } from "./stripe_ids.ts";

/** Result of {@link handleStripeWebhook}. */
export interface StripeWebhookResult {
  /** Always true: the event was accepted. */
  received: true;
  /** Stripe's event id (`evt_…`). */
  event_id: string;
  /** Stripe's event type (`payment_intent.succeeded`, …). */
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
  const app = await appOfAnyTenant(services.database.db, appId);
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
  const row = await providerEventRows.first(ctx.database.db, ctx.scope, {
    provider: "stripe",
    event_id: eventId,
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
      await providerEventRows.insert(tx, ctx.scope, {
        id: newId("pev"),
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
  if (!replayed) emit("ledger.entry_posted", entry.id, entry);
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
      const recorded = await recordedAmount(tx, ctx.scope, {
        provider: "stripe",
        type: "charge.refunded",
        object_id: charge.id,
      });
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
