/**
 * Cost of test clocks on the embedded libSQL default, in process (`app.request`, no network):
 * 1. one advance of a clock with C customers on a monthly plan across M months (each period
 *    invoiced and finalized at its own instant): wall time, stops, invoices per second;
 * 2. entitlement checks of a customer on the wall clock vs one bound to a test clock (the
 *    per-customer time resolver: remembered for wall-clock customers, one query for bound ones).
 * Prints numbers; nothing is asserted.
 *
 *   deno run -A bench/test_clocks.ts [--customers 10] [--months 12] [--checks 2000]
 */
import { parseArgs } from "node:util";
import { call, tenant, testEnv } from "../tests/helpers.ts";

const { values } = parseArgs({
  options: {
    customers: { type: "string", default: "10" },
    months: { type: "string", default: "12" },
    checks: { type: "string", default: "2000" },
  },
});
const customers = Number(values.customers);
const months = Number(values.months);
const checks = Number(values.checks);
const env = await testEnv();
const { secret_key: key } = await tenant(env);
const ok = async (method: string, path: string, body?: unknown) => {
  const res = await call(env, method, path, { key, body });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
};
await ok("POST", "/v1/plans", {
  key: "m",
  name: "M",
  currency: "USD",
  interval: "month",
  base_amount: 1000,
  features: [{ key: "sso", name: "SSO", type: "boolean" }],
});
const clock = await ok("POST", "/v1/test_clocks", { frozen_time: "2026-01-01T00:00:00Z" });
for (let i = 0; i < customers; i++) {
  await ok("POST", "/v1/customers", { external_id: `c${i}`, test_clock: clock.id });
  await ok("POST", "/v1/subscriptions", { customer_id: `c${i}`, plan_id: "m" });
}
const target = new Date(Date.UTC(2026, months, 1, 2)).toISOString();
let started = performance.now();
await ok("POST", `/v1/test_clocks/${clock.id}/advance`, { frozen_time: target });
let ms = performance.now() - started;
const invoices = customers * months;
console.log(
  `advance: ${customers} customers × ${months} months → ${invoices} invoices finalized in ${
    ms.toFixed(0)
  } ms ` +
    `(${(invoices / (ms / 1000)).toFixed(0)} invoices/s, ${months * 2} stops)`,
);

await ok("POST", "/v1/customers", { external_id: "wall" });
await ok("POST", "/v1/subscriptions", { customer_id: "wall", plan_id: "m" });
for (const who of ["wall", "c0"]) {
  const times: number[] = [];
  for (let i = 0; i < checks; i++) {
    started = performance.now();
    await ok("POST", "/v1/entitlements/check", { customer_id: who, feature: "sso" });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(3);
  ms = times.reduce((a, b) => a + b, 0);
  console.log(
    `check (${who === "wall" ? "wall-clock customer" : "test-clock customer"}): p50 ${p(0.5)} ms, p99 ${
      p(0.99)
    } ms ` +
      `(${checks} checks, app.request)`,
  );
}
await env.close();
