// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * The HTTP contract suite: one list of cases, each a function of a running deployment's base URL
 * and admin token, run unchanged against every runtime (`contract_deno_test.ts`: the Deno server
 * on an embedded libSQL file; `worker_runtime_test.ts`: the Worker and its Durable Objects in
 * workerd). Only real HTTP; no in-process shortcuts, no clock control (dates are computed from
 * the wall clock), no reads of the database behind the API.
 *
 * @module
 */
import assert from "node:assert/strict";
import Stripe from "stripe";
import { apiPlanBody } from "../helpers.ts";

/** A running deployment under test. `url()` is read per request (a restarted runtime may move). */
export interface Target {
  url(): string;
  adminToken: string;
  /**
   * Runs the periodic jobs once, as the runtime's scheduler would (the Workers cron trigger,
   * `Deno.cron`) and fails when a job failed. Absent: the runtime runs them in the background
   * (the Deno server's loops), and a case waits for their effect.
   */
  maintain?(): Promise<void>;
}

/** Response of {@link http}. */
export interface HttpResult<T = any> {
  status: number;
  body: T;
  contentType: string;
  headers: Headers;
}

/** One request over the network; `body` is JSON-encoded unless it is a string. */
/** Mints a customer session with the secret key; returns the header a browser sends with the publishable key. */
export async function browserSession(
  target: Target,
  secretKey: string,
  customerId: string,
): Promise<Record<string, string>> {
  const res = await http(target, "POST", "/v1/customer_sessions", {
    key: secretKey,
    body: { customer_id: customerId },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { "customer-session": res.body.token };
}

export async function http<T = any>(
  target: Target,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let payload: string | undefined;
  if (options.body !== undefined) {
    payload = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(new URL(path, target.url()), { method, headers, body: payload });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch { /* keep text */ }
  return {
    status: res.status,
    body: body as T,
    contentType: res.headers.get("content-type") ?? "",
    headers: res.headers,
  };
}

/** Keys of a tenant app created through the admin route. */
export interface TenantKeys {
  tenant_id: string;
  app_id: string;
  secret_key: string;
  publishable_key: string;
}

/** Creates a tenant app (fresh random tenant name unless given). */
export async function provision(
  target: Target,
  name = `t${crypto.randomUUID().slice(0, 12)}`,
  app = "production",
): Promise<TenantKeys> {
  const res = await http(target, "POST", "/v1/admin/tenants", {
    key: target.adminToken,
    body: { name, app },
  });
  assert.equal(res.status, 201, `provision(): ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as TenantKeys;
}

/** Asserts an RFC 9457 problem with the given status and code. */
export function assertProblem(res: HttpResult, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.contentType, /^application\/problem\+json/);
  assert.equal(res.body.code, code);
  assert.equal(res.body.status, status);
  assert.equal(res.body.type, `/problems/${code}`);
}

/** First instant of the UTC month `offset` months from now's month. */
function monthStart(offset: number): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
}

/** One contract case. */
export interface ContractCase {
  name: string;
  run(target: Target): Promise<void>;
}

/** The cases, in a stable order. */
export const contractCases: ContractCase[] = [
  {
    name: "health, OpenAPI document and unknown routes",
    async run(target) {
      const health = await http(target, "GET", "/healthz");
      assert.deepEqual([health.status, health.body], [200, { ok: true }]);
      const doc = await http(target, "GET", "/openapi.json");
      assert.equal(doc.status, 200);
      assert.equal(doc.body.openapi, "3.1.0");
      for (
        const path of [
          "/v1/plans",
          "/v1/events",
          "/v1/entitlements/check",
          "/v1/invoices",
          "/v1/ledger/balances",
        ]
      ) {
        assert.ok(doc.body.paths[path], `OpenAPI lists ${path}`);
      }
      const missing = await http(target, "GET", "/v1/nowhere", {});
      assert.equal(missing.status, 401); // /v1/* needs a key before routing
      assertProblem(await http(target, "GET", "/nowhere"), 404, "route_not_found");
      // the Worker's internal prefix is not reachable from outside on any runtime
      assertProblem(await http(target, "POST", "/__internal/usage", { body: [] }), 404, "route_not_found");
    },
  },
  {
    name: "authentication: admin token, secret and publishable keys",
    async run(target) {
      assertProblem(
        await http(target, "POST", "/v1/admin/tenants", { body: { name: "x", app: "y" } }),
        401,
        "unauthorized",
      );
      assertProblem(
        await http(target, "POST", "/v1/admin/tenants", {
          key: "wrong-token-0123456789",
          body: { name: "x", app: "y" },
        }),
        401,
        "unauthorized",
      );
      assertProblem(await http(target, "GET", "/v1/plans"), 401, "unauthorized");
      assertProblem(
        await http(target, "GET", "/v1/plans", { key: `sk_${"0".repeat(64)}` }),
        401,
        "unauthorized",
      );
      assertProblem(await http(target, "GET", "/v1/plans", { key: "sk_short" }), 401, "unauthorized");
      const keys = await provision(target);
      assert.match(keys.tenant_id, /^ten_/);
      assert.match(keys.secret_key, /^sk_[0-9a-f]{64}$/);
      assert.equal((await http(target, "GET", "/v1/plans", { key: keys.secret_key })).status, 200);
      assertProblem(
        await http(target, "GET", "/v1/plans", { key: keys.publishable_key }),
        403,
        "publishable_key_not_allowed",
      );
      // the admin token is not an API key
      assertProblem(await http(target, "GET", "/v1/plans", { key: target.adminToken }), 401, "unauthorized");
    },
  },
  {
    name:
      "api keys: create with a scope, list without the key, roll with a grace period, revoke within a second",
    async run(target) {
      const keys = await provision(target);
      const owner = keys.secret_key;
      const made = await http(target, "POST", "/v1/api_keys", {
        key: owner,
        body: { name: "ledger job", scope: "ledger_only" },
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      assert.match(made.body.key, /^sk_[0-9a-f]{64}$/);
      assert.equal((await http(target, "GET", "/v1/ledger/balances", { key: made.body.key })).status, 200);
      assertProblem(
        await http(target, "GET", "/v1/plans", { key: made.body.key }),
        403,
        "key_scope_not_allowed",
      );
      assertProblem(
        await http(target, "POST", "/v1/api_keys", { key: made.body.key, body: { name: "x" } }),
        403,
        "key_scope_not_allowed",
      );
      const list = await http(target, "GET", "/v1/api_keys?limit=2", { key: owner });
      assert.equal(list.status, 200);
      assert.equal(list.body.data.length, 2);
      assert.ok(list.body.next_cursor);
      assert.ok(!JSON.stringify(list.body).includes(made.body.key));
      const rolled = await http(target, "POST", `/v1/api_keys/${made.body.id}/roll`, {
        key: owner,
        body: { expires_in_seconds: 3600 },
      });
      assert.equal(rolled.status, 201, JSON.stringify(rolled.body));
      for (const key of [made.body.key, rolled.body.key.key]) {
        assert.equal((await http(target, "GET", "/v1/ledger/balances", { key })).status, 200);
      }
      const revoked = await http(target, "POST", `/v1/api_keys/${rolled.body.key.id}/revoke`, { key: owner });
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      const since = Date.now();
      for (;;) {
        const res = await http(target, "GET", "/v1/ledger/balances", { key: rolled.body.key.key });
        if (res.status === 401) break;
        assert.ok(Date.now() - since < 5_000, "a revoked key fails within the cache bound");
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal((await http(target, "GET", "/v1/ledger/balances", { key: made.body.key })).status, 200);
    },
  },
  {
    name: "provisioning: a second app joins its tenant; a repeated app conflicts; apps are isolated",
    async run(target) {
      const name = `t${crypto.randomUUID().slice(0, 12)}`;
      const prod = await provision(target, name, "production");
      const staging = await provision(target, name, "staging");
      assert.equal(staging.tenant_id, prod.tenant_id);
      assert.notEqual(staging.app_id, prod.app_id);
      assertProblem(
        await http(target, "POST", "/v1/admin/tenants", {
          key: target.adminToken,
          body: { name, app: "production" },
        }),
        409,
        "tenant_app_exists",
      );
      const plan = await http(target, "POST", "/v1/plans", { key: prod.secret_key, body: apiPlanBody() });
      assert.equal(plan.status, 201);
      assertProblem(
        await http(target, "GET", `/v1/plans/${plan.body.id}`, { key: staging.secret_key }),
        404,
        "plan_not_found",
      );
      const other = await provision(target);
      assertProblem(
        await http(target, "GET", `/v1/plans/${plan.body.id}`, { key: other.secret_key }),
        404,
        "plan_not_found",
      );
      assert.deepEqual((await http(target, "GET", "/v1/plans", { key: other.secret_key })).body.data, []);
    },
  },
  {
    name: "bad input answers problem+json with field paths and writes nothing",
    async run(target) {
      const { secret_key: key } = await provision(target);
      const broken = await http(target, "POST", "/v1/plans", { key, body: "{not json" });
      assert.equal(broken.status, 400);
      assert.match(broken.contentType, /^application\/problem\+json/);
      const invalid = await http(target, "POST", "/v1/plans", {
        key,
        body: { ...apiPlanBody(), currency: "usd", base_amount: -1 },
      });
      assertProblem(invalid, 400, "validation_failed");
      const paths = invalid.body.fields.map((f: { path: string }) => f.path).sort();
      assert.deepEqual(paths, ["base_amount", "currency"]);
      const plain = await http(target, "POST", "/v1/plans", {
        key,
        body: JSON.stringify(apiPlanBody()),
        headers: { "content-type": "text/plain" },
      });
      assert.equal(plain.status, 415);
      assert.deepEqual((await http(target, "GET", "/v1/plans", { key })).body.data, []);
      assertProblem(await http(target, "GET", "/v1/invoices/inv_nothing", { key }), 404, "invoice_not_found");
    },
  },
  {
    name: "plans CRUD and archive; an archived plan takes no subscriptions",
    async run(target) {
      const { secret_key: key } = await provision(target);
      const created = await http(target, "POST", "/v1/plans", { key, body: apiPlanBody() });
      assert.equal(created.status, 201);
      assert.match(created.body.id, /^pln_/);
      assert.equal(created.body.features[2].aggregation, "latest");
      assert.deepEqual(
        (await http(target, "GET", `/v1/plans/${created.body.id}`, { key })).body,
        created.body,
      );
      const replay = await http(target, "POST", "/v1/plans", { key, body: apiPlanBody() });
      assert.equal(replay.body.id, created.body.id, "an identical create is a replay");
      const patched = await http(target, "PATCH", `/v1/plans/${created.body.id}`, {
        key,
        body: { name: "API Pro 2", base_amount: 5900 },
      });
      assert.deepEqual([patched.status, patched.body.name, patched.body.base_amount], [
        200,
        "API Pro 2",
        5900,
      ]);
      const archived = await http(target, "POST", `/v1/plans/${created.body.id}/archive`, { key });
      assert.equal(archived.body.status, "archived");
      await http(target, "POST", "/v1/plans", { key, body: apiPlanBody({ key: "basic", name: "Basic" }) });
      const active = await http(target, "GET", "/v1/plans?status=active", { key });
      assert.deepEqual(active.body.data.map((p: { key: string }) => p.key), ["basic"]);
      await http(target, "POST", "/v1/customers", { key, body: { external_id: "c1" } });
      assertProblem(
        await http(target, "POST", "/v1/subscriptions", {
          key,
          body: { customer_id: "c1", plan_id: created.body.id },
        }),
        422,
        "plan_archived",
      );
    },
  },
  {
    name:
      "lists page with limit=2 (newest first, opaque cursor, filters); unknown parameters refused; the invoice preview with two tax rates equals the invoice then generated",
    async run(target) {
      const { secret_key: key } = await provision(target);
      const ok = async (method: string, path: string, body?: unknown) => {
        const res = await http(target, method, path, { key, body });
        assert.ok(
          res.status === 200 || res.status === 201,
          `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`,
        );
        return res.body;
      };
      const collect = async (path: string) => {
        const items: any[] = [];
        let cursor: string | null = null;
        do {
          const sep = path.includes("?") ? "&" : "?";
          const page: any = await ok("GET", `${path}${sep}limit=2${cursor ? `&cursor=${cursor}` : ""}`);
          assert.ok(page.data.length <= 2);
          items.push(...page.data);
          cursor = page.next_cursor;
        } while (cursor !== null);
        const ids = items.map((i) => i.id);
        assert.equal(new Set(ids).size, ids.length, `${path}: no duplicates`);
        assert.deepEqual(ids, [...ids].sort().reverse(), `${path}: newest first`);
        return ids;
      };
      const vat = await ok("POST", "/v1/tax_rates", {
        display_name: "VAT",
        percentage: 19,
        inclusive: false,
      });
      const levy = await ok("POST", "/v1/tax_rates", {
        display_name: "Levy",
        percentage: 2.5,
        inclusive: false,
      });
      const plans = [];
      for (const k of ["a", "b", "c"]) {
        plans.push((await ok("POST", "/v1/plans", apiPlanBody({ key: k }))).id);
      }
      const customers = [];
      const subs = [];
      for (let i = 0; i < 5; i++) {
        customers.push(
          (await ok("POST", "/v1/customers", { external_id: `l${i}`, tax_rate_ids: [vat.id, levy.id] })).id,
        );
        subs.push(
          (await ok("POST", "/v1/subscriptions", { customer_id: `l${i}`, plan_id: plans[i % 3] })).id,
        );
      }
      await ok("POST", `/v1/subscriptions/${subs[4]}/cancel`, {});
      const endpoints = [];
      for (let i = 0; i < 3; i++) {
        endpoints.push(
          (await ok("POST", "/v1/webhook_endpoints", { url: `https://example.com/l${i}`, events: ["*"] })).id,
        );
      }
      assert.deepEqual((await collect("/v1/plans")).sort(), [...plans].sort());
      assert.deepEqual((await collect("/v1/customers")).sort(), [...customers].sort());
      assert.deepEqual((await collect("/v1/subscriptions")).sort(), [...subs].sort());
      assert.deepEqual(await collect("/v1/subscriptions?status=canceled"), [subs[4]]);
      assert.deepEqual(await collect("/v1/subscriptions?customer_id=l1"), [subs[1]]);
      assert.deepEqual((await collect("/v1/webhook_endpoints")).sort(), [...endpoints].sort());

      // the preview equals the draft generated right after it (same rating code; nothing stored before)
      const preview = await ok("GET", `/v1/invoices/upcoming?subscription_id=${subs[0]}`);
      assert.equal(preview.id, null);
      assert.equal(
        (await collect(`/v1/invoices?subscription_id=${subs[0]}`)).length,
        0,
        "a preview stores nothing",
      );
      const invoice = await ok("POST", "/v1/invoices", { subscription_id: subs[0] });
      for (
        const field of [
          "lines",
          "subtotal",
          "discount",
          "tax",
          "taxes",
          "total",
          "period_start",
          "period_end",
        ]
      ) {
        assert.deepEqual(preview[field], invoice[field], field);
      }
      // api-pro's 4 900 base fee: 19 % = 931, 2.5 % = 122.5 → 123 (half up)
      assert.deepEqual(invoice.taxes.map((t: any) => [t.tax_rate_id, t.amount]), [[vat.id, 931], [
        levy.id,
        123,
      ]]);
      assert.deepEqual(await collect(`/v1/invoices?customer_id=l0&status=draft`), [invoice.id]);

      for (
        const path of [
          "/v1/customers?expand[]=x",
          "/v1/plans?limit=0",
          "/v1/invoices?limit=101",
          "/v1/subscriptions?cursor=bogus",
        ]
      ) {
        assertProblem(await http(target, "GET", path, { key }), 400, "validation_failed");
      }
    },
  },
  {
    name:
      "customer sessions: a publishable key acts only on its token's customer, and not after the token expires",
    async run(target) {
      const { secret_key: key, publishable_key: pk } = await provision(target);
      const plan = await http(target, "POST", "/v1/plans", { key, body: apiPlanBody() });
      for (const external_id of ["own", "victim"]) {
        await http(target, "POST", "/v1/customers", { key, body: { external_id } });
        await http(target, "POST", "/v1/subscriptions", {
          key,
          body: { customer_id: external_id, plan_id: plan.body.id },
        });
      }
      const write = (headers: Record<string, string>, customer: string, id: string) =>
        http(target, "POST", "/v1/events", {
          key: pk,
          headers,
          body: { events: [{ id, customer_id: customer, feature: "api_calls", value: 99000 }] },
        });
      assertProblem(await write({}, "victim", "no-session"), 401, "customer_session_required");
      const session = await browserSession(target, key, "own");
      const known = await write(session, "victim", "cross-1");
      const unknown = await write(session, "nobody-at-all", "cross-2");
      assertProblem(known, 403, "customer_not_allowed");
      assertProblem(unknown, 403, "customer_not_allowed");
      assert.equal(known.body.detail, unknown.body.detail, "known and unknown ids answer alike");
      assert.equal(await usedUnits(target, key, "victim", "api_calls"), 0);
      assert.equal((await write(session, "own", "own-1")).body.accepted, 1);

      // a one-second token stops working once its second is over
      const short = await http(target, "POST", "/v1/customer_sessions", {
        key,
        body: { customer_id: "own", expires_in_seconds: 1 },
      });
      const expiresAt = Date.parse(short.body.expires_at);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 20));
      assertProblem(
        await write({ "customer-session": short.body.token }, "own", "late-1"),
        401,
        "customer_session_expired",
      );
      assert.equal(await usedUnits(target, key, "own", "api_calls"), 99000);
    },
  },
  {
    name: "usage idempotency and entitlements flipping at the hard limit",
    async run(target) {
      const { secret_key: key, publishable_key: pk } = await provision(target);
      const plan = await http(target, "POST", "/v1/plans", {
        key,
        body: {
          key: "small",
          name: "Small",
          currency: "EUR",
          interval: "month",
          features: [
            { key: "exports", type: "metered", limit: 3, aggregation: "count" },
            { key: "emails", type: "metered", limit: 10, soft_limit: true },
            { key: "sso", type: "boolean" },
          ],
        },
      });
      await http(target, "POST", "/v1/customers", { key, body: { external_id: "acme-user" } });
      const session = await browserSession(target, key, "acme-user");
      const check = (feature: string) =>
        http(target, "POST", "/v1/entitlements/check", {
          key: pk,
          headers: session,
          body: { customer_id: "acme-user", feature },
        });
      assert.equal((await check("exports")).body.reason, "no_active_subscription");
      const sub = await http(target, "POST", "/v1/subscriptions", {
        key,
        body: { customer_id: "acme-user", plan_id: plan.body.id },
      });
      assert.equal(sub.body.status, "active");
      const allowed: boolean[] = [];
      for (let i = 0; i < 4; i++) {
        const decision = await check("exports");
        allowed.push(decision.body.allowed);
        if (decision.body.allowed) {
          const sent = await http(target, "POST", "/v1/events", {
            key: pk,
            headers: session,
            body: { events: [{ id: `x${i}`, customer_id: "acme-user", feature: "exports" }] },
          });
          assert.deepEqual(sent.body, { accepted: 1, duplicates: 0, rejected: [] });
        }
      }
      assert.deepEqual(allowed, [true, true, true, false]);
      const denied = await check("exports");
      assert.deepEqual([denied.body.used, denied.body.remaining, denied.body.reason], [
        3,
        0,
        "limit_reached",
      ]);
      // a retried batch is all duplicates; a reused id with another payload is rejected alone
      const batch = {
        events: [{ id: "m1", customer_id: "acme-user", feature: "emails", value: 12 }, {
          id: "m2",
          customer_id: "acme-user",
          feature: "emails",
          value: 1,
        }],
      };
      assert.deepEqual((await http(target, "POST", "/v1/events", { key, body: batch })).body, {
        accepted: 2,
        duplicates: 0,
        rejected: [],
      });
      assert.deepEqual((await http(target, "POST", "/v1/events", { key, body: batch })).body, {
        accepted: 0,
        duplicates: 2,
        rejected: [],
      });
      const reused = await http(target, "POST", "/v1/events", {
        key,
        body: { events: [{ id: "m1", customer_id: "acme-user", feature: "emails", value: 99 }] },
      });
      assert.deepEqual([reused.body.accepted, reused.body.rejected[0].code, reused.body.rejected[0].status], [
        0,
        "idempotency_key_reused",
        409,
      ]);
      const soft = await check("emails");
      assert.deepEqual([soft.body.allowed, soft.body.used, soft.body.reason], [
        true,
        13,
        "soft_limit_exceeded",
      ]);
      assert.equal((await check("sso")).body.reason, "included");
      assert.equal((await check("sla")).body.reason, "feature_not_in_plan");
      const canceled = await http(target, "POST", `/v1/subscriptions/${sub.body.id}/cancel`, {
        key,
        body: { at_period_end: false },
      });
      assert.equal(canceled.body.status, "canceled");
      assert.equal((await check("sso")).body.reason, "no_active_subscription");
    },
  },
  {
    name: "decimal and dimension prices: usage grouped by event properties, one invoice line per combination",
    async run(target) {
      const { secret_key: key } = await provision(target);
      const plan = await http(target, "POST", "/v1/plans", {
        key,
        body: {
          key: "ai",
          name: "AI",
          currency: "USD",
          interval: "month",
          features: [{
            key: "tokens",
            name: "Tokens",
            type: "metered",
            dimensions: ["model", "token_type"],
            pricing: { model: "per_unit", unit_amount_decimal: "0.00001" },
            dimension_prices: [
              {
                match: { token_type: "input" },
                pricing: { model: "per_unit", unit_amount_decimal: "0.000015" },
              },
              {
                match: { token_type: "output" },
                pricing: { model: "per_unit", unit_amount_decimal: "0.00006" },
              },
            ],
          }],
        },
      });
      assert.equal(plan.status, 201, JSON.stringify(plan.body));
      const start = monthStart(-3);
      const end = monthStart(-2);
      await http(target, "POST", "/v1/customers", { key, body: { external_id: "dim" } });
      const sub = await http(target, "POST", "/v1/subscriptions", {
        key,
        body: { customer_id: "dim", plan_id: plan.body.id, start_at: start.toISOString() },
      });
      assert.equal(sub.status, 201, JSON.stringify(sub.body));
      const at = (days: number) => new Date(start.getTime() + days * 86_400_000).toISOString();
      const event = (id: string, value: number, days: number, properties: Record<string, string>) => ({
        id,
        customer_id: "dim",
        feature: "tokens",
        value,
        timestamp: at(days),
        properties,
      });
      const events = [
        event("d1", 3_000_000, 1, { model: "m-large", token_type: "input" }),
        event("d2", 456_789, 2, { model: "m-large", token_type: "input" }),
        event("d3", 1_234_567, 3, { model: "m-small", token_type: "output" }),
        event("d4", 500_000, 4, { model: "m-small" }), // no token_type: no entry matches
      ];
      assert.equal((await http(target, "POST", "/v1/events", { key, body: { events } })).body.accepted, 4);
      const usage = await http(
        target,
        "GET",
        `/v1/usage?customer_id=dim&feature=tokens&from=${start.toISOString()}&to=${end.toISOString()}&group_by=model,token_type`,
        { key },
      );
      assert.equal(usage.status, 200, JSON.stringify(usage.body));
      assert.deepEqual(usage.body.groups, [
        { dimensions: { model: "m-large", token_type: "input" }, value: 3_456_789 },
        { dimensions: { model: "m-small", token_type: "output" }, value: 1_234_567 },
        { dimensions: { model: "m-small", token_type: null }, value: 500_000 },
      ]);
      const inv = await http(target, "POST", "/v1/invoices", {
        key,
        body: {
          subscription_id: sub.body.id,
          period_start: start.toISOString(),
          period_end: end.toISOString(),
        },
      });
      assert.equal(inv.status, 201, JSON.stringify(inv.body));
      // 3 456 789 × 0.000015 = 51.851835 → 52; 1 234 567 × 0.00006 = 74.07402 → 74;
      // 500 000 × 0.00001 (the feature's own price) = 5
      assert.deepEqual(
        inv.body.lines.map((l: any) => [l.dimensions, l.quantity, l.unit_amount_decimal, l.amount]),
        [
          [{ model: "m-large", token_type: "input" }, 3_456_789, "0.000015", 52],
          [{ model: "m-small", token_type: "output" }, 1_234_567, "0.00006", 74],
          [{ model: "m-small", token_type: null }, 500_000, "0.00001", 5],
        ],
      );
      assert.equal(inv.body.total, 131);
      const again = await http(target, "GET", `/v1/invoices/${inv.body.id}`, { key });
      assert.deepEqual(again.body.lines, inv.body.lines);
    },
  },
  {
    name: "a month is invoiced with worked totals, finalized, paid in parts and balanced in the ledger",
    async run(target) {
      const { secret_key: key } = await provision(target);
      const plan = await http(target, "POST", "/v1/plans", { key, body: apiPlanBody() });
      const start = monthStart(-3);
      const end = monthStart(-2);
      await http(target, "POST", "/v1/customers", {
        key,
        body: { external_id: "alice", email: "alice@example.test" },
      });
      const sub = await http(target, "POST", "/v1/subscriptions", {
        key,
        body: { customer_id: "alice", plan_id: plan.body.id, start_at: start.toISOString() },
      });
      assert.equal(sub.status, 201, JSON.stringify(sub.body));
      const at = (days: number) => new Date(start.getTime() + days * 86_400_000).toISOString();
      const events = [
        { id: "a1", customer_id: "alice", feature: "api_calls", value: 6000, timestamp: at(9) },
        {
          id: "a2",
          customer_id: "alice",
          feature: "api_calls",
          value: 200,
          timestamp: new Date(end.getTime() - 1000).toISOString(),
        },
        { id: "a3", customer_id: "alice", feature: "api_calls", value: 999, timestamp: end.toISOString() }, // next period
        { id: "a4", customer_id: "alice", feature: "storage_gb", value: 12, timestamp: at(10) },
        { id: "a5", customer_id: "alice", feature: "storage_gb", value: 7, timestamp: at(11) },
        { id: "a6", customer_id: "alice", feature: "seats", value: 4, timestamp: at(1) },
      ];
      assert.deepEqual((await http(target, "POST", "/v1/events", { key, body: { events } })).body, {
        accepted: 6,
        duplicates: 0,
        rejected: [],
      });
      const period = { period_start: start.toISOString(), period_end: end.toISOString() };
      const inv = await http(target, "POST", "/v1/invoices", {
        key,
        body: { subscription_id: sub.body.id, ...period },
      });
      assert.equal(inv.status, 201, JSON.stringify(inv.body));
      // 6200 calls − 1000 included → 1000×2 + 4000×1 + 200×1 + 500 flat; 12 GB × 80; (4−2) seats × 1000
      assert.deepEqual(inv.body.lines.map((l: any) => [l.feature, l.quantity, l.amount]), [
        [null, 1, 4900],
        ["api_calls", 1000, 2000],
        ["api_calls", 4000, 4000],
        ["api_calls", 200, 700],
        ["storage_gb", 12, 960],
        ["seats", 2, 2000],
      ]);
      assert.equal(inv.body.total, 14560);
      const again = await http(target, "POST", "/v1/invoices", {
        key,
        body: { subscription_id: sub.body.id, ...period },
      });
      assert.deepEqual([again.status, again.body.id], [200, inv.body.id]);
      const final = await http(target, "POST", `/v1/invoices/${inv.body.id}/finalize`, { key });
      assert.deepEqual([final.body.status, final.body.number], ["open", "INV-000001"]);
      const part = await http(target, "POST", `/v1/invoices/${inv.body.id}/pay`, {
        key,
        body: { amount: 4560, reference: "wire-1" },
      });
      assert.deepEqual([part.body.amount_paid, part.body.amount_due], [4560, 10000]);
      const retry = await http(target, "POST", `/v1/invoices/${inv.body.id}/pay`, {
        key,
        body: { amount: 4560, reference: "wire-1" },
      });
      assert.equal(retry.body.amount_paid, 4560, "a retried payment is not applied twice");
      assertProblem(
        await http(target, "POST", `/v1/invoices/${inv.body.id}/pay`, { key, body: { amount: 10001 } }),
        422,
        "payment_exceeds_amount_due",
      );
      const rest = await http(target, "POST", `/v1/invoices/${inv.body.id}/pay`, {
        key,
        body: { reference: "wire-2" },
      });
      assert.deepEqual([rest.body.status, rest.body.amount_due], ["paid", 0]);
      assertProblem(
        await http(target, "POST", `/v1/invoices/${inv.body.id}/pay`, { key, body: {} }),
        409,
        "invoice_not_open",
      );
      const balances = await http(target, "GET", "/v1/ledger/balances", { key });
      const by = Object.fromEntries(balances.body.data.map((a: any) => [a.name, a.balance]));
      assert.deepEqual([by.cash, by.revenue, by[`accounts_receivable:${inv.body.customer_id}`]], [
        14560,
        14560,
        0,
      ]);
      assert.equal(balances.body.data.reduce((s: number, a: any) => s + a.debits_minus_credits, 0), 0);
    },
  },
  {
    name: "ledger: accounts, idempotent entries, holds captured in part, overdraft refused",
    async run(target) {
      const { secret_key: key } = await provision(target);
      const account = async (name: string, type: string, extra: Record<string, unknown> = {}) => {
        const res = await http(target, "POST", "/v1/ledger/accounts", {
          key,
          body: { name, type, currency: "USD", ...extra },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        return res.body.id as string;
      };
      const cash = await account("cash", "asset");
      const wallet = await account("wallet:alice", "liability", { debits_must_not_exceed_credits: true });
      const merchant = await account("merchant:bob", "liability");
      const entry = {
        idempotency_key: "top-up-1",
        postings: [{ account_id: cash, amount: 1000, currency: "USD" }, {
          account_id: wallet,
          amount: -1000,
          currency: "USD",
        }],
      };
      const posted = await http(target, "POST", "/v1/ledger/entries", { key, body: entry });
      assert.deepEqual([posted.status, posted.body.replayed], [201, false]);
      const replay = await http(target, "POST", "/v1/ledger/entries", { key, body: entry });
      assert.deepEqual([
        replay.status,
        replay.body.replayed,
        replay.body.id,
        replay.headers.get("idempotent-replayed"),
      ], [200, true, posted.body.id, "true"]);
      const reused = await http(target, "POST", "/v1/ledger/entries", {
        key,
        body: {
          ...entry,
          postings: [{ ...entry.postings[0], amount: 5 }, { ...entry.postings[1], amount: -5 }],
        },
      });
      assertProblem(reused, 409, "idempotency_key_reused");
      const unbalanced = await http(target, "POST", "/v1/ledger/entries", {
        key,
        body: {
          idempotency_key: "bad",
          postings: [{ account_id: cash, amount: 10, currency: "USD" }, {
            account_id: wallet,
            amount: -9,
            currency: "USD",
          }],
        },
      });
      assert.equal(
        unbalanced.status >= 400 && unbalanced.status < 500,
        true,
        JSON.stringify(unbalanced.body),
      );
      const hold = await http(target, "POST", "/v1/ledger/holds", {
        key,
        body: {
          idempotency_key: "order-1",
          account_id: wallet,
          destination_account_id: merchant,
          amount: 300,
          currency: "USD",
          ttl_seconds: 600,
        },
      });
      assert.deepEqual([hold.status, hold.body.status], [201, "pending"]);
      const held = await http(target, "GET", `/v1/ledger/accounts/${wallet}/balance`, { key });
      assert.deepEqual([held.body.posted, held.body.held, held.body.available], [1000, 300, 700]);
      assertProblem(
        await http(target, "POST", "/v1/ledger/holds", {
          key,
          body: {
            idempotency_key: "order-2",
            account_id: wallet,
            amount: 701,
            currency: "USD",
            ttl_seconds: 600,
          },
        }),
        422,
        "insufficient_balance",
      );
      const captured = await http(target, "POST", `/v1/ledger/holds/${hold.body.id}/capture`, {
        key,
        body: { amount: 200 },
      });
      assert.deepEqual([captured.status, captured.body.hold.status, captured.body.hold.captured_amount], [
        200,
        "captured",
        200,
      ]);
      const again = await http(target, "POST", `/v1/ledger/holds/${hold.body.id}/capture`, {
        key,
        body: { amount: 200 },
      });
      assert.deepEqual([again.status, again.body.replayed, again.body.entry.id], [
        200,
        true,
        captured.body.entry.id,
      ]);
      const after = await http(target, "GET", `/v1/ledger/accounts/${wallet}/balance`, { key });
      assert.deepEqual([after.body.posted, after.body.held, after.body.available], [800, 0, 800]);
      const paid = await http(target, "GET", `/v1/ledger/accounts/${merchant}/balance`, { key });
      assert.equal(paid.body.posted, 200);
    },
  },
  {
    name: "audit trail, webhook endpoints (secret shown once) and the signed Stripe webhook route",
    async run(target) {
      const { secret_key: key, app_id } = await provision(target);
      const created = await http(target, "POST", "/v1/webhook-endpoints", {
        key,
        body: { url: "https://example.com/hooks", events: ["invoice.*"] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.match(created.body.secret, /^whsec_/);
      const shown = await http(target, "GET", `/v1/webhook-endpoints/${created.body.id}`, { key });
      assert.deepEqual([shown.status, shown.body.secret], [200, undefined]);
      const audit = await http(target, "GET", `/v1/audit-events?resource_id=${created.body.id}`, { key });
      assert.equal(audit.status, 200);
      assert.deepEqual(audit.body.data.map((a: { action: string }) => a.action), [
        "webhook_endpoint.created",
      ]);
      assert.match(audit.body.data[0].actor, /^key_/);
      assert.equal(audit.body.data[0].request_id, created.headers.get("x-request-id"));

      const secret = "whsec_contractSigningSecret01";
      const configured = await http(target, "PUT", "/v1/providers/stripe", {
        key,
        body: { secret_key: "sk_test_contract0123", webhook_secret: secret },
      });
      assert.equal(configured.status, 200, JSON.stringify(configured.body));
      const payload = JSON.stringify({
        id: `evt_${crypto.randomUUID().slice(0, 8)}`,
        object: "event",
        type: "customer.updated",
        data: { object: { id: "cus_x", object: "customer" } },
      });
      const signer = new Stripe("sk_test_contract0123");
      const header = await signer.webhooks.generateTestHeaderStringAsync({ payload, secret });
      const path = `/v1/providers/stripe/webhook/${app_id}`;
      const ok = await http(target, "POST", path, { body: payload, headers: { "stripe-signature": header } });
      assert.deepEqual(
        [ok.status, ok.body.effect, ok.body.duplicate],
        [200, "ignored", false],
        JSON.stringify(ok.body),
      );
      const replay = await http(target, "POST", path, {
        body: payload,
        headers: { "stripe-signature": header },
      });
      assert.deepEqual([replay.status, replay.body.duplicate], [200, true]);
      const forged = await signer.webhooks.generateTestHeaderStringAsync({
        payload,
        secret: "whsec_notTheRightSecret000",
      });
      assertProblem(
        await http(target, "POST", path, { body: payload, headers: { "stripe-signature": forged } }),
        400,
        "signature_invalid",
      );
    },
  },
  {
    name:
      "CORS: a keyless preflight is approved for an origin an app allows; the key's own app decides the real request",
    async run(target) {
      const { secret_key: key, publishable_key: pk } = await provision(target);
      const allowed = `https://shop-${crypto.randomUUID().slice(0, 8)}.example.com`;
      const other = "https://evil.example.net";
      const preflight = (origin: string) =>
        fetch(new URL("/v1/events", target.url()), {
          method: "OPTIONS",
          headers: {
            origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type,customer-session",
          },
        });
      const before = await preflight(allowed);
      await before.body?.cancel();
      assert.equal(before.headers.get("access-control-allow-origin"), null, "no app allows it yet");
      const patch = await http(target, "PATCH", "/v1/apps/current", {
        key,
        body: { allowed_origins: [allowed] },
      });
      assert.equal(patch.status, 200, JSON.stringify(patch.body));
      const ok = await preflight(allowed);
      await ok.body?.cancel();
      assert.deepEqual([ok.status, ok.headers.get("access-control-allow-origin")], [204, allowed]);
      const refused = await preflight(other);
      await refused.body?.cancel();
      assert.equal(refused.headers.get("access-control-allow-origin"), null);
      await http(target, "POST", "/v1/customers", { key, body: { external_id: "browser-user" } });
      const session = await browserSession(target, key, "browser-user");
      const check = await http(target, "POST", "/v1/entitlements/check", {
        key: pk,
        body: { customer_id: "browser-user", feature: "exports" },
        headers: { origin: allowed, ...session },
      });
      assert.deepEqual([check.status, check.headers.get("access-control-allow-origin")], [200, allowed]);
      assertProblem(
        await http(target, "POST", "/v1/entitlements/check", {
          key: pk,
          body: { customer_id: "browser-user", feature: "exports" },
          headers: { origin: other, ...session },
        }),
        403,
        "origin_not_allowed",
      );
    },
  },
  {
    name: "inventory: acquire, reserve, commit, release, refuse shortfalls, replay retries",
    async run(target) {
      const { secret_key: key } = await provision(target);
      const balance = async (subject: string) => {
        const res = await http(target, "GET", `/v1/inventory/balances/${subject}/sku_1`, { key });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return [res.body.free, res.body.on_hold, res.body.total];
      };
      const acquire = { idempotency_key: "receive-1", subject: "warehouse", item: "sku_1", quantity: 10 };
      assert.equal((await http(target, "POST", "/v1/inventory/acquire", { key, body: acquire })).status, 201);
      const replay = await http(target, "POST", "/v1/inventory/acquire", { key, body: acquire });
      assert.deepEqual([replay.status, replay.body.replayed], [200, true]);
      assert.deepEqual(await balance("warehouse"), [10, 0, 10]);
      const hold = await http(target, "POST", "/v1/inventory/holds", {
        key,
        body: {
          idempotency_key: "cart-1",
          subject: "warehouse",
          item: "sku_1",
          quantity: 4,
          ttl_seconds: 600,
        },
      });
      assert.deepEqual([hold.status, hold.body.hold.status], [201, "pending"]);
      assert.deepEqual(await balance("warehouse"), [6, 4, 10]);
      assertProblem(
        await http(target, "POST", "/v1/inventory/consume", {
          key,
          body: { idempotency_key: "sell-1", subject: "warehouse", item: "sku_1", quantity: 7 },
        }),
        422,
        "insufficient_quantity",
      );
      const committed = await http(target, "POST", `/v1/inventory/holds/${hold.body.hold.id}/commit`, {
        key,
      });
      assert.deepEqual([committed.status, committed.body.hold.status], [200, "committed"]);
      assert.deepEqual(await balance("warehouse"), [6, 0, 6]);
      const second = await http(target, "POST", "/v1/inventory/holds", {
        key,
        body: {
          idempotency_key: "cart-2",
          subject: "warehouse",
          item: "sku_1",
          quantity: 2,
          ttl_seconds: 600,
        },
      });
      const released = await http(target, "POST", `/v1/inventory/holds/${second.body.hold.id}/release`, {
        key,
      });
      assert.equal(released.body.hold.status, "released");
      const moved = await http(target, "POST", "/v1/inventory/transfer", {
        key,
        body: { idempotency_key: "move-1", from: "warehouse", to: "store", item: "sku_1", quantity: 5 },
      });
      assert.equal(moved.status, 201, JSON.stringify(moved.body));
      assert.deepEqual([await balance("warehouse"), await balance("store")], [[1, 0, 1], [5, 0, 5]]);
    },
  },
  {
    name: "entitlement check with consume: atomic check-and-use at the hard limit, once per idempotency key",
    async run(target) {
      const { secret_key: key, publishable_key: pk } = await provision(target);
      const plan = await http(target, "POST", "/v1/plans", {
        key,
        body: {
          key: "seats",
          name: "Seats",
          currency: "USD",
          interval: "month",
          features: [{ key: "exports", type: "metered", limit: 2 }],
        },
      });
      await http(target, "POST", "/v1/customers", { key, body: { external_id: "casey" } });
      await http(target, "POST", "/v1/subscriptions", {
        key,
        body: { customer_id: "casey", plan_id: plan.body.id },
      });
      const session = await browserSession(target, key, "casey");
      const use = (id: string) =>
        http(target, "POST", "/v1/entitlements/check", {
          key: pk,
          headers: session,
          body: { customer_id: "casey", feature: "exports", consume: 1, idempotency_key: id },
        });
      const first = await use("u1");
      assert.deepEqual(
        [first.status, first.body.allowed, first.body.used],
        [200, true, 1],
        JSON.stringify(first.body),
      );
      const retried = await use("u1");
      assert.deepEqual([retried.body.allowed, retried.body.used], [true, 1], "a retry consumes once");
      assert.equal((await use("u2")).body.allowed, true);
      const denied = await use("u3");
      assert.deepEqual([denied.body.allowed, denied.body.used, denied.body.reason], [
        false,
        2,
        "limit_reached",
      ]);
      assertProblem(
        await http(target, "POST", "/v1/entitlements/check", {
          key: pk,
          headers: session,
          body: { customer_id: "casey", feature: "exports", consume: 1 },
        }),
        400,
        "validation_failed",
      );
    },
  },
  {
    name:
      "decimal quantities and a credit pool: exact sums, 12-place consumes, credits by dimension, never overdrawn",
    async run(target) {
      const { secret_key: key } = await provision(target);
      const plan = await http(target, "POST", "/v1/plans", {
        key,
        body: {
          key: "ai",
          name: "AI",
          currency: "USD",
          interval: "month",
          features: [
            { key: "gb_hours", type: "metered", limit: "2.5" },
            { key: "credits", type: "credit_system", limit: 20 },
            {
              key: "calls",
              type: "metered",
              credit_system: "credits",
              credit_cost: 1,
              dimensions: ["model"],
              dimension_prices: [{ match: { model: "m-large" }, credit_cost: 5 }],
            },
          ],
        },
      });
      assert.equal(plan.status, 201, JSON.stringify(plan.body));
      assert.deepEqual(plan.body.features[0].limit, "2.5");
      await http(target, "POST", "/v1/customers", { key, body: { external_id: "dana" } });
      await http(target, "POST", "/v1/subscriptions", { key, body: { customer_id: "dana", plan_id: "ai" } });
      const sent = await http(target, "POST", "/v1/events", {
        key,
        body: {
          events: [
            { id: "g1", customer_id: "dana", feature: "gb_hours", value: 0.25 },
            { id: "g2", customer_id: "dana", feature: "gb_hours", value: "0.5" },
            { id: "g3", customer_id: "dana", feature: "gb_hours", value: "1.125" },
          ],
        },
      });
      assert.deepEqual([sent.status, sent.body.accepted], [200, 3], JSON.stringify(sent.body));
      const from = monthStart(0).toISOString();
      const to = monthStart(1).toISOString();
      const gb = await http(
        target,
        "GET",
        `/v1/usage?customer_id=dana&feature=gb_hours&from=${from}&to=${to}`,
        {
          key,
        },
      );
      assert.equal(gb.body.value, "1.875", JSON.stringify(gb.body)); // 0.25 + 0.5 + 1.125
      const consume = (feature: string, n: number | string, id: string, model?: string) =>
        http(target, "POST", "/v1/entitlements/check", {
          key,
          body: {
            customer_id: "dana",
            feature,
            consume: n,
            idempotency_key: id,
            ...(model ? { properties: { model } } : {}),
          },
        });
      // 1.875 + 0.625 = 2.5 ≤ 2.5: allowed; then 0.000000000001 more is denied
      const fits = await consume("gb_hours", "0.625", "gb-1");
      assert.deepEqual([fits.body.allowed, fits.body.used, fits.body.remaining], [true, "2.5", 0]);
      assert.equal((await consume("gb_hours", "0.000000000001", "gb-2")).body.allowed, false);
      // a pool of 20 credits: 3 m-large (15) + 5 m-small (5) fit, the 4th m-large does not
      const asks = [
        ...Array.from({ length: 4 }, (_, i) => ["m-large", `l${i}`]),
        ...Array.from({ length: 5 }, (_, i) => ["m-small", `s${i}`]),
      ];
      const answers = await Promise.all(asks.map(([model, id]) => consume("calls", 1, id, model)));
      const credits = answers.reduce(
        (n, r, i) => n + (r.body.allowed ? (asks[i][0] === "m-large" ? 5 : 1) : 0),
        0,
      );
      assert.ok(credits <= 20, `overdrawn: ${credits}`);
      const pool = await http(target, "POST", "/v1/entitlements/check", {
        key,
        body: { customer_id: "dana", feature: "calls", properties: { model: "m-small" } },
      });
      assert.deepEqual(
        [pool.body.credit_system, pool.body.used, pool.body.limit],
        ["credits", credits, 20],
        JSON.stringify(pool.body),
      );
      const used = await http(
        target,
        "GET",
        `/v1/usage?customer_id=dana&feature=credits&from=${from}&to=${to}`,
        {
          key,
        },
      );
      assert.equal(used.body.value, credits, "pool usage derived from the stored events = the counter");
    },
  },
  ...atSizeCases(),
  {
    name:
      "test clocks: a bound customer is billed on the clock's time; advance is idempotent, never backwards; interval change; delete",
    async run(target) {
      const { secret_key: key } = await provision(target);
      const api = async (method: string, path: string, body?: unknown, expected?: number) => {
        const res = await http(target, method, path, { key, body });
        if (expected !== undefined) {
          assert.equal(res.status, expected, `${method} ${path}: ${JSON.stringify(res.body)}`);
        }
        return res;
      };
      const clock =
        (await api("POST", "/v1/test_clocks", { frozen_time: "2026-01-01T00:00:00Z", name: "c" }, 201)).body;
      assert.deepEqual([clock.frozen_time, clock.status], ["2026-01-01T00:00:00.000Z", "ready"]);
      const feature = {
        key: "api_calls",
        name: "API calls",
        type: "metered",
        limit: null,
        aggregation: "sum",
        pricing: { model: "per_unit", unit_amount: 2 },
      };
      for (const [k, interval, base] of [["m", "month", 1000], ["y", "year", 10000]] as const) {
        await api("POST", "/v1/plans", {
          key: k,
          name: k,
          currency: "USD",
          interval,
          base_amount: base,
          features: [feature],
        }, 201);
      }
      await api("POST", "/v1/customers", { external_id: "on-clock", test_clock: clock.id }, 201);
      const sub =
        (await api("POST", "/v1/subscriptions", { customer_id: "on-clock", plan_id: "m" }, 201)).body;
      assert.equal(sub.start_at, "2026-01-01T00:00:00.000Z");
      // no timestamp → the clock's time (January): 10 calls × 2 = 20 on January's invoice
      const usage = await api("POST", "/v1/events", {
        events: [{ id: "c-1", customer_id: "on-clock", feature: "api_calls", value: 10 }],
      }, 200);
      assert.equal(usage.body.accepted, 1);
      await api("POST", `/v1/test_clocks/${clock.id}/advance`, { frozen_time: "2026-03-01T02:00:00Z" }, 200);
      const list = async () =>
        ((await api("GET", "/v1/invoices?customer_id=on-clock&limit=100", undefined, 200)).body.data as any[])
          .sort((a, b) => a.period_start.localeCompare(b.period_start));
      const invoices = await list();
      // January: 1000 + 20; February: 1000; each finalized at its period end + 1 h
      assert.deepEqual(
        invoices.map((i) => [i.period_start.slice(0, 10), i.total, i.status, i.finalized_at]),
        [
          ["2026-01-01", 1020, "open", "2026-02-01T01:00:00.000Z"],
          ["2026-02-01", 1000, "open", "2026-03-01T01:00:00.000Z"],
        ],
      );
      await api("POST", `/v1/test_clocks/${clock.id}/advance`, { frozen_time: "2026-03-01T02:00:00Z" }, 200);
      assert.equal((await list()).length, 2, "advancing to the same instant does nothing");
      assertProblem(
        await api("POST", `/v1/test_clocks/${clock.id}/advance`, { frozen_time: "2026-02-01T00:00:00Z" }),
        400,
        "frozen_time_in_past",
      );
      // month → year on 03-11 (10 of 31 days used): 1000 − round(1000 × 21/31 = 677.4) = 1000 − 677 = 323
      await api("POST", `/v1/test_clocks/${clock.id}/advance`, { frozen_time: "2026-03-11T00:00:00Z" }, 200);
      const changed = (await api("POST", `/v1/subscriptions/${sub.id}/change`, { plan_id: "y" }, 200)).body;
      assert.deepEqual([changed.current_period_start, changed.current_period_end], [
        "2026-03-11T00:00:00.000Z",
        "2027-03-11T00:00:00.000Z",
      ]);
      const cut = (await list())[2];
      assert.deepEqual([cut.period_end, cut.total, cut.status], ["2026-03-11T00:00:00.000Z", 323, "open"]);
      const page = await api("GET", "/v1/test_clocks?limit=1", undefined, 200);
      assert.deepEqual([page.body.data.length, page.body.next_cursor], [1, null]);
      const gone = await api("DELETE", `/v1/test_clocks/${clock.id}`, undefined, 200);
      assert.deepEqual(gone.body, { id: clock.id, deleted: true, deleted_customers: 1 });
      assertProblem(await api("GET", `/v1/test_clocks/${clock.id}`), 404, "test_clock_not_found");
      assertProblem(await api("GET", "/v1/customers/on-clock"), 404, "customer_not_found");
      assertProblem(await api("GET", `/v1/invoices/${cut.id}`), 404, "invoice_not_found");
    },
  },
];

/** Polls `probe` until it returns true; fails after `seconds` (a bound for slow CI, not a timing assertion). */
async function eventually(what: string, probe: () => Promise<boolean>, seconds = 90): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(await probe())) {
    assert.ok(Date.now() < deadline, `${what} (gave up after ${seconds} s)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Entitlement check of `feature` for `customer`: units used in the current period. */
async function usedUnits(target: Target, key: string, customer: string, feature: string): Promise<number> {
  const res = await http(target, "POST", "/v1/entitlements/check", {
    key,
    body: { customer_id: customer, feature },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.used;
}

/** Sends events synchronously in batches of 1000 and asserts each is accepted whole. */
async function sendAll(target: Target, key: string, events: unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const res = await http(target, "POST", "/v1/events", {
      key,
      body: { events: events.slice(i, i + 1000) },
    });
    const n = Math.min(1000, events.length - i);
    assert.deepEqual(
      [res.status, res.body.accepted, res.body.rejected],
      [200, n, []],
      JSON.stringify(res.body),
    );
  }
}

/**
 * Cases at the sizes real traffic has: every multi-row statement they cause is far above 100
 * bound parameters (the Durable Object SQLite limit), so each store must cut its statements.
 */
function atSizeCases(): ContractCase[] {
  return [
    {
      name:
        "ledger batch at size: 1000 entries (names and ids, 24 accounts) in one request; balances are the sum of postings; a retry replays every id",
      async run(target) {
        const { secret_key: key } = await provision(target);
        const ids: Record<string, string> = {};
        const names = ["cash", "revenue", ...Array.from({ length: 22 }, (_, i) => `wallet:${i}`)];
        for (const name of names) {
          const res = await http(target, "POST", "/v1/ledger/accounts", {
            key,
            body: {
              name,
              type: name === "cash" ? "asset" : name === "revenue" ? "revenue" : "liability",
              currency: "USD",
            },
          });
          assert.equal(res.status, 201, JSON.stringify(res.body));
          ids[name] = res.body.id;
        }
        // Entry i: cash → wallet (i % 22), i + 1 minor units; every fifth entry wallet → revenue, 1 unit.
        // Accounts by id on even entries, by name on odd ones.
        const expected: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
        const ref = (name: string, i: number) => i % 2 === 0 ? ids[name] : name;
        const entries = Array.from({ length: 1000 }, (_, i) => {
          const wallet = `wallet:${i % 22}`;
          const [debit, credit, amount] = i % 5 === 4 ? [wallet, "revenue", 1] : ["cash", wallet, i + 1];
          expected[debit] += amount;
          expected[credit] -= amount;
          return {
            idempotency_key: `size-${i}`,
            postings: [
              { account_id: ref(debit, i), amount, currency: "USD" },
              { account_id: ref(credit, i), amount: -amount, currency: "USD" },
            ],
          };
        });
        const posted = await http(target, "POST", "/v1/ledger/entries/batch", { key, body: { entries } });
        assert.equal(posted.status, 200, JSON.stringify(posted.body).slice(0, 500));
        assert.deepEqual([posted.body.posted, posted.body.replayed, posted.body.rejected], [1000, 0, 0]);
        assert.deepEqual(
          posted.body.results.map((r: any) => [r.idempotency_key, r.outcome, r.status, r.entry.replayed]),
          entries.map((e) => [e.idempotency_key, "posted", 201, false]),
        );
        const balances = await http(target, "GET", "/v1/ledger/balances", { key });
        assert.equal(balances.status, 200, JSON.stringify(balances.body));
        assert.deepEqual(
          Object.fromEntries(balances.body.data.map((a: any) => [a.name, a.debits_minus_credits])),
          expected,
        );
        const listed = await http(target, "GET", "/v1/ledger/entries?order=desc&limit=1", { key });
        assert.equal(
          listed.body.data[0].id,
          posted.body.results[999].entry.id,
          "the last entry is the newest",
        );

        const retry = await http(target, "POST", "/v1/ledger/entries/batch", { key, body: { entries } });
        assert.equal(retry.status, 200, JSON.stringify(retry.body).slice(0, 500));
        assert.deepEqual([retry.body.posted, retry.body.replayed, retry.body.rejected], [0, 1000, 0]);
        assert.deepEqual(
          retry.body.results.map((r: any) => [r.outcome, r.status, r.entry.id]),
          posted.body.results.map((r: any) => ["replayed", 200, r.entry.id]),
        );
        const again = await http(target, "GET", "/v1/ledger/balances", { key });
        assert.deepEqual(again.body.data, balances.body.data, "a replayed batch moves nothing");
      },
    },
    {
      name:
        "ledger batch: refusals beside postings (balance constraint, unknown name), a key repeated in the batch, malformed bodies write nothing",
      async run(target) {
        const { secret_key: key } = await provision(target);
        for (
          const [name, type, extra] of [
            ["cash", "asset", {}],
            ["wallet", "liability", { debits_must_not_exceed_credits: true }],
            ["shop", "revenue", {}],
          ] as const
        ) {
          const res = await http(target, "POST", "/v1/ledger/accounts", {
            key,
            body: { name, type, currency: "USD", ...extra },
          });
          assert.equal(res.status, 201, JSON.stringify(res.body));
        }
        const move = (k: string, debit: string, credit: string, amount: number) => ({
          idempotency_key: k,
          postings: [
            { account_id: debit, amount, currency: "USD" },
            { account_id: credit, amount: -amount, currency: "USD" },
          ],
        });
        // 300 entries: top up the wallet by 10 each 10th entry, spend 7 from it on the others (refused
        // once the wallet runs dry), one unknown account, one key repeated (same and other payload).
        const entries = Array.from(
          { length: 300 },
          (_, i) =>
            i === 150
              ? move(`e-${i}`, "cash", "nobody", 1)
              : i % 10 === 0
              ? move(`e-${i}`, "cash", "wallet", 10)
              : move(`e-${i}`, "wallet", "shop", 7),
        );
        entries.push(move("e-0", "cash", "wallet", 10), move("e-1", "wallet", "shop", 8));
        const res = await http(target, "POST", "/v1/ledger/entries/batch", { key, body: { entries } });
        assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
        // Replay the ledger in request order to know each entry's fate.
        let wallet = 0;
        let cash = 0;
        const expected = entries.map((e, i) => {
          if (i === 150) return ["rejected", 404, "account_not_found"];
          if (i === 300) return ["replayed", 200, null];
          if (i === 301) return ["rejected", 409, "idempotency_key_reused"];
          const amount = e.postings[0].amount;
          if (e.postings[0].account_id === "cash") {
            wallet += amount;
            cash += amount;
            return ["posted", 201, null];
          }
          if (wallet < amount) return ["rejected", 422, "insufficient_balance"];
          wallet -= amount;
          return ["posted", 201, null];
        });
        assert.deepEqual(
          res.body.results.map((r: any) => [r.outcome, r.status, r.error?.code ?? null]),
          expected,
        );
        const count = (o: string) => expected.filter(([outcome]) => outcome === o).length;
        assert.deepEqual(
          [res.body.posted, res.body.replayed, res.body.rejected],
          [count("posted"), count("replayed"), count("rejected")],
        );
        assert.equal(res.body.results[300].entry.id, res.body.results[0].entry.id);
        const balance = await http(target, "GET", "/v1/ledger/balances", { key });
        const by = Object.fromEntries(balance.body.data.map((a: any) => [a.name, a.balance]));
        assert.deepEqual([by.wallet, by.cash, by.shop], [wallet, cash, cash - wallet]);

        // Malformed bodies: 400 problem+json for the whole request, nothing written.
        const journal = await http(target, "GET", "/v1/ledger/entries?order=desc&limit=1", { key });
        const fresh = Array.from({ length: 50 }, (_, i) => move(`m-${i}`, "cash", "wallet", 1));
        for (
          const body of [
            { entries: [...fresh, { idempotency_key: "m-bad", postings: [fresh[0].postings[0]] }] },
            { entries: [] },
            { entries: Array.from({ length: 1001 }, (_, i) => move(`m-${i}`, "cash", "wallet", 1)) },
            { entries: fresh, note: "x" },
          ]
        ) {
          assertProblem(
            await http(target, "POST", "/v1/ledger/entries/batch", { key, body }),
            400,
            "validation_failed",
          );
        }
        const unchanged = await http(target, "GET", "/v1/ledger/entries?order=desc&limit=1", { key });
        assert.deepEqual(unchanged.body.data, journal.body.data, "no entry written by a malformed batch");
        const still = await http(target, "GET", "/v1/ledger/balances", { key });
        assert.deepEqual(still.body.data, balance.body.data);
      },
    },
    {
      name: "usage at size: 1000-event batches, synchronous and respond-async, counted exactly once",
      async run(target) {
        const { secret_key: key, publishable_key: pk } = await provision(target);
        const plan = await http(target, "POST", "/v1/plans", { key, body: apiPlanBody() });
        await http(target, "POST", "/v1/customers", { key, body: { external_id: "bulk" } });
        await http(target, "POST", "/v1/subscriptions", {
          key,
          body: { customer_id: "bulk", plan_id: plan.body.id },
        });
        const batch = (prefix: string, value: number) => ({
          events: Array.from({ length: 1000 }, (_, i) => ({
            id: `${prefix}-${i}`,
            customer_id: "bulk",
            feature: "api_calls",
            value,
            properties: { region: `r${i % 7}`, request: `req-${prefix}-${i}` },
          })),
        });
        const session = await browserSession(target, key, "bulk");
        const sync = await http(target, "POST", "/v1/events", {
          key: pk,
          headers: session,
          body: batch("s", 1),
        });
        assert.deepEqual([sync.status, sync.body], [200, { accepted: 1000, duplicates: 0, rejected: [] }]);
        const resent = await http(target, "POST", "/v1/events", { key, body: batch("s", 1) });
        assert.deepEqual(resent.body, { accepted: 0, duplicates: 1000, rejected: [] });
        assert.equal(await usedUnits(target, key, "bulk", "api_calls"), 1000);

        const async = (body: unknown) =>
          http(target, "POST", "/v1/events", {
            key: pk,
            body,
            headers: { prefer: "respond-async", ...session },
          });
        const queued = await async(batch("a", 2));
        if (queued.status === 202) {
          // Workers: queued, then appended by the consumer
          assert.equal(queued.body.queued_events, 1000);
          assert.equal(queued.headers.get("preference-applied"), "respond-async");
          await eventually(
            "the consumer appended the queued batch",
            async () => (await usedUnits(target, key, "bulk", "api_calls")) >= 3000,
          );
        } else {
          // a runtime without a queue answers synchronously
          assert.deepEqual([queued.status, queued.body], [200, {
            accepted: 1000,
            duplicates: 0,
            rejected: [],
          }]);
        }
        // the same batch again, then a one-event marker: once the marker counts, the resend was consumed
        const again = await async(batch("a", 2));
        assert.ok(again.status === 202 || again.body.duplicates === 1000, JSON.stringify(again.body));
        await async({ events: [{ id: "marker", customer_id: "bulk", feature: "api_calls", value: 5 }] });
        await eventually(
          "the marker batch was appended",
          async () => (await usedUnits(target, key, "bulk", "api_calls")) >= 3005,
        );
        assert.equal(
          await usedUnits(target, key, "bulk", "api_calls"),
          3005,
          "every event counted exactly once",
        );
        const dup = await http(target, "POST", "/v1/events", { key, body: batch("a", 2) });
        assert.deepEqual(
          dup.body,
          { accepted: 0, duplicates: 1000, rejected: [] },
          "the queued events are stored",
        );
        const from = new Date(Date.now() - 86_400_000).toISOString();
        const to = new Date(Date.now() + 86_400_000).toISOString();
        const usage = await http(
          target,
          "GET",
          `/v1/usage?customer_id=bulk&feature=api_calls&from=${from}&to=${to}`,
          { key },
        );
        assert.equal(usage.status, 200, JSON.stringify(usage.body));
        assert.equal(usage.body.value, 3005);
      },
    },
    {
      name: "queued usage the tenant refuses is recorded as a dead letter an operator can list",
      async run(target) {
        const { secret_key: key } = await provision(target);
        await http(target, "POST", "/v1/customers", { key, body: { external_id: "known" } });
        const events = Array.from({ length: 300 }, (_, i) => ({
          id: `dl-${i}`,
          customer_id: i % 3 === 0 ? "nobody" : "known",
          feature: "api_calls",
          value: 1,
        }));
        const res = await http(target, "POST", "/v1/events", {
          key,
          body: { events },
          headers: { prefer: "respond-async" },
        });
        if (res.status === 200) {
          // answered synchronously: the caller sees the refusals itself
          assert.deepEqual([res.body.accepted, res.body.rejected.length], [200, 100]);
          assert.ok(res.body.rejected.every((r: any) => r.code === "customer_not_found"));
          return;
        }
        assert.equal(res.status, 202, JSON.stringify(res.body));
        let letter: any;
        await eventually("the refused events were recorded", async () => {
          const page = await http(target, "GET", "/v1/admin/dead_letters?limit=200", {
            key: target.adminToken,
          });
          assert.equal(page.status, 200, JSON.stringify(page.body));
          letter = page.body.data.find((l: any) =>
            l.reason === "rejected" && l.events.some((e: any) => e.id === "dl-0") && l.app_id !== null
          );
          return letter !== undefined;
        });
        assert.deepEqual(
          letter.events.map((e: any) => e.id).sort(),
          events.filter((e) => e.customer_id === "nobody").map((e) => e.id).sort(),
        );
        assert.deepEqual(
          [...new Set(letter.refusals.map((r: any) => r.code))],
          ["customer_not_found"],
          letter.error,
        );
        assert.match(letter.error, /100 events refused: customer_not_found ×100/);
        assertProblem(await http(target, "GET", "/v1/admin/dead_letters", { key }), 401, "unauthorized");
      },
    },
    {
      name: "an invoice with 45 metered lines is rated, finalized and balanced",
      async run(target) {
        const { secret_key: key } = await provision(target);
        const features = Array.from({ length: 45 }, (_, i) => ({
          key: `metric_${i}`,
          type: "metered",
          limit: null,
          aggregation: "sum",
          pricing: { model: "per_unit", unit_amount: i + 1 },
        }));
        const plan = await http(target, "POST", "/v1/plans", {
          key,
          body: {
            key: "wide",
            name: "Wide",
            currency: "USD",
            interval: "month",
            base_amount: 1000,
            features,
          },
        });
        assert.equal(plan.status, 201, JSON.stringify(plan.body));
        const start = monthStart(-3);
        const end = monthStart(-2);
        await http(target, "POST", "/v1/customers", { key, body: { external_id: "wide" } });
        const sub = await http(target, "POST", "/v1/subscriptions", {
          key,
          body: { customer_id: "wide", plan_id: plan.body.id, start_at: start.toISOString() },
        });
        assert.equal(sub.status, 201, JSON.stringify(sub.body));
        const events = features.flatMap((f, i) =>
          Array.from({ length: 10 }, (_, j) => ({
            id: `${f.key}-${j}`,
            customer_id: "wide",
            feature: f.key,
            value: i + 1,
            timestamp: new Date(start.getTime() + (j + 1) * 86_400_000).toISOString(),
          }))
        );
        await sendAll(target, key, events);
        const inv = await http(target, "POST", "/v1/invoices", {
          key,
          body: {
            subscription_id: sub.body.id,
            period_start: start.toISOString(),
            period_end: end.toISOString(),
          },
        });
        assert.equal(inv.status, 201, JSON.stringify(inv.body));
        assert.equal(inv.body.lines.length, 46, "the base fee and one line per feature");
        // feature i: 10 events of i+1 units at i+1 per unit
        const usage = features.reduce((sum, _f, i) => sum + 10 * (i + 1) * (i + 1), 0);
        assert.equal(inv.body.total, 1000 + usage);
        const final = await http(target, "POST", `/v1/invoices/${inv.body.id}/finalize`, { key });
        assert.deepEqual([final.status, final.body.status, final.body.lines.length], [200, "open", 46]);
        const paid = await http(target, "POST", `/v1/invoices/${inv.body.id}/pay`, {
          key,
          body: { reference: "all" },
        });
        assert.deepEqual([paid.body.status, paid.body.amount_due], ["paid", 0]);
        const balances = await http(target, "GET", "/v1/ledger/balances", { key });
        const by = Object.fromEntries(balances.body.data.map((a: any) => [a.name, a.balance]));
        assert.deepEqual([by.cash, by.revenue], [1000 + usage, 1000 + usage]);
      },
    },
    {
      name: "a ledger entry with the maximum number of postings (128) posts, replays and balances",
      async run(target) {
        const { secret_key: key } = await provision(target);
        const account = async (name: string, type: string) => {
          const res = await http(target, "POST", "/v1/ledger/accounts", {
            key,
            body: { name, type, currency: "USD" },
          });
          assert.equal(res.status, 201, JSON.stringify(res.body));
          return res.body.id as string;
        };
        const cash = await account("cash", "asset");
        const wallets: string[] = [];
        for (let i = 0; i < 127; i++) wallets.push(await account(`wallet:${i}`, "liability"));
        const total = wallets.reduce((sum, _w, i) => sum + i + 1, 0);
        const body = {
          idempotency_key: "fan-out",
          postings: [
            { account_id: cash, amount: total, currency: "USD" },
            ...wallets.map((w, i) => ({ account_id: w, amount: -(i + 1), currency: "USD" })),
          ],
        };
        assert.equal(body.postings.length, 128);
        const posted = await http(target, "POST", "/v1/ledger/entries", { key, body });
        assert.equal(posted.status, 201, JSON.stringify(posted.body));
        assert.equal(posted.body.postings.length, 128);
        const replay = await http(target, "POST", "/v1/ledger/entries", { key, body });
        assert.deepEqual([replay.status, replay.body.id], [200, posted.body.id]);
        const tooMany = await http(target, "POST", "/v1/ledger/entries", {
          key,
          body: { ...body, idempotency_key: "too-many", postings: [...body.postings, body.postings[1]] },
        });
        assertProblem(tooMany, 400, "validation_failed");
        // 128 accounts: more than the default page of 100, all on one page of 500
        const firstPage = await http(target, "GET", "/v1/ledger/balances", { key });
        assert.deepEqual([firstPage.body.data.length, typeof firstPage.body.next_cursor], [100, "string"]);
        const balances = await http(target, "GET", "/v1/ledger/balances?limit=500", { key });
        assert.equal(balances.status, 200, JSON.stringify(balances.body));
        assert.deepEqual([balances.body.data.length, balances.body.next_cursor], [128, null]);
        const by = Object.fromEntries(balances.body.data.map((a: any) => [a.name, a.balance]));
        assert.equal(by.cash, total);
        assert.equal(by["wallet:126"], 127);
        assert.equal(balances.body.data.reduce((s: number, a: any) => s + a.debits_minus_credits, 0), 0);
      },
    },
    {
      name:
        "160 lifecycle events between maintenance runs are all delivered to a webhook receiver, once each",
      async run(target) {
        const received: string[] = [];
        const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
          const body = await req.json();
          if (body.type === "customer.created") received.push(req.headers.get("webhook-id") ?? "");
          return new Response(null, { status: 204 });
        });
        try {
          const { secret_key: key } = await provision(target);
          const endpoint = await http(target, "POST", "/v1/webhook-endpoints", {
            key,
            body: { url: `http://127.0.0.1:${receiver.addr.port}/hooks`, events: ["customer.created"] },
          });
          assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
          const total = 160;
          for (let i = 0; i < total; i += 20) {
            await Promise.all(
              Array.from({ length: 20 }, async (_, j) => {
                const res = await http(target, "POST", "/v1/customers", {
                  key,
                  body: { external_id: `hook-${i + j}` },
                });
                assert.equal(res.status, 201, JSON.stringify(res.body));
              }),
            );
          }
          // Workers: each tenant object's alarm delivers right after the commits, and the scheduled run
          // (a backstop there) takes what is left; deliveries are leased, so the two never double-send.
          if (target.maintain) await target.maintain();
          await eventually(
            `all ${total} events delivered`,
            () => Promise.resolve(received.length >= total),
          );
          assert.equal(received.length, total, "no event delivered twice");
          assert.equal(new Set(received).size, total);
        } finally {
          await receiver.shutdown();
        }
      },
    },
    {
      name:
        "publishable-key refusals with unread bodies interleaved with writes leave the next requests intact",
      async run(target) {
        const { secret_key: key, publishable_key: pk } = await provision(target);
        const filler = "x".repeat(256 * 1024);
        const created: string[] = [];
        for (let i = 0; i < 15; i++) {
          assertProblem(
            await http(target, "POST", "/v1/plans", {
              key: pk,
              body: { ...apiPlanBody({ key: `p${i}` }), filler },
            }),
            403,
            "publishable_key_not_allowed",
          );
          const customer = await http(target, "POST", "/v1/customers", {
            key,
            body: { external_id: `mix-${i}` },
          });
          assert.equal(customer.status, 201, JSON.stringify(customer.body));
          created.push(customer.body.id);
          assertProblem(
            await http(target, "POST", "/v1/customers", {
              key: pk,
              body: { external_id: `no-${i}`, filler },
            }),
            403,
            "publishable_key_not_allowed",
          );
          const events = await http(target, "POST", "/v1/events", {
            key: pk,
            headers: await browserSession(target, key, `mix-${i}`),
            body: { events: [{ id: `mix-${i}`, customer_id: `mix-${i}`, feature: "api_calls" }] },
          });
          assert.deepEqual([events.status, events.body.accepted], [200, 1], JSON.stringify(events.body));
        }
        for (const id of created) {
          assert.equal((await http(target, "GET", `/v1/customers/${id}`, { key })).status, 200);
        }
        assertProblem(await http(target, "GET", "/v1/customers/no-0", { key }), 404, "customer_not_found");
      },
    },
  ];
}
