import assert from "node:assert/strict";
import { ADMIN_TOKEN, apiPlanBody, call, snapshotCounts, tenant, testEnv } from "../helpers.ts";

/**
 * Every route, called with another tenant's (or another app's) key on this tenant's resources,
 * answers exactly as for a missing resource (404), and changes nothing.
 */
Deno.test("tenancy: every route answers 404 for another tenant's or app's resources and writes nothing", async () => {
  const env = await testEnv();
  env.clock.set("2026-03-20T00:00:00Z");
  try {
    const owner = await tenant(env, "owner");
    const key = owner.secret_key;
    const plan = (await call(env, "POST", "/v1/plans", { key, body: apiPlanBody() })).body;
    const customer =
      (await call(env, "POST", "/v1/customers", { key, body: { external_id: "shared-ext" } })).body;
    const sub = (await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: customer.id, plan_id: plan.id, start_at: "2026-02-01T00:00:00Z" },
    })).body;
    await call(env, "POST", "/v1/events", {
      key,
      body: { events: [{ id: "e1", customer_id: customer.id, feature: "api_calls", value: 5 }] },
    });
    const draft = (await call(env, "POST", "/v1/invoices", { key, body: { subscription_id: sub.id } })).body;
    const open = (await call(env, "POST", "/v1/invoices", {
      key,
      body: {
        subscription_id: sub.id,
        period_start: "2026-02-01T00:00:00Z",
        period_end: "2026-03-01T00:00:00Z",
      },
    })).body;
    await call(env, "POST", `/v1/invoices/${open.id}/finalize`, { key });

    const intruders = [
      { label: "other tenant", keys: await tenant(env, "intruder") },
      { label: "other app of the same tenant", keys: await tenant(env, "owner", "staging") },
    ];
    const before = await snapshotCounts(env);
    for (const { label, keys } of intruders) {
      const k = keys.secret_key;
      const cases: [string, string, unknown?][] = [
        ["GET", `/v1/plans/${plan.id}`],
        ["PATCH", `/v1/plans/${plan.id}`, { name: "x" }],
        ["POST", `/v1/plans/${plan.id}/archive`],
        ["GET", `/v1/customers/${customer.id}`],
        ["GET", `/v1/customers/shared-ext`],
        ["POST", "/v1/subscriptions", { customer_id: customer.id, plan_id: plan.id }],
        ["GET", `/v1/subscriptions/${sub.id}`],
        ["POST", `/v1/subscriptions/${sub.id}/cancel`, { at_period_end: false }],
        ["POST", "/v1/entitlements/check", { customer_id: customer.id, feature: "api_calls" }],
        ["POST", "/v1/invoices", { subscription_id: sub.id }],
        ["GET", `/v1/invoices/${draft.id}`],
        ["POST", `/v1/invoices/${draft.id}/finalize`],
        ["POST", `/v1/invoices/${open.id}/pay`, {}],
        ["POST", `/v1/invoices/${open.id}/void`],
        ["GET", `/v1/invoices?customer_id=${customer.id}`],
      ];
      for (const [method, path, body] of cases) {
        const res = await call(env, method, path, { key: k, body });
        assert.equal(
          res.status,
          404,
          `${label}: ${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`,
        );
        assert.equal(res.contentType, "application/problem+json");
        assert.match(res.body.code, /_not_found$/);
      }
      const check = await call(env, "POST", "/v1/entitlements/check", {
        key: k,
        body: { customer_id: "shared-ext", feature: "api_calls" },
      });
      assert.equal(check.status, 404, label);
      // a publishable key needs a session, and a session can only be minted for the own scope's customers
      const mint = await call(env, "POST", "/v1/customer_sessions", {
        key: k,
        body: { customer_id: customer.id },
      });
      assert.equal(mint.status, 404, label);
      const ingest = await call(env, "POST", "/v1/events", {
        key: keys.publishable_key,
        body: { events: [{ id: "intruder-1", customer_id: customer.id, feature: "api_calls", value: 1000 }] },
      });
      assert.equal(ingest.status, 401);
      assert.equal(ingest.body.code, "customer_session_required");
      const lists = [
        await call(env, "GET", "/v1/plans", { key: k }),
        await call(env, "GET", "/v1/invoices", { key: k }),
        await call(env, "GET", "/v1/ledger/balances", { key: k }),
      ];
      for (const l of lists) assert.deepEqual(l.body.data, [], `${label} lists nothing of the owner`);
    }
    assert.deepEqual(await snapshotCounts(env), before, "intruders wrote nothing");

    // the owner's resources are intact and the same external id is free in another tenant
    assert.equal((await call(env, "GET", `/v1/plans/${plan.id}`, { key })).body.name, "API Pro");
    assert.equal((await call(env, "GET", `/v1/subscriptions/${sub.id}`, { key })).body.status, "active");
    const theirs = await call(env, "POST", "/v1/customers", {
      key: intruders[0].keys.secret_key,
      body: { external_id: "shared-ext" },
    });
    assert.equal(theirs.status, 201);
    assert.notEqual(theirs.body.id, customer.id);
  } finally {
    await env.close();
  }
});

Deno.test("tenancy: keys — missing, unknown, publishable on secret routes, admin routes need the admin token", async () => {
  const env = await testEnv();
  try {
    const keys = await tenant(env);
    const none = await call(env, "GET", "/v1/plans");
    assert.deepEqual([none.status, none.body.code, none.contentType], [
      401,
      "unauthorized",
      "application/problem+json",
    ]);
    const bogus = await call(env, "GET", "/v1/plans", { key: "sk_" + "0".repeat(64) });
    assert.equal(bogus.status, 401);
    const malformed = await call(env, "GET", "/v1/plans", { headers: { authorization: "Basic abc" } });
    assert.equal(malformed.status, 401);
    for (
      const [method, path, body] of [
        ["GET", "/v1/plans"],
        ["POST", "/v1/plans", apiPlanBody()],
        ["POST", "/v1/customers", { external_id: "x" }],
        ["POST", "/v1/invoices", { subscription_id: "sub_x" }],
        ["GET", "/v1/ledger/balances"],
      ] as [string, string, unknown?][]
    ) {
      const res = await call(env, method, path, { key: keys.publishable_key, body });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.body.code, "publishable_key_not_allowed");
    }
    const adminWithSecret = await call(env, "POST", "/v1/admin/tenants", {
      key: keys.secret_key,
      body: { name: "x", app: "y" },
    });
    assert.equal(adminWithSecret.status, 401);
    const dup = await call(env, "POST", "/v1/admin/tenants", {
      key: ADMIN_TOKEN,
      body: { name: "dup", app: "production" },
    });
    assert.equal(dup.status, 201);
    const dup2 = await call(env, "POST", "/v1/admin/tenants", {
      key: ADMIN_TOKEN,
      body: { name: "dup", app: "production" },
    });
    assert.deepEqual([dup2.status, dup2.body.code], [409, "tenant_app_exists"]);
    // keys are stored hashed: the raw key appears nowhere in the database
    const rows = await env.database.client.execute("select hash, prefix from api_keys");
    for (const row of rows.rows) {
      assert.notEqual(row.hash, keys.secret_key);
      assert.equal(String(row.hash).length, 64);
    }
  } finally {
    await env.close();
  }
});
