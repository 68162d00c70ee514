// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * A monetary credit grant that does not name its `source` is promotional, as the API documents:
 * it is booked against promotional expense, never as cash received.
 */
import assert from "node:assert/strict";
import { call, tenant, testEnv } from "../helpers.ts";

Deno.test("credit grant without source: promotional, booked to promotional expense, no cash", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "c1" } });
    const grant = await call(env, "POST", "/v1/customers/c1/credit_grants", {
      key,
      body: { reference: "welcome", kind: "monetary", amount: 2500, currency: "USD" },
    });
    assert.equal(grant.status, 201, JSON.stringify(grant.body));
    assert.equal(grant.body.source, "promotional");
    const balances = await call(env, "GET", "/v1/ledger/balances?limit=500", { key });
    const by = Object.fromEntries(balances.body.data.map((a: any) => [a.name.split(":")[0], a.balance]));
    assert.equal(by.promotional_credit_expense, 2500);
    assert.equal(by.cash ?? 0, 0, "nothing claims cash came in");
  } finally {
    await env.close();
  }
});
