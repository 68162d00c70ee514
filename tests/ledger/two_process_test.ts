/**
 * Two real server processes on one libSQL file: each has its own in-process writer, so only
 * SQLite's write lock (BEGIN IMMEDIATE, busy timeout, bounded SQLITE_BUSY retry) stands between
 * them. Concurrent spends against a constrained account, concurrent inventory consumption and the
 * same idempotency key sent to both must never double-spend or lose an update.
 */
import assert from "node:assert/strict";
import { openDatabase } from "../../src/storage/db.ts";
import { spawnServer } from "../process.ts";

const ADMIN = "two-process-admin-token-0123456789";

function startServer(url: string) {
  return spawnServer({ DATABASE_URL: url, BILLING_ADMIN_TOKEN: ADMIN, LOG_LEVEL: "error" });
}

async function http(base: string, method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

/** Sends until the answer is not a retryable 503 (same idempotency key every time). */
async function settle(base: string, method: string, path: string, key: string, body: unknown) {
  for (let attempt = 0;; attempt++) {
    const res = await http(base, method, path, key, body);
    if (res.status !== 503 || attempt > 20) return res;
    await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
  }
}

async function pool<T>(tasks: (() => Promise<T>)[], concurrency: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  }));
  return results;
}

Deno.test("two server processes on one database file never double-spend or lose an update", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-2proc-" });
  const url = `file:${dir}/billing.db`;
  const a = await startServer(url);
  const b = await startServer(url);
  try {
    const created = await http(a.base, "POST", "/v1/admin/tenants", ADMIN, {
      name: "twoproc",
      app: "production",
    });
    assert.equal(created.status, 201);
    const key = created.body.secret_key;
    const account = async (base: string, name: string, type: string, extra = {}) =>
      (await settle(base, "POST", "/v1/ledger/accounts", key, { name, type, currency: "USD", ...extra })).body
        .id as string;
    const cash = await account(a.base, "cash", "asset");
    const wallet = await account(b.base, "wallet", "liability", { debits_must_not_exceed_credits: true });
    const revenue = await account(a.base, "revenue", "revenue");
    assert.equal(
      await account(b.base, "cash", "asset"),
      cash,
      "EnsureAccount across processes finds one account",
    );
    const topup = await settle(a.base, "POST", "/v1/ledger/entries", key, {
      idempotency_key: "topup",
      postings: [{ account_id: cash, amount: 10_000, currency: "USD" }, {
        account_id: wallet,
        amount: -10_000,
        currency: "USD",
      }],
    });
    assert.equal(topup.status, 201);

    // 80 spends of 300 from the wallet, half through each process, concurrently: 33 fit.
    const spends = Array.from(
      { length: 80 },
      (_, i) => () =>
        settle(i % 2 ? a.base : b.base, "POST", "/v1/ledger/entries", key, {
          idempotency_key: `spend-${i}`,
          postings: [{ account_id: wallet, amount: 300, currency: "USD" }, {
            account_id: revenue,
            amount: -300,
            currency: "USD",
          }],
        }),
    );
    // 60 holds of 100 (and 60 inventory consumes of 1 out of 40) race with them.
    await settle(b.base, "POST", "/v1/inventory/acquire", key, {
      idempotency_key: "stock",
      subject: "shop",
      item: "sku",
      quantity: 40,
    });
    const consumes = Array.from(
      { length: 60 },
      (_, i) => () =>
        settle(i % 2 ? b.base : a.base, "POST", "/v1/inventory/consume", key, {
          idempotency_key: `take-${i}`,
          subject: "shop",
          item: "sku",
          quantity: 1,
        }),
    );
    // The same key to both processes at once: one entry.
    const twin = (base: string) => () =>
      settle(base, "POST", "/v1/ledger/entries", key, {
        idempotency_key: "twin",
        postings: [{ account_id: cash, amount: 1, currency: "USD" }, {
          account_id: revenue,
          amount: -1,
          currency: "USD",
        }],
      });
    const results = await pool([...spends, ...consumes, twin(a.base), twin(b.base)], 16);
    const spendResults = results.slice(0, 80);
    const consumeResults = results.slice(80, 140);
    const twins = results.slice(140);
    const ok = spendResults.filter((r) => r.status === 201).length;
    const refused = spendResults.filter((r) =>
      r.status === 422 && r.body.code === "insufficient_balance"
    ).length;
    assert.equal(
      ok + refused,
      80,
      `every spend answered 201 or 422: ${
        JSON.stringify(spendResults.filter((r) => r.status !== 201 && r.status !== 422)[0])
      }`,
    );
    assert.equal(ok, 33, "exactly the spends that fit in 10 000");
    assert.equal(consumeResults.filter((r) => r.status === 201).length, 40, "exactly the stock was consumed");
    assert.ok(consumeResults.every((r) => r.status === 201 || r.body.code === "insufficient_quantity"));
    assert.deepEqual(twins.map((r) => r.status).sort(), [200, 201]);
    assert.equal(twins[0].body.id, twins[1].body.id);

    const balance = await http(b.base, "GET", `/v1/ledger/accounts/${wallet}/balance`, key);
    assert.equal(balance.body.posted, 10_000 - 33 * 300);
    const stock = await http(a.base, "GET", "/v1/inventory/balances/shop/sku", key);
    assert.equal(stock.body.free, 0);
  } finally {
    await a.stop();
    await b.stop();
  }
  // No lost update: the materialized balances equal the postings' sums.
  const database = await openDatabase({ url, migrate: false });
  try {
    const drift = await database.client.execute(
      `select b.account_id from ledger_balances b
       where b.debits_posted <> coalesce((select sum(amount) from ledger_postings p where p.account_id = b.account_id and amount > 0), 0)
          or b.credits_posted <> coalesce((select -sum(amount) from ledger_postings p where p.account_id = b.account_id and amount < 0), 0)`,
    );
    assert.equal(drift.rows.length, 0, "materialized balances equal the postings");
    const entries = await database.client.execute("select count(*) as n from ledger_entries");
    assert.equal(Number(entries.rows[0].n), 1 + 33 + 1);
  } finally {
    database.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
