/**
 * Benchmark of real-size traffic on the Worker in workerd (the deployable bundle under Miniflare,
 * Durable Object SQLite on disk): `deno task bench:edge-sizes [--batches N]`.
 *
 * Prints, for one tenant: synchronous `POST /v1/events` batches of 1000 events (ms per batch,
 * events per second); `Prefer: respond-async` batches of 1000 from the first request until the
 * consumer counted all of them; and one cron run delivering a burst of webhook events. Every
 * statement of these paths is cut to the Durable Object limit of 100 bound parameters, so the
 * numbers show what the chunking costs at these sizes. Numbers only, no assertions.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { http, provision, type Target } from "../tests/contract/contract.ts";
import { apiPlanBody } from "../tests/helpers.ts";
import { buildWorker, startWorker } from "../tests/workerd.ts";

const { values } = parseArgs({ args: Deno.args, options: { batches: { type: "string", default: "10" } } });
const batches = Number(values.batches);
const ADMIN = "bench-admin-token-0123456789-abcdef";
const dir = await Deno.makeTempDir({ prefix: "bench-edge-" });
const build = await buildWorker(`${dir}/dist`);
const worker = await startWorker(build, dir, {
  BILLING_ADMIN_TOKEN: ADMIN,
  LOG_LEVEL: "error",
  WEBHOOK_ALLOW_PRIVATE_URLS: "true",
});
const target: Target = { url: worker.url, adminToken: ADMIN };

const events = (prefix: string) =>
  Array.from({ length: 1000 }, (_, i) => ({
    id: `${prefix}-${i}`,
    customer_id: "bench",
    feature: "api_calls",
    value: 1,
    properties: { region: `r${i % 7}` },
  }));
const used = async (key: string) =>
  (await http(target, "POST", "/v1/entitlements/check", {
    key,
    body: { customer_id: "bench", feature: "api_calls" },
  })).body.used as number;

try {
  const { secret_key: key } = await provision(target);
  const plan = await http(target, "POST", "/v1/plans", {
    key,
    body: {
      ...apiPlanBody({ key: "unlimited" }),
      features: [{ key: "api_calls", type: "metered", limit: null, aggregation: "sum" }],
    },
  });
  await http(target, "POST", "/v1/customers", { key, body: { external_id: "bench" } });
  await http(target, "POST", "/v1/subscriptions", {
    key,
    body: { customer_id: "bench", plan_id: plan.body.id },
  });

  const times: number[] = [];
  for (let b = 0; b < batches; b++) {
    const started = performance.now();
    const res = await http(target, "POST", "/v1/events", { key, body: { events: events(`s${b}`) } });
    times.push(performance.now() - started);
    if (res.body.accepted !== 1000) throw new Error(JSON.stringify(res.body));
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((s, t) => s + t, 0) / times.length;
  console.log(
    `sync 1000-event batches (${batches}): p50 ${times[Math.floor(times.length / 2)].toFixed(0)} ms, max ${
      times[times.length - 1].toFixed(0)
    } ms, ${(1000 / (mean / 1000)).toFixed(0)} events/s`,
  );

  const before = await used(key);
  const started = performance.now();
  for (let b = 0; b < batches; b++) {
    await http(target, "POST", "/v1/events", {
      key,
      body: { events: events(`a${b}`) },
      headers: { prefer: "respond-async" },
    });
  }
  const accepted = performance.now() - started;
  while ((await used(key)) < before + 1000 * batches) await new Promise((r) => setTimeout(r, 50));
  const counted = performance.now() - started;
  console.log(
    `respond-async ${batches}×1000 events: all 202 after ${accepted.toFixed(0)} ms, all counted after ${
      counted.toFixed(0)
    } ms (${(1000 * batches / (counted / 1000)).toFixed(0)} events/s end to end)`,
  );

  let received = 0;
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    await req.body?.cancel();
    received++;
    return new Response(null, { status: 204 });
  });
  await http(target, "POST", "/v1/webhook-endpoints", {
    key,
    body: { url: `http://127.0.0.1:${receiver.addr.port}/hooks`, events: ["customer.created"] },
  });
  const burst = 160;
  for (let i = 0; i < burst; i++) {
    await http(target, "POST", "/v1/customers", { key, body: { external_id: `hook-${i}` } });
  }
  const cronStarted = performance.now();
  const run = await (await worker.handlers()).scheduled({ scheduledTime: new Date(), cron: "*/5 * * * *" });
  console.log(
    `one cron run: ${received}/${burst} webhook events delivered in ${
      (performance.now() - cronStarted).toFixed(0)
    } ms (outcome ${run.outcome})`,
  );
  await receiver.shutdown();
} finally {
  await worker.dispose();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
