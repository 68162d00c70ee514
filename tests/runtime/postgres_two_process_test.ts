/**
 * Two real server processes on one PostgreSQL database, no Redis: each process has its own
 * in-process writer and pool, so only the store's per-tenant advisory lock stands between them.
 * Entitlement consumes must stop exactly at the hard limit, ledger spends on a constrained account
 * must never overdraw it, and a process killed with SIGKILL under load must lose no write it
 * acknowledged.
 *
 * @module
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { freshPostgresDatabase } from "../pg_helpers.ts";
import { type ChildServer, spawnServer, TEST_ENCRYPTION_KEY } from "../process.ts";

const ADMIN = "pg-two-process-admin-token-0123456789";

function startServer(url: string): Promise<ChildServer> {
  // No Redis: entitlement counters live in the database (LIVE_ENTITLEMENTS defaults to it here).
  return spawnServer({
    DATABASE_URL: url,
    BILLING_ADMIN_TOKEN: ADMIN,
    BILLING_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    LOG_LEVEL: "error",
    UPSTASH_REDIS_REST_URL: "",
    UPSTASH_REDIS_REST_TOKEN: "",
    DATABASE_POOL_MAX: "8",
  });
}

// deno-lint-ignore no-explicit-any -- JSON answers read untyped in this test
async function http(base: string, method: string, path: string, key: string, body?: unknown): Promise<any> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
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

async function tenant(base: string, name: string) {
  const created = await http(base, "POST", "/v1/admin/tenants", ADMIN, { name, app: "production" });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body as { secret_key: string; publishable_key: string };
}

Deno.test("two server processes on one PostgreSQL database", async (t) => {
  const database = await freshPostgresDatabase("twoproc");
  // both start (and migrate) at once
  const [a, b] = await Promise.all([startServer(database.url), startServer(database.url)]);
  const servers = [a, b];
  try {
    await t.step(
      "200 parallel consumes of 1 against a limit of 100, split across both: exactly 100",
      async () => {
        const { secret_key: key } = await tenant(a.base, "consumes");
        const plan = await http(a.base, "POST", "/v1/plans", key, {
          key: "pro",
          name: "Pro",
          currency: "USD",
          interval: "month",
          features: [{ key: "exports", type: "metered", limit: 100 }],
        });
        assert.equal(plan.status, 201, JSON.stringify(plan.body));
        assert.equal(
          (await http(b.base, "POST", "/v1/customers", key, { external_id: "casey" })).status,
          201,
        );
        const sub = await http(a.base, "POST", "/v1/subscriptions", key, {
          customer_id: "casey",
          plan_id: plan.body.id,
        });
        assert.equal(sub.status, 201, JSON.stringify(sub.body));
        const results = await pool(
          Array.from(
            { length: 200 },
            (_, i) => () =>
              http(i % 2 ? a.base : b.base, "POST", "/v1/entitlements/check", key, {
                customer_id: "casey",
                feature: "exports",
                consume: 1,
                idempotency_key: `use-${i}`,
              }),
          ),
          32,
        );
        assert.ok(
          results.every((r) => r.status === 200),
          JSON.stringify(results.find((r) => r.status !== 200)),
        );
        assert.equal(results.filter((r) => r.body.allowed).length, 100);
        assert.ok(results.filter((r) => !r.body.allowed).every((r) => r.body.reason === "limit_reached"));
        const after = await http(b.base, "POST", "/v1/entitlements/check", key, {
          customer_id: "casey",
          feature: "exports",
        });
        assert.equal(after.body.used, 100);
      },
    );

    await t.step("concurrent spends on one constrained account through both: never below zero", async () => {
      const { secret_key: key } = await tenant(b.base, "spends");
      const account = async (base: string, name: string, type: string, extra = {}) =>
        (await http(base, "POST", "/v1/ledger/accounts", key, { name, type, currency: "USD", ...extra })).body
          .id as string;
      const cash = await account(a.base, "cash", "asset");
      const wallet = await account(b.base, "wallet", "liability", { debits_must_not_exceed_credits: true });
      const revenue = await account(a.base, "revenue", "revenue");
      const topup = await http(a.base, "POST", "/v1/ledger/entries", key, {
        idempotency_key: "topup",
        postings: [{ account_id: cash, amount: 10_000, currency: "USD" }, {
          account_id: wallet,
          amount: -10_000,
          currency: "USD",
        }],
      });
      assert.equal(topup.status, 201);
      const spends = await pool(
        Array.from(
          { length: 120 },
          (_, i) => () =>
            http(i % 2 ? a.base : b.base, "POST", "/v1/ledger/entries", key, {
              idempotency_key: `spend-${i}`,
              postings: [{ account_id: wallet, amount: 300, currency: "USD" }, {
                account_id: revenue,
                amount: -300,
                currency: "USD",
              }],
            }),
        ),
        24,
      );
      const ok = spends.filter((r) => r.status === 201).length;
      assert.ok(
        spends.every((r) => r.status === 201 || (r.status === 422 && r.body.code === "insufficient_balance")),
        JSON.stringify(spends.find((r) => r.status !== 201 && r.status !== 422)),
      );
      assert.equal(ok, 33, "exactly the spends that fit in 10 000");
      const balance = await http(a.base, "GET", `/v1/ledger/accounts/${wallet}/balance`, key);
      assert.equal(balance.body.posted, 10_000 - 33 * 300);
    });

    await t.step("kill -9 of one process under load loses no acknowledged write", async () => {
      const { secret_key: key } = await tenant(a.base, "crash");
      const account = async (name: string, type: string) =>
        (await http(a.base, "POST", "/v1/ledger/accounts", key, { name, type, currency: "USD" })).body
          .id as string;
      const cash = await account("cash", "asset");
      const revenue = await account("revenue", "revenue");
      const acknowledged: string[] = [];
      const unanswered: number[] = [];
      let killed = false;
      const post = (base: string, i: number) =>
        http(base, "POST", "/v1/ledger/entries", key, {
          idempotency_key: `load-${i}`,
          postings: [{ account_id: cash, amount: 1, currency: "USD" }, {
            account_id: revenue,
            amount: -1,
            currency: "USD",
          }],
        });
      const send = async (i: number) => {
        try {
          const res = await post(i % 2 ? a.base : b.base, i);
          if (res.status === 201) acknowledged.push(`load-${i}`);
          else unanswered.push(i);
        } catch {
          // the killed process's connections drop: not acknowledged
          unanswered.push(i);
        }
      };
      const load = pool(Array.from({ length: 400 }, (_, i) => () => send(i)), 16);
      while (acknowledged.length < 60) await new Promise((r) => setTimeout(r, 5));
      await a.stop("SIGKILL");
      killed = true;
      await load;
      assert.ok(killed && acknowledged.length >= 60);
      const sql = postgres(database.url, { max: 1, onnotice: () => {} });
      try {
        const rows =
          await sql`select idempotency_key from ledger_entries where idempotency_key like 'load-%'`;
        const stored = new Set(rows.map((r) => r.idempotency_key as string));
        const lost = acknowledged.filter((k) => !stored.has(k));
        assert.deepEqual(lost, [], `acknowledged but not stored: ${lost.length} of ${acknowledged.length}`);
        // Clients resend what got no answer to the surviving process, with the same key: a write the
        // killed process committed before dying is answered as a replay, the others run once.
        const resent = await pool(unanswered.map((i) => () => post(b.base, i)), 16);
        assert.ok(
          resent.every((r) => r.status === 201 || r.status === 200),
          JSON.stringify(resent.find((r) => r.status !== 201 && r.status !== 200)),
        );
        const [counts] = await sql`select count(*)::int as n, count(distinct idempotency_key)::int as d
          from ledger_entries where idempotency_key like 'load-%'`;
        assert.equal(counts.d, 400, "every request is stored once it was answered");
        assert.equal(counts.n, 400, "and only once");
        const [drift] = await sql`select count(*)::int as n from ledger_balances b
          where b.debits_posted <> coalesce((select sum(amount) from ledger_postings p
                  where p.account_id = b.account_id and amount > 0), 0)
             or b.credits_posted <> coalesce((select -sum(amount) from ledger_postings p
                  where p.account_id = b.account_id and amount < 0), 0)`;
        assert.equal(drift.n, 0, "materialized balances equal the postings");
        const balance = await http(b.base, "GET", `/v1/ledger/accounts/${cash}/balance`, key);
        assert.equal(balance.body.posted, 400);
      } finally {
        await sql.end({ timeout: 1 });
      }
      servers.splice(0, 1);
    });
  } finally {
    for (const s of servers) await s.stop();
    await database.drop();
  }
});
