// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * Paths are snake_case like Stripe's: `/v1/webhook_endpoints` and `/v1/audit_events`; the earlier
 * kebab-case paths stay as aliases, marked deprecated in /openapi.json, serving the same data.
 */
import assert from "node:assert/strict";
import { call, tenant, testEnv } from "../helpers.ts";

Deno.test("paths: /v1/webhook_endpoints and /v1/audit_events serve what their deprecated aliases serve", async () => {
  const env = await testEnv();
  try {
    const t = await tenant(env);
    const created = await call(env, "POST", "/v1/webhook_endpoints", {
      key: t.secret_key,
      body: { url: "https://example.com/hooks", events: ["*"] },
    });
    assert.equal(created.status, 201);
    const viaAlias = await call(env, "GET", `/v1/webhook-endpoints/${created.body.id}`, {
      key: t.secret_key,
    });
    const viaPath = await call(env, "GET", `/v1/webhook_endpoints/${created.body.id}`, { key: t.secret_key });
    assert.equal(viaPath.status, 200);
    assert.deepEqual(viaAlias.body, viaPath.body);
    const audit = await call(env, "GET", "/v1/audit_events", { key: t.secret_key });
    const auditAlias = await call(env, "GET", "/v1/audit-events", { key: t.secret_key });
    assert.equal(audit.status, 200);
    assert.ok(audit.body.data.length >= 1);
    assert.deepEqual(auditAlias.body, audit.body);
  } finally {
    await env.close();
  }
});

Deno.test("paths: every path is snake_case except the deprecated aliases, which /openapi.json marks", async () => {
  const env = await testEnv();
  try {
    const doc = (await call(env, "GET", "/openapi.json")).body;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      const operations = Object.values<any>(item);
      if (path.includes("-")) {
        assert.ok(operations.every((op) => op.deprecated === true), `${path} is a deprecated alias`);
      } else {
        assert.ok(operations.every((op) => !op.deprecated), `${path} is current`);
      }
    }
    assert.ok(doc.paths["/v1/webhook_endpoints"].post);
    assert.ok(doc.paths["/v1/audit_events"].get);
  } finally {
    await env.close();
  }
});
