/**
 * CPU per ingested event, in process (issue 14): `deno task bench:ingest [--batches N] [--mode M]`.
 *
 * On an embedded libSQL file (the test environment's), 8 concurrent callers each send 1000-event
 * batches of new events (one customer, a `sum` feature), as `bench:http`'s `events` row does:
 *
 * - `service`: `ingestEvents` directly, from the validated batch to the commit (the part the
 *   usage service owns: dedupe, timing gate, rows, insert, outbox/audit);
 * - `record`: `recordUsage` (the above plus the live counters);
 * - `http`: `POST /v1/events` through the app's `fetch` (`app.request`): auth, parse, validation
 *   and the above.
 *
 * Reports `process.cpuUsage()` (user + system) per event and the wall rate. Run under
 * `deno run --cpu-prof` to see where the time goes. Numbers only, no assertions.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { call, tenant, testEnv } from "../tests/helpers.ts";
import { ingestEvents, type UsageEventInput } from "../src/usage/service.ts";
import { recordUsage } from "../src/entitlements/service.ts";
import type { Ctx } from "../src/context.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    batches: { type: "string", default: "40" },
    concurrency: { type: "string", default: "8" },
    mode: { type: "string", default: "service,record,http" },
  },
});
const batches = Number(values.batches);
const concurrency = Number(values.concurrency);

const env = await testEnv();
const t = await tenant(env);
const key = t.secret_key;
await call(env, "POST", "/v1/plans", {
  key,
  body: {
    key: "bench",
    name: "Bench",
    currency: "USD",
    interval: "month",
    features: [{ key: "free", type: "metered", limit: null, aggregation: "sum" }],
  },
});
await call(env, "POST", "/v1/customers", { key, body: { external_id: "bench" } });
await call(env, "POST", "/v1/subscriptions", { key, body: { customer_id: "bench", plan_id: "bench" } });
const ctx: Ctx = { ...env.services, scope: { tenantId: t.tenant_id, appId: t.app_id } };

let seq = 0;
function batch(): UsageEventInput[] {
  const b = seq++;
  return Array.from({ length: 1000 }, (_, i) => ({
    id: `e-${b}-${i}`,
    customer_id: "bench",
    feature: "free",
    value: 1,
  }));
}

const drivers: Record<string, () => Promise<void>> = {
  service: async () => {
    const r = await ingestEvents(ctx, batch());
    if (r.accepted !== 1000) throw new Error(JSON.stringify(r.rejected.slice(0, 3)));
  },
  record: async () => {
    const r = await recordUsage(ctx, batch());
    if (r.accepted !== 1000) throw new Error(JSON.stringify(r.rejected.slice(0, 3)));
  },
  http: async () => {
    const body = JSON.stringify({ events: batch() });
    const res = await call(env, "POST", "/v1/events", { key, body });
    if (res.status !== 200 || res.body.accepted !== 1000) throw new Error(JSON.stringify(res.body));
  },
};

async function run(name: string, n: number) {
  const drive = drivers[name];
  if (!drive) throw new Error(`unknown mode ${name}`);
  let left = n;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) await drive();
  }));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const events = n * 1000;
  return { cpuUs: (cpu.user + cpu.system) / events, rate: events / (wall / 1000) };
}

const modes = String(values.mode).split(",");
for (const m of modes) await run(m, 4); // warm up (JIT, statement cache, page cache)
for (const m of modes) {
  const r = await run(m, batches);
  console.log(
    `${m.padEnd(8)} ${batches} × 1000 events, ${concurrency} concurrent: ${
      r.cpuUs.toFixed(1)
    } µs CPU/event, ` +
      `${Math.round(r.rate)} events/s wall`,
  );
}
await env.close();
