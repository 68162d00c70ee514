// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * The `Idempotency-Key` header on every POST that creates or changes something: the list of
 * routes comes from /openapi.json (every POST documenting the header), and each one is replayed
 * and reused with another body. Stripe semantics: the first request executes; a retry with the
 * same key and body gets the same status and body with `Idempotent-Replayed: true`; the same key
 * with another body answers 409 `idempotency_key_reused`.
 */
import assert from "node:assert/strict";
import { apiPlanBody, call, countRows, tenant, type TestEnv, testEnv } from "../helpers.ts";

interface Raw {
  status: number;
  body: any;
  replayed: string | null;
}

async function post(
  env: TestEnv,
  key: string,
  path: string,
  body: unknown,
  idempotencyKey?: string,
): Promise<Raw> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${key}`,
    "content-type": "application/json",
  };
  if (idempotencyKey !== undefined) headers["idempotency-key"] = idempotencyKey;
  const res = await env.app.request(path, { method: "POST", headers, body: JSON.stringify(body) });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? JSON.parse(text) : null,
    replayed: res.headers.get("idempotent-replayed"),
  };
}

/** Fixtures every route case may use; each case creates what it changes, so its first call executes. */
async function fixtures(env: TestEnv, key: string) {
  const ok = async (path: string, body: unknown) => {
    const res = await call(env, "POST", path, { key, body });
    assert.ok(res.status < 300, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const plan = await ok("/v1/plans", apiPlanBody());
  const plan2 = await ok("/v1/plans", apiPlanBody({ key: "api-max", name: "API Max", base_amount: 9900 }));
  let n = 0;
  const customer = async () => (await ok("/v1/customers", { external_id: `c${++n}` })).id as string;
  const newPlan = async () => (await ok("/v1/plans", apiPlanBody({ key: `fxp-${++n}` }))).id as string;
  const subscription = async () =>
    (await ok("/v1/subscriptions", { customer_id: await customer(), plan_id: plan.id })).id as string;
  const openInvoice = async () => {
    const inv = await ok("/v1/invoices", { subscription_id: await subscription() });
    return (await ok(`/v1/invoices/${inv.invoice?.id ?? inv.id}/finalize`, {})).id as string;
  };
  const draftInvoice = async () => {
    const inv = await ok("/v1/invoices", { subscription_id: await subscription() });
    return (inv.invoice?.id ?? inv.id) as string;
  };
  const buyer = await ok("/v1/customers", { external_id: "buyer" });
  await ok("/v1/subscriptions", { customer_id: buyer.id, plan_id: plan.id });
  const cash = await ok("/v1/ledger/accounts", { name: "cash", type: "asset", currency: "USD" });
  const wallet = await ok("/v1/ledger/accounts", { name: "wallet", type: "liability", currency: "USD" });
  let k = 0;
  const entry = async () =>
    (await ok("/v1/ledger/entries", {
      idempotency_key: `fx-${++k}`,
      postings: [{ account_id: cash.id, amount: 500, currency: "USD" }, {
        account_id: wallet.id,
        amount: -500,
        currency: "USD",
      }],
    })).id as string;
  const hold = async () =>
    (await ok("/v1/ledger/holds", {
      idempotency_key: `fxh-${++k}`,
      account_id: cash.id,
      destination_account_id: wallet.id,
      amount: 10,
      currency: "USD",
      ttl_seconds: 600,
    })).id as string;
  await ok("/v1/inventory/acquire", {
    idempotency_key: "fx-stock",
    subject: "wh",
    item: "sku",
    quantity: 1000,
  });
  const inventoryHold = async () =>
    (await ok("/v1/inventory/holds", {
      idempotency_key: `fxi-${++k}`,
      subject: "wh",
      item: "sku",
      quantity: 1,
      ttl_seconds: 600,
    })).hold?.id ?? "";
  await ok("/v1/coupons", { code: "TEN", percent_off: 10, duration: "forever" });
  const testClock = async (i: number) => {
    const clock = await ok("/v1/test_clocks", { frozen_time: "2026-01-01T00:00:00Z", name: `fx ${i}` });
    await ok("/v1/customers", { external_id: `on-clock-${i}`, test_clock: clock.id });
    await ok("/v1/subscriptions", { customer_id: `on-clock-${i}`, plan_id: plan.id });
    return clock.id as string;
  };
  const apiKey = async () =>
    (await ok("/v1/api_keys", { name: `fx-key-${++k}`, scope: "read_only" })).id as string;
  return {
    testClock,
    apiKey,
    plan,
    plan2,
    newPlan,
    customer,
    subscription,
    openInvoice,
    draftInvoice,
    entry,
    hold,
    inventoryHold,
    cash,
    wallet,
  };
}

type Fx = Awaited<ReturnType<typeof fixtures>>;

/** A request per documented route: the path with its ids filled in and a body that executes. */
/** One request of a route case. */
interface Case {
  path: string;
  body: Record<string, unknown>;
}

const CASES: Record<string, (fx: Fx, i: number) => Promise<Case> | Case> = {
  "/v1/plans": (_fx, i) => ({ path: "/v1/plans", body: apiPlanBody({ key: `p${i}` }) }),
  "/v1/plans/{id}/archive": async (fx) => ({ path: `/v1/plans/${await fx.newPlan()}/archive`, body: {} }),
  "/v1/customers": (_fx, i) => ({ path: "/v1/customers", body: { external_id: `new-${i}` } }),
  // a retried mint gets the very token the lost answer carried
  "/v1/customer_sessions": () => ({ path: "/v1/customer_sessions", body: { customer_id: "buyer" } }),
  // a retried creation or roll gets the very key the lost answer carried (stored sealed, ADR 0012)
  "/v1/api_keys": (_fx, i) => ({ path: "/v1/api_keys", body: { name: `key-${i}` } }),
  "/v1/api_keys/{id}/roll": async (fx) => ({
    path: `/v1/api_keys/${await fx.apiKey()}/roll`,
    body: { expires_in_seconds: 60 },
  }),
  "/v1/api_keys/{id}/revoke": async (fx) => ({ path: `/v1/api_keys/${await fx.apiKey()}/revoke`, body: {} }),
  "/v1/subscriptions": async (fx) => ({
    path: "/v1/subscriptions",
    body: { customer_id: await fx.customer(), plan_id: fx.plan.id },
  }),
  "/v1/subscriptions/{id}/cancel": async (fx) => ({
    path: `/v1/subscriptions/${await fx.subscription()}/cancel`,
    body: { at_period_end: true },
  }),
  "/v1/subscriptions/{id}/change": async (fx) => ({
    path: `/v1/subscriptions/${await fx.subscription()}/change`,
    body: { plan_id: fx.plan2.id },
  }),
  "/v1/subscriptions/{id}/pause": async (fx) => ({
    path: `/v1/subscriptions/${await fx.subscription()}/pause`,
    body: {},
  }),
  "/v1/subscriptions/{id}/resume": async (fx) => ({
    path: `/v1/subscriptions/${await fx.subscription()}/resume`,
    body: {},
  }),
  "/v1/subscriptions/{id}/discount": async (fx) => ({
    path: `/v1/subscriptions/${await fx.subscription()}/discount`,
    body: { coupon: "TEN" },
  }),
  "/v1/events": (_fx, i) => ({
    path: "/v1/events",
    body: {
      events: Array.from({ length: 100 }, (_, j) => ({
        id: `ev-${i}-${j}`,
        customer_id: "buyer",
        feature: "api_calls",
        value: 1,
      })),
    },
  }),
  "/v1/entitlements/check": (_fx, i) => ({
    path: "/v1/entitlements/check",
    body: { customer_id: "buyer", feature: "api_calls", consume: 1, idempotency_key: `chk-${i}` },
  }),
  "/v1/invoices": async (fx) => ({
    path: "/v1/invoices",
    body: { subscription_id: await fx.subscription() },
  }),
  "/v1/invoices/{id}/finalize": async (fx) => ({
    path: `/v1/invoices/${await fx.draftInvoice()}/finalize`,
    body: {},
  }),
  "/v1/invoices/{id}/void": async (fx) => ({
    path: `/v1/invoices/${await fx.openInvoice()}/void`,
    body: {},
  }),
  "/v1/invoices/{id}/pay": async (fx) => ({
    path: `/v1/invoices/${await fx.openInvoice()}/pay`,
    body: { amount: 100 },
  }),
  "/v1/invoices/{id}/mark_uncollectible": async (fx) => ({
    path: `/v1/invoices/${await fx.openInvoice()}/mark_uncollectible`,
    body: {},
  }),
  "/v1/invoices/{id}/credit_notes": async (fx, i) => ({
    path: `/v1/invoices/${await fx.openInvoice()}/credit_notes`,
    body: { amount: 100, reference: `cn-${i}` },
  }),
  // Stripe is not configured in this app: the stored answer is the 404, replayed as such.
  "/v1/invoices/{id}/collect": async (fx) => ({
    path: `/v1/invoices/${await fx.openInvoice()}/collect`,
    body: {},
  }),
  "/v1/ledger/accounts": (_fx, i) => ({
    path: "/v1/ledger/accounts",
    body: { name: `acct-${i}`, type: "asset", currency: "USD" },
  }),
  "/v1/ledger/entries": (fx, i) => ({
    path: "/v1/ledger/entries",
    body: {
      idempotency_key: `e-${i}`,
      postings: [{ account_id: fx.cash.id, amount: 7, currency: "USD" }, {
        account_id: fx.wallet.id,
        amount: -7,
        currency: "USD",
      }],
    },
  }),
  "/v1/ledger/entries/batch": (fx, i) => ({
    path: "/v1/ledger/entries/batch",
    body: {
      entries: Array.from({ length: 3 }, (_, j) => ({
        idempotency_key: `eb-${i}-${j}`,
        postings: [{ account_id: fx.cash.id, amount: 7, currency: "USD" }, {
          account_id: fx.wallet.id,
          amount: -7,
          currency: "USD",
        }],
      })),
    },
  }),
  "/v1/ledger/entries/{id}/reverse": async (fx, i) => ({
    path: `/v1/ledger/entries/${await fx.entry()}/reverse`,
    body: { idempotency_key: `r-${i}` },
  }),
  "/v1/ledger/holds": (fx, i) => ({
    path: "/v1/ledger/holds",
    body: {
      idempotency_key: `h-${i}`,
      account_id: fx.cash.id,
      destination_account_id: fx.wallet.id,
      amount: 5,
      currency: "USD",
      ttl_seconds: 600,
    },
  }),
  "/v1/ledger/holds/{id}/capture": async (fx) => ({
    path: `/v1/ledger/holds/${await fx.hold()}/capture`,
    body: {},
  }),
  "/v1/ledger/holds/{id}/void": async (fx) => ({
    path: `/v1/ledger/holds/${await fx.hold()}/void`,
    body: {},
  }),
  "/v1/ledger/payments": (_fx, i) => ({
    path: "/v1/ledger/payments",
    body: { payment_intent_id: `pi_${i}`, amount: 1000, currency: "USD", customer_id: "c1" },
  }),
  "/v1/ledger/refunds": (_fx, i) => ({
    path: "/v1/ledger/refunds",
    body: { refund_id: `re_${i}`, amount: 1, currency: "USD", customer_id: "c1" },
  }),
  "/v1/ledger/payouts": (_fx, i) => ({
    path: "/v1/ledger/payouts",
    body: { payout_id: `po_${i}`, amount: 1, currency: "USD", merchant_id: "m1" },
  }),
  "/v1/ledger/disputes": (_fx, i) => ({
    path: "/v1/ledger/disputes",
    body: { dispute_id: `dp_${i}`, amount: 1, currency: "USD", customer_id: "c1" },
  }),
  "/v1/inventory/acquire": (_fx, i) => ({
    path: "/v1/inventory/acquire",
    body: { idempotency_key: `ia-${i}`, subject: "wh", item: "sku", quantity: 5 },
  }),
  "/v1/inventory/consume": (_fx, i) => ({
    path: "/v1/inventory/consume",
    body: { idempotency_key: `ic-${i}`, subject: "wh", item: "sku", quantity: 1 },
  }),
  "/v1/inventory/transfer": (_fx, i) => ({
    path: "/v1/inventory/transfer",
    body: { idempotency_key: `it-${i}`, from: "wh", to: "store", item: "sku", quantity: 1 },
  }),
  "/v1/inventory/holds": (_fx, i) => ({
    path: "/v1/inventory/holds",
    body: { idempotency_key: `ih-${i}`, subject: "wh", item: "sku", quantity: 1, ttl_seconds: 600 },
  }),
  "/v1/inventory/holds/{id}/commit": async (fx) => ({
    path: `/v1/inventory/holds/${await fx.inventoryHold()}/commit`,
    body: {},
  }),
  "/v1/inventory/holds/{id}/release": async (fx) => ({
    path: `/v1/inventory/holds/${await fx.inventoryHold()}/release`,
    body: {},
  }),
  "/v1/test_clocks": (_fx, i) => ({
    path: "/v1/test_clocks",
    body: { frozen_time: "2026-01-01T00:00:00Z", name: `clock ${i}` },
  }),
  // A retried advance is answered from the store; the clock moves once.
  "/v1/test_clocks/{id}/advance": async (fx, i) => ({
    path: `/v1/test_clocks/${await fx.testClock(i)}/advance`,
    body: { frozen_time: "2026-02-01T00:00:00Z" },
  }),
  "/v1/coupons": (_fx, i) => ({
    path: "/v1/coupons",
    body: { code: `C${i}`, percent_off: 5, duration: "once" },
  }),
  "/v1/tax_rates": (_fx, i) => ({
    path: "/v1/tax_rates",
    body: { display_name: `VAT ${i}`, percentage: 20, inclusive: false },
  }),
  "/v1/customers/{id}/credit_grants": async (fx, i) => ({
    path: `/v1/customers/${await fx.customer()}/credit_grants`,
    body: { reference: `g-${i}`, kind: "monetary", amount: 500, currency: "USD" },
  }),
  // The handler takes the header itself (the replay must carry the signing secret): 200 on replay.
  "/v1/webhook_endpoints": (_fx, i) => ({
    path: "/v1/webhook_endpoints",
    body: { url: `https://example.com/hooks/${i}`, events: ["*"] },
  }),
  // No such delivery: the stored answer is the 404, replayed as such.
  "/v1/webhook_endpoints/{id}/deliveries/{delivery_id}/redeliver": () => ({
    path:
      "/v1/webhook_endpoints/wep_01jd0000000000000000000000/deliveries/wdl_01jd0000000000000000000000/redeliver",
    body: {},
  }),
};

Deno.test("Idempotency-Key: every documented POST replays the same status and body, and refuses another body", async () => {
  const env = await testEnv();
  try {
    const t = await tenant(env);
    const fx = await fixtures(env, t.secret_key);
    const doc = (await call(env, "GET", "/openapi.json")).body;
    const documented = Object.entries<any>(doc.paths)
      .filter(([, item]) =>
        (item.post?.parameters ?? []).some((p: any) =>
          p.in === "header" && p.name.toLowerCase() === "idempotency-key"
        )
      )
      .filter(([, item]) => !item.post.deprecated) // aliases run the same handlers
      .map(([path]) => path);
    assert.ok(documented.length >= 39, `only ${documented.length} routes document the header`);
    assert.deepEqual(documented.filter((p) => !(p in CASES)), [], "every documented route has a case");
    let i = 0;
    for (const route of documented) {
      i++;
      const { path, body } = await CASES[route](fx, i);
      // Where the body has its own key, the header must name the same one.
      const key = typeof body.idempotency_key === "string" ? body.idempotency_key : `idem-${i}`;
      const first = await post(env, t.secret_key, path, body, key);
      assert.ok(first.status < 500, `${route}: first ${first.status}`);
      assert.equal(first.replayed, null, `${route}: a first request is not a replay`);
      const replay = await post(env, t.secret_key, path, body, key);
      const selfHandled = route === "/v1/webhook_endpoints";
      assert.equal(replay.status, selfHandled ? 200 : first.status, `${route}: replay status`);
      assert.deepEqual(replay.body, first.body, `${route}: replay body`);
      assert.equal(replay.replayed, "true", `${route}: Idempotent-Replayed`);
      const other = await post(env, t.secret_key, path, { ...body, description: "another body" }, key);
      assert.equal(other.status, 409, `${route}: reuse status ${JSON.stringify(other.body)}`);
      assert.equal(other.body.code, "idempotency_key_reused", route);
    }
  } finally {
    await env.close();
  }
});

Deno.test("Idempotency-Key: a replayed payment does not pay twice; keys are per app and kept 24 hours", async () => {
  const env = await testEnv();
  try {
    const t = await tenant(env);
    const other = await tenant(env);
    const fx = await fixtures(env, t.secret_key);
    const invoice = await fx.openInvoice();
    const first = await post(env, t.secret_key, `/v1/invoices/${invoice}/pay`, { amount: 100 }, "pay-1");
    assert.equal(first.status, 200);
    const payments = await countRows(env, "invoice_payments");
    for (let i = 0; i < 5; i++) {
      const again = await post(env, t.secret_key, `/v1/invoices/${invoice}/pay`, { amount: 100 }, "pay-1");
      assert.deepEqual(again.body, first.body);
    }
    assert.equal(await countRows(env, "invoice_payments"), payments);
    const got = await call(env, "GET", `/v1/invoices/${invoice}`, { key: t.secret_key });
    assert.equal(got.body.amount_paid, 100);

    // The same key in another app is another key.
    const elsewhere = await post(env, other.secret_key, "/v1/customers", { external_id: "x" }, "pay-1");
    assert.equal(elsewhere.status, 201);
    assert.equal(elsewhere.replayed, null);

    // Kept for 24 hours, then the key may be used again.
    env.clock.advance(24 * 3_600_000 - 1);
    const late = await post(env, t.secret_key, "/v1/customers", { external_id: "y" }, "pay-1");
    assert.equal(late.status, 409);
    env.clock.advance(1);
    const fresh = await post(env, t.secret_key, "/v1/customers", { external_id: "y" }, "pay-1");
    assert.equal(fresh.status, 201);
    assert.equal(fresh.replayed, null);
  } finally {
    await env.close();
  }
});

Deno.test("Idempotency-Key: header and body key must agree; bad keys are 400; no header keeps the old behaviour", async () => {
  const env = await testEnv();
  try {
    const t = await tenant(env);
    const fx = await fixtures(env, t.secret_key);
    const body = { idempotency_key: "body-key", subject: "wh", item: "sku", quantity: 1 };
    const mismatch = await post(env, t.secret_key, "/v1/inventory/acquire", body, "header-key");
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.body.code, "idempotency_key_mismatch");
    const agree = await post(env, t.secret_key, "/v1/inventory/acquire", body, "body-key");
    assert.equal(agree.status, 201);
    const long = await post(env, t.secret_key, "/v1/customers", { external_id: "z" }, "k".repeat(256));
    assert.equal(long.status, 400);
    assert.equal(long.body.code, "validation_failed");
    const plain = await post(env, t.secret_key, "/v1/ledger/accounts", {
      name: "x",
      type: "asset",
      currency: "USD",
    });
    const again = await post(env, t.secret_key, "/v1/ledger/accounts", {
      name: "x",
      type: "asset",
      currency: "USD",
    });
    assert.equal(plain.replayed, null);
    assert.equal(again.replayed, null);
    assert.ok(fx.cash.id);
  } finally {
    await env.close();
  }
});

Deno.test("OpenAPI: every keyed POST documents Idempotency-Key and its 2xx answers Idempotent-Replayed", async () => {
  const env = await testEnv();
  try {
    const doc = (await call(env, "GET", "/openapi.json")).body;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      if (!item.post || path.startsWith("/v1/admin/") || path.startsWith("/v1/providers/stripe/webhook")) {
        continue;
      }
      const header = item.post.parameters?.find((p: any) =>
        p.in === "header" && p.name.toLowerCase() === "idempotency-key"
      );
      assert.ok(header, `${path} documents Idempotency-Key`);
      for (const [status, response] of Object.entries<any>(item.post.responses)) {
        if (status.startsWith("2")) assert.ok(response.headers?.["Idempotent-Replayed"], `${path} ${status}`);
      }
    }
  } finally {
    await env.close();
  }
});
