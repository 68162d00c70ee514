// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
import assert from "node:assert/strict";
import { apiPlanBody, call, countRows, sessionHeaders, tenant, testEnv } from "../helpers.ts";

async function setup() {
  const env = await testEnv();
  const { secret_key: key, publishable_key: pk } = await tenant(env);
  const plan = (await call(env, "POST", "/v1/plans", { key, body: apiPlanBody() })).body;
  await call(env, "POST", "/v1/customers", { key, body: { external_id: "u" } });
  await call(env, "POST", "/v1/subscriptions", { key, body: { customer_id: "u", plan_id: plan.id } });
  return { env, key, pk, plan };
}

Deno.test("events: duplicates inside one batch are counted once", async () => {
  const { env, key } = await setup();
  try {
    const e = { id: "same", customer_id: "u", feature: "api_calls", value: 7 };
    const res = await call(env, "POST", "/v1/events", { key, body: { events: [e, e, { ...e }] } });
    assert.deepEqual(res.body, { accepted: 1, duplicates: 2, rejected: [] });
    const check = await call(env, "POST", "/v1/entitlements/check", {
      key,
      body: { customer_id: "u", feature: "api_calls" },
    });
    assert.equal(check.body.used, 7);
  } finally {
    await env.close();
  }
});

Deno.test("events: a retried batch is all duplicates; key order and omitted timestamps do not matter", async () => {
  const { env, key, pk } = await setup();
  try {
    const batch = Array.from(
      { length: 50 },
      (_, i) => ({
        id: `evt-${i}`,
        customer_id: "u",
        feature: "api_calls",
        value: i + 1,
        properties: { a: 1, b: 2 },
      }),
    );
    const first = await call(env, "POST", "/v1/events", { key, body: { events: batch } });
    assert.deepEqual(first.body, { accepted: 50, duplicates: 0, rejected: [] });
    env.clock.advance(60_000); // the retry arrives later: server timestamps differ, payload does not
    const reordered = batch.map((e) => ({
      properties: { b: 2, a: 1 },
      value: e.value,
      feature: e.feature,
      customer_id: e.customer_id,
      id: e.id,
    }));
    const headers = await sessionHeaders(env, key, "u");
    const retry = await call(env, "POST", "/v1/events", { key: pk, headers, body: { events: reordered } });
    assert.deepEqual(retry.body, { accepted: 0, duplicates: 50, rejected: [] });
    assert.equal(await countRows(env, "usage_events"), 50);
    const check = await call(env, "POST", "/v1/entitlements/check", {
      key,
      body: { customer_id: "u", feature: "api_calls" },
    });
    assert.equal(check.body.used, (50 * 51) / 2);
  } finally {
    await env.close();
  }
});

Deno.test("events: same id with another payload is rejected 409 without affecting the rest of the batch", async () => {
  const { env, key } = await setup();
  try {
    await call(env, "POST", "/v1/events", {
      key,
      body: { events: [{ id: "k1", customer_id: "u", feature: "api_calls", value: 1 }] },
    });
    const res = await call(env, "POST", "/v1/events", {
      key,
      body: {
        events: [
          { id: "k1", customer_id: "u", feature: "api_calls", value: 2 }, // conflict
          { id: "k2", customer_id: "u", feature: "api_calls", value: 3 }, // new
          { id: "k3", customer_id: "nobody", feature: "api_calls" }, // unknown customer
          { id: "k2", customer_id: "u", feature: "api_calls", value: 4 }, // conflict inside the batch
        ],
      },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.accepted, 1);
    assert.equal(res.body.duplicates, 0);
    assert.deepEqual(res.body.rejected.map((r: any) => [r.id, r.code, r.status]), [
      ["k1", "idempotency_key_reused", 409],
      ["k3", "customer_not_found", 404],
      ["k2", "idempotency_key_reused", 409],
    ]);
    const check = await call(env, "POST", "/v1/entitlements/check", {
      key,
      body: { customer_id: "u", feature: "api_calls" },
    });
    assert.equal(check.body.used, 1 + 3, "the stored payloads are untouched");
  } finally {
    await env.close();
  }
});

Deno.test("creates are retry-safe: identical repeats return the resource, different payloads conflict", async () => {
  const { env, key, plan } = await setup();
  try {
    const replay = await call(env, "POST", "/v1/plans", { key, body: apiPlanBody() });
    assert.deepEqual([replay.status, replay.body.id], [200, plan.id]);
    const conflict = await call(env, "POST", "/v1/plans", { key, body: apiPlanBody({ base_amount: 1 }) });
    assert.deepEqual([conflict.status, conflict.body.code], [409, "plan_key_exists"]);

    const c1 = await call(env, "POST", "/v1/customers", { key, body: { external_id: "v", name: "V" } });
    const c2 = await call(env, "POST", "/v1/customers", { key, body: { external_id: "v", name: "V" } });
    assert.deepEqual([c1.status, c2.status, c2.body.id], [201, 200, c1.body.id]);
    const c3 = await call(env, "POST", "/v1/customers", { key, body: { external_id: "v", name: "W" } });
    assert.deepEqual([c3.status, c3.body.code], [409, "customer_exists"]);

    const s1 = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "u", plan_id: plan.id },
    });
    assert.equal(s1.status, 200, "the live subscription is returned");
    const other = (await call(env, "POST", "/v1/plans", { key, body: apiPlanBody({ key: "other" }) })).body;
    const s2 = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "u", plan_id: other.id },
    });
    assert.deepEqual([s2.status, s2.body.code], [409, "subscription_exists"]);
    assert.equal(await countRows(env, "subscriptions"), 1);
  } finally {
    await env.close();
  }
});

Deno.test("invoices: concurrent generate calls for one period create exactly one invoice", async () => {
  const { env, key } = await setup();
  try {
    const sub = (await env.database.client.execute("select id from subscriptions")).rows[0].id as string;
    const results = await Promise.all(
      Array.from(
        { length: 10 },
        () => call(env, "POST", "/v1/invoices", { key, body: { subscription_id: sub } }),
      ),
    );
    assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const fin = await Promise.all(
      Array.from(
        { length: 5 },
        () => call(env, "POST", `/v1/invoices/${results[0].body.id}/finalize`, { key }),
      ),
    );
    assert.equal(new Set(fin.map((r) => r.body.number)).size, 1);
    assert.equal(await countRows(env, "ledger_entries"), 1, "one finalization entry");
  } finally {
    await env.close();
  }
});
