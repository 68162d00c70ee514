import assert from "node:assert/strict";
import { call, countRows, sessionHeaders, snapshotCounts, tenant, testEnv } from "../helpers.ts";

const ALLOWED = "https://app.example.com";
const OTHER = "https://evil.example.net";

async function setup() {
  const env = await testEnv();
  const a = await tenant(env);
  const b = await tenant(env);
  const patch = await call(env, "PATCH", "/v1/apps/current", {
    key: a.secret_key,
    body: { allowed_origins: ["HTTPS://App.Example.com:443/", ALLOWED, "http://localhost:5173"] },
  });
  assert.equal(patch.status, 200, JSON.stringify(patch.body));
  return { env, a, b, patch };
}

function preflight(env: Awaited<ReturnType<typeof setup>>["env"], path: string, origin: string) {
  return env.app.request(path, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization,content-type",
    },
  });
}

const event = (id: string) => JSON.stringify({ events: [{ id, customer_id: "u1", feature: "api_calls" }] });

Deno.test("PATCH /v1/apps/current normalizes and deduplicates origins; GET shows them", async () => {
  const { env, a, patch } = await setup();
  try {
    assert.deepEqual(patch.body.allowed_origins, ["http://localhost:5173", ALLOWED]);
    const again = await call(env, "PATCH", "/v1/apps/current", {
      key: a.secret_key,
      body: { allowed_origins: [ALLOWED, "http://localhost:5173"] },
    });
    assert.deepEqual(again.body, patch.body, "setting the same list again is a no-op");
    const get = await call(env, "GET", "/v1/apps/current", { key: a.secret_key });
    assert.equal(get.status, 200);
    assert.equal(get.body.id, a.app_id);
    assert.equal(get.body.name, "production");
    assert.deepEqual(get.body.allowed_origins, ["http://localhost:5173", ALLOWED]);
  } finally {
    await env.close();
  }
});

Deno.test("PATCH /v1/apps/current rejects paths, wildcards and other schemes field by field and writes nothing", async () => {
  const { env, a } = await setup();
  try {
    const before = await snapshotCounts(env);
    const res = await call(env, "PATCH", "/v1/apps/current", {
      key: a.secret_key,
      body: {
        allowed_origins: [
          "https://ok.example.com",
          "https://*.example.com",
          "https://x.example.com/app",
          "ftp://x.example.com",
          "nope",
        ],
      },
    });
    assert.equal(res.status, 400);
    assert.equal(res.contentType, "application/problem+json");
    assert.equal(res.body.code, "invalid_origin");
    assert.deepEqual(res.body.fields.map((f: { path: string }) => f.path), [
      "allowed_origins.1",
      "allowed_origins.2",
      "allowed_origins.3",
      "allowed_origins.4",
    ]);
    assert.deepEqual(await snapshotCounts(env), before);
    const pk = await call(env, "PATCH", "/v1/apps/current", {
      key: a.publishable_key,
      body: { allowed_origins: [] },
    });
    assert.equal(pk.status, 403);
    assert.equal(pk.body.code, "publishable_key_not_allowed");
  } finally {
    await env.close();
  }
});

Deno.test("preflight on publishable routes: approved for an allowed origin, silent for others", async () => {
  const { env } = await setup();
  try {
    for (const path of ["/v1/events", "/v1/entitlements/check"]) {
      const ok = await preflight(env, path, ALLOWED);
      assert.equal(ok.status, 204);
      assert.equal(ok.headers.get("access-control-allow-origin"), ALLOWED);
      assert.equal(ok.headers.get("access-control-allow-methods"), "POST");
      assert.equal(
        ok.headers.get("access-control-allow-headers"),
        "authorization,content-type,customer-session",
      );
      assert.equal(ok.headers.get("access-control-max-age"), "600");
      assert.match(ok.headers.get("vary") ?? "", /Origin/);
      const no = await preflight(env, path, OTHER);
      assert.equal(no.headers.get("access-control-allow-origin"), null, `${path} must not approve ${OTHER}`);
    }
  } finally {
    await env.close();
  }
});

Deno.test("secret-key routes do not answer browser preflights", async () => {
  const { env } = await setup();
  try {
    for (
      const path of ["/v1/plans", "/v1/customers", "/v1/apps/current", "/v1/invoices", "/v1/admin/tenants"]
    ) {
      const res = await preflight(env, path, ALLOWED);
      assert.equal(res.status, 403, path);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
      assert.equal((await res.json()).code, "cors_not_allowed");
      for (const h of res.headers.keys()) {
        assert.ok(!h.startsWith("access-control-"), `${path} answered ${h}`);
      }
    }
  } finally {
    await env.close();
  }
});

Deno.test("publishable key from an allowed origin gets CORS headers; from another origin 403 origin_not_allowed and nothing written", async () => {
  const { env, a, b } = await setup();
  try {
    await call(env, "POST", "/v1/customers", { key: a.secret_key, body: { external_id: "u1" } });
    const session = await sessionHeaders(env, a.secret_key, "u1");
    const post = (key: string, origin: string | null, id: string) =>
      env.app.request("/v1/events", {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          ...session,
          "content-type": "application/json",
          ...(origin ? { origin } : {}),
        },
        body: event(id),
      });
    const ok = await post(a.publishable_key, ALLOWED, "e1");
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.equal(ok.headers.get("access-control-allow-origin"), ALLOWED);
    assert.equal(
      ok.headers.get("access-control-expose-headers"),
      "x-request-id,x-correlation-id,idempotent-replayed,ratelimit-limit,ratelimit-remaining,ratelimit-reset,retry-after",
    );

    const before = await countRows(env, "usage_events");
    const refused = await post(a.publishable_key, OTHER, "e2");
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).code, "origin_not_allowed");
    assert.equal(refused.headers.get("access-control-allow-origin"), null);
    // app B lists no origin: its key is refused from A's origin (the preflight passed because A allows it)
    const otherApp = await post(b.publishable_key, ALLOWED, "e3");
    assert.equal(otherApp.status, 403);
    assert.equal(otherApp.headers.get("access-control-allow-origin"), null);
    assert.equal(await countRows(env, "usage_events"), before);

    // servers send no Origin: unaffected
    const server = await post(a.publishable_key, null, "e4");
    assert.equal(server.status, 200);
    assert.equal(server.headers.get("access-control-allow-origin"), null);
    // same-origin (the API's own pages, e.g. /docs) is not cross-origin
    const same = await post(a.publishable_key, "http://localhost", "e5");
    assert.equal(same.status, 200);

    // emptying the list closes the app to browsers at once
    await call(env, "PATCH", "/v1/apps/current", { key: a.secret_key, body: { allowed_origins: [] } });
    const closed = await post(a.publishable_key, ALLOWED, "e6");
    assert.equal(closed.status, 403);
    assert.equal(
      (await preflight(env, "/v1/events", ALLOWED)).headers.get("access-control-allow-origin"),
      null,
    );
  } finally {
    await env.close();
  }
});
