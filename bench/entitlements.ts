/**
 * Benchmark of the entitlement check: `deno task bench:entitlements [--seconds N] [--clients N] [--in-process N]`.
 *
 * 1. In-process, cache warm: p50/p99 of `checkEntitlement()` (the service call) and of
 *    `app.request()` (Hono, auth, validation, service) on the in-process store, then on Redis
 *    through the local Upstash endpoint.
 * 2. Over HTTP on loopback: a server process serves the billing app and, on the same
 *    `Deno.serve`, a bare Hono route returning a constant JSON. 50 concurrent clients (keep-alive)
 *    hammer each route for N seconds; it prints p50/p99 and requests per second, and the check
 *    route's throughput as a ratio of the bare route's, for the in-process store and for Redis via
 *    the local Upstash endpoint (a separate process in front of redis-server).
 *    Read checks (no consume) and consuming checks (consume 1 on an unlimited feature, each with
 *    its own idempotency key, so every one writes a usage event) are measured separately.
 *
 * Numbers only, no assertions (the team's rule for speed targets). Needs a Redis on 127.0.0.1:6379
 * or an installed redis-server for the Redis rows (skipped with a note otherwise).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Hono } from "hono";
import { createApp } from "../src/http/app.ts";
import { LifecycleDispatcher } from "../src/lifecycle/dispatcher.ts";
import type { Services } from "../src/context.ts";
import { systemClock } from "../src/domain/scope.ts";
import { MemoryEntitlementCache } from "../src/entitlements/cache.ts";
import { checkEntitlement } from "../src/entitlements/service.ts";
import { openDatabase } from "../src/storage/db.ts";
import { redisServices } from "../src/runtime/redis.ts";
import { acquireRedis } from "../tests/redis_helpers.ts";

const ADMIN = "bench-admin-token-0123456789-abcdef";
const { values } = parseArgs({
  args: Deno.args,
  options: {
    serve: { type: "boolean", default: false },
    seconds: { type: "string", default: "5" },
    clients: { type: "string", default: "50" },
    "in-process": { type: "string", default: "5000" },
  },
});

/** Builds services + app on a fresh database; Redis when `UPSTASH_REDIS_REST_URL` is set. */
async function build() {
  const dir = await Deno.makeTempDir({ prefix: "bench-ent-" });
  const database = await openDatabase({ url: `file:${dir}/billing.db` });
  const url = Deno.env.get("UPSTASH_REDIS_REST_URL");
  const token = Deno.env.get("UPSTASH_REDIS_REST_TOKEN");
  const services: Services = {
    database,
    clock: systemClock,
    lifecycle: new LifecycleDispatcher(),
    entitlementCache: new MemoryEntitlementCache(),
    log: () => {},
    ...redisServices({
      redis: url ? { url, token: token!, prefix: `bench:${crypto.randomUUID().slice(0, 8)}:` } : null,
    }, () => {}),
  };
  const app = createApp(services, { adminToken: ADMIN });
  return { dir, database, services, app };
}

/** Creates a tenant, a plan with a large limit, a customer `bench` and its subscription. */
async function seed(
  request: (method: string, path: string, key: string, body?: unknown) => Promise<Record<string, string>>,
) {
  const t = await request("POST", "/v1/admin/tenants", ADMIN, {
    name: `bench${crypto.randomUUID().slice(0, 6)}`,
    app: "production",
  });
  const plan = await request("POST", "/v1/plans", t.secret_key, {
    key: "bench",
    name: "Bench",
    currency: "USD",
    interval: "month",
    features: [
      { key: "calls", type: "metered", limit: 1_000_000_000, aggregation: "sum" },
      { key: "free", type: "metered", limit: null, aggregation: "sum" },
    ],
  });
  await request("POST", "/v1/customers", t.secret_key, { external_id: "bench" });
  await request("POST", "/v1/subscriptions", t.secret_key, { customer_id: "bench", plan_id: plan.id });
  return t as { tenant_id: string; app_id: string; secret_key: string };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))];
}

function fmt(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

// ---- server mode: the billing app and a bare Hono route on one Deno.serve ----
if (values.serve) {
  const { app } = await build();
  const bare = new Hono().get("/bench/bare", (c) => c.json({ ok: true, n: 1 }));
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    return new URL(req.url).pathname === "/bench/bare" ? bare.fetch(req) : app.fetch(req);
  });
  console.log(`listening ${server.addr.port}`);
  await server.finished;
  Deno.exit(0);
}

// ---- in-process latency ----
async function inProcess(label: string, n: number) {
  const { app, services } = await build();
  const request = async (method: string, path: string, key: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    return await res.json();
  };
  const t = await seed(request);
  const ctx = { ...services, scope: { tenantId: t.tenant_id, appId: t.app_id } };
  const input = { customer_id: "bench", feature: "calls" };
  for (let i = 0; i < 200; i++) await checkEntitlement(ctx, input); // warm
  const service: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await checkEntitlement(ctx, input);
    service.push(performance.now() - s);
  }
  const viaApp: number[] = [];
  const body = JSON.stringify(input);
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    const res = await app.request("/v1/entitlements/check", {
      method: "POST",
      headers: { authorization: `Bearer ${t.secret_key}`, "content-type": "application/json" },
      body,
    });
    await res.arrayBuffer();
    viaApp.push(performance.now() - s);
  }
  for (const [what, d] of [["checkEntitlement()", service], ["app.request()", viaApp]] as const) {
    d.sort((a, b) => a - b);
    console.log(
      `  ${label.padEnd(22)} ${what.padEnd(19)} p50 ${fmt(percentile(d, 0.5)).padStart(9)}  p99 ${
        fmt(percentile(d, 0.99)).padStart(9)
      }  (n=${n})`,
    );
  }
}

// ---- HTTP load ----
async function spawnServer(env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--serve"],
    env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/listening (\d+)/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`bench server exited: ${out}`);
    out += value;
  }
  reader.releaseLock();
  return {
    base: `http://127.0.0.1:${out.match(/listening (\d+)/)![1]}`,
    async stop() {
      child.kill("SIGTERM");
      await child.stdout.cancel().catch(() => {});
      await child.status;
    },
  };
}

async function load(
  name: string,
  seconds: number,
  clients: number,
  send: (worker: number, i: number) => Promise<Response>,
) {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, worker) => {
    for (let i = 0; performance.now() < deadline; i++) {
      const s = performance.now();
      const res = await send(worker, i);
      await res.arrayBuffer();
      if (!res.ok) errors++;
      latencies.push(performance.now() - s);
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const rps = latencies.length / elapsed;
  console.log(
    `  ${name.padEnd(34)} ${rps.toFixed(0).padStart(7)} req/s  p50 ${
      fmt(percentile(latencies, 0.5)).padStart(9)
    }  p99 ${fmt(percentile(latencies, 0.99)).padStart(9)}${errors ? `  (${errors} non-2xx)` : ""}`,
  );
  return rps;
}

async function overHttp(label: string, env: Record<string, string>, seconds: number, clients: number) {
  const server = await spawnServer(env);
  try {
    const request = async (method: string, path: string, key: string, body?: unknown) => {
      const res = await fetch(server.base + path, {
        method,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: body ? JSON.stringify(body) : undefined,
      });
      return await res.json();
    };
    const t = await seed(request);
    const headers = { authorization: `Bearer ${t.secret_key}`, "content-type": "application/json" };
    const read = JSON.stringify({ customer_id: "bench", feature: "calls" });
    for (let i = 0; i < 200; i++) {
      await (await fetch(`${server.base}/v1/entitlements/check`, { method: "POST", headers, body: read }))
        .arrayBuffer();
    }
    console.log(`${label} (${clients} concurrent clients, ${seconds} s each, keep-alive):`);
    const bare = await load(
      "bare Hono route (constant JSON)",
      seconds,
      clients,
      () => fetch(`${server.base}/bench/bare`),
    );
    const check = await load(
      "POST /v1/entitlements/check",
      seconds,
      clients,
      () => fetch(`${server.base}/v1/entitlements/check`, { method: "POST", headers, body: read }),
    );
    const run = crypto.randomUUID().slice(0, 8);
    const consume = await load(
      "  … with consume: 1 (writes an event)",
      seconds,
      clients,
      (w, i) =>
        fetch(`${server.base}/v1/entitlements/check`, {
          method: "POST",
          headers,
          body: JSON.stringify({
            customer_id: "bench",
            feature: "free",
            consume: 1,
            idempotency_key: `b${run}-${w}-${i}`,
          }),
        }),
    );
    console.log(
      `  check / bare throughput ratio: ${(check / bare).toFixed(3)}; consuming check / bare: ${
        (consume / bare).toFixed(3)
      }`,
    );
  } finally {
    await server.stop();
  }
}

const seconds = Number(values.seconds);
const clients = Number(values.clients);
const n = Number(values["in-process"]);
console.log(`Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs`);

const redis = await acquireRedis();
let upstash: { url: string; token: string; stop(): Promise<void> } | null = null;
if (redis) {
  // The local Upstash endpoint as its own process, as it would be deployed for development.
  const port = (() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const p = (l.addr as Deno.NetAddr).port;
    l.close();
    return p;
  })();
  const token = `bench-${crypto.randomUUID()}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../src/dev/upstash_local.ts", import.meta.url).pathname],
    env: { UPSTASH_LOCAL_PORT: String(port), UPSTASH_LOCAL_TOKEN: token, REDIS_URL: redis.url },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: '["PING"]',
    })
      .then(async (r) => (await r.json()).result === "PONG").catch(() => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  upstash = {
    url,
    token,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
} else {
  console.log("(no Redis: the Redis rows are skipped)");
}

try {
  console.log("In-process, cache warm (sequential):");
  await inProcess("in-process store", n);
  if (upstash) {
    Deno.env.set("UPSTASH_REDIS_REST_URL", upstash.url);
    Deno.env.set("UPSTASH_REDIS_REST_TOKEN", upstash.token);
    await inProcess("Redis (local Upstash)", n);
    Deno.env.delete("UPSTASH_REDIS_REST_URL");
    Deno.env.delete("UPSTASH_REDIS_REST_TOKEN");
  }
  await overHttp("HTTP on loopback, in-process store", {}, seconds, clients);
  if (upstash) {
    await overHttp(
      "HTTP on loopback, Redis via the local Upstash endpoint",
      {
        UPSTASH_REDIS_REST_URL: upstash.url,
        UPSTASH_REDIS_REST_TOKEN: upstash.token,
      },
      seconds,
      clients,
    );
  }
} finally {
  await upstash?.stop();
  await redis?.stop();
}
