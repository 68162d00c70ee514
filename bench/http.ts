/**
 * The hot paths over HTTP against their comparators, in one run: `deno task bench:http
 * [--seconds N] [--rows a,b,…] [--profile DIR]` (issue 14). Numbers only, no assertions.
 *
 * Starts the real server (`src/runtime/deno/main.ts`, as `deno task start` runs it, with
 * `LOG_LEVEL=silent`, a temp data dir and a free port) and, as the comparator of the checks, a
 * bare Hono route on the same Deno (this file with `--bare`: `POST /v1/entitlements/check`
 * answering a constant JSON). Load comes from `wrk` (Debian package `wrk`; installed with
 * `apt-get` when missing and we are root, else the bench prints the command), each row driven by
 * a Lua script written to a temp dir:
 *
 * | row | load | comparator |
 * |---|---|---|
 * | `check` | `POST /v1/entitlements/check`, 50 connections | bare route, same request, 50 connections |
 * | `consume` | the same with `consume: 1` and a unique `idempotency_key` | raw INSERT ceiling (rows/s) |
 * | `ledger` | `POST /v1/ledger/entries`, two postings between two of 100 accounts (by id), unique keys, 50 connections | pgledger-style SQL ledger |
 * | `events` | `POST /v1/events`, 1000 new events per request, 8 connections | raw INSERT ceiling |
 *
 * Comparators measured in the same run:
 * - **raw INSERT ceiling**: the same `usage_events` rows (same columns, indexes and migrations,
 *   typeid ids, a 64-hex payload hash) inserted 1000 per transaction into a fresh migrated file,
 *   once with `node:sqlite` prepared statements and once with `@libsql/client` multi-row `VALUES`;
 *   the better of the two counts. WAL, default (FULL) synchronous, like the server.
 * - **pgledger-style**: pgledger itself cannot be installed here, so {@link PGLEDGER_SQL} models
 *   its published design in plain SQL on the local PostgreSQL (its own database): accounts with a
 *   balance and a version, transfers and entries tables, and a plpgsql `create_transfer` that
 *   locks both accounts in id order, checks currencies, updates both balances and versions and
 *   inserts the transfer and its two entries (each with the account's previous and current balance
 *   and version). `pgbench -n -c 8 -j 2 -T N` drives it with random pairs of 100 accounts;
 *   `synchronous_commit` stays on (each transfer durable before its answer).
 *
 * While each server row runs, the server's resident memory (VmRSS) is sampled every 500 ms; the
 * largest sample is printed per row. `--profile DIR` starts the server with `--cpu-prof` (the
 * profile is written when it stops); `--fast-lane off` starts it with `BILLING_FAST_LANE=off` (every
 * request through the middleware chain: the "before" of ADR 0015's fast lane).
 *
 * `--cpu` measures instead, in this process, the CPU time per unit (`process.cpuUsage()`, user +
 * system, which a shared machine distorts less than wall time) of the same rows driven through the
 * app's `fetch` (services as the server builds them, `LOG_LEVEL=silent`, 50 concurrent callers,
 * events 8), once with the fast lane (`fast_lane.ts`) and once without (`fastLane: false`), each on
 * its own database; `--units N` checks per row (consume and ledger entries: N/4, events: 10 N), in
 * `--rounds R` rounds alternating the bare route, chain and lane (the minimum of each is reported);
 * `--rows` picks the units there too (`check`, `consume`, `ledger`, `events`; default all).
 * `--idempotency-key` sends a fresh `Idempotency-Key` header on every request of those rows (and of
 * the HTTP rows check, consume, ledger and events without `--cpu`), as our SDK does on every POST
 * (equal to the body's `idempotency_key` where it has one).
 *
 * @module
 */
import { START_LOCK, START_PERMISSIONS } from "../tests/process.ts";
import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";
import { createClient } from "@libsql/client";
import { Hono } from "hono";
import { openDatabase } from "../src/storage/db.ts";
import { newId } from "../src/domain/ids.ts";
import { loadConfig } from "../src/config.ts";
import { buildServices } from "../src/runtime/services.ts";
import { createApp } from "../src/http/app.ts";
import { denoRemoteAddress } from "../src/http/auth_throttle.ts";
import { laneStats } from "../src/http/fast_lane.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const ADMIN = "bench-http-admin-token-0123456789";
const { values } = parseArgs({
  // Imported by bench/postgres_store.ts (its comparator and wrk helpers): its arguments are not ours.
  args: import.meta.main ? Deno.args : [],
  options: {
    bare: { type: "boolean", default: false },
    seconds: { type: "string", default: "10" },
    rows: { type: "string", default: "bare,check,consume,ledger,events,insert,pgledger" },
    profile: { type: "string" },
    connections: { type: "string", default: "50" },
    cpu: { type: "boolean", default: false },
    units: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
    "fast-lane": { type: "string", default: "on" },
    "idempotency-key": { type: "boolean", default: false },
  },
});

/** One wrk result. */
export interface WrkResult {
  requests: number;
  seconds: number;
  non2xx: number;
  socketErrors: number;
  p50_ms: number;
  p99_ms: number;
}

/** A child process that printed its listening line. */
export interface Child {
  base: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * The `deno` arguments that start the real server as `deno task start` does (its permissions,
 * `src/runtime/deno/main.ts`), with `flags` (e.g. `--cpu-prof`) before the entry point.
 */
export function serverCommand(flags: readonly string[] = []): string[] {
  // The entry point stays relative: `bench/http_ab.ts` runs it in another checkout's directory.
  return ["run", START_LOCK, ...START_PERMISSIONS, ...flags, "src/runtime/deno/main.ts"];
}

/** Starts `deno <args>` in `cwd` (default: this checkout) and waits for its "listening on" line. */
export async function spawnListening(
  args: string[],
  env: Record<string, string>,
  cwd: string = ROOT,
): Promise<Child> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const listening = /listening on (http:\/\/\S+:\d+)/;
  let out = "";
  while (!listening.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`process exited before listening: ${out}`);
    out += value;
  }
  (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
  })();
  return {
    base: out.match(listening)![1],
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function which(program: string): Promise<boolean> {
  return (await new Deno.Command("sh", { args: ["-c", `command -v ${program}`], stdout: "null" }).output())
    .success;
}

export async function ensureWrk(): Promise<boolean> {
  if (await which("wrk")) return true;
  if (Deno.uid?.() === 0 && await which("apt-get")) {
    console.error("bench: installing the Debian package wrk");
    const install = await new Deno.Command("apt-get", {
      args: ["install", "-y", "wrk"],
      env: { DEBIAN_FRONTEND: "noninteractive" },
    }).output();
    if (!install.success) {
      await new Deno.Command("apt-get", { args: ["update"] }).output();
      await new Deno.Command("apt-get", { args: ["install", "-y", "wrk"] }).output();
    }
    if (await which("wrk")) return true;
  }
  console.error("bench: wrk is missing; install it with: sudo apt-get install -y wrk");
  return false;
}

/** Lua common to every script: a per-thread id and counter, and a JSON line at the end. */
export function luaPrelude(nonce: string): string {
  return `
local counter = 0
local tid = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  tid = wrk.thread:get("tid") or 0
  math.randomseed(os.time() + tid * 7919)
end
function nextkey()
  counter = counter + 1
  return "${nonce}-__RUN__-" .. tid .. "-" .. counter
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT {\\"requests\\":%d,\\"us\\":%d,\\"non2xx\\":%d,\\"socket\\":%d,\\"p50\\":%d,\\"p99\\":%d}\\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

export async function wrk(
  dir: string,
  url: string,
  lua: string,
  seconds: number,
  connections: number,
): Promise<WrkResult> {
  const script = `${dir}/${crypto.randomUUID()}.lua`;
  await Deno.writeTextFile(script, lua.replaceAll("__RUN__", crypto.randomUUID().slice(0, 8)));
  const out = await new Deno.Command("wrk", {
    args: ["-t2", `-c${connections}`, `-d${seconds}s`, "--timeout", "10s", "-s", script, url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.match(/RESULT (\{.*\})/);
  if (!line) throw new Error(`wrk said: ${text}${new TextDecoder().decode(out.stderr)}`);
  const r = JSON.parse(line[1]);
  return {
    requests: r.requests,
    seconds: r.us / 1e6,
    non2xx: r.non2xx,
    socketErrors: r.socket,
    p50_ms: r.p50 / 1000,
    p99_ms: r.p99 / 1000,
  };
}

/** CPU time of process `pid` so far (user + system), in ms (Linux `/proc`; 0 elsewhere). */
function cpuMs(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, 100 ticks per second
  } catch {
    return 0;
  }
}

/** Largest VmRSS (MiB) of `pid` sampled every 500 ms while `work` runs, and the CPU time it used meanwhile. */
export async function withRss<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ value: T; rss_mib: number; cpu_ms: number }> {
  let max = 0;
  const cpuBefore = cpuMs(pid);
  const sample = () => {
    try {
      const status = Deno.readTextFileSync(`/proc/${pid}/status`);
      const kb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
      max = Math.max(max, kb / 1024);
    } catch { /* not on Linux */ }
  };
  sample();
  const timer = setInterval(sample, 500);
  try {
    const value = await work();
    sample();
    return { value, rss_mib: max, cpu_ms: cpuMs(pid) - cpuBefore };
  } finally {
    clearInterval(timer);
  }
}

async function api(base: string, method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const ACCOUNTS = 100;

/** A tenant, a plan with `calls` and `free`, the customer `bench` subscribed, and 100 ledger accounts. */
export async function seed(base: string): Promise<{ key: string; accounts: string[] }> {
  const t = await api(base, "POST", "/v1/admin/tenants", ADMIN, { name: "bench-http", app: "production" });
  const key = t.secret_key as string;
  const plan = await api(base, "POST", "/v1/plans", key, {
    key: "bench",
    name: "Bench",
    currency: "USD",
    interval: "month",
    features: [
      { key: "calls", type: "metered", limit: 1_000_000_000_000, aggregation: "sum" },
      { key: "free", type: "metered", limit: null, aggregation: "sum" },
    ],
  });
  await api(base, "POST", "/v1/customers", key, { external_id: "bench" });
  await api(base, "POST", "/v1/subscriptions", key, { customer_id: "bench", plan_id: plan.id });
  const accounts: string[] = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const account = await api(base, "POST", "/v1/ledger/accounts", key, {
      name: `acct-${i}`,
      type: "asset",
      currency: "USD",
    });
    accounts.push(account.id);
  }
  return { key, accounts };
}

function header(key: string): string {
  return `wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${key}"
`;
}

/**
 * `--idempotency-key`: Lua setting a fresh `Idempotency-Key` header into `k` (or the body's key, which
 * the two must equal), as our SDK sends on every POST; empty without the flag.
 */
function keyedLua(bodyKey?: string): string {
  if (!values["idempotency-key"]) return bodyKey ? `  local k = ${bodyKey}\n` : "";
  return `  local k = ${bodyKey ?? "nextkey()"}\n  wrk.headers["Idempotency-Key"] = k\n`;
}

/** wrk Lua of the read check (`{"customer_id":"bench","feature":"calls"}`) with key `key`. */
export function checkLua(key: string, nonce: string): string {
  if (!values["idempotency-key"]) {
    return luaPrelude(nonce) + header(key) + `wrk.body = '{"customer_id":"bench","feature":"calls"}'\n`;
  }
  return luaPrelude(nonce) + header(key) + `
function request()
${keyedLua()}  return wrk.format(nil, nil, nil, '{"customer_id":"bench","feature":"calls"}')
end
`;
}

function consumeLua(key: string, nonce: string): string {
  return luaPrelude(nonce) + header(key) + `
function request()
${
    keyedLua("nextkey()")
  }  return wrk.format(nil, nil, nil, '{"customer_id":"bench","feature":"calls","consume":1,"idempotency_key":"' .. k .. '"}')
end
`;
}

function ledgerLua(key: string, nonce: string, accounts: string[]): string {
  return luaPrelude(nonce) + header(key) + `
local accounts = { ${accounts.map((a) => `"${a}"`).join(", ")} }
function request()
  local a = math.random(1, ${ACCOUNTS})
  local b = math.random(1, ${ACCOUNTS - 1})
  if b >= a then b = b + 1 end
${keyedLua("nextkey()")}  return wrk.format(nil, nil, nil, '{"idempotency_key":"' .. k ..
    '","postings":[{"account_id":"' .. accounts[a] .. '","amount":100,"currency":"USD"},' ..
    '{"account_id":"' .. accounts[b] .. '","amount":-100,"currency":"USD"}]}')
end
`;
}

function eventsLua(key: string, nonce: string): string {
  return luaPrelude(nonce) + header(key) + `
function request()
${keyedLua()}  local parts = {}
  for i = 1, 1000 do
    parts[i] = '{"id":"' .. nextkey() .. '","customer_id":"bench","feature":"free","value":1}'
  end
  return wrk.format(nil, nil, nil, '{"events":[' .. table.concat(parts, ",") .. ']}')
end
`;
}

// ---- raw INSERT ceiling ----

/** `count` usage_events rows as the ingestion path writes them. */
function usageRows(count: number, start: number, tenant: string, app: string) {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => ({
    id: newId("evt"),
    tenant_id: tenant,
    app_id: app,
    event_id: `raw-${start + i}`,
    customer_id: "cus_01jd0000000000000000000000",
    feature: "free",
    value: 1,
    timestamp: now,
    properties: null,
    payload_hash: "0123456789abcdef".repeat(4),
    created_at: now,
  }));
}

const COLUMNS =
  "id, tenant_id, app_id, event_id, customer_id, feature, value, timestamp, properties, payload_hash, created_at";

async function freshMigratedFile(dir: string, name: string): Promise<string> {
  const path = `${dir}/${name}.db`;
  const database = await openDatabase({ url: `file:${path}` });
  database.close();
  return path;
}

async function rawNodeSqlite(dir: string, seconds: number): Promise<number> {
  const path = await freshMigratedFile(dir, "raw-node");
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  const insert = db.prepare(`INSERT INTO usage_events (${COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)`);
  let n = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    const rows = usageRows(1000, n, "ten_bench", "app_bench");
    db.exec("BEGIN IMMEDIATE");
    for (const r of rows) {
      insert.run(
        r.id,
        r.tenant_id,
        r.app_id,
        r.event_id,
        r.customer_id,
        r.feature,
        r.value,
        r.timestamp,
        r.properties,
        r.payload_hash,
        r.created_at,
      );
    }
    db.exec("COMMIT");
    n += rows.length;
  }
  const rate = n / ((performance.now() - started) / 1000);
  db.close();
  return rate;
}

async function rawLibsql(dir: string, seconds: number): Promise<number> {
  const path = await freshMigratedFile(dir, "raw-libsql");
  const client = createClient({ url: `file:${path}` });
  await client.execute("PRAGMA journal_mode = WAL");
  let n = 0;
  const started = performance.now();
  // 11 columns: 1000 rows = 11 000 parameters, under SQLite's 32 766
  const placeholders = Array.from({ length: 1000 }, () => "(?,?,?,?,?,?,?,?,?,?,?)").join(",");
  while (performance.now() - started < seconds * 1000) {
    const rows = usageRows(1000, n, "ten_bench", "app_bench");
    const args = rows.flatMap((r) => [
      r.id,
      r.tenant_id,
      r.app_id,
      r.event_id,
      r.customer_id,
      r.feature,
      r.value,
      r.timestamp,
      r.properties,
      r.payload_hash,
      r.created_at,
    ]);
    await client.batch(
      [{ sql: `INSERT INTO usage_events (${COLUMNS}) VALUES ${placeholders}`, args }],
      "write",
    );
    n += rows.length;
  }
  const rate = n / ((performance.now() - started) / 1000);
  client.close();
  return rate;
}

// ---- pgledger-style comparator ----

/** A pgledger-style ledger in plain SQL (see the module comment). */
export const PGLEDGER_SQL = `
CREATE TABLE accounts (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  currency text NOT NULL,
  balance numeric NOT NULL DEFAULT 0,
  version bigint NOT NULL DEFAULT 0,
  allow_negative_balance boolean NOT NULL DEFAULT true,
  allow_positive_balance boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE transfers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  from_account_id bigint NOT NULL REFERENCES accounts(id),
  to_account_id bigint NOT NULL REFERENCES accounts(id),
  amount numeric NOT NULL CHECK (amount > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  event_at timestamptz NOT NULL DEFAULT now(),
  metadata jsonb
);
CREATE TABLE entries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id bigint NOT NULL REFERENCES accounts(id),
  transfer_id uuid NOT NULL REFERENCES transfers(id),
  amount numeric NOT NULL,
  account_previous_balance numeric NOT NULL,
  account_current_balance numeric NOT NULL,
  account_version bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX entries_account_idx ON entries (account_id, account_version);
CREATE INDEX transfers_from_idx ON transfers (from_account_id);
CREATE INDEX transfers_to_idx ON transfers (to_account_id);
CREATE FUNCTION create_transfer(from_id bigint, to_id bigint, amt numeric) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
  a accounts; b accounts; t uuid; fa accounts; ta accounts;
BEGIN
  IF from_id = to_id THEN RAISE EXCEPTION 'cannot transfer to the same account'; END IF;
  IF amt <= 0 THEN RAISE EXCEPTION 'amount must be positive'; END IF;
  -- lock both accounts in id order (no deadlock between opposite transfers)
  SELECT * INTO a FROM accounts WHERE id = least(from_id, to_id) FOR UPDATE;
  SELECT * INTO b FROM accounts WHERE id = greatest(from_id, to_id) FOR UPDATE;
  IF a.currency <> b.currency THEN RAISE EXCEPTION 'currency mismatch'; END IF;
  IF a.id = from_id THEN fa := a; ta := b; ELSE fa := b; ta := a; END IF;
  IF NOT fa.allow_negative_balance AND fa.balance - amt < 0 THEN RAISE EXCEPTION 'negative balance'; END IF;
  IF NOT ta.allow_positive_balance AND ta.balance + amt > 0 THEN RAISE EXCEPTION 'positive balance'; END IF;
  UPDATE accounts SET balance = balance - amt, version = version + 1, updated_at = now() WHERE id = from_id;
  UPDATE accounts SET balance = balance + amt, version = version + 1, updated_at = now() WHERE id = to_id;
  INSERT INTO transfers (from_account_id, to_account_id, amount) VALUES (from_id, to_id, amt) RETURNING id INTO t;
  INSERT INTO entries (account_id, transfer_id, amount, account_previous_balance, account_current_balance, account_version)
    VALUES (from_id, t, -amt, fa.balance, fa.balance - amt, fa.version + 1),
           (to_id, t, amt, ta.balance, ta.balance + amt, ta.version + 1);
  RETURN t;
END $$;
`;

async function psql(db: string, sql: string): Promise<void> {
  const out = await new Deno.Command("psql", {
    args: ["-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-d", db, "-c", sql],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

export async function pgledger(dir: string, seconds: number): Promise<number | string> {
  if (!(await which("pgbench")) || !(await which("psql"))) return "pgbench/psql missing";
  const name = `bench_pgledger_${crypto.randomUUID().slice(0, 8)}`;
  try {
    await psql("postgres", `CREATE DATABASE ${name}`);
  } catch (error) {
    return `PostgreSQL on 127.0.0.1:5432 refused: ${String(error).trim()}`;
  }
  try {
    await psql(name, PGLEDGER_SQL);
    await psql(
      name,
      `INSERT INTO accounts (id, name, currency) SELECT g, 'acct-' || g, 'USD' FROM generate_series(1, ${ACCOUNTS}) g`,
    );
    const script = `${dir}/pgledger.sql`;
    await Deno.writeTextFile(
      script,
      `\\set a random(1, ${ACCOUNTS})\n\\set b random(1, ${ACCOUNTS - 1})\n` +
        `SELECT create_transfer(:a, CASE WHEN :b >= :a THEN :b + 1 ELSE :b END, 100);\n`,
    );
    const out = await new Deno.Command("pgbench", {
      args: [
        "-n",
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-c",
        "8",
        "-j",
        "2",
        "-T",
        String(seconds),
        "-f",
        script,
        name,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { PGOPTIONS: "-c synchronous_commit=on" },
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const tps = text.match(/tps = ([\d.]+) \(without initial connection time\)/);
    if (!tps) return `pgbench failed: ${text}${new TextDecoder().decode(out.stderr)}`;
    return Number(tps[1]);
  } finally {
    await psql("postgres", `DROP DATABASE IF EXISTS ${name}`).catch(() => {});
  }
}

// ---- the run ----

function fmtRate(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0);
}

async function main() {
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const rows = new Set(values.rows!.split(","));
  const dir = await Deno.makeTempDir({ prefix: "bench-http-" });
  const nonce = crypto.randomUUID().slice(0, 8);
  const lines: string[] = [];
  const print = (line: string) => {
    console.log(line);
    lines.push(line);
  };
  const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ").slice(0, 3).join(" ");
  console.log(
    `bench:http: ${seconds} s per row, ${connections} connections (events: 8), fast lane ${
      values["fast-lane"]
    }${
      values["idempotency-key"] ? ", Idempotency-Key on every request" : ""
    }, load average ${load}, dir ${dir}`,
  );

  let insertCeiling: number | undefined;
  if (rows.has("insert") || rows.has("events") || rows.has("consume")) {
    const node = await rawNodeSqlite(dir, Math.max(3, seconds / 2));
    const libsql = await rawLibsql(dir, Math.max(3, seconds / 2));
    insertCeiling = Math.max(node, libsql);
    print(
      `  raw INSERT ceiling (usage_events, 1000/tx)   node:sqlite ${fmtRate(node)} rows/s, ` +
        `@libsql/client ${fmtRate(libsql)} rows/s → ${fmtRate(insertCeiling)}/s`,
    );
  }
  let pg: number | string | undefined;
  if (rows.has("pgledger") || rows.has("ledger")) {
    pg = await pgledger(dir, seconds);
    print(
      `  pgledger-style (PostgreSQL, pgbench -c 8)    ${
        typeof pg === "number" ? `${fmtRate(pg)} transfers/s` : `not measured: ${pg}`
      }`,
    );
  }

  const httpRows = ["bare", "check", "consume", "ledger", "events"].filter((r) => rows.has(r));
  if (httpRows.length === 0 || !(await ensureWrk())) return;

  let bareRate: number | undefined;
  if (rows.has("bare") || rows.has("check")) {
    const bare = await spawnListening(["run", "-A", new URL(import.meta.url).pathname, "--bare"], {});
    try {
      await wrk(dir, `${bare.base}/v1/entitlements/check`, checkLua("x", nonce), 2, connections);
      const { value: r, cpu_ms } = await withRss(
        bare.pid,
        () => wrk(dir, `${bare.base}/v1/entitlements/check`, checkLua("x", nonce), seconds, connections),
      );
      bareRate = r.requests / r.seconds;
      print(
        `  bare Hono route (same Deno)                  ${fmtRate(bareRate)} req/s  p50 ${
          r.p50_ms.toFixed(2)
        } ms  p99 ${r.p99_ms.toFixed(2)} ms  server CPU ${((cpu_ms * 1000) / r.requests).toFixed(0)} µs/req`,
      );
    } finally {
      await bare.stop();
    }
  }

  const serverArgs = serverCommand(values.profile ? ["--cpu-prof", `--cpu-prof-dir=${values.profile}`] : []);
  const server = await spawnListening(serverArgs, {
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: `file:${dir}/server/billing.db`,
    LOG_LEVEL: "silent",
    BILLING_ADMIN_TOKEN: ADMIN,
    BILLING_FAST_LANE: values["fast-lane"]!,
  });
  try {
    const { key, accounts } = await seed(server.base);
    const ratio = (n: number, of: number | string | undefined) =>
      typeof of === "number" ? `${(n / of).toFixed(2)}×` : "–";
    const run = async (
      name: string,
      path: string,
      lua: string,
      conns: number,
      per: number,
      unit: string,
      of: {
        label: string;
        value: number | string | undefined;
      },
    ) => {
      await wrk(dir, `${server.base}${path}`, lua, 2, conns); // warm-up
      const { value: r, rss_mib, cpu_ms } = await withRss(
        server.pid,
        () => wrk(dir, `${server.base}${path}`, lua, seconds, conns),
      );
      const rate = (r.requests * per) / r.seconds;
      print(
        `  ${name.padEnd(44)} ${fmtRate(rate)} ${unit}  p50 ${r.p50_ms.toFixed(2)} ms  p99 ${
          r.p99_ms.toFixed(2)
        } ms  ${ratio(rate, of.value)} ${of.label}  RSS ≤ ${rss_mib.toFixed(0)} MiB  server CPU ${
          ((cpu_ms * 1000) / r.requests).toFixed(0)
        } µs/req${
          r.non2xx + r.socketErrors > 0 ? `  (${r.non2xx} non-2xx, ${r.socketErrors} socket errors)` : ""
        }`,
      );
    };
    if (rows.has("check")) {
      await run("check (read)", "/v1/entitlements/check", checkLua(key, nonce), connections, 1, "req/s", {
        label: "bare route",
        value: bareRate,
      });
    }
    if (rows.has("consume")) {
      await run(
        "check consume:1",
        "/v1/entitlements/check",
        consumeLua(key, nonce),
        connections,
        1,
        "req/s",
        {
          label: "raw INSERT ceiling",
          value: insertCeiling,
        },
      );
    }
    if (rows.has("ledger")) {
      await run(
        "ledger entries (two postings)",
        "/v1/ledger/entries",
        ledgerLua(key, nonce, accounts),
        connections,
        1,
        "entries/s",
        { label: "pgledger-style", value: pg },
      );
    }
    if (rows.has("ledger")) {
      // Entries of one writer batch share its instant: entries per distinct created_at ≈ entries per commit.
      const db = new DatabaseSync(`${dir}/server/billing.db`, { readOnly: true });
      const row = db.prepare(
        "SELECT count(*) AS n, count(DISTINCT created_at) AS commits FROM ledger_entries",
      ).get() as { n: number; commits: number };
      db.close();
      print(
        `    ledger: ${row.n} entries in ${row.commits} commits → ${
          (row.n / row.commits).toFixed(1)
        } per commit`,
      );
    }
    if (rows.has("events")) {
      await run(
        "events, 1000/request, 8 connections",
        "/v1/events",
        eventsLua(key, nonce),
        8,
        1000,
        "events/s",
        {
          label: "raw INSERT ceiling",
          value: insertCeiling,
        },
      );
    }
  } finally {
    await server.stop();
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

// ---- in process: CPU per unit, lane against chain ----

/** The comparator of the check: a bare Hono route answering a constant JSON. */
function bareApp(): Hono {
  return new Hono().post("/v1/entitlements/check", (c) => c.json({ allowed: true, reason: "ok" }));
}

/** One app as the server builds it, on a fresh database, seeded like {@link seed}. */
async function inProcessApp(dir: string, fastLane: boolean) {
  const url = `file:${dir}/${fastLane ? "lane" : "chain"}.db`;
  const database = await openDatabase({ url });
  const services = buildServices(loadConfig({ DATABASE_URL: url, LOG_LEVEL: "silent" }), database);
  const app = createApp(services, { adminToken: ADMIN, clientAddress: denoRemoteAddress, fastLane });
  // As Deno.serve: the connection info is the handler's second argument; clients send Content-Length.
  const info = { remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 40000 } };
  const send = (path: string, key: string, body: string, idempotencyKey?: string) =>
    app.fetch(
      new Request(`http://127.0.0.1:8787${path}`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": "application/json",
          "content-length": String(new TextEncoder().encode(body).length),
          ...(idempotencyKey === undefined ? {} : { "idempotency-key": idempotencyKey }),
        },
        body,
      }),
      info,
    );
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  const seeded = await seed(`http://127.0.0.1:${server.addr.port}`);
  await server.shutdown();
  return { app, send, seeded, close: () => database.close() };
}

/** CPU µs per unit of `total` units sent by `concurrency` callers (each `next(i)` one request of `per` units). */
async function cpuPerUnit(
  total: number,
  per: number,
  concurrency: number,
  next: (i: number) => Response | Promise<Response>,
): Promise<{ us: number; failures: number }> {
  const requests = Math.ceil(total / per);
  let issued = 0;
  let failures = 0;
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (issued < requests) {
      const res = await next(issued++);
      if (!res.ok) failures++;
      await res.arrayBuffer();
    }
  }));
  const used = process.cpuUsage(before);
  return { us: (used.user + used.system) / (requests * per), failures };
}

async function cpuMain() {
  const units = Number(values.units);
  const withKey = values["idempotency-key"];
  const dir = await Deno.makeTempDir({ prefix: "bench-cpu-" });
  const load = await Deno.readTextFile("/proc/loadavg").catch(() => "?");
  console.log(
    `bench:http --cpu${withKey ? " --idempotency-key" : ""}: ${units} checks per row, load average ${
      load.split(" ").slice(0, 3).join(" ")
    }`,
  );
  // `--rows` picks the units (`events` = the event row); the bare route always runs (the comparator)
  const rows = new Set(values.rows.split(","));
  const check = JSON.stringify({ customer_id: "bench", feature: "calls" });
  const nonce = crypto.randomUUID().slice(0, 8);
  const consume = (i: number) =>
    JSON.stringify({
      customer_id: "bench",
      feature: "calls",
      consume: 1,
      idempotency_key: `${nonce}-c-${i}`,
    });
  const entry = (i: number, accounts: string[]) => {
    const a = i % accounts.length;
    const b = (a + 1 + (i % (accounts.length - 1))) % accounts.length;
    return JSON.stringify({
      idempotency_key: `${nonce}-l-${i}`,
      postings: [
        { account_id: accounts[a], amount: 100, currency: "USD" },
        { account_id: accounts[b], amount: -100, currency: "USD" },
      ],
    });
  };
  const events = (i: number) =>
    JSON.stringify({
      events: Array.from({ length: 1000 }, (_, j) => ({
        id: `${nonce}-e-${i}-${j}`,
        customer_id: "bench",
        feature: "free",
        value: 1,
      })),
    });
  // The comparator of the check: the bare route, driven the same way.
  const bare = bareApp();
  const bareRequest = () =>
    bare.fetch(
      new Request("http://127.0.0.1:8787/v1/entitlements/check", {
        method: "POST",
        headers: { authorization: "Bearer x", "content-type": "application/json", "content-length": "41" },
        body: check,
      }),
    );
  const apps = { chain: await inProcessApp(dir, false), lane: await inProcessApp(dir, true) };
  // Rounds alternate bare, chain and lane so that both see the same background load; the least
  // disturbed round (the minimum) of each is reported, every round is printed.
  const best: Record<string, number> = {};
  const note = (name: string, us: number, failures = 0) => {
    best[name] = Math.min(best[name] ?? Infinity, us);
    console.log(
      `  ${name.padEnd(16)} ${us.toFixed(1)} µs CPU per unit${failures ? `, ${failures} failed` : ""}`,
    );
  };
  let sequence = 0;
  for (let round = 1; round <= Number(values.rounds); round++) {
    console.log(`round ${round}`);
    await cpuPerUnit(2000, 1, 50, bareRequest);
    note("bare check", (await cpuPerUnit(units, 1, 50, bareRequest)).us);
    for (const label of ["chain", "lane"] as const) {
      const { send, seeded } = apps[label];
      const { key, accounts } = seeded;
      const row = async (
        name: string,
        total: number,
        per: number,
        conc: number,
        next: (i: number) => Response | Promise<Response>,
      ) => {
        await cpuPerUnit(Math.min(total / 10, 2000), per, conc, next); // warm-up
        const r = await cpuPerUnit(total, per, conc, next);
        note(`${label} ${name}`, r.us, r.failures);
      };
      // `--idempotency-key`: a fresh Idempotency-Key on every request, as our SDK sends (equal to the
      // body's own key where the body has one: the two must agree).
      const idem = (kind: string, i: number) => (withKey ? `${nonce}-${kind}-${i}` : undefined);
      if (rows.has("check")) {
        await row("check", units, 1, 50, () => {
          const i = sequence++;
          return send("/v1/entitlements/check", key, check, idem("h", i));
        });
      }
      if (rows.has("consume")) {
        await row("consume", units / 4, 1, 50, () => {
          const i = sequence++;
          return send("/v1/entitlements/check", key, consume(i), idem("c", i));
        });
      }
      if (rows.has("ledger")) {
        await row("ledger", units / 4, 1, 50, () => {
          const i = sequence++;
          return send("/v1/ledger/entries", key, entry(i, accounts), idem("l", i));
        });
      }
      if (rows.has("events")) {
        await row("event", units * 10, 1000, 8, () => {
          const i = sequence++;
          return send("/v1/events", key, events(i), idem("e", i));
        });
      }
    }
  }
  const stats = laneStats(apps.lane.app)!;
  console.log(
    `lane answered ${stats.handled} (${stats.keyed} with Idempotency-Key), fell through ${stats.fellThrough}`,
  );
  const load2 = await Deno.readTextFile("/proc/loadavg").catch(() => "?");
  console.log(
    `\nminimum of ${values.rounds} rounds, CPU µs per unit (load average at the end ${
      load2.split(" ").slice(0, 3).join(" ")
    }); bare route ${
      best["bare check"].toFixed(1)
    } µs\n| unit | chain | lane | bare ÷ lane |\n|---|---|---|---|`,
  );
  for (const name of ["check", "consume", "ledger", "event"]) {
    const chain = best[`chain ${name}`];
    const lane = best[`lane ${name}`];
    if (chain === undefined || lane === undefined) continue; // not among --rows
    const ratio = name === "check" ? `${(best["bare check"] / lane).toFixed(2)}×` : "–";
    console.log(`| ${name} | ${chain.toFixed(1)} | ${lane.toFixed(1)} | ${ratio} |`);
  }
  apps.chain.close();
  apps.lane.close();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

// ---- entry: the bare route process, or the bench ----
if (values.cpu) {
  await cpuMain();
  Deno.exit(0);
}
if (values.bare) {
  const app = bareApp();
  Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`),
  }, app.fetch);
} else if (import.meta.main) {
  await main();
}
