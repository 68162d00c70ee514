/**
 * Benchmark of the list routes and the invoice preview: `deno task bench:lists [--rows N]`.
 *
 * On a fresh libSQL file (the server's settings) it stores N customers, N subscriptions and N
 * invoices for the measured app and as many for a second app (so the tenancy filter has rows to
 * skip), then pages through `GET /v1/customers`, `GET /v1/subscriptions?status=active` and
 * `GET /v1/invoices?status=draft` with `limit=100` through the in-process app, and prints the
 * milliseconds per page (median and worst) and the pages per second. Last it times
 * `GET /v1/invoices/upcoming` against `POST /v1/invoices` for one subscription with 1 000 usage
 * events. Numbers, never assertions (the team's rule for speed targets).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createApp } from "../src/http/app.ts";
import { LifecycleDispatcher } from "../src/lifecycle/dispatcher.ts";
import { MemoryEntitlementCache } from "../src/entitlements/cache.ts";
import { newId } from "../src/domain/ids.ts";
import { openDatabase } from "../src/storage/db.ts";
import { customers, invoices, subscriptions } from "../src/storage/schema.ts";
import { scoped } from "../src/storage/scoped.ts";

const { values } = parseArgs({ args: Deno.args, options: { rows: { type: "string", default: "20000" } } });
const ROWS = Number(values.rows);
const ADMIN = "bench-admin-token-0123456789";

const dir = await Deno.makeTempDir({ prefix: "lists-bench-" });
const database = await openDatabase({ url: `file:${dir}/bench.db` });
const services = {
  database,
  clock: { now: () => new Date() },
  lifecycle: new LifecycleDispatcher(),
  entitlementCache: new MemoryEntitlementCache(),
  log: () => {},
  webhookAllowPrivateUrls: true,
};
const app = createApp(services, { adminToken: ADMIN });

async function request(method: string, path: string, key: string, body?: unknown) {
  const res = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function tenantApp(name: string) {
  return await request("POST", "/v1/admin/tenants", ADMIN, { name, app: "production" });
}

/** N customers, each with a subscription to `planId` and a draft invoice, written directly. */
async function seed(scope: { tenantId: string; appId: string }, planId: string) {
  const now = new Date();
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  await database.write(async (tx) => {
    const s = scoped(tx, scope);
    const custs = Array.from({ length: ROWS }, (_, i) => ({
      id: newId("cus"),
      external_id: `bench-${i}`,
      name: null,
      email: null,
      tax_rate_ids: null,
      created_at: now,
    }));
    await s.insertMany(customers, custs);
    const subs = custs.map((c) => ({
      id: newId("sub"),
      customer_id: c.id,
      plan_id: planId,
      start_at: start,
      trial_end: null,
      billing_anchor: start,
      cancel_at: null,
      canceled_at: null,
      tax_rate_ids: null,
      created_at: now,
    }));
    await s.insertMany(subscriptions, subs);
    await s.insertMany(
      invoices,
      subs.map((sub) => ({
        id: newId("inv"),
        subscription_id: sub.id,
        customer_id: sub.customer_id,
        number: null,
        status: "draft" as const,
        currency: "USD",
        period_start: start,
        period_end: end,
        subtotal: 0,
        discount: 0,
        tax: 0,
        total: 0,
        amount_paid: 0,
        credits_applied: 0,
        credited: 0,
        due_at: null,
        uncollectible_at: null,
        uncollectible_entry_id: null,
        finalize_entry_id: null,
        finalized_at: null,
        paid_at: null,
        voided_at: null,
        coupon_id: null,
        tax_rate_id: null,
        tax_percentage_bp: null,
        tax_inclusive: null,
        taxes: [],
        created_at: now,
        updated_at: now,
      })),
    );
  });
}

const plan = {
  key: "bench",
  name: "Bench",
  currency: "USD",
  interval: "month",
  base_amount: 4900,
  features: [{
    key: "calls",
    name: "Calls",
    type: "metered",
    pricing: { model: "per_unit", unit_amount: 2 },
  }],
};

const measured = await tenantApp("measured");
const other = await tenantApp("other");
for (const keys of [measured, other]) {
  const created = await request("POST", "/v1/plans", keys.secret_key, plan);
  await seed({ tenantId: keys.tenant_id, appId: keys.app_id }, created.id);
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const key = measured.secret_key;
console.log(`lists, ${ROWS} rows per app, 2 apps, limit=100, in-process app on libSQL (${Deno.build.os})`);
for (const list of ["/v1/customers", "/v1/subscriptions?status=active", "/v1/invoices?status=draft"]) {
  const times: number[] = [];
  let cursor: string | null = null;
  let items = 0;
  const started = performance.now();
  do {
    const sep = list.includes("?") ? "&" : "?";
    const t0 = performance.now();
    const page: { data: unknown[]; next_cursor: string | null } = await request(
      "GET",
      `${list}${sep}limit=100${cursor ? `&cursor=${cursor}` : ""}`,
      key,
    );
    times.push(performance.now() - t0);
    items += page.data.length;
    cursor = page.next_cursor;
  } while (cursor !== null);
  const total = performance.now() - started;
  console.log({
    list,
    items,
    pages: times.length,
    page_ms_median: Number(median(times).toFixed(2)),
    page_ms_max: Number(Math.max(...times).toFixed(2)),
    pages_per_second: Number((times.length / (total / 1000)).toFixed(1)),
  });
}

// preview vs generate: one fresh subscription with 1 000 usage events
await request("POST", "/v1/customers", key, { external_id: "preview" });
const sub = await request("POST", "/v1/subscriptions", key, { customer_id: "preview", plan_id: "bench" });
await request("POST", "/v1/events", key, {
  events: Array.from(
    { length: 1000 },
    (_, i) => ({ id: `p${i}`, customer_id: "preview", feature: "calls", value: 1 }),
  ),
});
const previews: number[] = [];
for (let i = 0; i < 50; i++) {
  const t0 = performance.now();
  await request("GET", `/v1/invoices/upcoming?subscription_id=${sub.id}`, key);
  previews.push(performance.now() - t0);
}
const generates: number[] = [];
for (let i = 0; i < 50; i++) {
  const t0 = performance.now();
  await request("POST", "/v1/invoices", key, { subscription_id: sub.id });
  generates.push(performance.now() - t0);
}
console.log({
  preview_ms_median: Number(median(previews).toFixed(2)),
  generate_or_refresh_ms_median: Number(median(generates).toFixed(2)),
});
database.close();
await Deno.remove(dir, { recursive: true });
