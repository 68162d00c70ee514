/**
 * Stripe provider. Outgoing calls go through the official `stripe` client to a local server that
 * checks each request against Stripe's documented parameters (`stripe_api_server.ts`; Stripe
 * itself cannot be reached from here). Incoming webhooks are real payloads signed with the
 * library's test-header helper and verified by `constructEventAsync`.
 */
import assert from "node:assert/strict";
import Stripe from "stripe";
import { apiPlanBody, call, snapshotCounts, tenant, testEnv } from "../helpers.ts";
import { DOCUMENTED_PARAMS, startStripeApiServer } from "./stripe_api_server.ts";

const SECRET_KEY = "sk_test_51BillingWorkerLocalKey";
const WEBHOOK_SECRET = "whsec_localTestSigningSecret0123";
const signer = new Stripe(SECRET_KEY);

/** An app with Stripe configured and an open invoice of 7400 USD cents. */
async function setup() {
  const stripeApi = startStripeApiServer();
  const env = await testEnv({ app: { stripeApiBase: stripeApi.url } });
  const t = await tenant(env);
  const key = t.secret_key;
  const plan = await call(env, "POST", "/v1/plans", { key, body: apiPlanBody() });
  await call(env, "POST", "/v1/customers", {
    key,
    body: { external_id: "u1", name: "Ada Lovelace", email: "ada@example.com" },
  });
  const sub = await call(env, "POST", "/v1/subscriptions", {
    key,
    body: { customer_id: "u1", plan_id: plan.body.id },
  });
  await call(env, "POST", "/v1/events", {
    key,
    body: { events: [{ id: "e1", customer_id: "u1", feature: "api_calls", value: 2500 }] },
  });
  const inv = await call(env, "POST", "/v1/invoices", { key, body: { subscription_id: sub.body.id } });
  const fin = await call(env, "POST", `/v1/invoices/${inv.body.id}/finalize`, { key });
  assert.equal(fin.body.status, "open");
  assert.equal(fin.body.total, 7400);
  const configured = await call(env, "PUT", "/v1/providers/stripe", {
    key,
    body: { secret_key: SECRET_KEY, webhook_secret: WEBHOOK_SECRET },
  });
  assert.equal(configured.status, 200, JSON.stringify(configured.body));
  return {
    env,
    stripeApi,
    t,
    key,
    invoice: fin.body,
    async close() {
      await stripeApi.close();
      await env.close();
    },
  };
}

/** Sends a Stripe event, signed as Stripe signs it, to the app's webhook route. */
async function deliver(
  env: Awaited<ReturnType<typeof testEnv>>,
  appId: string,
  event: { id: string; type: string; object: Record<string, unknown> },
  secret = WEBHOOK_SECRET,
) {
  const payload = JSON.stringify({
    id: event.id,
    object: "event",
    api_version: Stripe.API_VERSION,
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: event.type,
    data: { object: event.object },
  });
  const header = await signer.webhooks.generateTestHeaderStringAsync({ payload, secret });
  return await call(env, "POST", `/v1/providers/stripe/webhook/${appId}`, {
    body: payload,
    headers: { "stripe-signature": header, "content-type": "application/json" },
  });
}

async function balances(
  env: Awaited<ReturnType<typeof testEnv>>,
  key: string,
): Promise<Record<string, number>> {
  const res = await call(env, "GET", "/v1/ledger/balances", { key });
  return Object.fromEntries(
    res.body.data.map((
      a: { name: string; debits_minus_credits: number },
    ) => [a.name.split(":")[0], a.debits_minus_credits]),
  );
}

Deno.test("stripe collect: customer, mirrored invoice and PaymentIntent are created with Stripe's documented parameters, once", async () => {
  const s = await setup();
  try {
    const res = await call(s.env, "POST", `/v1/invoices/${s.invoice.id}/collect`, { key: s.key });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.body.provider_customer_id, /^cus_/);
    assert.match(res.body.provider_invoice_id, /^in_/);
    assert.match(res.body.payment.id, /^pi_/);
    assert.match(res.body.payment.client_secret, /^pi_.+_secret_/);
    assert.deepEqual([res.body.payment.amount, res.body.payment.currency], [7400, "USD"]);

    const posts = s.stripeApi.requests.filter((r) => r.method === "POST");
    assert.ok(posts.every((r) => r.status === 200), JSON.stringify(posts.filter((r) => r.status !== 200)));
    assert.deepEqual(posts.map((r) => r.path), [
      "/v1/customers",
      "/v1/invoices",
      ...s.invoice.lines.map(() => "/v1/invoiceitems"),
      "/v1/payment_intents",
    ]);
    for (const r of posts) {
      const documented = DOCUMENTED_PARAMS[`POST ${r.path}`];
      assert.ok(Object.keys(r.params).every((p) => documented.allowed.includes(p)));
      assert.ok(r.idempotencyKey, "every POST carries an idempotency key");
    }
    const [customer, invoice] = posts;
    assert.deepEqual(customer.params, {
      name: "Ada Lovelace",
      email: "ada@example.com",
      metadata: { billing_customer_id: s.invoice.customer_id, external_id: "u1" },
    });
    assert.equal(invoice.params.auto_advance, "false");
    assert.equal(invoice.params.collection_method, "send_invoice");
    assert.equal(invoice.params.currency, "usd");
    const items = posts.filter((r) => r.path === "/v1/invoiceitems");
    assert.equal(
      items.reduce((sum, r) => sum + Number(r.params.amount), 0),
      7400,
      "the Stripe mirror totals our invoice",
    );
    const pi = posts.at(-1)!;
    assert.equal(pi.params.amount, "7400");
    assert.equal(pi.params.currency, "usd");
    assert.deepEqual(pi.params.automatic_payment_methods, { enabled: "true" });
    assert.equal((pi.params.metadata as Record<string, string>).billing_invoice_id, s.invoice.id);

    // A retry creates nothing new at Stripe: the same customer, invoice and PaymentIntent.
    const again = await call(s.env, "POST", `/v1/invoices/${s.invoice.id}/collect`, { key: s.key });
    assert.equal(again.status, 200);
    assert.equal(again.body.payment.id, res.body.payment.id);
    assert.equal(again.body.provider_customer_id, res.body.provider_customer_id);
    const newPosts = s.stripeApi.requests.filter((r) => r.method === "POST").slice(posts.length);
    assert.deepEqual(
      newPosts.map((r) => r.path),
      ["/v1/payment_intents"],
      "only the idempotent PaymentIntent call is repeated",
    );
    assert.equal(newPosts[0].idempotencyKey, pi.idempotencyKey);
  } finally {
    await s.close();
  }
});

Deno.test("stripe collect: not configured, not open, and Stripe refusing answer problems, not 500s", async () => {
  const s = await setup();
  try {
    const other = await tenant(s.env);
    const unconfigured = await call(s.env, "POST", `/v1/invoices/${s.invoice.id}/collect`, {
      key: other.secret_key,
    });
    assert.equal(unconfigured.status, 404);
    s.stripeApi.failWith = { status: 402, type: "card_error", message: "Your card was declined." };
    const refused = await call(s.env, "POST", `/v1/invoices/${s.invoice.id}/collect`, { key: s.key });
    assert.equal(refused.status, 503);
    assert.equal(refused.body.code, "payment_provider_error");
    s.stripeApi.failWith = null;
    await call(s.env, "POST", `/v1/invoices/${s.invoice.id}/pay`, { key: s.key, body: {} });
    const paid = await call(s.env, "POST", `/v1/invoices/${s.invoice.id}/collect`, { key: s.key });
    assert.equal(paid.status, 409);
    assert.equal(paid.body.code, "invoice_not_open");

    const bad = await call(s.env, "PUT", "/v1/providers/stripe", {
      key: s.key,
      body: { secret_key: "pk_live_x", webhook_secret: "nope" },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.fields.map((f: { path: string }) => f.path), ["secret_key", "webhook_secret"]);
    const shown = await call(s.env, "GET", "/v1/providers/stripe", { key: s.key });
    assert.equal(shown.status, 200);
    assert.equal(JSON.stringify(shown.body).includes(SECRET_KEY), false, "secrets are never returned");
    assert.equal(JSON.stringify(shown.body).includes(WEBHOOK_SECRET), false);
    assert.equal(shown.body.webhook_path, `/v1/providers/stripe/webhook/${s.t.app_id}`);
    assert.equal(shown.body.api_key_last4, SECRET_KEY.slice(-4));
  } finally {
    await s.close();
  }
});

Deno.test("stripe webhook: payment_intent.succeeded pays the invoice and books the fee, once per Stripe event id", async () => {
  const s = await setup();
  try {
    const collected = await call(s.env, "POST", `/v1/invoices/${s.invoice.id}/collect`, { key: s.key });
    const piId = collected.body.payment.id;
    s.stripeApi.charges.set("ch_test1", { amount: 7400, currency: "usd", fee: 245, payment_intent: piId });
    const event = {
      id: "evt_paid_1",
      type: "payment_intent.succeeded",
      object: {
        id: piId,
        object: "payment_intent",
        amount: 7400,
        amount_received: 7400,
        currency: "usd",
        status: "succeeded",
        latest_charge: "ch_test1",
        metadata: {},
      },
    };
    const res = await deliver(s.env, s.t.app_id, event);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, {
      received: true,
      event_id: "evt_paid_1",
      type: "payment_intent.succeeded",
      duplicate: false,
      effect: "payment_recorded",
    });
    const inv = await call(s.env, "GET", `/v1/invoices/${s.invoice.id}`, { key: s.key });
    assert.equal(inv.body.status, "paid");
    assert.equal(inv.body.amount_paid, 7400);
    const charge = s.stripeApi.requests.find((r) => r.path === "/v1/charges/ch_test1")!;
    assert.deepEqual(charge.params, { expand: { "0": "balance_transaction" } });
    const b1 = await balances(s.env, s.key);
    assert.equal(b1.cash, 7400 - 245);
    assert.equal(b1.payment_processing_fees, 245);
    assert.equal(b1.accounts_receivable, 0);

    // Stripe redelivers: acknowledged, nothing happens twice.
    const before = await snapshotCounts(s.env);
    const again = await deliver(s.env, s.t.app_id, event);
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.deepEqual(await snapshotCounts(s.env), before);
    assert.deepEqual(await balances(s.env, s.key), b1);

    const types = s.env.events.map((e) => e.type);
    assert.ok(
      types.includes("payment.succeeded") && types.includes("webhook.received") &&
        types.includes("invoice.paid"),
    );
    const audit = await call(s.env, "GET", "/v1/audit-events?actor=stripe", { key: s.key });
    assert.ok(
      audit.body.data.some((a: { action: string }) => a.action === "invoice.paid"),
      "the payment is audited as done by stripe",
    );
  } finally {
    await s.close();
  }
});

Deno.test("stripe webhook: partial and full refunds post only the newly refunded amount; a dispute moves the funds to disputed_funds", async () => {
  const s = await setup();
  try {
    const collected = await call(s.env, "POST", `/v1/invoices/${s.invoice.id}/collect`, { key: s.key });
    const piId = collected.body.payment.id;
    s.stripeApi.charges.set("ch_r", { amount: 7400, currency: "usd", fee: 0, payment_intent: piId });
    await deliver(s.env, s.t.app_id, {
      id: "evt_p",
      type: "payment_intent.succeeded",
      object: {
        id: piId,
        object: "payment_intent",
        amount: 7400,
        amount_received: 7400,
        currency: "usd",
        latest_charge: "ch_r",
      },
    });
    const charge = (refunded: number) => ({
      id: "ch_r",
      object: "charge",
      amount: 7400,
      amount_refunded: refunded,
      currency: "usd",
      payment_intent: piId,
      refunded: refunded === 7400,
    });
    const r1 = await deliver(s.env, s.t.app_id, {
      id: "evt_r1",
      type: "charge.refunded",
      object: charge(1000),
    });
    assert.equal(r1.body.effect, "refund_recorded");
    assert.equal((await balances(s.env, s.key)).revenue_refunds, 1000);
    const r2 = await deliver(s.env, s.t.app_id, {
      id: "evt_r2",
      type: "charge.refunded",
      object: charge(7400),
    });
    assert.equal(r2.body.duplicate, false);
    assert.equal(
      (await deliver(s.env, s.t.app_id, { id: "evt_r1", type: "charge.refunded", object: charge(1000) })).body
        .duplicate,
      true,
    );
    let b = await balances(s.env, s.key);
    assert.equal(b.revenue_refunds, 7400, "cumulative amount_refunded: 1000 then 6400 more");
    assert.equal(b.cash, 0);

    const dispute = await deliver(s.env, s.t.app_id, {
      id: "evt_d1",
      type: "charge.dispute.created",
      object: {
        id: "dp_1",
        object: "dispute",
        amount: 7400,
        currency: "usd",
        charge: "ch_r",
        payment_intent: piId,
        reason: "fraudulent",
        status: "needs_response",
      },
    });
    assert.equal(dispute.body.effect, "dispute_recorded");
    b = await balances(s.env, s.key);
    assert.equal(b.disputed_funds, 7400);
    assert.equal(b.cash, -7400);
    const types = s.env.events.map((e) => e.type);
    assert.equal(types.filter((t) => t === "payment.refunded").length, 2);
    assert.ok(types.includes("dispute.opened"));
    const ignored = await deliver(s.env, s.t.app_id, {
      id: "evt_x",
      type: "customer.updated",
      object: { id: "cus_x", object: "customer" },
    });
    assert.deepEqual([ignored.status, ignored.body.effect], [200, "ignored"]);
  } finally {
    await s.close();
  }
});

Deno.test("stripe webhook: payment_intent.payment_failed emits payment.failed and invoice.payment_failed; the invoice stays open", async () => {
  const s = await setup();
  try {
    const collected = await call(s.env, "POST", `/v1/invoices/${s.invoice.id}/collect`, { key: s.key });
    const res = await deliver(s.env, s.t.app_id, {
      id: "evt_f",
      type: "payment_intent.payment_failed",
      object: {
        id: collected.body.payment.id,
        object: "payment_intent",
        amount: 7400,
        currency: "usd",
        last_payment_error: { message: "Your card was declined." },
      },
    });
    assert.equal(res.body.effect, "payment_failed");
    const failed = s.env.events.find((e) => e.type === "invoice.payment_failed")!;
    assert.equal(failed.resource_id, s.invoice.id);
    assert.equal(failed.data.reason, "Your card was declined.");
    assert.equal(
      (await call(s.env, "GET", `/v1/invoices/${s.invoice.id}`, { key: s.key })).body.status,
      "open",
    );
  } finally {
    await s.close();
  }
});

Deno.test("stripe webhook: a wrong secret, a tampered body, no signature or an unknown app are refused and write nothing", async () => {
  const s = await setup();
  try {
    const before = await snapshotCounts(s.env);
    const event = {
      id: "evt_bad",
      type: "charge.dispute.created",
      object: {
        id: "dp_x",
        object: "dispute",
        amount: 100,
        currency: "usd",
        charge: "ch_x",
        reason: "general",
      },
    };
    const wrong = await deliver(s.env, s.t.app_id, event, "whsec_someoneElsesSecret0000");
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.code, "signature_invalid");
    assert.match(wrong.contentType, /application\/problem\+json/);

    const payload = JSON.stringify({
      id: "evt_t",
      object: "event",
      type: "charge.refunded",
      data: { object: { id: "ch_x", amount_refunded: 1 } },
    });
    const header = await signer.webhooks.generateTestHeaderStringAsync({ payload, secret: WEBHOOK_SECRET });
    const tampered = await call(s.env, "POST", `/v1/providers/stripe/webhook/${s.t.app_id}`, {
      body: payload.replace('"amount_refunded":1', '"amount_refunded":999'),
      headers: { "stripe-signature": header },
    });
    assert.equal(tampered.status, 400);
    const unsigned = await call(s.env, "POST", `/v1/providers/stripe/webhook/${s.t.app_id}`, {
      body: payload,
    });
    assert.equal(unsigned.status, 400);
    const unknownApp = await call(
      s.env,
      "POST",
      "/v1/providers/stripe/webhook/app_01jd6000000000000000000000",
      {
        body: payload,
        headers: { "stripe-signature": header },
      },
    );
    assert.equal(unknownApp.status, 404);
    assert.equal(unknownApp.body.code, "payment_provider_not_configured");
    assert.deepEqual(await snapshotCounts(s.env), before);
  } finally {
    await s.close();
  }
});
