// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
import assert from "node:assert/strict";
import { ADMIN_TOKEN, apiPlanBody, call, snapshotCounts, tenant, testEnv } from "../helpers.ts";

/**
 * Each route with malformed or invalid input answers 4xx application/problem+json with a stable
 * code and a request id, never 500, and the database row counts do not move.
 */
Deno.test("bad input: every route answers 4xx problem+json and writes nothing", async () => {
  const env = await testEnv();
  env.clock.set("2026-03-20T00:00:00Z");
  try {
    const { secret_key: key } = await tenant(env);
    const plan = (await call(env, "POST", "/v1/plans", { key, body: apiPlanBody() })).body;
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "u" } });
    const sub = (await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "u", plan_id: plan.id, start_at: "2026-02-01T00:00:00Z" },
    })).body;
    const inv = (await call(env, "POST", "/v1/invoices", { key, body: { subscription_id: sub.id } })).body;
    const before = await snapshotCounts(env);

    const tiers = (t: unknown[]) =>
      apiPlanBody({
        key: "x",
        features: [{ key: "f", type: "metered", pricing: { model: "graduated", tiers: t } }],
      });
    type Case = {
      name: string;
      method: string;
      path: string;
      body?: unknown;
      status: number;
      code: string;
      field?: string;
      headers?: Record<string, string>;
      auth?: string;
    };
    const cases: Case[] = [
      // JSON syntax and media type
      {
        name: "malformed JSON plan",
        method: "POST",
        path: "/v1/plans",
        body: '{"key": "x",',
        status: 400,
        code: "malformed_json",
      },
      {
        name: "malformed JSON customer",
        method: "POST",
        path: "/v1/customers",
        body: "{nope}",
        status: 400,
        code: "malformed_json",
      },
      {
        name: "malformed JSON events",
        method: "POST",
        path: "/v1/events",
        body: "[",
        status: 400,
        code: "malformed_json",
      },
      {
        name: "malformed JSON check",
        method: "POST",
        path: "/v1/entitlements/check",
        body: "{",
        status: 400,
        code: "malformed_json",
      },
      {
        name: "malformed JSON subscription",
        method: "POST",
        path: "/v1/subscriptions",
        body: "{",
        status: 400,
        code: "malformed_json",
      },
      {
        name: "malformed JSON invoice",
        method: "POST",
        path: "/v1/invoices",
        body: "{",
        status: 400,
        code: "malformed_json",
      },
      {
        name: "malformed JSON patch",
        method: "PATCH",
        path: `/v1/plans/${plan.id}`,
        body: "{",
        status: 400,
        code: "malformed_json",
      },
      {
        name: "malformed JSON cancel",
        method: "POST",
        path: `/v1/subscriptions/${sub.id}/cancel`,
        body: "{",
        status: 400,
        code: "malformed_json",
      },
      {
        name: "malformed JSON pay",
        method: "POST",
        path: `/v1/invoices/${inv.id}/pay`,
        body: "{",
        status: 400,
        code: "malformed_json",
      },
      {
        name: "malformed JSON admin",
        method: "POST",
        path: "/v1/admin/tenants",
        body: "{",
        status: 400,
        code: "malformed_json",
        auth: ADMIN_TOKEN,
      },
      {
        name: "JSON array instead of object",
        method: "POST",
        path: "/v1/customers",
        body: [1, 2],
        status: 400,
        code: "validation_failed",
      },
      {
        name: "text/plain body",
        method: "POST",
        path: "/v1/customers",
        body: "external_id=x",
        headers: { "content-type": "text/plain" },
        status: 415,
        code: "unsupported_media_type",
      },
      { name: "no body", method: "POST", path: "/v1/plans", status: 400, code: "validation_failed" },
      // wrong types and unknown fields
      {
        name: "string amount",
        method: "POST",
        path: "/v1/plans",
        body: apiPlanBody({ key: "x", base_amount: "49.00" }),
        status: 400,
        code: "validation_failed",
        field: "base_amount",
      },
      {
        name: "float amount",
        method: "POST",
        path: "/v1/plans",
        body: apiPlanBody({ key: "x", base_amount: 49.5 }),
        status: 400,
        code: "validation_failed",
        field: "base_amount",
      },
      {
        name: "negative amount",
        method: "POST",
        path: "/v1/plans",
        body: apiPlanBody({ key: "x", base_amount: -1 }),
        status: 400,
        code: "validation_failed",
        field: "base_amount",
      },
      {
        name: "unsafe integer",
        method: "POST",
        path: "/v1/plans",
        body: apiPlanBody({ key: "x", base_amount: 2 ** 53 }),
        status: 400,
        code: "validation_failed",
        field: "base_amount",
      },
      {
        name: "unknown field",
        method: "POST",
        path: "/v1/plans",
        body: apiPlanBody({ key: "x", colour: "red" }),
        status: 400,
        code: "validation_failed",
      },
      {
        name: "bad interval",
        method: "POST",
        path: "/v1/plans",
        body: apiPlanBody({ key: "x", interval: "week" }),
        status: 400,
        code: "validation_failed",
        field: "interval",
      },
      {
        name: "lower-case currency",
        method: "POST",
        path: "/v1/plans",
        body: apiPlanBody({ key: "x", currency: "usd" }),
        status: 400,
        code: "validation_failed",
        field: "currency",
      },
      {
        name: "not ISO 4217",
        method: "POST",
        path: "/v1/plans",
        body: apiPlanBody({ key: "x", currency: "ABC" }),
        status: 400,
        code: "unsupported_currency",
      },
      {
        name: "bad key chars",
        method: "POST",
        path: "/v1/plans",
        body: apiPlanBody({ key: "white space" }),
        status: 400,
        code: "validation_failed",
        field: "key",
      },
      {
        name: "feature type",
        method: "POST",
        path: "/v1/plans",
        body: apiPlanBody({ key: "x", features: [{ key: "f", type: "magic" }] }),
        status: 400,
        code: "validation_failed",
        field: "features.0.type",
      },
      // business rules of tiers and features
      {
        name: "tiers not ascending",
        method: "POST",
        path: "/v1/plans",
        body: tiers([{ up_to: 10, unit_amount: 1 }, { up_to: 5, unit_amount: 1 }, {
          up_to: null,
          unit_amount: 1,
        }]),
        status: 400,
        code: "validation_failed",
        field: "features.0.pricing.tiers.1.up_to",
      },
      {
        name: "last tier bounded",
        method: "POST",
        path: "/v1/plans",
        body: tiers([{ up_to: 10, unit_amount: 1 }]),
        status: 400,
        code: "validation_failed",
        field: "features.0.pricing.tiers.0.up_to",
      },
      {
        name: "no tiers",
        method: "POST",
        path: "/v1/plans",
        body: tiers([]),
        status: 400,
        code: "validation_failed",
        field: "features.0.pricing.tiers",
      },
      {
        name: "duplicate feature",
        method: "POST",
        path: "/v1/plans",
        body: apiPlanBody({
          key: "x",
          features: [{ key: "f", type: "boolean" }, { key: "f", type: "boolean" }],
        }),
        status: 400,
        code: "validation_failed",
        field: "features.1.key",
      },
      {
        name: "patch bad features",
        method: "PATCH",
        path: `/v1/plans/${plan.id}`,
        body: { features: [{ key: "f", type: "metered", pricing: { model: "package", unit_amount: 1 } }] },
        status: 400,
        code: "validation_failed",
        field: "features.0.pricing.package_size",
      },
      {
        name: "patch immutable currency",
        method: "PATCH",
        path: `/v1/plans/${plan.id}`,
        body: { currency: "EUR" },
        status: 400,
        code: "validation_failed",
      },
      // customers
      {
        name: "bad email",
        method: "POST",
        path: "/v1/customers",
        body: { external_id: "z", email: "not-an-email" },
        status: 400,
        code: "validation_failed",
        field: "email",
      },
      {
        name: "missing external_id",
        method: "POST",
        path: "/v1/customers",
        body: { name: "Z" },
        status: 400,
        code: "validation_failed",
        field: "external_id",
      },
      // subscriptions
      {
        name: "unknown customer",
        method: "POST",
        path: "/v1/subscriptions",
        body: { customer_id: "ghost", plan_id: plan.id },
        status: 404,
        code: "customer_not_found",
      },
      {
        name: "unknown plan",
        method: "POST",
        path: "/v1/subscriptions",
        body: { customer_id: "u", plan_id: "pln_01jd6z1qhrf5x9cx0000000000" },
        status: 404,
        code: "plan_not_found",
      },
      {
        name: "plan id of wrong type",
        method: "POST",
        path: "/v1/subscriptions",
        body: { customer_id: "u", plan_id: sub.id },
        status: 404,
        code: "plan_not_found",
      },
      {
        name: "start_at not a date",
        method: "POST",
        path: "/v1/subscriptions",
        body: { customer_id: "u", plan_id: plan.id, start_at: "yesterday" },
        status: 400,
        code: "validation_failed",
        field: "start_at",
      },
      {
        name: "cancel flag type",
        method: "POST",
        path: `/v1/subscriptions/${sub.id}/cancel`,
        body: { at_period_end: "yes" },
        status: 400,
        code: "validation_failed",
        field: "at_period_end",
      },
      {
        name: "cancel unknown",
        method: "POST",
        path: "/v1/subscriptions/sub_nope/cancel",
        body: {},
        status: 404,
        code: "subscription_not_found",
      },
      // events
      {
        name: "empty batch",
        method: "POST",
        path: "/v1/events",
        body: { events: [] },
        status: 400,
        code: "validation_failed",
        field: "events",
      },
      {
        name: "over 1000 events",
        method: "POST",
        path: "/v1/events",
        body: {
          events: Array.from(
            { length: 1001 },
            (_, i) => ({ id: `e${i}`, customer_id: "u", feature: "api_calls" }),
          ),
        },
        status: 400,
        code: "validation_failed",
        field: "events",
      },
      {
        name: "negative value",
        method: "POST",
        path: "/v1/events",
        body: { events: [{ id: "e", customer_id: "u", feature: "api_calls", value: -5 }] },
        status: 400,
        code: "validation_failed",
        field: "events.0.value",
      },
      {
        name: "value with 13 decimal places (at most 12)",
        method: "POST",
        path: "/v1/events",
        body: { events: [{ id: "e", customer_id: "u", feature: "api_calls", value: "0.0000000000001" }] },
        status: 400,
        code: "validation_failed",
        field: "events.0.value",
      },
      {
        name: "value that is not a decimal string",
        method: "POST",
        path: "/v1/events",
        body: { events: [{ id: "e", customer_id: "u", feature: "api_calls", value: "1,5" }] },
        status: 400,
        code: "validation_failed",
        field: "events.0.value",
      },
      {
        name: "consume with 13 decimal places",
        method: "POST",
        path: "/v1/entitlements/check",
        body: { customer_id: "u", feature: "api_calls", consume: 1.0000000000001, idempotency_key: "k" },
        status: 400,
        code: "validation_failed",
        field: "consume",
      },
      {
        name: "negative decimal value",
        method: "POST",
        path: "/v1/events",
        body: { events: [{ id: "e", customer_id: "u", feature: "api_calls", value: "-0.5" }] },
        status: 400,
        code: "validation_failed",
        field: "events.0.value",
      },
      {
        name: "bad timestamp",
        method: "POST",
        path: "/v1/events",
        body: { events: [{ id: "e", customer_id: "u", feature: "api_calls", timestamp: "tomorrow" }] },
        status: 400,
        code: "validation_failed",
        field: "events.0.timestamp",
      },
      {
        name: "missing id",
        method: "POST",
        path: "/v1/events",
        body: { events: [{ customer_id: "u", feature: "api_calls" }] },
        status: 400,
        code: "validation_failed",
        field: "events.0.id",
      },
      // checks
      {
        name: "check unknown customer",
        method: "POST",
        path: "/v1/entitlements/check",
        body: { customer_id: "ghost", feature: "api_calls" },
        status: 404,
        code: "customer_not_found",
      },
      {
        name: "check missing feature",
        method: "POST",
        path: "/v1/entitlements/check",
        body: { customer_id: "u" },
        status: 400,
        code: "validation_failed",
        field: "feature",
      },
      // invoices
      {
        name: "half a period",
        method: "POST",
        path: "/v1/invoices",
        body: { subscription_id: sub.id, period_start: "2026-02-01T00:00:00Z" },
        status: 400,
        code: "validation_failed",
        field: "period_end",
      },
      {
        name: "unaligned period",
        method: "POST",
        path: "/v1/invoices",
        body: {
          subscription_id: sub.id,
          period_start: "2026-02-02T00:00:00Z",
          period_end: "2026-03-02T00:00:00Z",
        },
        status: 422,
        code: "invalid_period",
      },
      {
        name: "future period",
        method: "POST",
        path: "/v1/invoices",
        body: {
          subscription_id: sub.id,
          period_start: "2026-04-01T00:00:00Z",
          period_end: "2026-05-01T00:00:00Z",
        },
        status: 422,
        code: "invalid_period",
      },
      {
        name: "unknown subscription",
        method: "POST",
        path: "/v1/invoices",
        body: { subscription_id: "sub_01jd6z1qhrf5x9cx0000000000" },
        status: 404,
        code: "subscription_not_found",
      },
      {
        name: "pay a draft",
        method: "POST",
        path: `/v1/invoices/${inv.id}/pay`,
        body: {},
        status: 409,
        code: "invoice_not_open",
      },
      {
        name: "pay zero",
        method: "POST",
        path: `/v1/invoices/${inv.id}/pay`,
        body: { amount: 0 },
        status: 400,
        code: "validation_failed",
        field: "amount",
      },
      {
        name: "finalize unknown",
        method: "POST",
        path: "/v1/invoices/inv_nope/finalize",
        status: 404,
        code: "invoice_not_found",
      },
      {
        name: "list bad status",
        method: "GET",
        path: "/v1/invoices?status=late",
        status: 400,
        code: "validation_failed",
        field: "query.status",
      },
      {
        name: "list bad limit",
        method: "GET",
        path: "/v1/invoices?limit=1000",
        status: 400,
        code: "validation_failed",
        field: "query.limit",
      },
      {
        name: "list unknown customer",
        method: "GET",
        path: "/v1/invoices?customer_id=ghost",
        status: 404,
        code: "customer_not_found",
      },
      // admin
      {
        name: "admin bad name",
        method: "POST",
        path: "/v1/admin/tenants",
        body: { name: "", app: "x" },
        status: 400,
        code: "validation_failed",
        field: "name",
        auth: ADMIN_TOKEN,
      },
      // routing
      { name: "unknown route", method: "GET", path: "/v1/nothing", status: 404, code: "route_not_found" },
      {
        name: "wrong method",
        method: "DELETE",
        path: `/v1/plans/${plan.id}`,
        status: 404,
        code: "route_not_found",
      },
    ];
    for (const c of cases) {
      const res = await call(env, c.method, c.path, { key: c.auth ?? key, body: c.body, headers: c.headers });
      const where = `${c.name}: ${c.method} ${c.path} → ${res.status} ${
        JSON.stringify(res.body).slice(0, 300)
      }`;
      assert.equal(res.status, c.status, where);
      assert.equal(res.contentType, "application/problem+json", where);
      assert.equal(res.body.code, c.code, where);
      assert.equal(res.body.status, c.status, where);
      assert.equal(res.body.type, `/problems/${c.code}`, where);
      assert.ok(res.body.title && res.body.detail && res.body.request_id, where);
      if (c.field) {
        assert.ok(
          res.body.fields?.some((f: any) => f.path === c.field),
          `${where}: expected field ${c.field}`,
        );
      }
    }
    assert.deepEqual(await snapshotCounts(env), before, "no rejected request wrote a row");
  } finally {
    await env.close();
  }
});

Deno.test("bad input: a body over the size limit is refused with 413", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const res = await call(env, "POST", "/v1/customers", {
      key,
      body: JSON.stringify({ external_id: "x", name: "a".repeat(3 * 1024 * 1024) }),
    });
    assert.equal(res.status, 413);
    assert.equal(res.body.code, "payload_too_large");
  } finally {
    await env.close();
  }
});
