/**
 * Benchmark of fractional quantities and credit pools (issue 19): `deno task bench:decimal [--batches N]`.
 *
 * On an embedded libSQL file, in process (`app.request`):
 * 1. ingestion of 1000-event batches with integer values and with decimal values (`"0.001"`),
 *    and the same for a feature drawing from a credit system (its events are also counted on the pool);
 * 2. `GET /v1/usage` summing every stored event of each feature (integer sum vs whole + fraction sums),
 *    and the pool's derived usage (per-dimension sums × credit cost);
 * 3. consuming checks of a plain feature and of a pool consumer (in-process live store).
 *
 * Numbers only, no assertions (the team's rule for speed targets).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { call, tenant, testEnv } from "../tests/helpers.ts";
import { MemoryLiveEntitlements } from "../src/entitlements/live_store.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { batches: { type: "string", default: "20" }, checks: { type: "string", default: "2000" } },
});
const batches = Number(values.batches);
const checks = Number(values.checks);

const env = await testEnv();
env.services.live = new MemoryLiveEntitlements();
env.clock.set("2026-01-01T00:00:00Z");
const { secret_key: key } = await tenant(env);
await call(env, "POST", "/v1/plans", {
  key,
  body: {
    key: "p",
    name: "P",
    currency: "USD",
    interval: "month",
    features: [
      { key: "ints", type: "metered" },
      { key: "decs", type: "metered" },
      { key: "credits", type: "credit_system" },
      {
        key: "calls",
        type: "metered",
        credit_system: "credits",
        credit_cost: 1,
        dimensions: ["model"],
        dimension_prices: [{ match: { model: "m-large" }, credit_cost: 5 }],
      },
    ],
  },
});
await call(env, "POST", "/v1/customers", { key, body: { external_id: "c" } });
await call(env, "POST", "/v1/subscriptions", { key, body: { customer_id: "c", plan_id: "p" } });
env.clock.set("2026-01-10T00:00:00Z");

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function timeBatches(
  feature: string,
  value: (i: number) => number | string,
  props?: (i: number) => object,
) {
  const ms: number[] = [];
  for (let b = 0; b < batches; b++) {
    const events = Array.from({ length: 1000 }, (_, i) => ({
      id: `${feature}-${b}-${i}`,
      customer_id: "c",
      feature,
      value: value(i),
      ...(props ? { properties: props(i) } : {}),
    }));
    const t0 = performance.now();
    const res = await call(env, "POST", "/v1/events", { key, body: { events } });
    ms.push(performance.now() - t0);
    if (res.body.accepted !== 1000) throw new Error(JSON.stringify(res.body));
  }
  ms.sort((a, b) => a - b);
  console.log(
    `ingest ${feature.padEnd(6)} 1000-event batch: p50 ${percentile(ms, 0.5).toFixed(1)} ms, p99 ${
      percentile(ms, 0.99).toFixed(1)
    } ms (${batches} batches)`,
  );
}

await timeBatches("ints", (i) => i % 7 + 1);
await timeBatches("decs", (i) => i % 2 === 0 ? "0.001" : 0.25);
await timeBatches("calls", () => 1, (i) => ({ model: i % 3 === 0 ? "m-large" : "m-small" }));

for (const feature of ["ints", "decs", "credits"]) {
  const ms: number[] = [];
  let value: unknown;
  for (let r = 0; r < 20; r++) {
    const t0 = performance.now();
    const res = await call(
      env,
      "GET",
      `/v1/usage?customer_id=c&feature=${feature}&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z`,
      { key },
    );
    ms.push(performance.now() - t0);
    value = res.body.value;
  }
  ms.sort((a, b) => a - b);
  console.log(
    `usage ${feature.padEnd(7)} over ${batches * 1000} events: p50 ${
      percentile(ms, 0.5).toFixed(1)
    } ms → ${value}`,
  );
}

for (const [feature, props] of [["ints", undefined], ["calls", { model: "m-large" }]] as const) {
  const ms: number[] = [];
  for (let i = 0; i < checks; i++) {
    const t0 = performance.now();
    await call(env, "POST", "/v1/entitlements/check", {
      key,
      body: {
        customer_id: "c",
        feature,
        consume: 1,
        idempotency_key: `chk-${feature}-${i}`,
        ...(props ? { properties: props } : {}),
      },
    });
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  console.log(
    `consuming check ${feature.padEnd(5)}: p50 ${percentile(ms, 0.5).toFixed(2)} ms, p99 ${
      percentile(ms, 0.99).toFixed(2)
    } ms (${checks} sequential, in-process store)`,
  );
}
await env.close();
