/**
 * A key revoked in the database stops working, and the customer sessions it minted with it, in
 * two server processes sharing the database within the key cache's TTL (one second). The time
 * each process took is printed (no timed assertion beyond the documented bound).
 *
 * @module
 */
import assert from "node:assert/strict";
import { createClient } from "@libsql/client";
import { spawnServer } from "../process.ts";
import { KEY_CACHE_TTL_MS } from "../../src/tenants/service.ts";

const ADMIN = "revocation-admin-token-0123456789";

async function send(
  base: string,
  path: string,
  key: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("two processes: a revoked secret key and its customer sessions fail within KEY_CACHE_TTL_MS", async () => {
  const dir = await Deno.makeTempDir({ prefix: "billing-revoke-" });
  const env = { DATABASE_URL: `file:${dir}/billing.db`, BILLING_ADMIN_TOKEN: ADMIN, LOG_LEVEL: "error" };
  const a = await spawnServer(env);
  const b = await spawnServer(env);
  try {
    const t = (await send(a.base, "/v1/admin/tenants", ADMIN, { name: "revoke", app: "production" })).body;
    assert.equal((await send(a.base, "/v1/customers", t.secret_key, { external_id: "u" })).status, 201);
    const session = await send(b.base, "/v1/customer_sessions", t.secret_key, { customer_id: "u" });
    assert.equal(session.status, 201);
    const browser = { "customer-session": session.body.token };
    const check = (base: string) =>
      send(base, "/v1/entitlements/check", t.publishable_key, { customer_id: "u", feature: "x" }, browser);
    const server = (base: string) => send(base, "/v1/customers", t.secret_key, { external_id: "u" });
    for (const base of [a.base, b.base]) { // both processes have the key and the session cached
      assert.equal((await check(base)).status, 200);
      assert.equal((await server(base)).status, 200);
    }

    const db = createClient({ url: env.DATABASE_URL });
    const revokedAt = Date.now();
    await db.execute({
      sql: "update api_keys set revoked_at = ? where prefix = ?",
      args: [revokedAt, t.secret_key.slice(0, 10)],
    });
    db.close();
    const took: Record<string, number> = {};
    for (const [name, base] of [["a", a.base], ["b", b.base]] as const) {
      for (;;) {
        const [key, sessionCheck] = await Promise.all([server(base), check(base)]);
        if (key.status === 401 && sessionCheck.status === 401) {
          assert.equal(sessionCheck.body.code, "customer_session_invalid");
          took[name] = Date.now() - revokedAt;
          break;
        }
        assert.ok(
          Date.now() - revokedAt < KEY_CACHE_TTL_MS + 10_000,
          "revocation reaches both processes (the number printed is the measurement)",
        );
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    console.log(
      `revocation effective after: process a ${took.a} ms, process b ${took.b} ms (TTL ${KEY_CACHE_TTL_MS} ms)`,
    );
  } finally {
    await a.stop();
    await b.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

/** Polls `probe` until it answers 401; returns the milliseconds since `since`. */
async function until401(probe: () => Promise<{ status: number }>, since: number): Promise<number> {
  for (;;) {
    const res = await probe();
    if (res.status === 401) return Date.now() - since;
    assert.ok(Date.now() - since < KEY_CACHE_TTL_MS + 10_000, "revocation reaches the process");
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test("two processes: POST /v1/api_keys/{id}/revoke on one and an admin token revoked on one fail on both within a second", async () => {
  const dir = await Deno.makeTempDir({ prefix: "billing-revoke-api-" });
  const env = { DATABASE_URL: `file:${dir}/billing.db`, BILLING_ADMIN_TOKEN: ADMIN, LOG_LEVEL: "error" };
  const a = await spawnServer(env);
  const b = await spawnServer(env);
  try {
    const t =
      (await send(a.base, "/v1/admin/tenants", ADMIN, { name: "revoke-api", app: "production" })).body;
    const made = await send(a.base, "/v1/api_keys", t.secret_key, { name: "backend", scope: "usage_only" });
    assert.equal(made.status, 201);
    const check = (base: string) =>
      send(base, "/v1/entitlements/check", made.body.key, { customer_id: "nobody", feature: "x" });
    for (const base of [a.base, b.base]) assert.equal((await check(base)).status, 404); // cached, valid
    const revoked = await send(a.base, `/v1/api_keys/${made.body.id}/revoke`, t.secret_key, {});
    assert.equal(revoked.status, 200);
    const revokedAt = Date.now(); // measured from the revocation's answer
    const tookA = await until401(() => check(a.base), revokedAt);
    const tookB = await until401(() => check(b.base), revokedAt);
    assert.equal((await check(a.base)).status, 401, "the revoking process forgot at once");

    // admin tokens: roll on a, revoke the new token on b; a refuses it within a second
    const rolled = await send(a.base, "/v1/admin/admin_tokens/roll", ADMIN, { expires_in_seconds: 3600 });
    assert.equal(rolled.status, 201);
    const listed = (token: string, base: string) =>
      fetch(`${base}/v1/admin/admin_tokens`, { headers: { authorization: `Bearer ${token}` } })
        .then(async (r) => ({ status: r.status, body: await r.json() }));
    for (const base of [a.base, b.base]) assert.equal((await listed(rolled.body.token, base)).status, 200);
    const gone = await send(b.base, `/v1/admin/admin_tokens/${rolled.body.id}/revoke`, ADMIN, {});
    assert.equal(gone.status, 200);
    const adminRevokedAt = Date.now();
    const adminB = await until401(() => listed(rolled.body.token, b.base), adminRevokedAt);
    const adminA = await until401(() => listed(rolled.body.token, a.base), adminRevokedAt);
    console.log(
      `API revocation effective after: process a ${tookA} ms, process b ${tookB} ms; ` +
        `admin token: process b ${adminB} ms, process a ${adminA} ms (bound ${KEY_CACHE_TTL_MS} ms)`,
    );
  } finally {
    await a.stop();
    await b.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
