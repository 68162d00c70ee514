/**
 * Entitlement checks through the Worker in workerd, with and without the edge hot path (ADR
 * 0009): checks per second, p50 / p99 latency, and how many tenant Durable Object calls each check
 * costs (the object's own request counter, read on its internal stats route).
 *
 * Run: `deno task bench:worker` (needs redis-server on 127.0.0.1:6379 or installed). Env:
 * `CHECKS` (default 2000 per scenario), `CONCURRENCY` (default 16).
 *
 * @module
 */
import { apiPlanBody } from "../tests/helpers.ts";
import { http, provision, type Target } from "../tests/contract/contract.ts";
import { acquireRedis, testPrefix, upstashFor } from "../tests/redis_helpers.ts";
import { buildWorker, type RunningWorker, startWorker } from "../tests/workerd.ts";

const ADMIN_TOKEN = "bench-admin-token-0123456789-abcdef";
const CHECKS = Number(Deno.env.get("CHECKS") ?? 2000);
const CONCURRENCY = Number(Deno.env.get("CONCURRENCY") ?? 16);

interface Row {
  scenario: string;
  checks: number;
  checks_per_second: number;
  latency_ms_p50: number;
  latency_ms_p99: number;
  object_calls_per_check: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function objectCalls(worker: RunningWorker, name: string): Promise<number> {
  const res = await worker.objectFetch("TENANTS", `tenant:${name}`, "/__internal/stats");
  return (await res.json()).calls;
}

async function setup(target: Target) {
  const name = `b${crypto.randomUUID().slice(0, 12)}`;
  const { secret_key: key } = await provision(target, name);
  const plan = await http(target, "POST", "/v1/plans", {
    key,
    body: apiPlanBody({
      key: "bench",
      features: [{ key: "calls", type: "metered", limit: 100_000_000, aggregation: "sum" }],
    }),
  });
  await http(target, "POST", "/v1/customers", { key, body: { external_id: "bench-user" } });
  const sub = await http(target, "POST", "/v1/subscriptions", {
    key,
    body: { customer_id: "bench-user", plan_id: plan.body.id },
  });
  if (sub.status !== 201) throw new Error(`Setup failed: ${JSON.stringify(sub.body)}`);
  return { name, key };
}

async function run(
  scenario: string,
  target: Target,
  worker: RunningWorker,
  tenant: { name: string; key: string },
  consume: boolean,
): Promise<Row> {
  const body = (i: number) =>
    consume
      ? { customer_id: "bench-user", feature: "calls", consume: 1, idempotency_key: `k${i}` }
      : { customer_id: "bench-user", feature: "calls" };
  for (let i = 0; i < 20; i++) {
    await http(target, "POST", "/v1/entitlements/check", { key: tenant.key, body: body(-1 - i) });
  }
  const callsBefore = await objectCalls(worker, tenant.name);
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < CHECKS) {
      const i = next++;
      const t0 = performance.now();
      const res = await http(target, "POST", "/v1/entitlements/check", { key: tenant.key, body: body(i) });
      latencies.push(performance.now() - t0);
      if (res.status !== 200 || !res.body.allowed) {
        throw new Error(`Check failed: ${JSON.stringify(res.body)}`);
      }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const calls = (await objectCalls(worker, tenant.name)) - callsBefore;
  latencies.sort((a, b) => a - b);
  return {
    scenario,
    checks: CHECKS,
    checks_per_second: Math.round(CHECKS / seconds),
    latency_ms_p50: Number(percentile(latencies, 50).toFixed(2)),
    latency_ms_p99: Number(percentile(latencies, 99).toFixed(2)),
    object_calls_per_check: Number((calls / CHECKS).toFixed(3)),
  };
}

const redis = await acquireRedis();
if (!redis) throw new Error("The bench needs Redis (redis-server on 127.0.0.1:6379 or installed)");
const upstash = await upstashFor(redis);
const dir = await Deno.makeTempDir({ prefix: "bench-worker-" });
const rows: Row[] = [];
try {
  const build = await buildWorker(`${dir}/dist`);
  const base = { BILLING_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: "silent", PUBLISHABLE_RATE_LIMIT: "0" };
  for (const withRedis of [false, true]) {
    const vars: Record<string, string> = withRedis
      ? {
        ...base,
        UPSTASH_REDIS_REST_URL: upstash.url,
        UPSTASH_REDIS_REST_TOKEN: upstash.token,
        REDIS_KEY_PREFIX: testPrefix("bench-worker"),
      }
      : base;
    const worker = await startWorker(build, `${dir}/${withRedis ? "redis" : "objects"}`, vars);
    const target: Target = { url: worker.url, adminToken: ADMIN_TOKEN };
    try {
      const label = withRedis ? "Redis edge path" : "tenant object";
      rows.push(await run(`${label}: check`, target, worker, await setup(target), false));
      rows.push(await run(`${label}: consume 1`, target, worker, await setup(target), true));
    } finally {
      await worker.dispose();
    }
  }
} finally {
  await upstash.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
console.log(
  `Worker in workerd, ${CHECKS} checks per row, ${CONCURRENCY} in flight, local Upstash endpoint over redis-server`,
);
console.table(rows);
