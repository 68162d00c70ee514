/**
 * Audit trail: one row per change, written with it; actor = the calling key's id, request id
 * of the HTTP request, digests chained before → after; filters and cursor; append-only.
 */
import assert from "node:assert/strict";
import { payloadHash } from "../../src/domain/hash.ts";
import { apiPlanBody, call, tenant, testEnv } from "../helpers.ts";

Deno.test("audit: each change records the key id, the request id and chained before/after digests", async () => {
  const env = await testEnv();
  try {
    const t = await tenant(env);
    const keyRow = await env.database.client.execute({
      sql: "select id from api_keys where app_id = ? and kind = 'secret'",
      args: [t.app_id],
    });
    const keyId = String(keyRow.rows[0].id);

    const created = await env.app.request("/v1/plans", {
      method: "POST",
      headers: {
        authorization: `Bearer ${t.secret_key}`,
        "content-type": "application/json",
        "x-request-id": "req-create-1",
      },
      body: JSON.stringify(apiPlanBody()),
    });
    assert.equal(created.status, 201);
    const plan = await created.json();
    const updated = await call(env, "PATCH", `/v1/plans/${plan.id}`, {
      key: t.secret_key,
      body: { name: "API Pro 2" },
    });
    assert.equal(updated.status, 200);
    const archived = await call(env, "POST", `/v1/plans/${plan.id}/archive`, { key: t.secret_key });

    const res = await call(env, "GET", `/v1/audit-events?resource_id=${plan.id}`, { key: t.secret_key });
    assert.equal(res.status, 200);
    const rows = res.body.data as {
      action: string;
      actor: string;
      request_id: string;
      before_digest: string | null;
      after_digest: string;
      resource_type: string;
    }[];
    assert.deepEqual(rows.map((r) => r.action), ["plan.archived", "plan.updated", "plan.created"]);
    assert.ok(rows.every((r) => r.actor === keyId && r.resource_type === "plan"));
    const [arch, upd, cre] = rows;
    // the server's own request id, never the client's X-Request-Id (kept apart as a correlation id)
    assert.equal(cre.request_id, created.headers.get("x-request-id"));
    assert.notEqual(cre.request_id, "req-create-1");
    assert.equal(created.headers.get("x-correlation-id"), "req-create-1");
    assert.ok(upd.request_id && upd.request_id !== cre.request_id);
    assert.equal(cre.before_digest, null);
    assert.equal(upd.before_digest, cre.after_digest);
    assert.equal(arch.before_digest, upd.after_digest);
    assert.equal(cre.after_digest, await payloadHash(plan));
    assert.equal(arch.after_digest, await payloadHash(archived.body));

    // Tenant provisioning is audited as the admin.
    const admin = await call(env, "GET", "/v1/audit-events?actor=admin", { key: t.secret_key });
    assert.deepEqual(admin.body.data.map((r: { action: string }) => r.action), ["tenant.created"]);
  } finally {
    await env.close();
  }
});

Deno.test("audit: filters, cursor pagination, tenant isolation and validation of GET /v1/audit-events", async () => {
  const env = await testEnv();
  try {
    const t = await tenant(env);
    const other = await tenant(env);
    for (let i = 0; i < 5; i++) {
      assert.equal(
        (await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: `u${i}` } }))
          .status,
        201,
      );
    }
    await call(env, "POST", "/v1/customers", { key: other.secret_key, body: { external_id: "x" } });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/v1/audit-events?action=customer.created&limit=2${
        cursor ? `&cursor=${cursor}` : ""
      }`;
      const page = await call(env, "GET", q, { key: t.secret_key });
      assert.equal(page.status, 200);
      assert.ok(page.body.data.length <= 2);
      seen.push(...page.body.data.map((r: { id: string }) => r.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.equal(seen.length, 5);
    assert.deepEqual([...seen].sort().reverse(), seen, "newest first, no duplicates across pages");

    const types = await call(env, "GET", "/v1/audit-events?resource_type=customer", {
      key: other.secret_key,
    });
    assert.equal(types.body.data.length, 1, "another tenant sees only its own rows");

    const window = await call(
      env,
      "GET",
      "/v1/audit-events?since=2026-01-15T12:00:00Z&until=2026-01-15T12:00:00.001Z",
      { key: t.secret_key },
    );
    assert.equal(window.body.data.length, 6); // tenant.created + 5 customers, all at the test clock's instant
    const empty = await call(env, "GET", "/v1/audit-events?until=2026-01-15T12:00:00Z", {
      key: t.secret_key,
    });
    assert.equal(empty.body.data.length, 0);

    const bad = await call(env, "GET", "/v1/audit-events?limit=0&since=yesterday", { key: t.secret_key });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, "validation_failed");
    assert.deepEqual(bad.body.fields.map((f: { path: string }) => f.path).sort(), [
      "query.limit",
      "query.since",
    ]);
    assert.equal((await call(env, "GET", "/v1/audit-events", { key: t.publishable_key })).status, 403);
    assert.equal((await call(env, "GET", "/v1/audit-events")).status, 401);
  } finally {
    await env.close();
  }
});

Deno.test("audit: rows are append-only (the database refuses UPDATE and DELETE)", async () => {
  const env = await testEnv();
  try {
    await tenant(env);
    await assert.rejects(
      env.database.client.execute("update audit_events set actor = 'someone else'"),
      /append-only/,
    );
    await assert.rejects(env.database.client.execute("delete from audit_events"), /append-only/);
    const rs = await env.database.client.execute("select actor from audit_events");
    assert.deepEqual(rs.rows.map((r) => r.actor), ["admin"]);
  } finally {
    await env.close();
  }
});
