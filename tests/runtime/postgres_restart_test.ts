/**
 * PostgreSQL restarted under load (issue 17): a real server process keeps serving while its
 * database restarts twice — `pg_ctl restart -m fast` (sessions terminated) and `-m immediate`
 * (no shutdown checkpoint: crash recovery from the WAL) — and recovers by itself: the `postgres`
 * client reconnects, nothing restarts the API process. Clients post ledger entries and usage
 * batches with idempotency keys and resend every failed request with the same key until it is
 * acknowledged, as the API asks of them (`database_unavailable` is 503, retryable). At the end
 * every acknowledged write is stored exactly once, nothing unacknowledged is stored, and each
 * materialized balance equals the sum of its postings.
 *
 * The test runs its own cluster (`pg_cluster.ts`) on a free port: restarting the machine's
 * shared server would break every other suite using it.
 *
 * @module
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { privateClusterUnavailable, startPrivateCluster } from "../pg_cluster.ts";
import { spawnServer, TEST_ENCRYPTION_KEY } from "../process.ts";

const ADMIN = "pg-restart-admin-token-0123456789abcdef";
/** Usage events per ingested batch. */
const EVENTS_PER_BATCH = 100;
/** Concurrent clients. */
const CLIENTS = 12;

interface Answer {
  status: number;
  // deno-lint-ignore no-explicit-any -- JSON answers read untyped in this test
  body: any;
}

async function http(
  base: string,
  method: string,
  path: string,
  key: string,
  body?: unknown,
): Promise<Answer> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("PostgreSQL restarted under load: the service recovers by itself, no acknowledged write lost", async () => {
  const unavailable = await privateClusterUnavailable();
  if (unavailable) {
    throw new Error(`Cannot start a private PostgreSQL cluster for the restart test: ${unavailable}`);
  }
  const cluster = await startPrivateCluster();
  const url = await cluster.createDatabase("billing_restart");
  const server = await spawnServer({
    DATABASE_URL: url,
    BILLING_ADMIN_TOKEN: ADMIN,
    BILLING_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    LOG_LEVEL: "error",
    UPSTASH_REDIS_REST_URL: "",
    UPSTASH_REDIS_REST_TOKEN: "",
    DATABASE_POOL_MAX: "8",
    WEBHOOK_WORKER_INTERVAL_MS: "200",
  }, { echo: !!Deno.env.get("ECHO") });
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const b = server.base;
    const created = await http(b, "POST", "/v1/admin/tenants", ADMIN, { name: "restart", app: "production" });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const key = created.body.secret_key as string;
    const account = async (name: string, type: string) => {
      const res = await http(b, "POST", "/v1/ledger/accounts", key, { name, type, currency: "USD" });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    };
    const cash = await account("cash", "asset");
    const revenue = await account("revenue", "revenue");
    const plan = await http(b, "POST", "/v1/plans", key, {
      key: "api",
      name: "API",
      currency: "USD",
      interval: "month",
      features: [{ key: "api_calls", type: "metered", limit: null }],
    });
    assert.equal(plan.status, 201, JSON.stringify(plan.body));
    assert.equal((await http(b, "POST", "/v1/customers", key, { external_id: "bulk" })).status, 201);
    const sub = await http(b, "POST", "/v1/subscriptions", key, {
      customer_id: "bulk",
      plan_id: plan.body.id,
    });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));

    // Every operation is resent with the same key until acknowledged; failures are counted.
    const ackedEntries: string[] = [];
    const ackedEvents: string[] = [];
    const failures = new Map<string, number>();
    let stop = false;
    let sequence = 0;
    const untilAcknowledged = async (send: () => Promise<Answer>, ok: (a: Answer) => boolean) => {
      for (let attempt = 0;; attempt++) {
        let label: string;
        try {
          const answer = await send();
          if (ok(answer)) return answer;
          assert.equal(
            answer.status,
            503,
            `only retryable failures expected: ${JSON.stringify(answer.body)}`,
          );
          label = `${answer.status} ${answer.body.code}`;
        } catch (error) {
          if (error instanceof assert.AssertionError) throw error;
          label = `network ${(error as Error).name}`;
        }
        failures.set(label, (failures.get(label) ?? 0) + 1);
        assert.ok(
          attempt < 400,
          `the service did not recover within about a minute: ${
            JSON.stringify(Object.fromEntries(failures))
          }`,
        );
        await new Promise((r) => setTimeout(r, 25 + Math.min(250, 10 * attempt)));
      }
    };
    const client = async () => {
      while (!stop) {
        const i = sequence++;
        if (i % 5 === 4) {
          const events = Array.from({ length: EVENTS_PER_BATCH }, (_, j) => ({
            id: `ev-${i}-${j}`,
            customer_id: "bulk",
            feature: "api_calls",
            value: 1,
          }));
          const answer = await untilAcknowledged(
            () => http(b, "POST", "/v1/events", key, { events }),
            (a) => a.status === 200 || a.status === 201 || a.status === 202,
          );
          assert.equal(answer.body.accepted + answer.body.duplicates, EVENTS_PER_BATCH);
          ackedEvents.push(...events.map((e) => e.id));
        } else {
          const idempotencyKey = `entry-${i}`;
          await untilAcknowledged(
            () =>
              http(b, "POST", "/v1/ledger/entries", key, {
                idempotency_key: idempotencyKey,
                postings: [{ account_id: cash, amount: 7, currency: "USD" }, {
                  account_id: revenue,
                  amount: -7,
                  currency: "USD",
                }],
              }),
            (a) => a.status === 201 || a.status === 200,
          );
          ackedEntries.push(idempotencyKey);
        }
      }
    };
    // A service that stops acknowledging (a connection stuck after the restart) fails the test
    // within two minutes instead of hanging the suite.
    const waitForMore = async (n: number) => {
      const target = ackedEntries.length + n;
      const deadline = Date.now() + 120_000;
      while (ackedEntries.length < target) {
        if (Date.now() >= deadline) {
          stop = true; // the clients stop resending
          assert.fail(`no recovery: ${ackedEntries.length} of ${target} entries acknowledged after 120 s`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const load = Promise.all(Array.from({ length: CLIENTS }, client));
    await waitForMore(150);
    await cluster.restart("fast");
    await waitForMore(150); // recovered: new writes are acknowledged after the restart
    await cluster.restart("immediate");
    await waitForMore(150);
    stop = true;
    await load;
    console.log(
      `restart test: ${ackedEntries.length} entries and ${ackedEvents.length} events acknowledged; ` +
        `failed attempts resent: ${JSON.stringify(Object.fromEntries(failures))}`,
    );

    const entryRows = await sql`select idempotency_key, count(*)::int as n from ledger_entries
      where idempotency_key like 'entry-%' group by idempotency_key`;
    const stored = new Map(entryRows.map((r) => [r.idempotency_key as string, r.n as number]));
    const lost = ackedEntries.filter((k) => !stored.has(k));
    assert.deepEqual(lost, [], `acknowledged entries not stored: ${lost.length} of ${ackedEntries.length}`);
    assert.ok([...stored.values()].every((n) => n === 1), "every entry is stored once");
    assert.equal(stored.size, ackedEntries.length, "nothing but the acknowledged entries is stored");
    const [events] = await sql`select count(*)::int as n, count(distinct event_id)::int as d
      from usage_events where event_id like 'ev-%'`;
    assert.equal(events.d, ackedEvents.length, "every acknowledged event is stored");
    assert.equal(events.n, ackedEvents.length, "each once");
    const [drift] = await sql`select count(*)::int as n from ledger_balances b
      where b.debits_posted <> coalesce((select sum(amount) from ledger_postings p
              where p.account_id = b.account_id and amount > 0), 0)
         or b.credits_posted <> coalesce((select -sum(amount) from ledger_postings p
              where p.account_id = b.account_id and amount < 0), 0)`;
    assert.equal(drift.n, 0, "materialized balances equal the postings");
    const balance = await http(b, "GET", `/v1/ledger/accounts/${cash}/balance`, key);
    assert.equal(balance.status, 200, JSON.stringify(balance.body));
    assert.equal(balance.body.posted, 7 * ackedEntries.length, "the API reads the same balance");
  } finally {
    await sql.end({ timeout: 1 });
    await server.stop();
    await cluster.destroy();
  }
});
