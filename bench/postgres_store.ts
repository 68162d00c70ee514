/**
 * Ledger entries/s and ingested usage events/s through real server processes over HTTP, on
 * libSQL (one process, embedded file) and on PostgreSQL with one and with two processes, in one
 * run. Several tenants share the load (one writer per tenant is the design: ADR 0003, 0010).
 *
 *     deno task bench:postgres [-- --entries 2000 --batches 20 --tenants 4]
 *
 * Needs PostgreSQL on 127.0.0.1:5432 (or PG_TEST_URL); prints one table.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { freshPostgresDatabase } from "../tests/pg_helpers.ts";
import { type ChildServer, spawnServer, TEST_ENCRYPTION_KEY } from "../tests/process.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    entries: { type: "string", default: "2000" },
    batches: { type: "string", default: "20" },
    tenants: { type: "string", default: "4" },
    concurrency: { type: "string", default: "32" },
  },
});
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

const env = {
  BILLING_ADMIN_TOKEN: ADMIN,
  BILLING_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
  LOG_LEVEL: "error",
  UPSTASH_REDIS_REST_URL: "",
  UPSTASH_REDIS_REST_TOKEN: "",
};
const rows: string[] = [];

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
console.log(
  `${ENTRIES} ledger entries (${TENANTS} tenants, ${CONCURRENCY} concurrent requests), ${BATCHES} usage batches of 1000`,
);
console.log("| store                        | ledger entries / s | ingested events / s |");
console.log("|------------------------------|-------------------:|--------------------:|");
for (const row of rows) console.log(row);
