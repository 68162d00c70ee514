// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * Bounds on free-form input: metadata and properties are limited in bytes, keys and depth by one
 * shared schema on every route; deeply nested input answers 400, never 500, and writes nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { call, countRows, snapshotCounts, tenant, testEnv } from "../helpers.ts";
import { jsonBoundsIssue, METADATA_BOUNDS, PROPERTIES_BOUNDS } from "../../src/http/schemas.ts";

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) value = { n: value };
  return value;
}

async function ledger() {
  const env = await testEnv();
  const { secret_key: key } = await tenant(env);
  const account = (name: string, type: string) =>
    call(env, "POST", "/v1/ledger/accounts", { key, body: { name, type, currency: "USD" } });
  const cash = (await account("cash", "asset")).body.id;
  const wallet = (await account("wallet", "liability")).body.id;
  const entry = (idempotency_key: string, metadata: unknown) =>
    call(env, "POST", "/v1/ledger/entries", {
      key,
      body: {
        idempotency_key,
        postings: [{ account_id: cash, amount: 100, currency: "USD" }, {
          account_id: wallet,
          amount: -100,
          currency: "USD",
        }],
        metadata,
      },
    });
  return { env, key, entry, account };
}

Deno.test("jsonBoundsIssue(): bytes, keys at every level and depth, iteratively", () => {
  assert.equal(jsonBoundsIssue(nested(5), METADATA_BOUNDS), null);
  assert.match(jsonBoundsIssue(nested(6), METADATA_BOUNDS)!, /deeper than 5/);
  assert.match(jsonBoundsIssue(nested(100_000), METADATA_BOUNDS)!, /deeper than 5/);
  assert.match(
    jsonBoundsIssue({ a: [[[[[1]]]]] }, METADATA_BOUNDS)!,
    /deeper than 5/,
    "arrays count as levels",
  );
  const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
  assert.equal(jsonBoundsIssue(fifty, METADATA_BOUNDS), null);
  assert.match(jsonBoundsIssue({ ...fifty, one: { more: 1 } }, METADATA_BOUNDS)!, /More than 50 keys/);
  assert.equal(jsonBoundsIssue({ text: "x".repeat(8192 - 11) }, METADATA_BOUNDS), null);
  assert.match(jsonBoundsIssue({ text: "x".repeat(8192 - 10) }, METADATA_BOUNDS)!, /Larger than 8192 bytes/);
  // bytes are UTF-8 bytes, not characters
  assert.match(jsonBoundsIssue({ text: "é".repeat(2100) }, PROPERTIES_BOUNDS)!, /Larger than 4096 bytes/);
});

Deno.test("ledger metadata: 5 000 levels deep, 2 MiB, 51 keys or 6 levels answer 400 and write nothing; at the limits 201", async () => {
  const { env, entry, account } = await ledger();
  try {
    const before = await snapshotCounts(env);
    const refused: [string, unknown][] = [
      ["5 000 levels", nested(5000)],
      ["6 levels", nested(6)],
      ["2 MiB", { blob: "x".repeat(2 * 1024 * 1024 - 100) }],
      ["9 KiB", { blob: "x".repeat(9 * 1024) }],
      ["51 keys", Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]))],
    ];
    for (const [label, metadata] of refused) {
      const res = await entry(`e-${label.replace(/\W/g, "")}`, metadata);
      assert.ok(res.status === 400 || res.status === 413, `${label}: ${res.status}`);
      assert.equal(res.contentType, "application/problem+json", label);
      if (res.status === 400) {
        assert.equal(res.body.code, "validation_failed", label);
        assert.equal(res.body.fields[0].path, "metadata", label);
      }
      const acc = await account(`acc-${label.replace(/\W/g, "")}`, "asset");
      assert.equal(acc.status, 201);
    }
    const deepAccount = await call(env, "POST", "/v1/ledger/accounts", {
      key: (await tenant(env)).secret_key,
      body: { name: "deep", type: "asset", currency: "USD", metadata: nested(5000) },
    });
    assert.equal(deepAccount.status, 400);
    const after = await snapshotCounts(env);
    assert.equal(after.ledger_entries ?? 0, before.ledger_entries ?? 0, "no entry was written");

    const atLimits = await entry("at-limits", {
      ...Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`k${i}`, i])),
      deep: { a: { b: { c: "d" } } },
      text: "x".repeat(7000),
    });
    assert.equal(atLimits.status, 201, JSON.stringify(atLimits.body));
  } finally {
    await env.close();
  }
});

Deno.test("usage properties: too deep, too many keys or too large rejects the batch with 400 and writes nothing", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "u" } });
    const batch = (properties: unknown) => ({
      events: [
        ...Array.from({ length: 999 }, (_, i) => ({ id: `ok-${i}`, customer_id: "u", feature: "api_calls" })),
        { id: "bad", customer_id: "u", feature: "api_calls", properties },
      ],
    });
    for (
      const properties of [
        nested(5000),
        nested(6),
        { blob: "x".repeat(4097) },
        Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 1])),
      ]
    ) {
      const res = await call(env, "POST", "/v1/events", { key, body: batch(properties) });
      assert.equal(res.status, 400);
      assert.equal(res.body.code, "validation_failed");
      assert.equal(res.body.fields[0].path, "events.999.properties");
    }
    assert.equal(await countRows(env, "usage_events"), 0);
    const ok = await call(env, "POST", "/v1/events", { key, body: batch(nested(5)) });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.accepted, 1000);
  } finally {
    await env.close();
  }
});

Deno.test("GET /v1/ledger/balances is paginated: 250 accounts in pages of 100, by name and currency, no gaps", async () => {
  const { env, key, account } = await ledger();
  try {
    for (let i = 0; i < 248; i++) {
      assert.equal((await account(`acct-${String(i).padStart(3, "0")}`, "asset")).status, 201);
    }
    const all = (await call(env, "GET", "/v1/ledger/balances?limit=500", { key })).body;
    assert.equal(all.data.length, 250);
    assert.equal(all.next_cursor, null);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
      const page: any = (await call(env, "GET", `/v1/ledger/balances${query}`, { key })).body;
      assert.ok(page.data.length <= 100, "default page size is 100");
      seen.push(...page.data.map((a: any) => a.name));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, all.data.map((a: any) => a.name));
    assert.deepEqual(seen, [...seen].sort(), "ordered by name");
    for (const bad of ["?limit=501", "?limit=0", "?cursor=not-a-cursor"]) {
      const res = await call(env, "GET", `/v1/ledger/balances${bad}`, { key });
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.code, "validation_failed");
    }
  } finally {
    await env.close();
  }
});

Deno.test("request ids are the server's: a client's X-Request-Id is echoed as X-Correlation-Id and never audited", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const ids = new Set<string>();
    for (const client of ["req-1", "req-1", "<script>", "x".repeat(300)]) {
      const res = await call(env, "POST", "/v1/customers", {
        key,
        headers: { "x-request-id": client },
        body: { external_id: `c-${ids.size}` },
      });
      const id = res.headers.get("x-request-id")!;
      assert.match(id, /^[0-9a-f-]{36}$/, "a server-generated UUID");
      ids.add(id);
      const echoed = client.length <= 200 ? client : null;
      assert.equal(res.headers.get("x-correlation-id"), echoed);
      const audit = await call(
        env,
        "GET",
        `/v1/audit-events?request_id=${encodeURIComponent(client.slice(0, 200))}`,
        {
          key,
        },
      );
      assert.deepEqual(audit.body.data, [], "no audit row carries the client's id");
      const mine = await call(env, "GET", `/v1/audit-events?request_id=${id}`, { key });
      assert.equal(mine.body.data.length, 1);
    }
    assert.equal(ids.size, 4, "two requests with the same client id still get two ids");
  } finally {
    await env.close();
  }
});
