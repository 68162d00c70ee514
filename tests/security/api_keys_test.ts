// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * Key management (ADR 0013): create, list, roll with a grace period, revoke; scopes enforced per
 * route; expiry; only full keys manage keys; admin token rotation.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ADMIN_TOKEN, apiPlanBody, call, tenant, testEnv } from "../helpers.ts";
import { DEFAULT_ROLL_GRACE_SECONDS } from "../../src/tenants/keys.ts";
import { scopeAllows } from "../../src/tenants/scopes.ts";

Deno.test("api keys: create returns the key once; list shows prefix/last4, never the key, paginated", async () => {
  const env = await testEnv();
  try {
    const owner = await tenant(env, "keys-list");
    const created: any[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await call(env, "POST", "/v1/api_keys", {
        key: owner.secret_key,
        body: { name: `key ${i}`, scope: ["full", "read_only", "usage_only", "ledger_only"][i % 4] },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.match(res.body.key, /^sk_[0-9a-f]{64}$/);
      assert.equal(res.body.prefix, res.body.key.slice(0, 10));
      assert.equal(res.body.last4, res.body.key.slice(-4));
      created.push(res.body);
    }
    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: any = await call(
        env,
        "GET",
        `/v1/api_keys?limit=25${cursor ? `&cursor=${cursor}` : ""}`,
        { key: owner.secret_key },
      );
      assert.equal(page.status, 200);
      assert.ok(page.body.data.length <= 25);
      seen.push(...page.body.data);
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.equal(seen.length, 62, "60 created + the secret and publishable keys of the app");
    const text = JSON.stringify(seen);
    for (const c of created) assert.ok(!text.includes(c.key), "a listing never holds a key");
    assert.ok(!text.includes(owner.secret_key) && !text.includes(owner.publishable_key));
    const first = seen.find((k) => k.prefix === owner.secret_key.slice(0, 10));
    assert.equal(first.name, "default");
    assert.equal(first.scope, "full");
    const pk = seen.find((k) => k.kind === "publishable");
    assert.equal(pk.scope, null);
    // the keys of another app are not listed
    const other = await tenant(env, "keys-list-other");
    const others = await call(env, "GET", "/v1/api_keys", { key: other.secret_key });
    assert.equal(others.body.data.length, 2);
  } finally {
    await env.close();
  }
});

Deno.test("api keys: a rolled key works for its grace period, then fails; 0 ends it at once; revoke is immediate", async () => {
  const env = await testEnv();
  try {
    const owner = await tenant(env, "keys-roll");
    const made = await call(env, "POST", "/v1/api_keys", {
      key: owner.secret_key,
      body: { name: "backend", scope: "read_only" },
    });
    const old = made.body.key;
    assert.equal((await call(env, "GET", "/v1/plans", { key: old })).status, 200);
    const rolled = await call(env, "POST", `/v1/api_keys/${made.body.id}/roll`, {
      key: owner.secret_key,
      body: { expires_in_seconds: 3600 },
    });
    assert.equal(rolled.status, 201, JSON.stringify(rolled.body));
    assert.equal(rolled.body.key.name, "backend");
    assert.equal(rolled.body.key.scope, "read_only");
    assert.notEqual(rolled.body.key.key, old);
    assert.equal(
      rolled.body.previous.expires_at,
      new Date(env.clock.now().getTime() + 3600_000).toISOString(),
    );
    const fresh = rolled.body.key.key;
    assert.equal((await call(env, "GET", "/v1/plans", { key: old })).status, 200, "old key: grace period");
    assert.equal((await call(env, "GET", "/v1/plans", { key: fresh })).status, 200);
    env.clock.advance(3600_000);
    const expired = await call(env, "GET", "/v1/plans", { key: old });
    assert.equal(expired.status, 401, "old key after its grace period");
    assert.equal((await call(env, "GET", "/v1/plans", { key: fresh })).status, 200);
    // the default grace is 24 h
    const again = await call(env, "POST", `/v1/api_keys/${rolled.body.key.id}/roll`, {
      key: owner.secret_key,
    });
    assert.equal(again.status, 201);
    assert.equal(
      again.body.previous.expires_at,
      new Date(env.clock.now().getTime() + DEFAULT_ROLL_GRACE_SECONDS * 1000).toISOString(),
    );
    // 0 = at once
    const now = await call(env, "POST", `/v1/api_keys/${again.body.key.id}/roll`, {
      key: owner.secret_key,
      body: { expires_in_seconds: 0 },
    });
    assert.equal(now.status, 201);
    assert.equal(now.body.previous.status, "revoked");
    assert.equal((await call(env, "GET", "/v1/plans", { key: again.body.key.key })).status, 401);
    // revoke: at once, idempotent, and a revoked key cannot be rolled
    const latest = now.body.key;
    assert.equal((await call(env, "GET", "/v1/plans", { key: latest.key })).status, 200);
    const revoked = await call(env, "POST", `/v1/api_keys/${latest.id}/revoke`, { key: owner.secret_key });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.status, "revoked");
    assert.equal((await call(env, "GET", "/v1/plans", { key: latest.key })).status, 401);
    assert.equal(
      (await call(env, "POST", `/v1/api_keys/${latest.id}/revoke`, { key: owner.secret_key })).status,
      200,
    );
    const rollRevoked = await call(env, "POST", `/v1/api_keys/${latest.id}/roll`, { key: owner.secret_key });
    assert.equal(rollRevoked.status, 404);
    assert.equal(rollRevoked.body.code, "api_key_not_found");
    // another app's key id is unknown here
    const other = await tenant(env, "keys-roll-other");
    const foreign = await call(env, "POST", `/v1/api_keys/${made.body.id}/revoke`, { key: other.secret_key });
    assert.equal(foreign.status, 404);
    // the audit trail has the key events, never the key
    const audit = await env.database.client.execute(
      "select action from audit_events where action like 'api_key.%'",
    );
    assert.ok(audit.rows.length >= 6);
  } finally {
    await env.close();
  }
});

Deno.test("api keys: the publishable key can be listed and rolled; the rolled pk keeps needing a customer session", async () => {
  const env = await testEnv();
  try {
    const owner = await tenant(env, "keys-pk");
    const list = await call(env, "GET", "/v1/api_keys", { key: owner.secret_key });
    const pk = list.body.data.find((k: any) => k.kind === "publishable");
    const rolled = await call(env, "POST", `/v1/api_keys/${pk.id}/roll`, {
      key: owner.secret_key,
      body: { expires_in_seconds: 0 },
    });
    assert.equal(rolled.status, 201);
    assert.match(rolled.body.key.key, /^pk_[0-9a-f]{64}$/);
    const body = { customer_id: "x", feature: "f" };
    const oldPk = await call(env, "POST", "/v1/entitlements/check", { key: owner.publishable_key, body });
    assert.equal(oldPk.status, 401);
    const newPk = await call(env, "POST", "/v1/entitlements/check", { key: rolled.body.key.key, body });
    assert.equal(newPk.status, 401);
    assert.equal(newPk.body.code, "customer_session_required");
    const created = await call(env, "POST", "/v1/api_keys", {
      key: owner.secret_key,
      body: { name: "browser 2", kind: "publishable" },
    });
    assert.equal(created.status, 201);
    assert.match(created.body.key, /^pk_/);
    assert.equal(created.body.scope, null);
  } finally {
    await env.close();
  }
});

Deno.test("api keys: an expired key fails at its instant; an expiry in the past is refused", async () => {
  const env = await testEnv();
  try {
    const owner = await tenant(env, "keys-expiry");
    const at = new Date(env.clock.now().getTime() + 60_000).toISOString();
    const made = await call(env, "POST", "/v1/api_keys", {
      key: owner.secret_key,
      body: { name: "temp", expires_at: at },
    });
    assert.equal(made.status, 201);
    assert.equal(made.body.expires_at, at);
    assert.equal((await call(env, "GET", "/v1/plans", { key: made.body.key })).status, 200);
    env.clock.advance(60_000);
    const res = await call(env, "GET", "/v1/plans", { key: made.body.key });
    assert.equal(res.status, 401);
    const list = await call(env, "GET", "/v1/api_keys", { key: owner.secret_key });
    assert.equal(list.body.data.find((k: any) => k.id === made.body.id).status, "expired");
    const past = await call(env, "POST", "/v1/api_keys", {
      key: owner.secret_key,
      body: { name: "late", expires_at: "2020-01-01T00:00:00Z" },
    });
    assert.equal(past.status, 400);
    assert.equal(past.body.fields[0].path, "expires_at");
  } finally {
    await env.close();
  }
});

Deno.test("scopes: read_only cannot write, usage_only cannot touch the ledger, ledger_only only the ledger, only full manages keys", async () => {
  const env = await testEnv();
  try {
    const owner = await tenant(env, "scopes");
    const plan = await call(env, "POST", "/v1/plans", { key: owner.secret_key, body: apiPlanBody() });
    assert.equal(plan.status, 201);
    await call(env, "POST", "/v1/customers", { key: owner.secret_key, body: { external_id: "c1" } });
    const keyOf = async (scope: string) =>
      (await call(env, "POST", "/v1/api_keys", { key: owner.secret_key, body: { name: scope, scope } })).body
        .key;
    const readOnly = await keyOf("read_only");
    const usage = await keyOf("usage_only");
    const ledger = await keyOf("ledger_only");
    const denied = async (key: string, method: string, path: string, body?: unknown) => {
      const res = await call(env, method, path, { key, body });
      assert.equal(res.status, 403, `${method} ${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, "key_scope_not_allowed");
    };
    const allowed = async (key: string, method: string, path: string, body?: unknown) => {
      const res = await call(env, method, path, { key, body });
      assert.ok(res.status !== 403 && res.status !== 401, `${method} ${path}: ${JSON.stringify(res.body)}`);
    };
    // read_only
    await allowed(readOnly, "GET", "/v1/plans");
    await allowed(readOnly, "GET", "/v1/customers/c1");
    await allowed(readOnly, "GET", "/v1/ledger/balances");
    await allowed(readOnly, "POST", "/v1/entitlements/check", { customer_id: "c1", feature: "api_calls" });
    await denied(readOnly, "POST", "/v1/plans", apiPlanBody({ key: "ro" }));
    await denied(readOnly, "POST", "/v1/customers", { external_id: "c2" });
    await denied(readOnly, "POST", "/v1/events", { events: [] });
    await denied(readOnly, "GET", "/v1/api_keys");
    // usage_only
    const event = { events: [{ id: "e1", customer_id: "c1", feature: "api_calls", value: 1 }] };
    await allowed(usage, "POST", "/v1/events", event);
    await allowed(usage, "POST", "/v1/entitlements/check", { customer_id: "c1", feature: "api_calls" });
    await allowed(usage, "POST", "/v1/customer_sessions", { customer_id: "c1" });
    await denied(usage, "GET", "/v1/ledger/balances");
    await denied(usage, "POST", "/v1/ledger/accounts", { key: "wallet", currency: "USD", type: "liability" });
    await denied(usage, "GET", "/v1/plans");
    await denied(usage, "POST", "/v1/api_keys", { name: "x" });
    // ledger_only
    await allowed(ledger, "GET", "/v1/ledger/balances");
    await allowed(ledger, "GET", "/v1/ledger/entries");
    await denied(ledger, "POST", "/v1/events", event);
    await denied(ledger, "GET", "/v1/plans");
    await denied(ledger, "PUT", "/v1/providers/stripe", {
      secret_key: "sk_test_x",
      webhook_secret: "whsec_x",
    });
    await denied(ledger, "POST", "/v1/api_keys", { name: "x" });
    // the rule itself, route by route
    assert.equal(scopeAllows("full", "POST", "/v1/api_keys"), true);
    assert.equal(scopeAllows("read_only", "HEAD", "/v1/plans"), true);
    assert.equal(scopeAllows("ledger_only", "POST", "/v1/ledger/entries"), true);
    assert.equal(scopeAllows("ledger_only", "GET", "/v1/ledgerx"), false);
  } finally {
    await env.close();
  }
});

Deno.test("admin token rotation: the new token works, the old one for its grace period; revoke ends a rolled token", async () => {
  const env = await testEnv();
  try {
    const body = { name: "rot", app: "a1" };
    const roll = await call(env, "POST", "/v1/admin/admin_tokens/roll", {
      key: ADMIN_TOKEN,
      body: { expires_in_seconds: 600 },
    });
    assert.equal(roll.status, 201, JSON.stringify(roll.body));
    assert.match(roll.body.token, /^adm_[0-9a-f]{64}$/);
    assert.equal(roll.body.previous.source, "config");
    const fresh = roll.body.token;
    assert.equal((await call(env, "POST", "/v1/admin/tenants", { key: fresh, body })).status, 201);
    assert.equal(
      (await call(env, "POST", "/v1/admin/tenants", { key: ADMIN_TOKEN, body: { ...body, app: "a2" } }))
        .status,
      201,
      "the configured token during its grace period",
    );
    env.clock.advance(600_000);
    const old = await call(env, "POST", "/v1/admin/tenants", {
      key: ADMIN_TOKEN,
      body: { ...body, app: "a3" },
    });
    assert.equal(old.status, 401, "the configured token after its grace period");
    const list = await call(env, "GET", "/v1/admin/admin_tokens", { key: fresh });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data.map((t: any) => t.status).sort(), ["active", "expired"]);
    assert.ok(!JSON.stringify(list.body).includes(fresh));
    // roll again with 0: the calling token ends at once
    const second = await call(env, "POST", "/v1/admin/admin_tokens/roll", {
      key: fresh,
      body: { expires_in_seconds: 0 },
    });
    assert.equal(second.status, 201);
    assert.equal((await call(env, "GET", "/v1/admin/admin_tokens", { key: fresh })).status, 401);
    const third = await call(env, "GET", "/v1/admin/admin_tokens", { key: second.body.token });
    assert.equal(third.status, 200);
    // a third token, revoked by id
    const extra = await call(env, "POST", "/v1/admin/admin_tokens/roll", {
      key: second.body.token,
      body: { expires_in_seconds: 3600 },
    });
    const revoke = await call(env, "POST", `/v1/admin/admin_tokens/${extra.body.id}/revoke`, {
      key: second.body.token,
    });
    assert.equal(revoke.status, 200);
    assert.equal(revoke.body.status, "revoked");
    assert.equal((await call(env, "GET", "/v1/admin/admin_tokens", { key: extra.body.token })).status, 401);
    const missing = await call(env, "POST", "/v1/admin/admin_tokens/adt_01jd0000000000000000000000/revoke", {
      key: second.body.token,
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, "admin_token_not_found");
    // secret keys never reach the admin routes
    const owner = (await call(env, "POST", "/v1/admin/tenants", {
      key: second.body.token,
      body: { name: "rot-owner", app: "prod" },
    })).body;
    assert.equal(
      (await call(env, "POST", "/v1/admin/admin_tokens/roll", { key: owner.secret_key })).status,
      401,
    );
  } finally {
    await env.close();
  }
});
