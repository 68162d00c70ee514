// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * Browser access bound to one customer: a publishable key acts only with a customer session
 * token, and only on that token's customer.
 *
 * @module
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { apiPlanBody, call, countRows, sessionHeaders, snapshotCounts, tenant, testEnv } from "../helpers.ts";
import { apiKeys } from "../../src/storage/schema.ts";
import { KEY_CACHE_TTL_MS } from "../../src/tenants/service.ts";

async function setup() {
  const env = await testEnv();
  env.clock.set("2026-03-01T00:00:00Z");
  const keys = await tenant(env, "acme");
  const key = keys.secret_key;
  const plan = (await call(env, "POST", "/v1/plans", { key, body: apiPlanBody() })).body;
  const customers: any[] = [];
  for (const external_id of ["alice", "victim"]) {
    const customer = (await call(env, "POST", "/v1/customers", { key, body: { external_id } })).body;
    await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: customer.id, plan_id: plan.id, start_at: "2026-03-01T00:00:00Z" },
    });
    customers.push(customer);
  }
  return { env, keys, alice: customers[0], victim: customers[1] };
}

function events(customerId: string, count: number, prefix = "e") {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i}`,
    customer_id: customerId,
    feature: "api_calls",
    value: 1,
  }));
}

Deno.test("customer sessions: a publishable key alone writes and reads nothing", async () => {
  const { env, keys, victim } = await setup();
  try {
    const before = await snapshotCounts(env);
    const write = await call(env, "POST", "/v1/events", {
      key: keys.publishable_key,
      body: { events: [{ id: "x1", customer_id: victim.external_id, feature: "api_calls", value: 99000 }] },
    });
    assert.equal(write.status, 401);
    assert.equal(write.body.code, "customer_session_required");
    const check = await call(env, "POST", "/v1/entitlements/check", {
      key: keys.publishable_key,
      body: { customer_id: victim.id, feature: "api_calls" },
    });
    assert.equal(check.status, 401);
    assert.equal(check.body.code, "customer_session_required");
    assert.deepEqual(await snapshotCounts(env), before);
  } finally {
    await env.close();
  }
});

Deno.test("customer sessions: a token for one customer cannot read or write another, known or unknown", async () => {
  const { env, keys, alice, victim } = await setup();
  try {
    const headers = await sessionHeaders(env, keys.secret_key, "alice");
    const before = await snapshotCounts(env);
    const answers: any[] = [];
    for (const other of [victim.id, victim.external_id, "nobody", "cus_01jd0000000000000000000000"]) {
      const write = await call(env, "POST", "/v1/events", {
        key: keys.publishable_key,
        headers,
        // one foreign event hidden in a batch of 1000 of alice's refuses the whole batch
        body: {
          events: [...events(alice.id, 999), {
            id: "x",
            customer_id: other,
            feature: "api_calls",
            value: 99000,
          }],
        },
      });
      const read = await call(env, "POST", "/v1/entitlements/check", {
        key: keys.publishable_key,
        headers,
        body: { customer_id: other, feature: "api_calls" },
      });
      for (const res of [write, read]) {
        assert.equal(res.status, 403, JSON.stringify(res.body));
        const { request_id: _, ...rest } = res.body;
        answers.push(rest);
      }
    }
    // the same answer for known and unknown ids: nothing to enumerate
    for (const answer of answers) assert.deepEqual(answer, answers[0]);
    assert.equal(answers[0].code, "customer_not_allowed");
    assert.deepEqual(await snapshotCounts(env), before, "nothing was written");

    // its own customer, by cus_ id and by external id
    const own = await call(env, "POST", "/v1/events", {
      key: keys.publishable_key,
      headers,
      body: { events: [...events(alice.id, 500, "a"), ...events("alice", 500, "b")] },
    });
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.equal(own.body.accepted, 1000);
    const used = await call(env, "POST", "/v1/entitlements/check", {
      key: keys.secret_key,
      body: { customer_id: victim.id, feature: "api_calls" },
    });
    assert.equal(used.body.used, 0, "the victim's usage is untouched");
    const mine = await call(env, "POST", "/v1/entitlements/check", {
      key: keys.publishable_key,
      headers,
      body: { customer_id: "alice", feature: "api_calls" },
    });
    assert.equal(mine.status, 200);
    assert.equal(mine.body.used, 1000);
  } finally {
    await env.close();
  }
});

Deno.test("customer sessions: expired, tampered, foreign-app and revoked-key tokens are refused", async () => {
  const { env, keys } = await setup();
  try {
    const pk = keys.publishable_key;
    const body = { customer_id: "alice", feature: "api_calls" };
    const minted = await call(env, "POST", "/v1/customer_sessions", {
      key: keys.secret_key,
      body: { customer_id: "alice", expires_in_seconds: 60 },
    });
    assert.equal(minted.status, 201);
    assert.equal(minted.body.expires_at, "2026-03-01T00:01:00.000Z");
    assert.equal(minted.body.external_id, "alice");
    const headers = { "customer-session": minted.body.token };
    assert.equal((await call(env, "POST", "/v1/entitlements/check", { key: pk, headers, body })).status, 200);

    env.clock.advance(60_000);
    const expired = await call(env, "POST", "/v1/entitlements/check", { key: pk, headers, body });
    assert.equal(expired.status, 401);
    assert.equal(expired.body.code, "customer_session_expired");
    env.clock.advance(-60_000);

    const [payload, signature] = minted.body.token.slice(3).split(".");
    const claims = JSON.parse(atob(payload.replaceAll("-", "+").replaceAll("_", "/")));
    const forged = btoa(JSON.stringify({ ...claims, cus: "cus_other", ext: "victim" }))
      .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    for (const token of [`cs_${forged}.${signature}`, `${minted.body.token}x`, "cs_", "garbage"]) {
      const res = await call(env, "POST", "/v1/entitlements/check", {
        key: pk,
        headers: { "customer-session": token },
        body: { customer_id: "victim", feature: "api_calls" },
      });
      assert.equal(res.status, 401, token);
      assert.equal(res.body.code, "customer_session_invalid");
    }

    // a token of another app (same customer external id) does not work with this app's key
    const other = await tenant(env, "acme", "staging");
    await call(env, "POST", "/v1/customers", { key: other.secret_key, body: { external_id: "alice" } });
    const foreign = await sessionHeaders(env, other.secret_key, "alice");
    const crossed = await call(env, "POST", "/v1/entitlements/check", { key: pk, headers: foreign, body });
    assert.equal(crossed.status, 401);
    assert.equal(crossed.body.code, "customer_session_invalid");

    // revoking the minting key ends its sessions in every process within KEY_CACHE_TTL_MS
    await env.database.db.update(apiKeys).set({ revoked_at: env.clock.now() }).where(
      eq(apiKeys.prefix, keys.secret_key.slice(0, 10)),
    );
    await new Promise((resolve) => setTimeout(resolve, KEY_CACHE_TTL_MS + 50));
    const revoked = await call(env, "POST", "/v1/entitlements/check", { key: pk, headers, body });
    assert.equal(revoked.status, 401);
    assert.equal(revoked.body.code, "customer_session_invalid");
  } finally {
    await env.close();
  }
});

Deno.test("customer sessions: minting is for secret keys, bounded to an hour, and features narrow it", async () => {
  const { env, keys } = await setup();
  try {
    const mint = (key: string, body: unknown) => call(env, "POST", "/v1/customer_sessions", { key, body });
    const byPk = await mint(keys.publishable_key, { customer_id: "alice" });
    assert.equal(byPk.status, 403);
    assert.equal(byPk.body.code, "publishable_key_not_allowed");
    const tooLong = await mint(keys.secret_key, { customer_id: "alice", expires_in_seconds: 3601 });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.fields[0].path, "expires_in_seconds");
    const unknown = await mint(keys.secret_key, { customer_id: "nobody" });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, "customer_not_found");
    const defaults = await mint(keys.secret_key, { customer_id: "alice" });
    assert.equal(defaults.body.expires_at, "2026-03-01T00:15:00.000Z");
    assert.equal(defaults.body.features, null);

    const headers = await sessionHeaders(env, keys.secret_key, "alice", { features: ["api_calls"] });
    const other = await call(env, "POST", "/v1/events", {
      key: keys.publishable_key,
      headers,
      body: { events: [{ id: "s1", customer_id: "alice", feature: "seats", value: 1 }] },
    });
    assert.equal(other.status, 403);
    assert.equal(other.body.code, "feature_not_allowed");
    assert.equal(await countRows(env, "usage_events"), 0);
    const allowed = await call(env, "POST", "/v1/events", {
      key: keys.publishable_key,
      headers,
      body: { events: [{ id: "s2", customer_id: "alice", feature: "api_calls", value: 1 }] },
    });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.body.accepted, 1);
  } finally {
    await env.close();
  }
});
