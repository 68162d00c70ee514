// deno-lint-ignore-file no-explicit-any -- the OpenAPI document and API answers are read untyped here
/**
 * U+0000 in text is refused on every route (derived from the served OpenAPI document, so a new
 * route is covered without being listed): 400 `validation_failed` naming the field, and nothing
 * is written. Before the guard, SQLite stored such strings and the driver read them back cut at
 * the NUL, so an acknowledged `"cash\u0000evil"` listed as `"cash"`.
 */
import assert from "node:assert/strict";
import { ADMIN_TOKEN, call, snapshotCounts, tenant, testEnv } from "../helpers.ts";
import { nulPaths } from "../../src/http/text_guard.ts";

const NUL = "\u0000";

/** Resolves `$ref`s of the document's components. */
function deref(doc: any, schema: any): any {
  let current = schema;
  for (let i = 0; i < 10 && current?.$ref; i++) {
    current = doc.components.schemas[current.$ref.split("/").pop()];
  }
  return current;
}

/** The first string property of a JSON request body schema (the field the probe poisons). */
function firstStringProperty(doc: any, schema: any): string {
  const s = deref(doc, schema);
  for (const [name, prop] of Object.entries<any>(s?.properties ?? {})) {
    const p = deref(doc, prop);
    if (p?.type === "string" || (Array.isArray(p?.type) && p.type.includes("string"))) return name;
  }
  return "name";
}

Deno.test("U+0000 in a JSON body, a query parameter or a path is refused with 400 on every route, naming the field; nothing is written", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const doc = (await call(env, "GET", "/openapi.json")).body;
    const before = await snapshotCounts(env);
    let probed = 0;
    for (const [template, item] of Object.entries<any>(doc.paths)) {
      if (!template.startsWith("/v1/")) continue;
      for (const [method, op] of Object.entries<any>(item)) {
        if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
        const auth = template.startsWith("/v1/admin/") ? ADMIN_TOKEN : key;
        const path = template.replace(/\{[^}]+\}/g, "x");
        const bodySchema = op.requestBody?.content?.["application/json"]?.schema;
        if (bodySchema) {
          const field = firstStringProperty(doc, bodySchema);
          const res = await call(env, method.toUpperCase(), path, {
            key: auth,
            body: { [field]: `a${NUL}b` },
          });
          assert.equal(res.status, 400, `${method} ${template}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.code, "validation_failed", `${method} ${template}`);
          assert.deepEqual(res.body.fields.map((f: any) => f.path), [field], `${method} ${template}`);
          probed++;
        }
        const query = (op.parameters ?? []).find((p: any) => p.in === "query");
        if (query) {
          const res = await call(env, method.toUpperCase(), `${path}?${query.name}=a%00b`, { key: auth });
          assert.equal(res.status, 400, `${method} ${template} ?${query.name}`);
          assert.deepEqual(res.body.fields.map((f: any) => f.path), [`query.${query.name}`]);
          probed++;
        }
        if (template.includes("{")) {
          const res = await call(env, method.toUpperCase(), template.replace(/\{[^}]+\}/g, "x%00y"), {
            key: auth,
            ...(bodySchema ? { body: {} } : {}),
          });
          assert.equal(res.status, 400, `${method} ${template} path`);
          assert.deepEqual(res.body.fields.map((f: any) => f.path), ["path"]);
          probed++;
        }
      }
    }
    assert.ok(probed > 60, `probed ${probed} route inputs`);
    assert.deepEqual(await snapshotCounts(env), before, "no row was written by any refused request");
  } finally {
    await env.close();
  }
});

Deno.test("U+0000 in the fields users reported (account name, payment_intent_id, customer name) is refused and the valid twin is stored intact", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const account = await call(env, "POST", "/v1/ledger/accounts", {
      key,
      body: { name: `cash${NUL}evil`, type: "asset", currency: "USD" },
    });
    assert.equal(account.status, 400);
    assert.deepEqual(account.body.fields.map((f: any) => f.path), ["name"]);
    const customer = await call(env, "POST", "/v1/customers", {
      key,
      body: { external_id: "u1", name: `Ann${NUL}` },
    });
    assert.equal(customer.status, 400);
    assert.deepEqual(customer.body.fields.map((f: any) => f.path), ["name"]);
    const payment = await call(env, "POST", "/v1/ledger/payments", {
      key,
      body: { payment_intent_id: `pi_1${NUL}x`, amount: 100, currency: "USD" },
    });
    assert.equal(payment.status, 400);
    assert.ok(payment.body.fields.some((f: any) => f.path === "payment_intent_id"));
    const nested = await call(env, "POST", "/v1/events", {
      key,
      body: { events: [{ id: "e1", customer_id: "u1", feature: "f", properties: { [`k${NUL}`]: "v" } }] },
    });
    assert.equal(nested.status, 400);
    assert.deepEqual(nested.body.fields.map((f: any) => f.path), [`events.0.properties.k${NUL}`]);
    const ok = await call(env, "POST", "/v1/customers", {
      key,
      body: { external_id: "u2", name: "Ann Lee" },
    });
    assert.equal(ok.status, 201);
    assert.equal((await call(env, "GET", "/v1/customers/u2", { key })).body.name, "Ann Lee");
  } finally {
    await env.close();
  }
});

Deno.test("nulPaths(): finds NUL in keys and values at any depth without recursion", () => {
  let deep: unknown = `x${NUL}`;
  for (let i = 0; i < 100_000; i++) deep = { a: deep };
  assert.equal(nulPaths(deep).length, 1);
  assert.deepEqual(nulPaths({ a: ["ok", `b${NUL}`], [`c${NUL}`]: 1 }).sort(), ["a.1", `c${NUL}`]);
  assert.deepEqual(nulPaths({ a: "clean" }), []);
});
