// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * Every list has one pagination style (`domain/paging.ts`): `?limit=1..100&cursor=` →
 * `{ data, next_cursor }`, newest first, an opaque cursor bound to its list, and an unknown query
 * parameter, a limit out of range or a foreign cursor refused with 400 `validation_failed` naming
 * the parameter. Each list is paged through with `limit=2` and compared with what was created.
 */
import assert from "node:assert/strict";
import { apiPlanBody, call, tenant, type TestEnv, testEnv } from "../helpers.ts";

/** Pages through `path` with `limit`, checking each page's shape; returns every item in order. */
async function collect(
  env: TestEnv,
  key: string,
  path: string,
  limit = 2,
  start: string | null = null,
): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = start;
  for (let pages = 0; pages < 1000; pages++) {
    const sep = path.includes("?") ? "&" : "?";
    const url: string = `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const res = await call(env, "GET", url, { key });
    assert.equal(res.status, 200, `${url}: ${JSON.stringify(res.body)}`);
    assert.deepEqual(Object.keys(res.body).sort(), ["data", "next_cursor"]);
    assert.ok(res.body.data.length <= limit);
    items.push(...res.body.data);
    cursor = res.body.next_cursor;
    if (cursor === null) return items;
    assert.equal(res.body.data.length, limit, "only the last page may be short");
  }
  throw new Error(`${path}: more than 1000 pages`);
}

/** Asserts the ids of `items` are exactly `expected` (no duplicates), newest (highest id) first. */
function assertSameIds(items: any[], expected: string[], what: string): void {
  const ids = items.map((i) => i.id);
  assert.equal(new Set(ids).size, ids.length, `${what}: duplicates in ${ids}`);
  assert.deepEqual([...ids].sort(), [...expected].sort(), what);
  assert.deepEqual(ids, [...ids].sort().reverse(), `${what}: not newest first`);
}

Deno.test("lists: customers, subscriptions, invoices, plans, webhook endpoints and audit events page through with limit=2, filters honoured, other tenants unseen", async () => {
  const env = await testEnv();
  env.clock.set("2026-03-01T00:00:00Z");
  try {
    const { secret_key: key, app_id } = await tenant(env);
    const other = await tenant(env);
    const post = async (path: string, body: unknown, k = key) => {
      const res = await call(env, "POST", path, { key: k, body });
      assert.ok(
        res.status === 201 || res.status === 200,
        `${path}: ${res.status} ${JSON.stringify(res.body)}`,
      );
      return res.body;
    };

    // 7 plans (one archived, one with a trial), 9 customers, 8 subscriptions in every status
    const plans: any[] = [];
    for (let i = 0; i < 7; i++) {
      plans.push(await post("/v1/plans", apiPlanBody({ key: `p${i}`, trial_days: i === 6 ? 14 : 0 })));
      env.clock.advance(1);
    }
    await call(env, "POST", `/v1/plans/${plans[3].id}/archive`, { key });
    const customers: any[] = [];
    for (let i = 0; i < 9; i++) {
      customers.push(await post("/v1/customers", { external_id: `u${i}`, name: `User ${i}` }));
      env.clock.advance(1);
    }
    const subs: any[] = [];
    const subscribe = async (customer: number, plan: number, extra: Record<string, unknown> = {}) => {
      const sub = await post("/v1/subscriptions", {
        customer_id: `u${customer}`,
        plan_id: plans[plan].id,
        ...extra,
      });
      subs.push(sub);
      env.clock.advance(1);
      return sub;
    };
    for (let i = 0; i < 4; i++) await subscribe(i, 0); // active
    const trialing = [await subscribe(4, 6), await subscribe(5, 6)];
    const canceled = await subscribe(6, 1);
    const paused = await subscribe(7, 2);
    const expired = await subscribe(8, 1, { end_at: "2026-03-02T00:00:00Z" });
    assert.equal(
      (await call(env, "POST", `/v1/subscriptions/${canceled.id}/cancel`, { key, body: {} })).status,
      200,
    );
    const pause = await call(env, "POST", `/v1/subscriptions/${paused.id}/pause`, { key, body: {} });
    assert.equal(pause.status, 200, JSON.stringify(pause.body));
    // one more subscription for u0 after its first one is canceled, so u0 has two
    await call(env, "POST", `/v1/subscriptions/${subs[0].id}/cancel`, { key, body: {} });
    env.clock.advance(1);
    const second = await subscribe(0, 1);
    env.clock.set("2026-03-03T00:00:00Z"); // past the fixed end of u8's subscription, inside the trials

    // invoices: the current period of every subscription (a cancellation made some already), two finalized
    for (const sub of subs) {
      const res = await call(env, "POST", "/v1/invoices", { key, body: { subscription_id: sub.id } });
      assert.ok(
        res.status === 201 || res.status === 200,
        `${sub.id}: ${res.status} ${JSON.stringify(res.body)}`,
      );
      env.clock.advance(1);
    }
    const stored = await env.database.client.execute({
      sql: "select id from invoices where app_id = ? order by id",
      args: [app_id],
    });
    assert.ok(stored.rows.length >= subs.length);
    const invoices: any[] = [];
    for (const row of stored.rows) {
      invoices.push((await call(env, "GET", `/v1/invoices/${row.id}`, { key })).body);
    }
    for (
      const inv of invoices.filter((i) =>
        i.subscription_id === subs[1].id || i.subscription_id === subs[2].id
      )
    ) {
      const res = await call(env, "POST", `/v1/invoices/${inv.id}/finalize`, { key, body: {} });
      assert.equal(res.status, 200);
      assert.equal(res.body.status, "open"); // 4900 base fee
      inv.status = "open";
    }
    const endpoints: any[] = [];
    for (let i = 0; i < 5; i++) {
      endpoints.push(
        await post("/v1/webhook_endpoints", { url: `https://example.com/hook/${i}`, events: ["*"] }),
      );
      env.clock.advance(1);
    }
    await call(env, "DELETE", `/v1/webhook_endpoints/${endpoints[1].id}`, { key });

    // another tenant's resources never appear
    await post("/v1/plans", apiPlanBody({ key: "theirs" }), other.secret_key);
    await post("/v1/customers", { external_id: "theirs" }, other.secret_key);

    assertSameIds(await collect(env, key, "/v1/plans"), plans.map((p) => p.id), "plans");
    assertSameIds(
      await collect(env, key, "/v1/plans?status=archived"),
      [plans[3].id],
      "archived plans",
    );
    assertSameIds(
      await collect(env, key, "/v1/plans?status=active", 3),
      plans.filter((_, i) => i !== 3).map((p) => p.id),
      "active plans",
    );
    assertSameIds(await collect(env, key, "/v1/customers"), customers.map((c) => c.id), "customers");
    assertSameIds(await collect(env, key, "/v1/subscriptions"), subs.map((s) => s.id), "subscriptions");
    assertSameIds(
      await collect(env, key, "/v1/subscriptions?customer_id=u0"),
      [subs[0].id, second.id],
      "subscriptions of u0 (by external id)",
    );
    assertSameIds(
      await collect(env, key, `/v1/subscriptions?customer_id=${customers[0].id}&status=active`),
      [second.id],
      "active subscriptions of u0 (by cus_ id)",
    );
    const byStatus: Record<string, string[]> = {
      active: [subs[1].id, subs[2].id, subs[3].id, second.id],
      trialing: trialing.map((s) => s.id),
      canceled: [canceled.id, subs[0].id],
      paused: [paused.id],
      expired: [expired.id],
    };
    for (const [status, ids] of Object.entries(byStatus)) {
      const listed = await collect(env, key, `/v1/subscriptions?status=${status}`);
      assertSameIds(listed, ids, `${status} subscriptions`);
      for (const s of listed) assert.equal(s.status, status);
    }
    assertSameIds(await collect(env, key, "/v1/invoices"), invoices.map((i) => i.id), "invoices");
    assertSameIds(
      await collect(env, key, "/v1/invoices?status=open"),
      invoices.filter((i) => i.status === "open").map((i) => i.id),
      "open invoices",
    );
    assertSameIds(
      await collect(env, key, `/v1/invoices?subscription_id=${subs[4].id}`),
      invoices.filter((i) => i.subscription_id === subs[4].id).map((i) => i.id),
      "invoices of one subscription",
    );
    assertSameIds(
      await collect(env, key, "/v1/invoices?customer_id=u0&status=draft"),
      invoices.filter((i) => i.customer_id === customers[0].id && i.status === "draft").map((i) => i.id),
      "draft invoices of u0",
    );
    assertSameIds(await collect(env, key, "/v1/webhook_endpoints"), endpoints.map((e) => e.id), "endpoints");
    assertSameIds(
      await collect(env, key, "/v1/webhook_endpoints?status=disabled"),
      [endpoints[1].id],
      "disabled endpoints",
    );
    const audit = await collect(env, key, "/v1/audit_events?action=customer.created", 4);
    assert.equal(audit.length, customers.length);

    // a page of 100 is one page; the default page is 20
    assert.equal((await call(env, "GET", "/v1/customers?limit=100", { key })).body.next_cursor, null);
    const firstPage = await call(env, "GET", "/v1/subscriptions", { key });
    assert.equal(firstPage.body.data.length, subs.length);
    assert.equal(firstPage.body.next_cursor, null);
  } finally {
    await env.close();
  }
});

Deno.test("lists: a row created while paging sorts before the first page: no duplicate, nothing skipped", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await call(env, "POST", "/v1/customers", { key, body: { external_id: `c${i}` } })).body.id);
      env.clock.advance(1);
    }
    const first = await call(env, "GET", "/v1/customers?limit=2", { key });
    const late = await call(env, "POST", "/v1/customers", { key, body: { external_id: "late" } });
    const rest = await collect(env, key, "/v1/customers", 2, first.body.next_cursor);
    const seen = [...first.body.data, ...rest].map((c: any) => c.id);
    assert.deepEqual([...seen].sort(), [...ids].sort());
    assert.ok(!seen.includes(late.body.id));
  } finally {
    await env.close();
  }
});

Deno.test("lists: unknown parameter, limit 0/101/abc, a made-up cursor or another list's cursor → 400 validation_failed naming it; nothing else read", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    for (let i = 0; i < 3; i++) {
      await call(env, "POST", "/v1/customers", { key, body: { external_id: `c${i}` } });
      await call(env, "POST", "/v1/plans", { key, body: apiPlanBody({ key: `p${i}` }) });
    }
    const customerCursor = (await call(env, "GET", "/v1/customers?limit=1", { key })).body.next_cursor;
    assert.equal(typeof customerCursor, "string");
    assert.ok(!customerCursor.startsWith("cus_"), "the cursor is opaque");
    const lists = [
      "/v1/customers",
      "/v1/subscriptions",
      "/v1/invoices",
      "/v1/plans",
      "/v1/webhook_endpoints",
      "/v1/audit_events",
    ];
    for (const list of lists) {
      const cases: [string, string][] = [
        [`${list}?expand[]=customer`, "query.expand[]"],
        [`${list}?limit=0`, "query.limit"],
        [`${list}?limit=101`, "query.limit"],
        [`${list}?limit=abc`, "query.limit"],
        [`${list}?limit=2.5`, "query.limit"],
        [`${list}?cursor=not-a-cursor`, "query.cursor"],
        [`${list}?starting_after=cus_01jd0000000000000000000000`, "query.starting_after"],
      ];
      if (list !== "/v1/customers") cases.push([`${list}?cursor=${customerCursor}`, "query.cursor"]);
      for (const [path, field] of cases) {
        const res = await call(env, "GET", path, { key });
        assert.equal(res.status, 400, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
        assert.equal(res.contentType, "application/problem+json");
        assert.equal(res.body.code, "validation_failed", path);
        assert.ok(
          res.body.fields.some((f: any) => f.path === field),
          `${path}: ${JSON.stringify(res.body.fields)}`,
        );
      }
    }
    const ledger = await call(env, "GET", "/v1/ledger/entries?colour=red", { key });
    assert.equal(ledger.status, 400);
    assert.deepEqual(ledger.body.fields.map((f: any) => f.path), ["query.colour"]);
    const balances = await call(env, "GET", "/v1/ledger/balances?expand[]=x", { key });
    assert.equal(balances.status, 400);
    const badStatus = await call(env, "GET", "/v1/subscriptions?status=sleeping", { key });
    assert.equal(badStatus.status, 400);
    assert.equal(badStatus.body.fields[0].path, "query.status");
    const unknownCustomer = await call(env, "GET", "/v1/invoices?customer_id=nobody", { key });
    assert.equal(unknownCustomer.status, 404);
    assert.equal(unknownCustomer.body.code, "customer_not_found");
  } finally {
    await env.close();
  }
});

Deno.test("lists: a customer's credit grants and an invoice's credit notes page through with limit=2 too", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { secret_key: key } = await tenant(env);
    const ok = async (method: string, path: string, body?: unknown) => {
      const res = await call(env, method, path, { key, body });
      assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    await ok("POST", "/v1/plans", apiPlanBody());
    await ok("POST", "/v1/customers", { external_id: "c1" });
    const grants: string[] = [];
    for (let i = 0; i < 5; i++) {
      grants.push(
        (await ok("POST", "/v1/customers/c1/credit_grants", {
          reference: `g${i}`,
          kind: "units",
          amount: 10,
          feature: "api_calls",
        })).id,
      );
      env.clock.advance(1);
    }
    assertSameIds(await collect(env, key, "/v1/customers/c1/credit_grants"), grants, "credit grants");
    const sub = await ok("POST", "/v1/subscriptions", { customer_id: "c1", plan_id: "api-pro" });
    const invoice = await ok("POST", "/v1/invoices", { subscription_id: sub.id });
    await ok("POST", `/v1/invoices/${invoice.id}/finalize`, {});
    const notes: string[] = [];
    for (let i = 0; i < 5; i++) {
      notes.push(
        (await ok("POST", `/v1/invoices/${invoice.id}/credit_notes`, { amount: 100, reference: `n${i}` }))
          .credit_note.id,
      );
      env.clock.advance(1);
    }
    assertSameIds(await collect(env, key, `/v1/invoices/${invoice.id}/credit_notes`), notes, "credit notes");
    const bad = await call(env, "GET", "/v1/customers/c1/credit_grants?limit=0", { key });
    assert.equal(bad.status, 400);
  } finally {
    await env.close();
  }
});
