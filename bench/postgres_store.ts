/**
 * Ledger entries/s and ingested usage events/s on libSQL and on PostgreSQL, in one run, next to
 * a pgledger-style comparator on the same PostgreSQL server (issue 17):
 *
 * 1. `store`: the store under the ledger writer, no HTTP: `--store-entries` two-posting entries
 *    spread over the tenants, `--store-inflight` submitted at a time (like that many waiting
 *    clients), through the same `InProcessWriter` and lifecycle outbox/audit the server uses; for
 *    PostgreSQL it also counts the statements, socket writes and socket reads (about one per round
 *    trip) of each batch;
 * 2. `cpu`: the whole app in this process (`app.request`, no sockets on the HTTP side), CPU time
 *    (`process.cpuUsage()`, user + system) per ledger entry (one per request, and `--batch-size`
 *    per `POST /v1/ledger/entries/batch`) and per ingested event, libSQL vs PostgreSQL: the cost
 *    that bounds a process on a loaded machine, less noisy than a rate;
 * 3. `http`: the comparator, `pgledger` from `bench/http.ts` (its plpgsql `create_transfer`
 *    driven by `pgbench -c 8`, `synchronous_commit` on), then real server processes over HTTP:
 *    libSQL (one process, embedded file) and PostgreSQL with one and with two processes sharing
 *    the database. Load comes from `wrk` (one per process, `--concurrency` connections in all),
 *    each request for the next tenant in turn, for `--seconds`; batched entries
 *    (`POST /v1/ledger/entries/batch`, `--batch-size` entries per request, `--batch-concurrency`
 *    connections); usage batches of 1000 events, 8 connections. Two processes are measured twice: with tenant affinity (each tenant's requests
 *    reach one process, as a balancer routing by API key sends them) and round robin (every
 *    process gets every tenant's requests, so the processes hand each tenant's advisory lock
 *    back and forth and each writes half-size batches).
 *
 *     deno task bench:postgres [-- --seconds 10 --tenants 4 --concurrency 64 --batch-size 100
 *       --sections store,cpu,http --stores libsql,postgres]
 *
 * `--stores` picks the stores of the `store` and `cpu` sections (`--stores postgres --cpu-prof`
 * profiles the PostgreSQL path alone).
 *
 * Needs PostgreSQL on 127.0.0.1:5432 (or PG_TEST_URL), `wrk` and `pgbench`; prints tables.
 * Numbers, never assertions: they depend on the machine and on what else runs on it (print
 * `uptime` next to them).
 *
 * @module
 */
import net from "node:net";
import process from "node:process";
import { parseArgs } from "node:util";
import { ensureWrk, luaPrelude, pgledger, wrk } from "./http.ts";
import { loadConfig } from "../src/config.ts";
import { createApp } from "../src/http/app.ts";
import { buildServices } from "../src/runtime/services.ts";
import { SecretBox } from "../src/storage/secret_box.ts";
import { freshPostgresDatabase } from "../tests/pg_helpers.ts";
import { type ChildServer, spawnServer, TEST_ENCRYPTION_KEY } from "../tests/process.ts";
import { InProcessWriter } from "../src/ledger/writer.ts";
import { LifecycleDispatcher } from "../src/lifecycle/dispatcher.ts";
import { openDatabase, type Store } from "../src/storage/db.ts";
import { openPostgres } from "../src/storage/postgres.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "10" },
    "cpu-entries": { type: "string", default: "4000" },
    tenants: { type: "string", default: "4" },
    concurrency: { type: "string", default: "64" },
    "batch-size": { type: "string", default: "100" },
    "batch-concurrency": { type: "string", default: "16" },
    "store-entries": { type: "string", default: "20000" },
    "store-inflight": { type: "string", default: "256" },
    sections: { type: "string", default: "store,cpu,http" },
    stores: { type: "string", default: "libsql,postgres" },
  },
});
const SECTIONS = new Set(args.sections.split(","));
/** Which stores the `store` and `cpu` sections measure (one alone for a CPU profile of it). */
const STORES = new Set(args.stores.split(","));
const STORE_ENTRIES = Number(args["store-entries"]);
const STORE_INFLIGHT = Number(args["store-inflight"]);
const SECONDS = Number(args.seconds);
const CPU_ENTRIES = Number(args["cpu-entries"]);
const TENANTS = Number(args.tenants);
const CONCURRENCY = Number(args.concurrency);
/** Entries per `POST /v1/ledger/entries/batch` request. */
const BATCH_SIZE = Number(args["batch-size"]);
/** Connections (HTTP) or requests in flight (`cpu`) of batched entries. */
const BATCH_CONCURRENCY = Number(args["batch-concurrency"]);
const ADMIN = "bench-admin-token-0123456789abcdef";

/** Sends one request: over the network (`fetch` on a base URL) or into an app in this process. */
type Send = (path: string, init: RequestInit) => Promise<Response>;

// deno-lint-ignore no-explicit-any -- JSON answers read untyped in a bench
async function http(send: Send, method: string, path: string, key: string, body?: unknown): Promise<any> {
  const res = await send(path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function pool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await task(next++);
  }));
}

interface Tenant {
  key: string;
  cash: string;
  revenue: string;
}

async function setUp(send: Send, i: number): Promise<Tenant> {
  const t = await http(send, "POST", "/v1/admin/tenants", ADMIN, { name: `bench${i}`, app: "production" });
  const key = t.secret_key as string;
  const account = async (name: string, type: string) =>
    (await http(send, "POST", "/v1/ledger/accounts", key, { name, type, currency: "USD" })).id as string;
  const plan = await http(send, "POST", "/v1/plans", key, {
    key: "api",
    name: "API",
    currency: "USD",
    interval: "month",
    features: [{ key: "api_calls", type: "metered", limit: null }],
  });
  await http(send, "POST", "/v1/customers", key, { external_id: "bulk" });
  await http(send, "POST", "/v1/subscriptions", key, { customer_id: "bulk", plan_id: plan.id });
  return { key, cash: await account("cash", "asset"), revenue: await account("revenue", "revenue") };
}

function entryBody(t: Tenant, key: string): unknown {
  return {
    idempotency_key: key,
    postings: [{ account_id: t.cash, amount: 100, currency: "USD" }, {
      account_id: t.revenue,
      amount: -100,
      currency: "USD",
    }],
  };
}

function entriesBody(t: Tenant, prefix: string): unknown {
  return { entries: Array.from({ length: BATCH_SIZE }, (_, i) => entryBody(t, `${prefix}-${i}`)) };
}

function eventsBody(prefix: string): unknown {
  return {
    events: Array.from({ length: 1000 }, (_, i) => ({
      id: `${prefix}-${i}`,
      customer_id: "bulk",
      feature: "api_calls",
      value: 1,
      properties: { region: `r${i % 7}` },
    })),
  };
}

/** A wrk script sending `request(tenant)` for each tenant in turn (keys from `luaPrelude`). */
function tenantsLua(nonce: string, tenants: Tenant[], body: string): string {
  return luaPrelude(nonce) + `
local tenants = { ${tenants.map((t) => `{ "${t.key}", "${t.cash}", "${t.revenue}" }`).join(", ")} }
local turn = 0
function request()
  turn = turn + 1
  local t = tenants[(turn % #tenants) + 1]
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. t[1] }
  return wrk.format("POST", nil, headers, ${body})
end
`;
}

const LEDGER_BODY = `'{"idempotency_key":"' .. nextkey() .. '","postings":[{"account_id":"' .. t[2] ..
    '","amount":100,"currency":"USD"},{"account_id":"' .. t[3] .. '","amount":-100,"currency":"USD"}]}'`;
const LEDGER_BATCH_BODY = `(function()
    local parts = {}
    for i = 1, ${BATCH_SIZE} do
      parts[i] = ${LEDGER_BODY}
    end
    return '{"entries":[' .. table.concat(parts, ",") .. ']}'
  end)()`;
const EVENTS_BODY = `(function()
    local parts = {}
    for i = 1, 1000 do
      parts[i] = '{"id":"' .. nextkey() .. '","customer_id":"bulk","feature":"api_calls","value":1,"properties":{"region":"r' .. (i % 7) .. '"}}'
    end
    return '{"events":[' .. table.concat(parts, ",") .. ']}'
  end)()`;

/** Rate of 2xx answers of `wrk` runs started together, one per base; throws on any other answer. */
async function wrkTogether(
  dir: string,
  bases: string[],
  path: string,
  lua: string,
  connections: number,
  perRequest: number,
): Promise<number> {
  const results = await Promise.all(
    bases.map((base) =>
      wrk(dir, `${base}${path}`, lua, SECONDS, Math.max(2, Math.round(connections / bases.length)))
    ),
  );
  let rate = 0;
  for (const r of results) {
    if (r.non2xx > 0 || r.socketErrors > 0) {
      throw new Error(`${path}: ${r.non2xx} answers other than 2xx, ${r.socketErrors} socket errors`);
    }
    rate += (r.requests * perRequest) / r.seconds;
  }
  return rate;
}

/**
 * Ledger entries/s (one per request, and batched when `batched`) and events/s over HTTP on
 * `servers`. `affinity`: each tenant's requests go to one process (tenant `i` to process
 * `i mod n`, as a balancer routing by API key would); else every process gets every tenant's
 * requests in turn (round robin). Afterwards the tenants' cash balances must hold at least every
 * entry `wrk` counted (a batch answers 200 even when it refuses entries).
 */
/**
 * CPU time (user + system, µs) of every process named `postgres` on this machine so far (the
 * server's backends and its background processes, with the backends that exited since (in the
 * postmaster's children's times), from `/proc/<pid>/stat`; clock ticks of 10 ms).
 * Sampled around a load, it gives the PostgreSQL server's share of the work per entry: the API
 * processes, the server and the load generator share this machine's cores.
 */
function postgresCpuMicros(): number {
  let ticks = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
    } catch {
      continue; // exited meanwhile
    }
    const close = stat.lastIndexOf(")");
    if (stat.slice(stat.indexOf("(") + 1, close) !== "postgres") continue;
    const fields = stat.slice(close + 2).split(" ");
    // utime, stime, and cutime + cstime: the postmaster collects those of its exited backends
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return ticks * 10_000;
}

/** Rates over HTTP of one row of the `http` section, and the PostgreSQL server's CPU per entry. */
interface HttpRow {
  entries: number;
  batchedEntries: number | null;
  events: number;
  /** PostgreSQL server CPU µs per entry, one entry per request. */
  serverEntry: number;
  /** The same for batched entries (`null` when not measured). */
  serverBatched: number | null;
}

async function measure(
  dir: string,
  servers: ChildServer[],
  affinity: boolean,
  batched: boolean,
): Promise<HttpRow> {
  const bases = servers.map((s) => s.base);
  const tenants: Tenant[] = [];
  const send = (i: number): Send => (path, init) => fetch(bases[i % bases.length] + path, init);
  for (let i = 0; i < TENANTS; i++) tenants.push(await setUp(send(i), i));
  const nonce = crypto.randomUUID().slice(0, 8);
  const together = async (path: string, body: string, connections: number, perRequest: number) => {
    if (!affinity) {
      return await wrkTogether(dir, bases, path, tenantsLua(nonce, tenants, body), connections, perRequest);
    }
    const rates = await Promise.all(bases.map((base, p) =>
      wrkTogether(
        dir,
        [base],
        path,
        tenantsLua(nonce, tenants.filter((_, i) => i % bases.length === p), body),
        Math.round(connections / bases.length),
        perRequest,
      )
    ));
    return rates.reduce((a, b) => a + b, 0);
  };
  let cpu = postgresCpuMicros();
  const entries = await together("/v1/ledger/entries", LEDGER_BODY, CONCURRENCY, 1);
  const serverEntry = (postgresCpuMicros() - cpu) / (entries * SECONDS);
  cpu = postgresCpuMicros();
  const batchedEntries = batched
    ? await together("/v1/ledger/entries/batch", LEDGER_BATCH_BODY, BATCH_CONCURRENCY, BATCH_SIZE)
    : null;
  const serverBatched = batchedEntries === null
    ? null
    : (postgresCpuMicros() - cpu) / (batchedEntries * SECONDS);
  let posted = 0;
  for (const [i, t] of tenants.entries()) {
    posted += (await http(send(i), "GET", `/v1/ledger/accounts/${t.cash}/balance`, t.key)).debits_posted /
      100;
  }
  const counted = (entries + (batchedEntries ?? 0)) * SECONDS;
  if (posted < counted * 0.99) throw new Error(`${posted} entries posted, ${counted.toFixed(0)} counted`);
  const events = await together("/v1/events", EVENTS_BODY, 8, 1000);
  return { entries, batchedEntries, events, serverEntry, serverBatched };
}

/**
 * CPU time of this process (user + system, µs) per ledger entry and per ingested event with the
 * whole app in it, driven through `app.request` (no HTTP sockets): 64 entries in flight over the
 * tenants, then 20 batches of 1000 events, 8 in flight; after a warm-up of the same size.
 */
async function measureCpu(store: Store & { close(): unknown }, url: string): Promise<string> {
  const config = loadConfig({
    BILLING_ADMIN_TOKEN: ADMIN,
    BILLING_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    LOG_LEVEL: "error",
    DATABASE_URL: url,
  });
  const services = buildServices(config, store);
  services.secrets = await SecretBox.create(TEST_ENCRYPTION_KEY, []);
  const app = createApp(services, { adminToken: ADMIN, sessionSecret: TEST_ENCRYPTION_KEY });
  const send: Send = (path, init) => Promise.resolve(app.request(path, init));
  const tenants: Tenant[] = [];
  for (let i = 0; i < TENANTS; i++) tenants.push(await setUp(send, i));
  const round = async (label: string) => {
    let cpu = process.cpuUsage();
    let writes = socketWrites;
    await pool(CPU_ENTRIES, CONCURRENCY, (i) => {
      const t = tenants[i % TENANTS];
      return http(send, "POST", "/v1/ledger/entries", t.key, entryBody(t, `${label}-${i}`));
    });
    let used = process.cpuUsage(cpu);
    const entryCpu = (used.user + used.system) / CPU_ENTRIES;
    const entryWrites = (socketWrites - writes) / CPU_ENTRIES;
    // The same number of entries through the batch route, BATCH_SIZE per request.
    const requests = Math.ceil(CPU_ENTRIES / BATCH_SIZE);
    cpu = process.cpuUsage();
    await pool(requests, BATCH_CONCURRENCY, async (i) => {
      const t = tenants[i % TENANTS];
      const report = await http(
        send,
        "POST",
        "/v1/ledger/entries/batch",
        t.key,
        entriesBody(t, `${label}-b${i}`),
      );
      if (report.posted !== BATCH_SIZE) {
        throw new Error(`batch ${i}: ${JSON.stringify(report).slice(0, 300)}`);
      }
    });
    used = process.cpuUsage(cpu);
    const batchedCpu = (used.user + used.system) / (requests * BATCH_SIZE);
    cpu = process.cpuUsage();
    writes = socketWrites;
    await pool(
      20,
      8,
      (b) => http(send, "POST", "/v1/events", tenants[b % TENANTS].key, eventsBody(`${label}${b}`)),
    );
    used = process.cpuUsage(cpu);
    return { entryCpu, entryWrites, batchedCpu, eventCpu: (used.user + used.system) / 20_000 };
  };
  await round("warm");
  const r = await round("run");
  return `${r.entryCpu.toFixed(0).padStart(20)} | ${r.entryWrites.toFixed(2).padStart(22)} | ${
    r.batchedCpu.toFixed(1).padStart(28)
  } | ${r.eventCpu.toFixed(1).padStart(20)} |`;
}

/** Socket writes of this process (the PostgreSQL client's; libSQL embedded writes none). */
let socketWrites = 0;
const socketWrite = net.Socket.prototype.write;
net.Socket.prototype.write = function (this: net.Socket, ...rest: unknown[]) {
  socketWrites++;
  return (socketWrite as (...a: unknown[]) => boolean).apply(this, rest);
} as typeof socketWrite;

/**
 * Socket reads of this process (`data` events): about one per round trip, since the server
 * answers a flight of pipelined statements at once (the client writes a `Bind` of more than 1 KB on
 * its own, so writes overcount flights).
 */
let socketReads = 0;
const socketEmit = net.Socket.prototype.emit;
net.Socket.prototype.emit = function (this: net.Socket, event: string | symbol, ...rest: unknown[]) {
  if (event === "data") socketReads++;
  return (socketEmit as (...a: unknown[]) => boolean).call(this, event, ...rest);
} as typeof socketEmit;

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
  await pool(STORE_ENTRIES, STORE_INFLIGHT, (i) => {
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
  });
  return { perSecond: STORE_ENTRIES / ((performance.now() - started) / 1000), batches };
}

const storeRows: string[] = [];
if (SECTIONS.has("store") && STORES.has("libsql")) {
  const dir = await Deno.makeTempDir({ prefix: "bench-store-" });
  const database = await openDatabase({ url: `file:${dir}/billing.db` });
  try {
    const { perSecond, batches } = await measureStore(database);
    storeRows.push(
      `| ${"libSQL (embedded file)".padEnd(24)} | ${perSecond.toFixed(0).padStart(18)} | ${
        (STORE_ENTRIES / batches).toFixed(1).padStart(17)
      } | ${"–".padStart(20)} | ${"–".padStart(23)} | ${"–".padStart(22)} |`,
    );
  } finally {
    database.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
if (SECTIONS.has("store") && STORES.has("postgres")) {
  const fresh = await freshPostgresDatabase("bench_store");
  let statements = 0;
  const store = await openPostgres({ url: fresh.url, onStatement: () => statements++ });
  try {
    statements = 0;
    const writes = socketWrites;
    const reads = socketReads;
    const { perSecond, batches } = await measureStore(store);
    storeRows.push(
      `| ${"PostgreSQL".padEnd(24)} | ${perSecond.toFixed(0).padStart(18)} | ${
        (STORE_ENTRIES / batches).toFixed(1).padStart(17)
      } | ${(statements / batches).toFixed(1).padStart(20)} | ${
        ((socketWrites - writes) / batches).toFixed(1).padStart(23)
      } | ${((socketReads - reads) / batches).toFixed(1).padStart(22)} |`,
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
  console.log(
    "| store                    | ledger entries / s | entries per batch | statements per batch | socket writes per batch | socket reads per batch |",
  );
  console.log(
    "|--------------------------|-------------------:|------------------:|---------------------:|------------------------:|-----------------------:|",
  );
  for (const row of storeRows) console.log(row);
  console.log("");
}

if (SECTIONS.has("cpu")) {
  const cpuRows: string[] = [];
  if (STORES.has("libsql")) {
    const dir = await Deno.makeTempDir({ prefix: "bench-cpu-" });
    const database = await openDatabase({ url: `file:${dir}/billing.db` });
    try {
      cpuRows.push(
        `| ${"libSQL (embedded file)".padEnd(24)} | ${await measureCpu(database, `file:${dir}/billing.db`)}`,
      );
    } finally {
      database.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
  if (STORES.has("postgres")) {
    const fresh = await freshPostgresDatabase("bench_cpu");
    const store = await openPostgres({ url: fresh.url });
    try {
      cpuRows.push(`| ${"PostgreSQL".padEnd(24)} | ${await measureCpu(store, fresh.url)}`);
    } finally {
      await store.close();
      await fresh.drop();
    }
  }
  console.log(
    `The app in this process (app.request), ${CPU_ENTRIES} entries (${CONCURRENCY} in flight, ${TENANTS} tenants), the same through the batch route (${BATCH_SIZE} per request, ${BATCH_CONCURRENCY} in flight), 20 usage batches of 1000: CPU time user + system`,
  );
  console.log(
    "| store                    | CPU µs / ledger entry | socket writes / entry | CPU µs / entry, batch route | CPU µs / usage event |",
  );
  console.log(
    "|--------------------------|---------------------:|----------------------:|----------------------------:|---------------------:|",
  );
  for (const row of cpuRows) console.log(row);
  console.log("");
}

const env = {
  BILLING_ADMIN_TOKEN: ADMIN,
  BILLING_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
  LOG_LEVEL: "error",
  UPSTASH_REDIS_REST_URL: "",
  UPSTASH_REDIS_REST_TOKEN: "",
};

if (SECTIONS.has("http") && await ensureWrk()) {
  const dir = await Deno.makeTempDir({ prefix: "bench-pg-" });
  const comparatorCpu = postgresCpuMicros();
  const comparator = await pgledger(dir, SECONDS);
  // its database's creation and accounts are in it too: a little over the transfers' own share
  const comparatorServer = typeof comparator === "number"
    ? (postgresCpuMicros() - comparatorCpu) / (comparator * SECONDS)
    : undefined;
  const ratio = (n: number) => typeof comparator === "number" ? `${(n / comparator).toFixed(2)}×` : "–";
  const rows: string[] = [];
  const row = (label: string, r: HttpRow) => {
    // the libSQL row's server is embedded: PostgreSQL idles through it
    const pg = (n: number | null) => (n === null || label.startsWith("libSQL") ? "–" : n.toFixed(0));
    rows.push(
      `| ${label.padEnd(30)} | ${r.entries.toFixed(0).padStart(18)} | ${ratio(r.entries).padStart(11)} | ${
        pg(r.serverEntry).padStart(14)
      } | ${(r.batchedEntries === null ? "–" : r.batchedEntries.toFixed(0)).padStart(20)} | ${
        (r.batchedEntries === null ? "–" : ratio(r.batchedEntries)).padStart(11)
      } | ${pg(r.serverBatched).padStart(14)} | ${r.events.toFixed(0).padStart(19)} |`,
    );
  };
  const libsql = await spawnServer({ ...env, DATABASE_URL: `file:${dir}/billing.db` });
  try {
    row("libSQL, 1 process", await measure(dir, [libsql], false, true));
  } finally {
    await libsql.stop();
  }
  for (
    const [processes, affinity, batched, label] of [
      [1, false, true, "PostgreSQL, 1 process"],
      [2, true, true, "PostgreSQL, 2, tenant affinity"],
      [2, false, false, "PostgreSQL, 2, round robin"],
    ] as const
  ) {
    const database = await freshPostgresDatabase("bench");
    const servers = await Promise.all(
      Array.from({ length: processes }, () => spawnServer({ ...env, DATABASE_URL: database.url })),
    );
    try {
      row(label, await measure(dir, servers, affinity, batched));
    } finally {
      for (const s of servers) await s.stop();
      await database.drop();
    }
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  console.log(
    `Over HTTP, ${SECONDS} s per column and row: ledger entries one per request (${TENANTS} tenants in turn, ${CONCURRENCY} connections over the processes), batched (${BATCH_SIZE} per request, ${BATCH_CONCURRENCY} connections), usage batches of 1000 events (8 connections)`,
  );
  console.log(
    `  pgledger-style comparator (bench/http.ts, pgbench -c 8, same PostgreSQL): ${
      typeof comparator === "number"
        ? `${comparator.toFixed(0)} transfers/s, PG CPU ${comparatorServer!.toFixed(0)} µs per transfer`
        : `not measured: ${comparator}`
    }`,
  );
  console.log(
    "  PG CPU: the PostgreSQL server's CPU time (every `postgres` process) per entry during that column's load",
  );
  console.log(
    "| store                          | ledger entries / s | vs pgledger | PG CPU µs / e. | batched entries / s  | vs pgledger | PG CPU µs / e. | ingested events / s |",
  );
  console.log(
    "|--------------------------------|-------------------:|------------:|---------------:|---------------------:|------------:|---------------:|--------------------:|",
  );
  for (const r of rows) console.log(r);
}
