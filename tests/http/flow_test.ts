// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
import assert from "node:assert/strict";
import { apiPlanBody, call, sessionHeaders, tenant, testEnv } from "../helpers.ts";

Deno.test("HTTP flow: plans CRUD, archive, list by status", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const created = await call(env, "POST", "/v1/plans", { key, body: apiPlanBody() });
    assert.equal(created.status, 201);
    assert.match(created.body.id, /^pln_/);
    assert.equal(created.body.features[0].pricing.tiers.length, 3);
    assert.equal(created.body.features[2].aggregation, "latest"); // seat default
    const got = await call(env, "GET", `/v1/plans/${created.body.id}`, { key });
    assert.deepEqual(got.body, created.body);
    const patched = await call(env, "PATCH", `/v1/plans/${created.body.id}`, {
      key,
      body: { name: "API Pro 2", base_amount: 5900 },
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.name, "API Pro 2");
    assert.equal(patched.body.base_amount, 5900);
    assert.equal(patched.body.currency, "USD");
    const archived = await call(env, "POST", `/v1/plans/${created.body.id}/archive`, { key });
    assert.equal(archived.body.status, "archived");
    const again = await call(env, "POST", `/v1/plans/${created.body.id}/archive`, { key });
    assert.equal(again.status, 200);
    const other = await call(env, "POST", "/v1/plans", {
      key,
      body: apiPlanBody({ key: "basic", name: "Basic" }),
    });
    assert.equal(other.status, 201);
    const active = await call(env, "GET", "/v1/plans?status=active", { key });
    assert.deepEqual(active.body.data.map((p: any) => p.key), ["basic"]);
    const all = await call(env, "GET", "/v1/plans", { key });
    assert.equal(all.body.data.length, 2);
    // an archived plan takes no new subscriptions
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "c1" } });
    const sub = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "c1", plan_id: created.body.id },
    });
    assert.equal(sub.status, 422);
    assert.equal(sub.body.code, "plan_archived");
  } finally {
    await env.close();
  }
});

Deno.test("HTTP flow: entitlements flip to denied at the hard limit; soft limits flag; boolean and missing features", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key, publishable_key: pk } = await tenant(env);
    const plan = await call(env, "POST", "/v1/plans", {
      key,
      body: {
        key: "small",
        name: "Small",
        currency: "EUR",
        interval: "month",
        features: [
          { key: "exports", type: "metered", limit: 3, aggregation: "count" },
          { key: "emails", type: "metered", limit: 10, soft_limit: true },
          { key: "sso", type: "boolean" },
          { key: "members", type: "seat", limit: 2 },
          {
            key: "visitors",
            type: "metered",
            aggregation: "unique_count",
            unique_property: "visitor",
            limit: 2,
          },
        ],
      },
    });
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "acme-user" } });
    const headers = await sessionHeaders(env, key, "acme-user");
    const check = (feature: string) =>
      call(env, "POST", "/v1/entitlements/check", {
        key: pk,
        headers,
        body: { customer_id: "acme-user", feature },
      });

    const before = await check("exports");
    assert.equal(before.body.reason, "no_active_subscription");
    assert.equal(before.body.allowed, false);

    const sub = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "acme-user", plan_id: plan.body.id },
    });
    assert.equal(sub.body.status, "active");
    const allowed: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await check("exports");
      allowed.push(c.body.allowed);
      if (c.body.allowed) {
        await call(env, "POST", "/v1/events", {
          key: pk,
          headers,
          body: { events: [{ id: `x${i}`, customer_id: "acme-user", feature: "exports" }] },
        });
      }
    }
    assert.deepEqual(allowed, [true, true, true, false]);
    const denied = await check("exports");
    assert.deepEqual(
      {
        allowed: denied.body.allowed,
        used: denied.body.used,
        limit: denied.body.limit,
        remaining: denied.body.remaining,
        reason: denied.body.reason,
      },
      { allowed: false, used: 3, limit: 3, remaining: 0, reason: "limit_reached" },
    );
    assert.equal(denied.body.resets_at, sub.body.current_period_end);

    await call(env, "POST", "/v1/events", {
      key,
      body: { events: [{ id: "m1", customer_id: "acme-user", feature: "emails", value: 12 }] },
    });
    const soft = await check("emails");
    assert.equal(soft.body.allowed, true);
    assert.equal(soft.body.reason, "soft_limit_exceeded");
    assert.equal(soft.body.remaining, 0);

    assert.equal((await check("sso")).body.reason, "included");
    assert.equal((await check("sso")).body.allowed, true);
    const missing = await check("sla");
    assert.deepEqual([missing.body.allowed, missing.body.reason], [false, "feature_not_in_plan"]);

    // seats: latest reported count
    await call(env, "POST", "/v1/events", {
      key,
      body: {
        events: [{
          id: "s1",
          customer_id: "acme-user",
          feature: "members",
          value: 2,
          timestamp: "2026-01-15T12:00:00Z",
        }],
      },
    });
    assert.equal((await check("members")).body.allowed, false);
    await call(env, "POST", "/v1/events", {
      key,
      body: {
        events: [{
          id: "s2",
          customer_id: "acme-user",
          feature: "members",
          value: 1,
          timestamp: "2026-01-15T12:00:01Z",
        }],
      },
    });
    const seat = await check("members");
    assert.deepEqual([seat.body.used, seat.body.allowed], [1, true]);

    // unique_count counts distinct property values
    await call(env, "POST", "/v1/events", {
      key,
      body: {
        events: ["a", "b", "a"].map((v, i) => ({
          id: `v${i}`,
          customer_id: "acme-user",
          feature: "visitors",
          properties: { visitor: v },
        })),
      },
    });
    const visitors = await check("visitors");
    assert.deepEqual([visitors.body.used, visitors.body.allowed], [2, false]);

    // cancel now → no active subscription
    const canceled = await call(env, "POST", `/v1/subscriptions/${sub.body.id}/cancel`, {
      key,
      body: { at_period_end: false },
    });
    assert.equal(canceled.body.status, "canceled");
    assert.equal((await check("sso")).body.reason, "no_active_subscription");
  } finally {
    await env.close();
  }
});

Deno.test("HTTP flow: a month of usage is invoiced, finalized with sequential numbers, paid, and balanced in the ledger", async () => {
  const env = await testEnv();
  env.clock.set("2026-03-20T00:00:00Z");
  try {
    const { secret_key: key } = await tenant(env);
    const plan = await call(env, "POST", "/v1/plans", { key, body: apiPlanBody() });
    const subs: any[] = [];
    for (const external of ["alice", "bob"]) {
      await call(env, "POST", "/v1/customers", {
        key,
        body: { external_id: external, email: `${external}@example.test` },
      });
      const s = await call(env, "POST", "/v1/subscriptions", {
        key,
        body: { customer_id: external, plan_id: plan.body.id, start_at: "2026-01-31T00:00:00Z" },
      });
      assert.equal(s.status, 201, JSON.stringify(s.body));
      assert.equal(s.body.current_period_start, "2026-02-28T00:00:00.000Z");
      assert.equal(s.body.current_period_end, "2026-03-31T00:00:00.000Z");
      subs.push(s.body);
    }
    // February period (Jan 31 → Feb 28): alice 6200 calls, 12 GB peak, 4 seats; bob 300 calls
    const events = [
      {
        id: "a1",
        customer_id: "alice",
        feature: "api_calls",
        value: 6000,
        timestamp: "2026-02-10T00:00:00Z",
      },
      { id: "a2", customer_id: "alice", feature: "api_calls", value: 200, timestamp: "2026-02-27T23:59:59Z" },
      { id: "a3", customer_id: "alice", feature: "api_calls", value: 999, timestamp: "2026-02-28T00:00:00Z" }, // next period
      { id: "a4", customer_id: "alice", feature: "storage_gb", value: 12, timestamp: "2026-02-11T00:00:00Z" },
      { id: "a5", customer_id: "alice", feature: "storage_gb", value: 7, timestamp: "2026-02-12T00:00:00Z" },
      { id: "a6", customer_id: "alice", feature: "seats", value: 4, timestamp: "2026-02-01T00:00:00Z" },
      { id: "b1", customer_id: "bob", feature: "api_calls", value: 300, timestamp: "2026-02-05T00:00:00Z" },
    ];
    const ingest = await call(env, "POST", "/v1/events", { key, body: { events } });
    assert.deepEqual(ingest.body, { accepted: 7, duplicates: 0, rejected: [] });

    const period = { period_start: "2026-01-31T00:00:00Z", period_end: "2026-02-28T00:00:00Z" };
    const inv = await call(env, "POST", "/v1/invoices", {
      key,
      body: { subscription_id: subs[0].id, ...period },
    });
    assert.equal(inv.status, 201, JSON.stringify(inv.body));
    // api_calls: 6200 - 1000 included = 5200 → 1000×2 + 4000×1 + 200×1 + flat 500 = 6700
    // storage: max 12 GB → volume tier 2: 12×80 = 960; seats: latest 4 - 2 included = 2 × 1000 = 2000
    assert.deepEqual(inv.body.lines.map((l: any) => [l.feature, l.quantity, l.unit_amount, l.amount]), [
      [null, 1, 4900, 4900],
      ["api_calls", 1000, 2, 2000],
      ["api_calls", 4000, 1, 4000],
      ["api_calls", 200, 1, 700],
      ["storage_gb", 12, 80, 960],
      ["seats", 2, 1000, 2000],
    ]);
    assert.equal(inv.body.subtotal, 14560);
    assert.equal(inv.body.total, 14560);
    assert.equal(inv.body.status, "draft");
    assert.equal(inv.body.number, null);

    // idempotent per subscription and period
    const again = await call(env, "POST", "/v1/invoices", {
      key,
      body: { subscription_id: subs[0].id, ...period },
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, inv.body.id);
    assert.equal(again.body.total, 14560);

    const bobInv = await call(env, "POST", "/v1/invoices", {
      key,
      body: { subscription_id: subs[1].id, ...period },
    });
    assert.equal(bobInv.body.total, 4900); // 300 calls within 1000 included

    const f1 = await call(env, "POST", `/v1/invoices/${bobInv.body.id}/finalize`, { key });
    const f2 = await call(env, "POST", `/v1/invoices/${inv.body.id}/finalize`, { key });
    assert.deepEqual([f1.body.number, f2.body.number], ["INV-000001", "INV-000002"]);
    assert.equal(f2.body.status, "open");
    const refinal = await call(env, "POST", `/v1/invoices/${inv.body.id}/finalize`, { key });
    assert.equal(refinal.body.number, "INV-000002");

    // a late event after finalization does not change a finalized invoice
    await call(env, "POST", "/v1/events", {
      key,
      body: {
        events: [{
          id: "late",
          customer_id: "alice",
          feature: "api_calls",
          value: 5,
          timestamp: "2026-02-20T00:00:00Z",
        }],
      },
    });
    const regenerated = await call(env, "POST", "/v1/invoices", {
      key,
      body: { subscription_id: subs[0].id, ...period },
    });
    assert.equal(regenerated.body.total, 14560);

    const partial = await call(env, "POST", `/v1/invoices/${inv.body.id}/pay`, {
      key,
      body: { amount: 4560, reference: "wire-1" },
    });
    assert.deepEqual([partial.body.status, partial.body.amount_paid, partial.body.amount_due], [
      "open",
      4560,
      10000,
    ]);
    const retry = await call(env, "POST", `/v1/invoices/${inv.body.id}/pay`, {
      key,
      body: { amount: 4560, reference: "wire-1" },
    });
    assert.equal(retry.body.amount_paid, 4560);
    const over = await call(env, "POST", `/v1/invoices/${inv.body.id}/pay`, { key, body: { amount: 10001 } });
    assert.equal(over.body.code, "payment_exceeds_amount_due");
    const rest = await call(env, "POST", `/v1/invoices/${inv.body.id}/pay`, {
      key,
      body: { reference: "wire-2" },
    });
    assert.deepEqual([rest.body.status, rest.body.amount_due], ["paid", 0]);
    const paidAgain = await call(env, "POST", `/v1/invoices/${inv.body.id}/pay`, { key, body: {} });
    assert.equal(paidAgain.status, 409);
    assert.equal(paidAgain.body.code, "invoice_not_open");

    // void bob's open invoice: reversal entry
    const voided = await call(env, "POST", `/v1/invoices/${bobInv.body.id}/void`, { key });
    assert.equal(voided.body.status, "void");
    const payVoid = await call(env, "POST", `/v1/invoices/${bobInv.body.id}/pay`, { key, body: {} });
    assert.equal(payVoid.body.code, "invoice_not_open");

    const balances = await call(env, "GET", "/v1/ledger/balances", { key });
    const by = Object.fromEntries(balances.body.data.map((a: any) => [a.name, a.balance]));
    const aliceId = inv.body.customer_id;
    const bobId = bobInv.body.customer_id;
    assert.equal(by.cash, 14560);
    assert.equal(by.revenue, 14560);
    assert.equal(by[`accounts_receivable:${aliceId}`], 0);
    assert.equal(by[`accounts_receivable:${bobId}`], 0);
    const net = balances.body.data.reduce((s: number, a: any) => s + a.debits_minus_credits, 0);
    assert.equal(net, 0, "all postings of a currency sum to zero");

    const list = await call(env, "GET", `/v1/invoices?customer_id=alice&status=paid`, { key });
    assert.deepEqual(list.body.data.map((i: any) => i.id), [inv.body.id]);
    const page1 = await call(env, "GET", "/v1/invoices?limit=1", { key });
    assert.equal(page1.body.data.length, 1);
    const page2 = await call(env, "GET", `/v1/invoices?limit=1&cursor=${page1.body.next_cursor}`, { key });
    assert.equal(page2.body.data.length, 1);
    assert.notEqual(page2.body.data[0].id, page1.body.data[0].id);
    assert.equal(page2.body.next_cursor, null);

    const types = env.events.map((e) => e.type);
    for (
      const t of [
        "plan.created",
        "customer.created",
        "subscription.created",
        "usage.ingested",
        "invoice.generated",
        "invoice.finalized",
        "invoice.paid",
        "invoice.voided",
        "ledger.entry_posted",
      ]
    ) {
      assert.ok(types.includes(t as any), `lifecycle event ${t} emitted`);
    }
  } finally {
    await env.close();
  }
});

Deno.test("HTTP flow: trial subscriptions waive the base fee; zero invoices are paid on finalization", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const plan = await call(env, "POST", "/v1/plans", { key, body: apiPlanBody({ trial_days: 14 }) });
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "t" } });
    const sub = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "t", plan_id: plan.body.id },
    });
    assert.equal(sub.body.status, "trialing");
    assert.equal(sub.body.current_period_end, sub.body.trial_end);
    const inv = await call(env, "POST", "/v1/invoices", { key, body: { subscription_id: sub.body.id } });
    assert.equal(inv.body.total, 0);
    assert.ok(inv.body.lines.every((l: any) => l.kind === "usage"));
    const fin = await call(env, "POST", `/v1/invoices/${inv.body.id}/finalize`, { key });
    assert.equal(fin.body.status, "paid");
    const balances = await call(env, "GET", "/v1/ledger/balances", { key });
    assert.equal(balances.body.data.length, 0, "a zero invoice posts nothing");
    env.clock.advance(15 * 86_400_000);
    const later = await call(env, "GET", `/v1/subscriptions/${sub.body.id}`, { key });
    assert.equal(later.body.status, "active");
    assert.equal(later.body.current_period_start, sub.body.trial_end);
  } finally {
    await env.close();
  }
});

Deno.test("HTTP flow: cancel at period end keeps access until the end, then ends it", async () => {
  const env = await testEnv();
  env.clock.set("2026-05-10T00:00:00Z");
  try {
    const { secret_key: key } = await tenant(env);
    const plan = await call(env, "POST", "/v1/plans", { key, body: apiPlanBody() });
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "c" } });
    const sub = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "c", plan_id: plan.body.id, start_at: "2026-05-01T00:00:00Z" },
    });
    const c1 = await call(env, "POST", `/v1/subscriptions/${sub.body.id}/cancel`, {
      key,
      body: { at_period_end: true },
    });
    assert.deepEqual([c1.body.status, c1.body.cancel_at_period_end, c1.body.cancel_at], [
      "active",
      true,
      "2026-06-01T00:00:00.000Z",
    ]);
    const c2 = await call(env, "POST", `/v1/subscriptions/${sub.body.id}/cancel`, {
      key,
      body: { at_period_end: true },
    });
    assert.equal(c2.body.cancel_at, c1.body.cancel_at);
    const check = await call(env, "POST", "/v1/entitlements/check", {
      key,
      body: { customer_id: "c", feature: "sso" },
    });
    assert.equal(check.body.allowed, true);
    env.clock.set("2026-06-01T00:00:00Z");
    const after = await call(env, "GET", `/v1/subscriptions/${sub.body.id}`, { key });
    assert.equal(after.body.status, "canceled");
    const denied = await call(env, "POST", "/v1/entitlements/check", {
      key,
      body: { customer_id: "c", feature: "sso" },
    });
    assert.equal(denied.body.reason, "no_active_subscription");
    const c3 = await call(env, "POST", `/v1/subscriptions/${sub.body.id}/cancel`, {
      key,
      body: { at_period_end: false },
    });
    assert.equal(c3.status, 409);
    assert.equal(c3.body.code, "subscription_canceled");
    // a new subscription is possible once the old one ended
    const next = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "c", plan_id: plan.body.id },
    });
    assert.equal(next.status, 201);
  } finally {
    await env.close();
  }
});
