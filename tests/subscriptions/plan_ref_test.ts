/**
 * The `plan_id` of `POST /v1/subscriptions` and `POST /v1/subscriptions/{id}/change` takes a plan
 * key as well as a `pln_` id, as the schemas and README say (it answered 404 for keys before).
 */
import assert from "node:assert/strict";
import { apiPlanBody, call, tenant, testEnv } from "../helpers.ts";

Deno.test("plan_id accepts the plan's key on subscribe and on change; an unknown key is plan_not_found; keys of another app are not found", async () => {
  const env = await testEnv();
  env.clock.set("2026-03-20T00:00:00Z");
  try {
    const { secret_key: key } = await tenant(env);
    const other = await tenant(env);
    const pro = (await call(env, "POST", "/v1/plans", { key, body: apiPlanBody({ key: "pro" }) })).body;
    const biz = (await call(env, "POST", "/v1/plans", {
      key,
      body: apiPlanBody({ key: "business", base_amount: 9900 }),
    }))
      .body;
    await call(env, "POST", "/v1/plans", { key: other.secret_key, body: apiPlanBody({ key: "elsewhere" }) });
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "u1" } });

    const sub = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "u1", plan_id: "pro" },
    });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    assert.equal(sub.body.plan_id, pro.id);

    const changed = await call(env, "POST", `/v1/subscriptions/${sub.body.id}/change`, {
      key,
      body: { plan_id: "business", effective: "now" },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.plan_id, biz.id);

    await call(env, "POST", "/v1/customers", { key, body: { external_id: "u2" } });
    for (const plan_id of ["nope", "elsewhere"]) {
      const missing = await call(env, "POST", "/v1/subscriptions", {
        key,
        body: { customer_id: "u2", plan_id },
      });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.code, "plan_not_found");
    }
  } finally {
    await env.close();
  }
});
