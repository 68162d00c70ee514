// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
import assert from "node:assert/strict";
import { apiPlanBody, call, tenant, testEnv } from "../helpers.ts";

Deno.test("spine: plan → customer → subscription → usage → check → invoice → finalize → pay", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const plan = await call(env, "POST", "/v1/plans", { key, body: apiPlanBody() });
    assert.equal(plan.status, 201, JSON.stringify(plan.body));
    const cus = await call(env, "POST", "/v1/customers", { key, body: { external_id: "u1" } });
    assert.equal(cus.status, 201);
    const sub = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "u1", plan_id: plan.body.id },
    });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    const ev = await call(env, "POST", "/v1/events", {
      key,
      body: { events: [{ id: "e1", customer_id: "u1", feature: "api_calls", value: 2500 }] },
    });
    assert.deepEqual(ev.body, { accepted: 1, duplicates: 0, rejected: [] });
    const check = await call(env, "POST", "/v1/entitlements/check", {
      key,
      body: { customer_id: "u1", feature: "api_calls" },
    });
    assert.equal(check.body.used, 2500);
    assert.equal(check.body.allowed, true);
    const inv = await call(env, "POST", "/v1/invoices", { key, body: { subscription_id: sub.body.id } });
    assert.equal(inv.status, 201, JSON.stringify(inv.body));
    // base 4900 + (2500-1000 included = 1500 billable: 1000×2 + 500×1) = 4900 + 2500
    assert.equal(inv.body.total, 7400);
    const fin = await call(env, "POST", `/v1/invoices/${inv.body.id}/finalize`, { key });
    assert.equal(fin.body.status, "open");
    assert.equal(fin.body.number, "INV-000001");
    const paid = await call(env, "POST", `/v1/invoices/${inv.body.id}/pay`, { key, body: {} });
    assert.equal(paid.body.status, "paid", JSON.stringify(paid.body));
    const bal = await call(env, "GET", "/v1/ledger/balances", { key });
    const byName = Object.fromEntries(bal.body.data.map((a: any) => [a.name.split(":")[0], a.balance]));
    assert.equal(byName.cash, 7400);
    assert.equal(byName.revenue, 7400);
    assert.equal(byName.accounts_receivable, 0);
  } finally {
    await env.close();
  }
});
