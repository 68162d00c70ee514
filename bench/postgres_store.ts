/**
 * Ledger entries/s and ingested usage events/s on libSQL and on PostgreSQL, in one run:
 *
 * 1. the store under the ledger writer, no HTTP: `--store-entries` two-posting entries spread
 *    over the tenants, `--store-inflight` submitted at a time (like that many waiting clients),
 *    through the same `InProcessWriter` and lifecycle outbox/audit the server uses; for
 *    PostgreSQL it also counts the statements each batch sends (every statement is a round trip
 *    while the tenant's lock is held, except those sent pipelined);
 * 2. real server processes over HTTP: libSQL (one process, embedded file) and PostgreSQL with one
 *    and with two processes sharing the database, `--concurrency` requests at a time.
 *
 * Several tenants share the load (one writer per tenant is the design: ADR 0003, 0011).
 *
 *     deno task bench:postgres [-- --entries 4000 --batches 20 --tenants 4 --concurrency 64]
 *
 * Needs PostgreSQL on 127.0.0.1:5432 (or PG_TEST_URL); prints two tables. Numbers, never
 * assertions: they depend on the machine and on what else runs on it.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { freshPostgresDatabase } from "../tests/pg_helpers.ts";
import { type ChildServer, spawnServer, TEST_ENCRYPTION_KEY } from "../tests/process.ts";
import { InProcessWriter } from "../src/ledger/writer.ts";
import { LifecycleDispatcher } from "../src/lifecycle/dispatcher.ts";
import { openDatabase, type Store } from "../src/storage/db.ts";
import { openPostgres } from "../src/storage/postgres.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    entries: { type: "string", default: "4000" },
    batches: { type: "string", default: "20" },
    tenants: { type: "string", default: "4" },
    concurrency: { type: "string", default: "64" },
    "store-entries": { type: "string", default: "20000" },
    "store-inflight": { type: "string", default: "256" },
    sections: { type: "string", default: "store,http" },
  },
});
const SECTIONS = new Set(args.sections.split(","));
const STORE_ENTRIES = Number(args["store-entries"]);
const STORE_INFLIGHT = Number(args["store-inflight"]);
const ENTRIES = Number(args.entries);
const BATCHES = Number(args.batches);
const TENANTS = Number(args.tenants);
const CONCURRENCY = Number(args.concurrency);
const ADMIN = "bench-admin-token-0123456789abcdef";

// deno-lint-ignore no-explicit-any -- JSON answers read untyped in a bench
async function http(base: string, method: string, path: string, key: string, body?: unknown): Promise<any> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function pool(tasks: (() => Promise<unknown>)[], concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < tasks.length) await tasks[next++]();
  }));
}

interface Tenant {
  key: string;
  cash: string;
  revenue: string;
}

async function setUp(base: string, i: number): Promise<Tenant> {
  const t = await http(base, "POST", "/v1/admin/tenants", ADMIN, { name: `bench${i}`, app: "production" });
  const key = t.secret_key as string;
  const account = async (name: string, type: string) =>
    (await http(base, "POST", "/v1/ledger/accounts", key, { name, type, currency: "USD" })).id as string;
  const plan = await http(base, "POST", "/v1/plans", key, {
    key: "api",
    name: "API",
    currency: "USD",
    interval: "month",
    features: [{ key: "api_calls", type: "metered", limit: null }],
  });
  await http(base, "POST", "/v1/customers", key, { external_id: "bulk" });
  await http(base, "POST", "/v1/subscriptions", key, { customer_id: "bulk", plan_id: plan.id });
  return { key, cash: await account("cash", "asset"), revenue: await account("revenue", "revenue") };
}

async function measure(label: string, servers: ChildServer[]): Promise<string> {
  const bases = servers.map((s) => s.base);
  const tenants: Tenant[] = [];
  for (let i = 0; i < TENANTS; i++) tenants.push(await setUp(bases[i % bases.length], i));
  let started = performance.now();
  await pool(
    Array.from({ length: ENTRIES }, (_, i) => () => {
      const t = tenants[i % TENANTS];
      return http(bases[i % bases.length], "POST", "/v1/ledger/entries", t.key, {
        idempotency_key: `e-${i}`,
        postings: [{ account_id: t.cash, amount: 100, currency: "USD" }, {
          account_id: t.revenue,
          amount: -100,
          currency: "USD",
        }],
      });
    }),
    CONCURRENCY,
  );
  const entriesPerSecond = ENTRIES / ((performance.now() - started) / 1000);
  started = performance.now();
  await pool(
    Array.from(
      { length: BATCHES },
      (_, b) => () =>
        http(bases[b % bases.length], "POST", "/v1/events", tenants[b % TENANTS].key, {
          events: Array.from({ length: 1000 }, (_, i) => ({
            id: `b${b}-${i}`,
            customer_id: "bulk",
            feature: "api_calls",
            value: 1,
            properties: { region: `r${i % 7}` },
          })),
        }),
    ),
    Math.min(CONCURRENCY, 8),
  );
  const eventsPerSecond = (BATCHES * 1000) / ((performance.now() - started) / 1000);
  return `| ${label.padEnd(28)} | ${entriesPerSecond.toFixed(0).padStart(18)} | ${
    eventsPerSecond.toFixed(0).padStart(19)
  } |`;
}

/** Entries/s through the ledger writer on `store`, and how many batches carried them. */
async function measureStore(store: Store): Promise<{ perSecond: number; batches: number }> {
  let batches = 0;
  const writer = new InProcessWriter({
    storage: store,
    clock: { now: () => new Date() },
    lifecycle: new LifecycleDispatcher(),
    onBatch: (report) => {
      if (report.committed) batches++;
    },
  });
  const tenants: { scope: { tenantId: string; appId: string }; cash: string; revenue: string }[] = [];
  for (let t = 0; t < TENANTS; t++) {
    const scope = { tenantId: `ten_bench${t}`, appId: `app_bench${t}` };
    const ids: string[] = [];
    for (const [name, type] of [["cash", "asset"], ["revenue", "revenue"]] as const) {
      const { value } = await writer.submit(scope, { kind: "ensure_account", name, type, currency: "USD" });
      ids.push(value.account!.id);
    }
    tenants.push({ scope, cash: ids[0], revenue: ids[1] });
  }
  batches = 0;
  const started = performance.now();
  await pool(
    Array.from({ length: STORE_ENTRIES }, (_, i) => () => {
      const t = tenants[i % TENANTS];
      return writer.submit(t.scope, {
        kind: "post_entry",
        idempotency_key: `s-${i}`,
        postings: [{ account_id: t.cash, amount: 100, currency: "USD" }, {
          account_id: t.revenue,
          amount: -100,
          currency: "USD",
        }],
      }, { actor: "bench", requestId: `req-${i}` });
    }),
    STORE_INFLIGHT,
  );
  return { perSecond: STORE_ENTRIES / ((performance.now() - started) / 1000), batches };
}

const storeRows: string[] = [];
if (SECTIONS.has("store")) {
  const dir = await Deno.makeTempDir({ prefix: "bench-store-" });
  const database = await openDatabase({ url: `file:${dir}/billing.db` });
  try {
    const { perSecond, batches } = await measureStore(database);
    storeRows.push(
      `| ${"libSQL (embedded file)".padEnd(24)} | ${perSecond.toFixed(0).padStart(18)} | ${
        (STORE_ENTRIES / batches).toFixed(1).padStart(17)
      } | ${"–".padStart(20)} |`,
    );
  } finally {
    database.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  const fresh = await freshPostgresDatabase("bench_store");
  let statements = 0;
  const store = await openPostgres({ url: fresh.url, onStatement: () => statements++ });
  try {
    statements = 0;
    const { perSecond, batches } = await measureStore(store);
    storeRows.push(
      `| ${"PostgreSQL".padEnd(24)} | ${perSecond.toFixed(0).padStart(18)} | ${
        (STORE_ENTRIES / batches).toFixed(1).padStart(17)
      } | ${(statements / batches).toFixed(1).padStart(20)} |`,
    );
  } finally {
    await store.close();
    await fresh.drop();
  }
}
if (SECTIONS.has("store")) {
  console.log(
    `Ledger writer, no HTTP: ${STORE_ENTRIES} entries over ${TENANTS} tenants, ${STORE_INFLIGHT} submitted at a time`,
  );
  console.log("| store                    | ledger entries / s | entries per batch | statements per batch |");
  console.log("|--------------------------|-------------------:|------------------:|---------------------:|");
  for (const row of storeRows) console.log(row);
  console.log("");
}

const env = {
  BILLING_ADMIN_TOKEN: ADMIN,
  BILLING_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
  LOG_LEVEL: "error",
  UPSTASH_REDIS_REST_URL: "",
  UPSTASH_REDIS_REST_TOKEN: "",
};
const rows: string[] = [];

if (SECTIONS.has("http")) {
  const dir = await Deno.makeTempDir({ prefix: "bench-pg-" });
  const libsql = await spawnServer({ ...env, DATABASE_URL: `file:${dir}/billing.db` });
  try {
    rows.push(await measure("libSQL, 1 process", [libsql]));
  } finally {
    await libsql.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  for (const processes of [1, 2]) {
    const database = await freshPostgresDatabase("bench");
    const servers = await Promise.all(
      Array.from({ length: processes }, () => spawnServer({ ...env, DATABASE_URL: database.url })),
    );
    try {
      rows.push(await measure(`PostgreSQL, ${processes} process${processes > 1 ? "es" : ""}`, servers));
    } finally {
      for (const s of servers) await s.stop();
      await database.drop();
    }
  }
}
if (SECTIONS.has("http")) {
  console.log(
    `Over HTTP: ${ENTRIES} ledger entries (${TENANTS} tenants, ${CONCURRENCY} concurrent requests), ${BATCHES} usage batches of 1000`,
  );
  console.log("| store                        | ledger entries / s | ingested events / s |");
  console.log("|------------------------------|-------------------:|--------------------:|");
  for (const row of rows) console.log(row);
}
