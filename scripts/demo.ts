// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * Demo: drives the RUNNING server over HTTP through a realistic month and prints the invoices and
 * the ledger balances.
 *
 *   terminal 1: npx -y deno@2.9.6 task start
 *   terminal 2: npx -y deno@2.9.6 task demo
 *
 * Environment: `BASE_URL` (default http://127.0.0.1:8787), `BILLING_ADMIN_TOKEN` (default: read
 * from ./data/admin-token, where the embedded default stores it). Usage values come from a seeded
 * PRNG, so the totals are the same on every run.
 *
 * @module
 */
import { format } from "../src/domain/money.ts";

const BASE_URL = Deno.env.get("BASE_URL") ?? "http://127.0.0.1:8787";
const ADMIN = Deno.env.get("BILLING_ADMIN_TOKEN") ?? (await Deno.readTextFile("./data/admin-token")).trim();

async function api(
  method: string,
  path: string,
  key: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<any> {
  const res = await fetch(BASE_URL + path, {
    method,
    headers: {
      ...headers,
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** mulberry32: a tiny seeded PRNG so the demo's usage (and totals) are reproducible. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;
const now = Date.now();
const start = new Date(Math.floor((now - 40 * DAY) / DAY) * DAY); // backdated: one full month has ended
const suffix = crypto.randomUUID().slice(0, 8);

console.log(`Demo against ${BASE_URL}\n`);
const tenant = await api("POST", "/v1/admin/tenants", ADMIN, { name: `demo-${suffix}`, app: "production" });
const sk = tenant.secret_key;
const pk = tenant.publishable_key;
console.log(`tenant ${tenant.tenant_id} / app ${tenant.app_id}`);

const plan = await api("POST", "/v1/plans", sk, {
  key: "api-pro",
  name: "API Pro",
  currency: "USD",
  interval: "month",
  base_amount: 4900,
  // The demo backdates its subscriptions by 40 days and sends that month's usage now, as a late
  // import would: the late-usage window (30 days, the maximum) keeps the ended period's invoice a
  // draft that the server's billing cycle may open but will not finalize before the usage is in.
  invoice_grace_period_hours: 720,
  features: [
    {
      key: "api_calls",
      name: "API calls",
      type: "metered",
      limit: 60_000,
      aggregation: "sum",
      included: 10_000,
      pricing: {
        model: "graduated",
        tiers: [
          { up_to: 20_000, unit_amount: 2, flat_amount: 0 },
          { up_to: null, unit_amount: 1, flat_amount: 0 },
        ],
      },
    },
    {
      key: "storage_gb",
      name: "Storage (GB, peak)",
      type: "metered",
      aggregation: "max",
      pricing: {
        model: "volume",
        tiers: [
          { up_to: 50, unit_amount: 25, flat_amount: 0 },
          { up_to: 500, unit_amount: 20, flat_amount: 0 },
          { up_to: null, unit_amount: 15, flat_amount: 0 },
        ],
      },
    },
    {
      key: "seats",
      name: "Seats",
      type: "seat",
      limit: 25,
      included: 3,
      pricing: { model: "per_unit", unit_amount: 800 },
    },
    { key: "sso", name: "Single sign-on", type: "boolean" },
  ],
});
console.log(`plan ${plan.id} (${plan.name}, ${format(plan.base_amount, plan.currency)}/month)\n`);

const customers = [
  {
    external_id: "northwind",
    name: "Northwind Traders",
    email: "billing@northwind.example",
    calls: 2600,
    storage: 140,
    seats: 7,
  },
  {
    external_id: "contoso",
    name: "Contoso Ltd",
    email: "ap@contoso.example",
    calls: 700,
    storage: 18,
    seats: 2,
  },
];
const subs: Record<string, any> = {};
for (const c of customers) {
  await api("POST", "/v1/customers", sk, { external_id: c.external_id, name: c.name, email: c.email });
  subs[c.external_id] = await api("POST", "/v1/subscriptions", sk, {
    customer_id: c.external_id,
    plan_id: plan.id,
    start_at: start.toISOString(),
  });
}
const first = subs.northwind;
const periodStart = new Date(first.billing_anchor).getTime();
const periodEnd = new Date(first.current_period_start).getTime();
console.log(`billing period ${new Date(periodStart).toISOString()} → ${new Date(periodEnd).toISOString()}`);

// A month of usage: each API request is one event carrying 1–40 calls; storage and seats are gauges.
const random = prng(42);
const events: any[] = [];
for (const c of customers) {
  for (let i = 0; i < c.calls; i++) {
    const at = periodStart + Math.floor(random() * (periodEnd - periodStart - 1));
    events.push({
      id: `${c.external_id}-req-${i}`,
      customer_id: c.external_id,
      feature: "api_calls",
      value: 1 + Math.floor(random() * 40),
      timestamp: new Date(at).toISOString(),
    });
  }
  for (let day = 0; day < 28; day++) {
    const at = new Date(periodStart + day * DAY + 3_600_000).toISOString();
    const gb = Math.max(1, Math.round(c.storage * (0.5 + 0.5 * (day / 27))));
    events.push({
      id: `${c.external_id}-gb-${day}`,
      customer_id: c.external_id,
      feature: "storage_gb",
      value: gb,
      timestamp: at,
    });
  }
  events.push({
    id: `${c.external_id}-seats`,
    customer_id: c.external_id,
    feature: "seats",
    value: c.seats,
    timestamp: new Date(periodStart + DAY).toISOString(),
  });
}

let accepted = 0;
let duplicates = 0;
let rejected = 0;
const batches: any[][] = [];
for (let i = 0; i < events.length; i += 500) batches.push(events.slice(i, i + 500));
for (const batch of batches) {
  const r = await api("POST", "/v1/events", sk, { events: batch }); // servers send usage with the secret key
  accepted += r.accepted;
  duplicates += r.duplicates;
  rejected += r.rejected.length;
}
// network retries: two batches are delivered again
for (const batch of [batches[1], batches[3]]) {
  const r = await api("POST", "/v1/events", sk, { events: batch });
  accepted += r.accepted;
  duplicates += r.duplicates;
  rejected += r.rejected.length;
}
console.log(
  `usage: ${events.length} distinct events sent in ${batches.length} batches + 2 retried batches → accepted ${accepted}, duplicates ${duplicates}, rejected ${rejected}\n`,
);

// Entitlements in the current period: the hard limit of 60 000 calls flips the check to denied.
console.log("entitlement checks for contoso in the current period (hard limit 60 000 API calls):");
// A browser acts for one customer: the backend mints a session with its secret key, the page sends
// it next to the publishable key
const contoso = await api("POST", "/v1/customer_sessions", sk, {
  customer_id: "contoso",
  expires_in_seconds: 600,
});
const asContoso = { "customer-session": contoso.token };
const sent = [59_000, 998, 1, 1];
let n = 0;
for (const value of sent) {
  await api("POST", "/v1/events", pk, {
    events: [{ id: `contoso-now-${n++}`, customer_id: "contoso", feature: "api_calls", value }],
  }, asContoso);
  const check = await api("POST", "/v1/entitlements/check", pk, {
    customer_id: "contoso",
    feature: "api_calls",
  }, asContoso);
  console.log(
    `  after +${String(value).padStart(6)} calls: allowed=${
      String(check.allowed).padEnd(5)
    } used=${check.used} remaining=${check.remaining} reason=${check.reason}`,
  );
}
const northwind = await api("POST", "/v1/customer_sessions", sk, { customer_id: "northwind" });
const sso = await api("POST", "/v1/entitlements/check", pk, { customer_id: "northwind", feature: "sso" }, {
  "customer-session": northwind.token,
});
console.log(`  northwind sso: allowed=${sso.allowed} reason=${sso.reason}\n`);

for (const c of customers) {
  const draft = await api("POST", "/v1/invoices", sk, {
    subscription_id: subs[c.external_id].id,
    period_start: new Date(periodStart).toISOString(),
    period_end: new Date(periodEnd).toISOString(),
  });
  const open = await api("POST", `/v1/invoices/${draft.id}/finalize`, sk);
  const paid = await api("POST", `/v1/invoices/${draft.id}/pay`, sk, { reference: `wire-${c.external_id}` });
  console.log(`invoice ${paid.number} for ${c.name} — ${paid.status}`);
  for (const line of open.lines) {
    console.log(
      `  ${line.description.padEnd(64)} ${String(line.quantity).padStart(7)} × ${
        String(line.unit_amount).padStart(5)
      } = ${format(line.amount, paid.currency).padStart(14)}`,
    );
  }
  console.log(`  ${"subtotal".padEnd(88)} ${format(paid.subtotal, paid.currency).padStart(14)}`);
  console.log(`  ${"total".padEnd(88)} ${format(paid.total, paid.currency).padStart(14)}`);
  console.log(`  ${"amount due".padEnd(88)} ${format(paid.amount_due, paid.currency).padStart(14)}\n`);
}

const balances = await api("GET", "/v1/ledger/balances", sk);
console.log("ledger balances (normal side):");
for (const a of balances.data) {
  console.log(`  ${a.name.padEnd(52)} ${a.type.padEnd(10)} ${format(a.balance, a.currency).padStart(14)}`);
}
const net = balances.data.reduce((s: number, a: any) => s + a.debits_minus_credits, 0);
console.log(`  ${"Σ debits − credits".padEnd(63)} ${String(net).padStart(14)}`);
