// deno-lint-ignore-file no-explicit-any -- the OpenAPI document and JSON answers are read untyped here
/**
 * Tenancy probes derived from the served `/openapi.json`: every operation of the document is
 * called with another tenant's key and with another app of the owner's tenant, on the owner's
 * resources. A new route is probed without being listed here; a route whose path names a resource
 * this file has no fixture for fails the test until one is added.
 *
 * @module
 */
import assert from "node:assert/strict";
import { apiPlanBody, call, sessionHeaders, tenant, type TestEnv, testEnv } from "../helpers.ts";
import { fanOut } from "../../src/webhooks/delivery.ts";

type Keys = { tenant_id: string; app_id: string; secret_key: string; publishable_key: string };

/** The owner's resources, each created through the API. */
async function ownerWorld(env: TestEnv, owner: Keys) {
  const key = owner.secret_key;
  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await call(env, method, path, { key, body });
    assert.ok(res.status < 300, `fixture ${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const plan = await ok("POST", "/v1/plans", apiPlanBody());
  const customer = await ok("POST", "/v1/customers", { external_id: "owner-ext" });
  const sub = await ok("POST", "/v1/subscriptions", {
    customer_id: customer.id,
    plan_id: plan.id,
    start_at: "2026-02-01T00:00:00Z",
  });
  await ok("POST", "/v1/events", {
    events: [{ id: "owner-e1", customer_id: customer.id, feature: "api_calls", value: 5 }],
  });
  const coupon = await ok("POST", "/v1/coupons", { code: "OWNER10", percent_off: 10, duration: "once" });
  const taxRate = await ok("POST", "/v1/tax_rates", {
    display_name: "VAT",
    jurisdiction: "DE",
    percentage: 19,
    inclusive: false,
  });
  await ok("POST", `/v1/customers/${customer.id}/credit_grants`, {
    reference: "owner-topup",
    kind: "monetary",
    amount: 1000,
    currency: "USD",
    source: "purchased",
  });
  const draft = await ok("POST", "/v1/invoices", { subscription_id: sub.id });
  const open = await ok("POST", "/v1/invoices", {
    subscription_id: sub.id,
    period_start: "2026-02-01T00:00:00Z",
    period_end: "2026-03-01T00:00:00Z",
  });
  await ok("POST", `/v1/invoices/${open.id}/finalize`);
  const cash = await ok("POST", "/v1/ledger/accounts", { name: "cash", type: "asset", currency: "USD" });
  const wallet = await ok("POST", "/v1/ledger/accounts", {
    name: "wallet:owner",
    type: "liability",
    currency: "USD",
  });
  const entry = await ok("POST", "/v1/ledger/entries", {
    idempotency_key: "owner-fund",
    postings: [
      { account_id: cash.id, amount: 1000, currency: "USD" },
      { account_id: wallet.id, amount: -1000, currency: "USD" },
    ],
  });
  const hold = await ok("POST", "/v1/ledger/holds", {
    idempotency_key: "owner-hold",
    account_id: wallet.id,
    amount: 200,
    currency: "USD",
    ttl_seconds: 3600,
  });
  await ok("POST", "/v1/inventory/acquire", {
    idempotency_key: "owner-acq",
    subject: "owner-warehouse",
    item: "owner-sku",
    quantity: 10,
  });
  const inventoryHold = await ok("POST", "/v1/inventory/holds", {
    idempotency_key: "owner-ih",
    subject: "owner-warehouse",
    item: "owner-sku",
    quantity: 2,
    ttl_seconds: 3600,
  });
  const endpoint = await ok("POST", "/v1/webhook_endpoints", {
    url: "http://127.0.0.1:9/owner",
    events: ["*"],
  });
  await ok("POST", "/v1/customers", { external_id: "owner-ext-2" });
  const clock = await ok("POST", "/v1/test_clocks", { frozen_time: "2026-01-01T00:00:00Z", name: "owner" });
  await ok("POST", "/v1/customers", { external_id: "owner-on-clock", test_clock: clock.id });
  await ok("POST", "/v1/subscriptions", { customer_id: "owner-on-clock", plan_id: plan.id });
  await fanOut(env.services);
  const deliveries = await ok("GET", `/v1/webhook_endpoints/${endpoint.id}/deliveries`);
  assert.ok(deliveries.data.length > 0, "the owner's endpoint has deliveries");
  const ownerKeys = await call(env, "GET", "/v1/api_keys", { key: owner.secret_key });
  assert.equal(ownerKeys.status, 200);
  return {
    apiKey: ownerKeys.body.data.find((k: any) => k.kind === "secret").id as string,
    plan: plan.id as string,
    customer: customer.id as string,
    customerExternal: "owner-ext",
    subscription: sub.id as string,
    coupon: coupon.id as string,
    couponCode: "OWNER10",
    taxRate: taxRate.id as string,
    draft: draft.id as string,
    invoice: open.id as string,
    account: wallet.id as string,
    otherAccount: cash.id as string,
    entry: (entry.id ?? entry.entry?.id) as string,
    hold: (hold.id ?? hold.hold?.id) as string,
    inventoryHold: (inventoryHold.id ?? inventoryHold.hold?.id) as string,
    subject: "owner-warehouse",
    item: "owner-sku",
    endpoint: endpoint.id as string,
    delivery: deliveries.data[0].id as string,
    app: owner.app_id,
    testClock: clock.id as string,
  };
}

type World = Awaited<ReturnType<typeof ownerWorld>>;

/** The owner's resource behind each path parameter, by the path up to that parameter. */
function pathFixtures(w: World): Record<string, string> {
  return {
    "/v1/plans/{id}": w.plan,
    "/v1/customers/{id}": w.customer,
    "/v1/subscriptions/{id}": w.subscription,
    "/v1/invoices/{id}": w.invoice,
    "/v1/ledger/accounts/{id}": w.account,
    "/v1/ledger/entries/{id}": w.entry,
    "/v1/ledger/holds/{id}": w.hold,
    "/v1/inventory/holds/{id}": w.inventoryHold,
    "/v1/inventory/balances/{subject}": w.subject,
    "/v1/inventory/balances/{subject}/{item}": w.item,
    "/v1/coupons/{id}": w.coupon,
    "/v1/test_clocks/{id}": w.testClock,
    "/v1/webhook_endpoints/{id}": w.endpoint,
    "/v1/webhook_endpoints/{id}/deliveries/{delivery_id}": w.delivery,
    // the kebab-case aliases (deprecated in the document, still served)
    "/v1/webhook-endpoints/{id}": w.endpoint,
    "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}": w.delivery,
    "/v1/providers/stripe/webhook/{app_id}": w.app,
    "/v1/api_keys/{id}": w.apiKey,
    // admin routes: any id (an intruder's key is refused before it is read)
    "/v1/admin/admin_tokens/{id}": "adt_01jd0000000000000000000000",
  };
}

/** Request fields that name one of the owner's resources. */
function fieldFixtures(w: World): Record<string, string> {
  return {
    customer_id: w.customer,
    plan_id: w.plan,
    subscription_id: w.subscription,
    invoice_id: w.invoice,
    account_id: w.account,
    destination_account_id: w.otherAccount,
    source_account_id: w.account,
    hold_id: w.hold,
    tax_rate_id: w.taxRate,
    coupon_id: w.coupon,
    test_clock: w.testClock,
    coupon: w.couponCode,
    code: w.couponCode,
    entry_id: w.entry,
    endpoint_id: w.endpoint,
    subject: w.subject,
    item: w.item,
  };
}

/** A request value for a JSON schema: the owner's ids for id fields, small valid values otherwise. */
function sample(doc: any, schema: any, field: string, w: World, depth = 0): unknown {
  if (!schema || depth > 6) return undefined;
  if (schema.$ref) return sample(doc, resolve(doc, schema.$ref), field, w, depth + 1);
  const ids = fieldFixtures(w);
  if (field in ids && schema.type !== "object" && schema.type !== "array") return ids[field];
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const union = schema.anyOf ?? schema.oneOf;
  if (union) {
    const choice = union.find((s: any) => s.type !== "null") ?? union[0];
    return sample(doc, choice, field, w, depth + 1);
  }
  if (schema.allOf) {
    return Object.assign(
      {},
      ...schema.allOf.map((s: any) => sample(doc, s, field, w, depth + 1)),
    );
  }
  switch (schema.type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [name, property] of Object.entries<any>(schema.properties ?? {})) {
        if ((schema.required ?? []).includes(name) || name in ids || name === "currency") {
          out[name] = sample(doc, property, name, w, depth + 1);
        }
      }
      return out;
    }
    case "array": {
      const item = sample(doc, schema.items, field, w, depth + 1);
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => item);
    }
    case "integer":
    case "number":
      return Math.max(
        1,
        schema.minimum ?? 1,
        schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 1,
      );
    case "boolean":
      return false;
    case "string": {
      if (schema.format === "date-time") return "2026-03-01T00:00:00Z";
      if (/currency/.test(field)) return "USD";
      if (schema.format === "uri" || field === "url") return "https://hooks.example.com/x";
      if (/idempotency|reference/.test(field)) return `probe-${field}`;
      return "probe".padEnd(schema.minLength ?? 1, "x");
    }
  }
  return undefined;
}

function resolve(doc: any, ref: string): any {
  return ref.replace(/^#\//, "").split("/").reduce((node: any, part: string) => node?.[part], doc);
}

/** Bodies the sampler cannot guess (a valid shape is needed to reach the lookup). */
function bodyOverrides(w: World): Record<string, unknown> {
  return {
    "POST /v1/ledger/entries": {
      idempotency_key: "probe-entry",
      postings: [
        { account_id: w.otherAccount, amount: 5, currency: "USD" },
        { account_id: w.account, amount: -5, currency: "USD" },
      ],
    },
    "POST /v1/events": {
      events: [{ id: "probe-1", customer_id: w.customer, feature: "api_calls", value: 1000 }],
    },
    // tax rate lists name the owner's rate (a nullable array the sampler does not fill)
    "PUT /v1/customers/{id}/tax_rates": { tax_rate_ids: [w.taxRate] },
    "PUT /v1/subscriptions/{id}/tax_rates": { tax_rate_ids: [w.taxRate] },
  };
}

/** Every scoped row of one tenant app, as text (for "nothing of the owner changed"). */
async function ownerRows(env: TestEnv, owner: Keys): Promise<Record<string, string>> {
  const tables = await env.database.client.execute(
    "select name, sql from sqlite_master where type = 'table' and sql like '%`app_id`%' order by name",
  );
  const out: Record<string, string> = {};
  for (const row of tables.rows) {
    const name = String(row.name);
    const rows = await env.database.client.execute({
      sql: `select * from "${name}" where tenant_id = ? and app_id = ? order by rowid`,
      args: [owner.tenant_id, owner.app_id],
    });
    out[name] = JSON.stringify(rows.rows);
  }
  return out;
}

Deno.test("tenancy (from /openapi.json): every operation answers 404/403 on another scope's resources and changes nothing of them", async () => {
  const env = await testEnv();
  env.clock.set("2026-03-20T00:00:00Z");
  try {
    const owner = await tenant(env, "owner");
    const world = await ownerWorld(env, owner);
    const doc = (await call(env, "GET", "/openapi.json")).body;
    const fixtures = pathFixtures(world);
    const overrides = bodyOverrides(world);
    const ownerIds = new Set<string>(
      [...Object.values(world), owner.tenant_id].filter((v) => /^[a-z]+_[0-9a-z]{26}$/.test(v)),
    );
    const intruders: [string, Keys][] = [
      ["other tenant", await tenant(env, "intruder")],
      ["other app of the same tenant", await tenant(env, "owner", "staging")],
    ];
    const before = await ownerRows(env, owner);
    let probed = 0;
    let acceptedEmpty = 0;
    for (const [label, intruder] of intruders) {
      // The intruder's browser: its publishable key with a session for one of its own customers
      await call(env, "POST", "/v1/customers", {
        key: intruder.secret_key,
        body: { external_id: "intruder-own" },
      });
      const session = await sessionHeaders(env, intruder.secret_key, "intruder-own");
      for (const [template, operations] of Object.entries<any>(doc.paths)) {
        for (const [method, operation] of Object.entries<any>(operations)) {
          const op = `${method.toUpperCase()} ${template}`;
          // Path: the owner's resource for every parameter.
          let path = template;
          for (const match of template.matchAll(/\{([^}]+)\}/g)) {
            const prefix = template.slice(0, match.index! + match[0].length);
            const value = fixtures[prefix];
            assert.ok(value, `${op}: no owner fixture for ${prefix}; add one to pathFixtures()`);
            path = path.replace(match[0], encodeURIComponent(value));
          }
          const hasPathIds = path !== template;
          const clientNamed = /\{(subject|item)\}/.test(template);
          // Query: required parameters and any that names an owner's resource.
          const query = new URLSearchParams();
          for (const parameter of operation.parameters ?? []) {
            if (parameter.in !== "query") continue;
            if (!parameter.required && !(parameter.name in fieldFixtures(world))) continue;
            const value = sample(doc, parameter.schema, parameter.name, world);
            if (value !== undefined) query.set(parameter.name, String(value));
          }
          const url = query.size > 0 ? `${path}?${query}` : path;
          const schema = operation.requestBody?.content?.["application/json"]?.schema;
          const body = op in overrides ? overrides[op] : schema ? sample(doc, schema, "", world) : undefined;
          const sent = `${url} ${JSON.stringify(body ?? null)}`;
          const referencesOwner = [...ownerIds].some((id) => sent.includes(id)) ||
            sent.includes(world.customerExternal);
          const security = (operation.security ?? doc.security ?? []).flatMap((s: any) => Object.keys(s));
          // Liveness and readiness probes hold no tenant data: the same answer for every caller.
          if ((operation.tags ?? []).includes("health")) continue;
          const keys = security.includes("publishableKey")
            ? [intruder.secret_key, intruder.publishable_key]
            : [intruder.secret_key];
          for (const key of keys) {
            const headers = key === intruder.publishable_key ? session : {};
            const res = await call(env, method.toUpperCase(), url, { key, body, headers });
            probed++;
            const where = `${label}: ${op} (${url}) → ${res.status} ${JSON.stringify(res.body)}`;
            assert.ok(res.status < 500, where);
            if (security.includes("adminAuth")) {
              assert.equal(res.status, 401, where);
              continue;
            }
            if (security.length === 0) {
              // Signed provider callbacks: without the owner's signature nothing is accepted.
              assert.ok(res.status === 400 || res.status === 404, where);
              continue;
            }
            if (clientNamed && res.status === 200) {
              // Subjects and items are the client's own names: the same names in another scope are
              // another balance, never the owner's.
              const mine = await call(env, "GET", url, { key: owner.secret_key });
              assert.equal(mine.status, 200, where);
              assert.notDeepEqual(res.body, mine.body, where);
            } else if (hasPathIds) {
              assert.ok(res.status === 404 || res.status === 403, where);
              assert.equal(res.contentType, "application/problem+json", where);
            } else if (referencesOwner && res.status < 300) {
              // Accepted in the intruder's own scope: a list filtered by the owner's id is empty, a
              // batch rejects the owner's customer as not found, a free-form reference (a payment's
              // `customer_id` metadata) is kept as given. Either way the owner's rows stay as they
              // were (checked below) and nothing of the owner's is in the answer (checked next).
              const empty = Array.isArray(res.body?.data) && res.body.data.length === 0;
              if (empty || JSON.stringify(res.body).includes("not_found")) acceptedEmpty++;
            } else if (referencesOwner) {
              assert.ok([400, 403, 404, 422].includes(res.status), where);
            }
            // Nothing of the owner's shows up in an answer that was not already in the request.
            const text = JSON.stringify(res.body);
            for (const id of ownerIds) {
              if (!sent.includes(id)) assert.ok(!text.includes(id), `${where}: leaks ${id}`);
            }
          }
        }
      }
    }
    assert.ok(probed >= 2 * 70, `operations probed: ${probed}`);
    assert.deepEqual(await ownerRows(env, owner), before, "intruders changed nothing of the owner's");
    assert.ok(acceptedEmpty > 0, "some probes were accepted in the intruder's own scope with nothing found");
    // the owner still reaches its resources
    for (
      const path of [
        `/v1/plans/${world.plan}`,
        `/v1/invoices/${world.invoice}`,
        `/v1/ledger/holds/${world.hold}`,
      ]
    ) {
      assert.equal((await call(env, "GET", path, { key: owner.secret_key })).status, 200, path);
    }
  } finally {
    await env.close();
  }
});
