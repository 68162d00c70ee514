/**
 * Prints (does not assert) the cost of the issue 6 billing rules:
 * 1. the pure invoice computation of a month with an upgrade, a coupon, VAT and credits;
 * 2. the billing cycle job over N subscriptions with usage (generate + finalize one period each),
 *    then a second run over the same state (the exactly-once no-op path).
 *
 *   npx -y deno@2.9.6 run -A scripts/bench_billing.ts [subscriptions=300] [computations=50000]
 *
 * @module
 */
import { computePeriodInvoice, type PlanSegment } from "../src/domain/invoice.ts";
import { checkFeatures } from "../src/domain/plan.ts";
import { runBillingCycle } from "../src/subscriptions/billing_cycle.ts";
import type { Ctx, Services } from "../src/context.ts";
import { LifecycleDispatcher } from "../src/lifecycle/dispatcher.ts";
import { createCustomer } from "../src/customers/service.ts";
import { MemoryEntitlementCache } from "../src/entitlements/cache.ts";
import { createPlan } from "../src/plans/service.ts";
import { createSubscription } from "../src/subscriptions/service.ts";
import { createTenantApp } from "../src/tenants/service.ts";
import { ingestEvents } from "../src/usage/service.ts";
import { openDatabase } from "../src/storage/db.ts";

const [subscriptionCount, computations] = [Number(Deno.args[0] ?? 300), Number(Deno.args[1] ?? 50_000)];

// 1. pure computation
const features = checkFeatures([
  {
    key: "calls",
    name: "Calls",
    type: "metered",
    included: 1000,
    pricing: {
      model: "graduated",
      tiers: [{ up_to: 10_000, unit_amount: 2, flat_amount: 0 }, {
        up_to: null,
        unit_amount: 1,
        flat_amount: 0,
      }],
    },
  },
  {
    key: "gb",
    name: "Storage",
    type: "metered",
    aggregation: "max",
    pricing: {
      model: "volume",
      tiers: [{ up_to: 10, unit_amount: 100, flat_amount: 0 }, {
        up_to: null,
        unit_amount: 80,
        flat_amount: 0,
      }],
    },
  },
]);
const start = new Date("2026-01-01T00:00:00Z");
const change = new Date("2026-01-10T00:00:00Z");
const end = new Date("2026-02-01T00:00:00Z");
const segments: PlanSegment[] = [
  {
    plan: { id: "a", name: "Basic", base_amount: 3100, features },
    start,
    end: change,
    usage: new Map([["calls", 5000], ["gb", 4]]),
    proration: "none",
  },
  {
    plan: { id: "b", name: "Pro", base_amount: 6200, features },
    start: change,
    end,
    usage: new Map([["calls", 25_000], ["gb", 14]]),
    proration: "prorate",
  },
];
let checksum = 0;
const t0 = performance.now();
for (let i = 0; i < computations; i++) {
  checksum += computePeriodInvoice({
    period: { start, end, trial: false },
    full_period: { start, end },
    segments,
    coupon: { code: "X", percent_off_bp: 1250, amount_off: null },
    tax_rate: { percentage_bp: 1900, inclusive: false },
    monetary_grants: [{ id: "m", priority: 0, effective_at: start, expires_at: null, remaining: 5000 }],
    unit_grants: [{
      id: "u",
      feature: "calls",
      priority: 0,
      effective_at: start,
      expires_at: null,
      remaining: 300,
    }],
  }).total;
}
const pureMs = performance.now() - t0;
console.log(
  `computePeriodInvoice (2 plan segments, 2 features, coupon, VAT, 2 grants): ${computations} runs in ${
    pureMs.toFixed(0)
  } ms = ` +
    `${(pureMs / computations * 1000).toFixed(1)} µs/invoice (checksum ${checksum})`,
);

// 2. billing cycle job
let now = new Date("2026-01-01T00:00:00Z");
const dir = await Deno.makeTempDir({ prefix: "bench-billing-" });
const database = await openDatabase({ url: `file:${dir}/bench.db` });
const services: Services = {
  database,
  clock: { now: () => now },
  lifecycle: new LifecycleDispatcher(),
  entitlementCache: new MemoryEntitlementCache(),
  log: () => {},
};
const created = await createTenantApp(services, { name: "bench", app: "production" });
const ctx: Ctx = { ...services, scope: { tenantId: created.tenant_id, appId: created.app_id } };
const { plan } = await createPlan(ctx, {
  key: "pro",
  name: "Pro",
  currency: "USD",
  interval: "month",
  base_amount: 4900,
  features: features.map((f) => ({ ...f, pricing: f.pricing ?? undefined })),
});
for (let i = 0; i < subscriptionCount; i++) {
  await createCustomer(ctx, { external_id: `c${i}` });
  await createSubscription(ctx, { customer_id: `c${i}`, plan_id: plan.id });
}
now = new Date("2026-01-20T00:00:00Z");
for (let i = 0; i < subscriptionCount; i += 100) {
  const batch = [];
  for (let j = i; j < Math.min(i + 100, subscriptionCount); j++) {
    batch.push({
      id: `e${j}`,
      customer_id: `c${j}`,
      feature: "calls",
      value: 1000 + j,
      timestamp: new Date("2026-01-15T00:00:00Z"),
    });
  }
  await ingestEvents(ctx, batch);
}
now = new Date("2026-02-01T01:00:00Z");
const t1 = performance.now();
const first = await runBillingCycle(services);
const firstMs = performance.now() - t1;
const t2 = performance.now();
const second = await runBillingCycle(services);
const secondMs = performance.now() - t2;
console.log(`database ${dir}/bench.db (libSQL file, WAL)`);
console.log(
  `billing cycle, first run: ${first.subscriptions_scanned} subscriptions, ${first.invoices_generated} invoices generated + ` +
    `${first.invoices_finalized} finalized in ${firstMs.toFixed(0)} ms = ${
      (first.invoices_finalized / firstMs * 1000).toFixed(0)
    } invoices/s ` +
    `(${(firstMs / Math.max(1, first.invoices_finalized)).toFixed(2)} ms/invoice)`,
);
console.log(
  `billing cycle, second run (nothing to do): ${second.invoices_generated} generated, ${second.invoices_finalized} finalized in ` +
    `${secondMs.toFixed(0)} ms = ${(secondMs / subscriptionCount).toFixed(2)} ms/subscription`,
);
database.close();
await Deno.remove(dir, { recursive: true });
