// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * Whole billing scenarios of issue 6 through the HTTP API and the TestClock, with the billing
 * cycle job driven by the clock. Expected amounts are derived in comments.
 */
import assert from "node:assert/strict";
import { runBillingCycle, SimulatedCrash } from "../../src/subscriptions/billing_cycle.ts";
import { call, snapshotCounts, tenant, type TestEnv, testEnv } from "../helpers.ts";

type Json = any;

/** Basic: 31.00/month (100 per day in January), calls 2 cents each. Pro: 62.00, 1000 calls included, 1 cent each. */
function plans(currency = "USD", extra: Record<string, unknown> = {}) {
  const basic = {
    key: "basic",
    name: "Basic",
    currency,
    interval: "month",
    base_amount: 3100,
    features: [{
      key: "calls",
      name: "Calls",
      type: "metered",
      pricing: { model: "per_unit", unit_amount: 2 },
    }],
    ...extra,
  };
  const pro = {
    key: "pro",
    name: "Pro",
    currency,
    interval: "month",
    base_amount: 6200,
    features: [{
      key: "calls",
      name: "Calls",
      type: "metered",
      included: 1000,
      pricing: { model: "per_unit", unit_amount: 1 },
    }],
    ...extra,
  };
  return { basic, pro };
}

async function setup(env: TestEnv, planExtra: Record<string, unknown> = {}) {
  const { secret_key: key } = await tenant(env);
  const { basic, pro } = plans("USD", planExtra);
  const b = await call(env, "POST", "/v1/plans", { key, body: basic });
  const p = await call(env, "POST", "/v1/plans", { key, body: pro });
  assert.equal(b.status, 201, JSON.stringify(b.body));
  await call(env, "POST", "/v1/customers", { key, body: { external_id: "c1" } });
  return { key, basicId: b.body.id as string, proId: p.body.id as string };
}

async function subscribe(env: TestEnv, key: string, planId: string, customer = "c1") {
  const sub = await call(env, "POST", "/v1/subscriptions", {
    key,
    body: { customer_id: customer, plan_id: planId },
  });
  assert.equal(sub.status, 201, JSON.stringify(sub.body));
  return sub.body as Json;
}

async function events(
  env: TestEnv,
  key: string,
  list: { id: string; value: number; timestamp: string; customer?: string }[],
) {
  const res = await call(env, "POST", "/v1/events", {
    key,
    body: {
      events: list.map((e) => ({
        id: e.id,
        customer_id: e.customer ?? "c1",
        feature: "calls",
        value: e.value,
        timestamp: e.timestamp,
      })),
    },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as Json;
}

async function invoicesOf(env: TestEnv, key: string): Promise<Json[]> {
  const res = await call(env, "GET", "/v1/invoices?limit=100", { key });
  return (res.body.data as Json[]).sort((a, b) => a.period_start.localeCompare(b.period_start));
}

async function balances(env: TestEnv, key: string): Promise<Record<string, number>> {
  const res = await call(env, "GET", "/v1/ledger/balances", { key });
  const out: Record<string, number> = {};
  let net = 0;
  for (const a of res.body.data) {
    out[a.name.split(":")[0]] = (out[a.name.split(":")[0]] ?? 0) + a.balance;
    net += a.debits_minus_credits;
  }
  assert.equal(net, 0, "every entry balances");
  return out;
}

Deno.test("scenario: a month with an upgrade on day 10 is prorated to the second and usage is rated at each plan's prices", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, basicId, proId } = await setup(env);
    const sub = await subscribe(env, key, basicId);
    env.clock.set("2026-01-05T00:00:00Z");
    await events(env, key, [{ id: "e1", value: 500, timestamp: "2026-01-05T00:00:00Z" }]);
    env.clock.set("2026-01-10T00:00:00Z");
    const changed = await call(env, "POST", `/v1/subscriptions/${sub.id}/change`, {
      key,
      body: { plan_id: proId },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.plan_id, proId);
    const retry = await call(env, "POST", `/v1/subscriptions/${sub.id}/change`, {
      key,
      body: { plan_id: proId },
    });
    assert.equal(retry.status, 200);
    env.clock.set("2026-01-20T00:00:00Z");
    await events(env, key, [{ id: "e2", value: 1500, timestamp: "2026-01-20T00:00:00Z" }]);

    env.clock.set("2026-02-01T01:00:00Z"); // period end + 1 h default grace
    const report = await runBillingCycle(env.services);
    assert.deepEqual([report.invoices_generated, report.invoices_finalized, report.failures.length], [
      1,
      1,
      0,
    ]);
    const [inv] = await invoicesOf(env, key);
    assert.deepEqual(inv.lines.map((l: Json) => [l.kind, l.amount]), [
      ["base", 3100],
      ["proration", -2200], // unused 22 of 31 days of Basic
      ["proration", 4400], // remaining 22 of 31 days of Pro
      ["usage", 1000], // 500 calls × 2 at Basic prices (before the change)
      ["usage", 500], // (1500 − 1000 included) × 1 at Pro prices
    ]);
    assert.deepEqual([inv.status, inv.number, inv.total, inv.amount_due], ["open", "INV-000001", 6800, 6800]);
    assert.equal(inv.due_at, "2026-03-03T01:00:00.000Z"); // finalized + 30 days
    const b = await balances(env, key);
    assert.deepEqual([b.accounts_receivable, b.revenue], [6800, 6800]);
  } finally {
    await env.close();
  }
});

Deno.test("scenario: a downgrade waits for the period end; the job applies it at the boundary", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, basicId, proId } = await setup(env);
    const sub = await subscribe(env, key, proId);
    env.clock.set("2026-01-15T00:00:00Z");
    const down = await call(env, "POST", `/v1/subscriptions/${sub.id}/change`, {
      key,
      body: { plan_id: basicId },
    });
    assert.equal(down.body.plan_id, proId, "still Pro until the end of the period");
    assert.deepEqual(down.body.pending_change, {
      plan_id: basicId,
      effective_at: "2026-02-01T00:00:00.000Z",
      proration: "prorate",
    });
    env.clock.set("2026-02-01T01:00:00Z");
    const report = await runBillingCycle(env.services);
    assert.equal(report.plan_changes_applied, 1);
    const after = await call(env, "GET", `/v1/subscriptions/${sub.id}`, { key });
    assert.deepEqual([after.body.plan_id, after.body.pending_change], [basicId, null]);
    const [jan] = await invoicesOf(env, key);
    assert.deepEqual(jan.lines.map((l: Json) => [l.kind, l.amount]), [["base", 6200], ["usage", 0]]);
    env.clock.set("2026-03-01T01:00:00Z");
    await runBillingCycle(env.services);
    const feb = (await invoicesOf(env, key))[1];
    assert.deepEqual(feb.lines.map((l: Json) => [l.kind, l.plan_id, l.amount]), [["base", basicId, 3100], [
      "usage",
      basicId,
      0,
    ]]);
    // a change to another currency is refused
    const eur = await call(env, "POST", "/v1/plans", { key, body: { ...plans("EUR").pro, key: "pro-eur" } });
    const bad = await call(env, "POST", `/v1/subscriptions/${sub.id}/change`, {
      key,
      body: { plan_id: eur.body.id },
    });
    assert.deepEqual([bad.status, bad.body.code], [422, "currency_mismatch"]);
  } finally {
    await env.close();
  }
});

Deno.test("scenario: a trial converts — trialing, a usage-only trial invoice, then active with the first base fee", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, basicId } = await setup(env, { trial_days: 14 });
    const sub = await subscribe(env, key, basicId);
    assert.equal(sub.status, "trialing");
    env.clock.set("2026-01-02T00:00:00Z");
    await events(env, key, [{ id: "t1", value: 10, timestamp: "2026-01-02T00:00:00Z" }]);
    env.clock.set("2026-01-15T01:00:00Z");
    await runBillingCycle(env.services);
    const now = await call(env, "GET", `/v1/subscriptions/${sub.id}`, { key });
    assert.deepEqual([now.body.status, now.body.current_period_start], [
      "active",
      "2026-01-15T00:00:00.000Z",
    ]);
    const [trial] = await invoicesOf(env, key);
    // trial: no base fee; usage during the trial is billed (documented rule): 10 × 2 = 20
    assert.deepEqual(trial.lines.map((l: Json) => [l.kind, l.amount]), [["usage", 20]]);
    assert.deepEqual([trial.status, trial.period_end], ["open", "2026-01-15T00:00:00.000Z"]);
    env.clock.set("2026-02-15T01:00:00Z");
    await runBillingCycle(env.services);
    const first = (await invoicesOf(env, key))[1];
    assert.deepEqual([first.period_start, first.period_end, first.total, first.number], [
      "2026-01-15T00:00:00.000Z",
      "2026-02-15T00:00:00.000Z",
      3100,
      "INV-000002",
    ]);
  } finally {
    await env.close();
  }
});

Deno.test("scenario: cancel at period end bills the full period then stops; cancel now bills the partial period at once", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, basicId } = await setup(env);
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "c2" } });
    const a = await subscribe(env, key, basicId);
    const b = await subscribe(env, key, basicId, "c2");
    env.clock.set("2026-01-10T00:00:00Z");
    const atEnd = await call(env, "POST", `/v1/subscriptions/${a.id}/cancel`, {
      key,
      body: { at_period_end: true },
    });
    assert.deepEqual([atEnd.body.status, atEnd.body.cancel_at_period_end], ["active", true]);

    env.clock.set("2026-01-16T00:00:00Z"); // 15 days used, 16 unused
    await events(env, key, [{ id: "c2-1", value: 10, timestamp: "2026-01-12T00:00:00Z", customer: "c2" }]);
    const now = await call(env, "POST", `/v1/subscriptions/${b.id}/cancel`, {
      key,
      body: { at_period_end: false },
    });
    assert.equal(now.body.status, "canceled");
    const finals = (await invoicesOf(env, key)).filter((i) => i.subscription_id === b.id);
    assert.equal(finals.length, 1, "the final invoice exists right after the cancellation");
    // 3100 − 3100 × 16/31 (1600) + 10 calls × 2 = 1520, a draft until the grace period passes
    assert.deepEqual([finals[0].status, finals[0].period_end, finals[0].total], [
      "draft",
      "2026-01-16T00:00:00.000Z",
      1520,
    ]);
    env.clock.set("2026-01-16T01:00:00Z");
    await runBillingCycle(env.services);

    env.clock.set("2026-02-01T01:00:00Z");
    await runBillingCycle(env.services);
    env.clock.set("2026-03-01T01:00:00Z");
    await runBillingCycle(env.services);
    const all = await invoicesOf(env, key);
    const ofA = all.filter((i) => i.subscription_id === a.id);
    assert.deepEqual(ofA.map((i) => [i.period_start, i.total, i.status]), [[
      "2026-01-01T00:00:00.000Z",
      3100,
      "open",
    ]]);
    const ofB = all.filter((i) => i.subscription_id === b.id);
    assert.deepEqual(ofB.map((i) => [i.total, i.status, i.number]), [[1520, "open", "INV-000001"]]);
    const gone = await call(env, "GET", `/v1/subscriptions/${a.id}`, { key });
    assert.equal(gone.body.status, "canceled");
  } finally {
    await env.close();
  }
});

Deno.test("scenario: a 20 % coupon repeating for 3 periods discounts exactly three invoices; max redemptions hold", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, basicId, proId } = await setup(env);
    const coupon = await call(env, "POST", "/v1/coupons", {
      key,
      body: {
        code: "SPRING20",
        percent_off: 20,
        duration: "repeating",
        duration_periods: 3,
        max_redemptions: 1,
        plan_ids: [basicId],
      },
    });
    assert.equal(coupon.status, 201, JSON.stringify(coupon.body));
    assert.equal(
      (await call(env, "POST", "/v1/coupons", {
        key,
        body: {
          code: "SPRING20",
          percent_off: 20,
          duration: "repeating",
          duration_periods: 3,
          max_redemptions: 1,
          plan_ids: [basicId],
        },
      })).status,
      200,
    );
    assert.equal(
      (await call(env, "POST", "/v1/coupons", {
        key,
        body: { code: "SPRING20", percent_off: 25, duration: "once" },
      })).body.code,
      "coupon_code_exists",
    );
    const sub = await subscribe(env, key, basicId);
    const applied = await call(env, "POST", `/v1/subscriptions/${sub.id}/discount`, {
      key,
      body: { coupon: "SPRING20" },
    });
    assert.equal(applied.status, 201, JSON.stringify(applied.body));
    assert.equal(
      (await call(env, "POST", `/v1/subscriptions/${sub.id}/discount`, { key, body: { coupon: "SPRING20" } }))
        .status,
      200,
    );

    await call(env, "POST", "/v1/customers", { key, body: { external_id: "c2" } });
    const other = await subscribe(env, key, basicId, "c2");
    const full = await call(env, "POST", `/v1/subscriptions/${other.id}/discount`, {
      key,
      body: { coupon: "SPRING20" },
    });
    assert.deepEqual([full.status, full.body.code], [422, "coupon_max_redemptions_reached"]);
    const proCoupon = await call(env, "POST", "/v1/coupons", {
      key,
      body: { code: "FLAT", amount_off: 500, currency: "EUR", duration: "forever" },
    });
    const wrongCurrency = await call(env, "POST", `/v1/subscriptions/${other.id}/discount`, {
      key,
      body: { coupon: proCoupon.body.id },
    });
    assert.equal(wrongCurrency.body.code, "coupon_currency_mismatch");
    void proId;

    for (const month of ["02", "03", "04", "05", "06"]) {
      env.clock.set(`2026-${month}-01T01:00:00Z`);
      await runBillingCycle(env.services);
    }
    const mine = (await invoicesOf(env, key)).filter((i) => i.subscription_id === sub.id);
    // 3100 × 20 % = 620 off for periods 0, 1, 2; none after
    assert.deepEqual(mine.map((i) => [i.discount, i.total]), [[620, 2480], [620, 2480], [620, 2480], [
      0,
      3100,
    ], [0, 3100]]);
    assert.deepEqual(mine.map((i) => i.coupon_id), [
      coupon.body.id,
      coupon.body.id,
      coupon.body.id,
      null,
      null,
    ]);
    const numbers = (await invoicesOf(env, key)).map((i) => i.number).sort();
    assert.deepEqual(
      numbers,
      Array.from({ length: 10 }, (_, i) => `INV-${String(i + 1).padStart(6, "0")}`),
      "gapless numbering",
    );
  } finally {
    await env.close();
  }
});

Deno.test("scenario: late events inside the grace period are billed, outside it are rejected; future timestamps beyond 5 min are refused", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, basicId } = await setup(env, { invoice_grace_period_hours: 2 });
    const patched = await call(env, "PATCH", `/v1/plans/${basicId}`, {
      key,
      body: { invoice_grace_period_hours: 24 },
    });
    assert.deepEqual([patched.status, patched.body.invoice_grace_period_hours], [200, 24]);
    await subscribe(env, key, basicId);
    env.clock.set("2026-01-20T00:00:00Z");
    await events(env, key, [{ id: "on-time", value: 100, timestamp: "2026-01-20T00:00:00Z" }]);
    env.clock.set("2026-02-01T00:30:00Z");
    await runBillingCycle(env.services); // draft generated, not finalized: inside the 24 h grace
    assert.deepEqual((await invoicesOf(env, key)).map((i) => [i.status, i.total]), [["draft", 3100 + 200]]);
    env.clock.set("2026-02-01T10:00:00Z");
    const late = await events(env, key, [{ id: "late-ok", value: 50, timestamp: "2026-01-31T23:00:00Z" }]);
    assert.deepEqual([late.accepted, late.rejected], [1, []]);

    env.clock.set("2026-02-02T00:00:00Z");
    await runBillingCycle(env.services);
    const [jan] = await invoicesOf(env, key);
    assert.deepEqual([jan.status, jan.total], ["open", 3100 + 300]); // the late event is on the invoice
    const tooLate = await events(env, key, [{ id: "late-no", value: 5, timestamp: "2026-01-31T23:30:00Z" }]);
    assert.deepEqual([tooLate.accepted, tooLate.rejected.map((r: Json) => [r.id, r.code, r.status])], [0, [[
      "late-no",
      "period_closed",
      409,
    ]]]);

    const skew = await events(env, key, [
      { id: "ahead-ok", value: 1, timestamp: "2026-02-02T00:04:59Z" },
      { id: "ahead-no", value: 1, timestamp: "2026-02-02T00:05:01Z" },
    ]);
    assert.deepEqual([skew.accepted, skew.rejected.map((r: Json) => r.code)], [1, ["timestamp_in_future"]]);
    // the finalized invoice did not move
    assert.equal((await invoicesOf(env, key))[0].total, 3400);
  } finally {
    await env.close();
  }
});

Deno.test("scenario: the period job run twice, concurrently, and after a crash halfway bills every period exactly once", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, basicId } = await setup(env);
    for (const c of ["c2", "c3"]) await call(env, "POST", "/v1/customers", { key, body: { external_id: c } });
    for (const c of ["c1", "c2", "c3"]) await subscribe(env, key, basicId, c);
    env.clock.set("2026-02-03T00:00:00Z");
    await events(env, key, [
      { id: "x1", value: 7, timestamp: "2026-01-03T00:00:00Z", customer: "c1" },
      { id: "x2", value: 9, timestamp: "2026-02-03T00:00:00Z", customer: "c2" },
    ]);
    env.clock.set("2026-03-01T02:00:00Z"); // two periods ended for each of three subscriptions

    let steps = 0;
    await assert.rejects(
      runBillingCycle(env.services, {
        fault: () => {
          if (++steps === 3) throw new SimulatedCrash("crash after the third period");
        },
      }),
      SimulatedCrash,
    );
    assert.equal((await invoicesOf(env, key)).length, 3, "three periods committed before the crash");
    const [r1, r2] = await Promise.all([runBillingCycle(env.services), runBillingCycle(env.services)]);
    const r3 = await runBillingCycle(env.services);
    assert.equal(r1.invoices_generated + r2.invoices_generated, 3);
    assert.deepEqual([r3.invoices_generated, r3.invoices_finalized], [0, 0]);
    const all = await invoicesOf(env, key);
    assert.equal(all.length, 6);
    const keys = new Set(all.map((i) => `${i.subscription_id}|${i.period_start}`));
    assert.equal(keys.size, 6, "one invoice per subscription and period");
    assert.deepEqual(all.map((i) => i.number).sort(), [
      "INV-000001",
      "INV-000002",
      "INV-000003",
      "INV-000004",
      "INV-000005",
      "INV-000006",
    ]);
    assert.ok(all.every((i) => i.status === "open"));
    // 6 × 3100 + 7 × 2 + 9 × 2 = 18632 receivable, posted once each
    const b = await balances(env, key);
    assert.deepEqual([b.accounts_receivable, b.revenue], [18_632, 18_632]);
    const counts = await snapshotCounts(env);
    assert.equal(counts.invoices, 6);
  } finally {
    await env.close();
  }
});

Deno.test("scenario: VAT per customer, prepaid credits, partial payment, credit note, uncollectible — ledger balanced throughout", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, basicId } = await setup(env);
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "c2" } });
    const vat = await call(env, "POST", "/v1/tax_rates", {
      key,
      body: { display_name: "VAT", jurisdiction: "DE", percentage: 19, inclusive: false },
    });
    assert.equal(vat.status, 201, JSON.stringify(vat.body));
    assert.equal(
      (await call(env, "POST", "/v1/tax_rates", {
        key,
        body: { display_name: "VAT", jurisdiction: "DE", percentage: 19, inclusive: false },
      })).status,
      200,
    );
    assert.equal(
      (await call(env, "PUT", "/v1/customers/c1/tax_rate", { key, body: { tax_rate_id: vat.body.id } }))
        .status,
      200,
    );
    await call(env, "PUT", "/v1/customers/c2/tax_rate", { key, body: { tax_rate_id: vat.body.id } });
    const grant = await call(env, "POST", "/v1/customers/c1/credit_grants", {
      key,
      body: { reference: "topup-1", kind: "monetary", amount: 1000, currency: "USD", source: "purchased" },
    });
    assert.equal(grant.status, 201, JSON.stringify(grant.body));
    const units = await call(env, "POST", "/v1/customers/c1/credit_grants", {
      key,
      body: { reference: "free-calls", kind: "units", amount: 150, feature: "calls", source: "promotional" },
    });
    assert.equal(units.status, 201, JSON.stringify(units.body));
    const again = await call(env, "POST", "/v1/customers/c1/credit_grants", {
      key,
      body: { reference: "topup-1", kind: "monetary", amount: 1000, currency: "USD", source: "purchased" },
    });
    assert.equal(again.status, 200);
    const reused = await call(env, "POST", "/v1/customers/c1/credit_grants", {
      key,
      body: { reference: "topup-1", kind: "monetary", amount: 999, currency: "USD" },
    });
    assert.equal(reused.body.code, "idempotency_key_reused");

    await subscribe(env, key, basicId);
    await subscribe(env, key, basicId, "c2");
    env.clock.set("2026-01-10T00:00:00Z");
    await events(env, key, [{ id: "v1", value: 100, timestamp: "2026-01-10T00:00:00Z" }]);
    env.clock.set("2026-02-01T01:00:00Z");
    await runBillingCycle(env.services);
    const [inv, inv2] = (await invoicesOf(env, key)).sort((
      a,
      b,
    ) => (a.customer_id === b.customer_id ? 0 : a.total < b.total ? 1 : -1));
    // c1: base 3100 + (100 calls − 100 covered by the unit grant) × 2 = 3100; VAT 19 % per line: 589 + 0
    assert.deepEqual([inv.subtotal, inv.tax, inv.total, inv.credits_applied, inv.amount_due], [
      3100,
      589,
      3689,
      1000,
      2689,
    ]);
    assert.deepEqual(inv.tax_rate, { id: vat.body.id, percentage_bp: 1900, inclusive: false });
    const grants = await call(env, "GET", "/v1/customers/c1/credit_grants", { key });
    // newest first, as every list
    assert.deepEqual(grants.body.data.map((g: Json) => [g.reference, g.remaining]), [["free-calls", 50], [
      "topup-1",
      0,
    ]]);

    const part = await call(env, "POST", `/v1/invoices/${inv.id}/pay`, {
      key,
      body: { amount: 689, reference: "wire-1" },
    });
    assert.deepEqual([part.body.status, part.body.amount_due], ["open", 2000]);
    const cn = await call(env, "POST", `/v1/invoices/${inv.id}/credit_notes`, {
      key,
      body: { amount: 1190, reason: "goodwill", reference: "cn-1" },
    });
    assert.equal(cn.status, 201, JSON.stringify(cn.body));
    // tax share: 1190 × 589 / 3689 = 190.0 → 190
    assert.deepEqual([cn.body.credit_note.number, cn.body.credit_note.tax, cn.body.invoice.amount_due], [
      "CN-000001",
      190,
      810,
    ]);
    assert.equal(
      (await call(env, "POST", `/v1/invoices/${inv.id}/credit_notes`, {
        key,
        body: { amount: 1190, reference: "cn-1" },
      })).status,
      200,
    );
    const over = await call(env, "POST", `/v1/invoices/${inv.id}/credit_notes`, {
      key,
      body: { amount: 811, reference: "cn-2" },
    });
    assert.equal(over.body.code, "credit_note_exceeds_creditable");
    const rest = await call(env, "POST", `/v1/invoices/${inv.id}/pay`, {
      key,
      body: { reference: "wire-2" },
    });
    assert.deepEqual([rest.body.status, rest.body.amount_due], ["paid", 0]);
    const refund = await call(env, "POST", `/v1/invoices/${inv.id}/credit_notes`, {
      key,
      body: { amount: 100, reference: "refund-1" },
    });
    assert.equal(refund.status, 201);

    // c2: base 3100 + VAT 589 = 3689, written off
    assert.deepEqual([inv2.total, inv2.status], [3689, "open"]);
    const bad = await call(env, "POST", `/v1/invoices/${inv2.id}/mark_uncollectible`, { key });
    assert.deepEqual([bad.body.status, bad.body.amount_due], ["uncollectible", 3689]);
    assert.equal(
      (await call(env, "POST", `/v1/invoices/${inv2.id}/void`, { key })).body.code,
      "invoice_uncollectible",
    );
    // a later payment on the written-off invoice is a recovery: cash in, bad debt back
    const recovered = await call(env, "POST", `/v1/invoices/${inv2.id}/pay`, {
      key,
      body: { amount: 1000, reference: "late-wire" },
    });
    assert.deepEqual([recovered.body.status, recovered.body.amount_due], ["uncollectible", 2689]);

    const b = await balances(env, key);
    // cash: 1000 top-up + 689 + 810 − 100 refund + 1000 recovered = 3399
    assert.equal(b.cash, 3399);
    // tax payable: 589 × 2 = 1178, − 190 (cn-1), − round(100 × 589 / 3689 = 15.97) = 16 (refund) → 972
    assert.equal(b.tax_payable, 972);
    assert.equal(b.customer_credit, 0);
    assert.equal(b.bad_debt_expense, 3689 - 1000);
    assert.equal(b.accounts_receivable, 0);
  } finally {
    await env.close();
  }
});

Deno.test("scenario: unit grants are spent once across period resets, draft refreshes and repeated finalization", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, basicId } = await setup(env);
    await call(env, "POST", "/v1/customers/c1/credit_grants", {
      key,
      body: { reference: "g", kind: "units", amount: 150, feature: "calls" },
    });
    const sub = await subscribe(env, key, basicId);
    env.clock.set("2026-01-10T00:00:00Z");
    await events(env, key, [{ id: "a", value: 100, timestamp: "2026-01-10T00:00:00Z" }]);
    env.clock.set("2026-02-01T00:30:00Z");
    for (let i = 0; i < 3; i++) {
      await call(env, "POST", "/v1/invoices", {
        key,
        body: {
          subscription_id: sub.id,
          period_start: "2026-01-01T00:00:00Z",
          period_end: "2026-02-01T00:00:00Z",
        },
      });
    }
    env.clock.set("2026-02-01T01:00:00Z");
    await runBillingCycle(env.services);
    await runBillingCycle(env.services);
    env.clock.set("2026-02-10T00:00:00Z");
    await events(env, key, [{ id: "b", value: 100, timestamp: "2026-02-10T00:00:00Z" }]);
    env.clock.set("2026-03-01T01:00:00Z");
    await runBillingCycle(env.services);
    const [jan, feb] = await invoicesOf(env, key);
    assert.deepEqual([jan.total, feb.total], [3100, 3100 + 50 * 2]); // Jan: 100 covered; Feb: the 50 left, 50 billed
    const grants = await call(env, "GET", "/v1/customers/c1/credit_grants", { key });
    assert.equal(grants.body.data[0].remaining, 0);
  } finally {
    await env.close();
  }
});

Deno.test("scenario: JPY (exponent 0) prorates to whole yen; GET /v1/usage aggregates per UTC day; event ids remembered past 35 days", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { secret_key: key } = await tenant(env);
    const { basic, pro } = plans("JPY");
    const b = await call(env, "POST", "/v1/plans", { key, body: { ...basic, base_amount: 1000 } });
    const p = await call(env, "POST", "/v1/plans", { key, body: { ...pro, base_amount: 3000 } });
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "c1" } });
    const sub = await subscribe(env, key, b.body.id);
    env.clock.set("2026-01-03T00:00:00Z");
    await events(env, key, [
      { id: "d1", value: 3, timestamp: "2026-01-01T10:00:00Z" },
      { id: "d2", value: 4, timestamp: "2026-01-01T23:59:59Z" },
      { id: "d3", value: 5, timestamp: "2026-01-03T00:00:00Z" },
    ]);
    const usage = await call(
      env,
      "GET",
      "/v1/usage?customer_id=c1&feature=calls&from=2026-01-01T00:00:00Z&to=2026-01-04T00:00:00Z&group_by=day",
      { key },
    );
    assert.equal(usage.status, 200, JSON.stringify(usage.body));
    assert.deepEqual([usage.body.value, usage.body.aggregation, usage.body.data.map((x: Json) => x.value)], [
      12,
      "sum",
      [7, 0, 5],
    ]);
    const badRange = await call(
      env,
      "GET",
      "/v1/usage?customer_id=c1&feature=calls&from=2026-01-04T00:00:00Z&to=2026-01-01T00:00:00Z",
      { key },
    );
    assert.deepEqual([badRange.status, badRange.body.code], [400, "validation_failed"]);

    env.clock.set("2026-01-10T00:00:00Z");
    await call(env, "POST", `/v1/subscriptions/${sub.id}/change`, { key, body: { plan_id: p.body.id } });
    env.clock.set("2026-02-01T01:00:00Z");
    await runBillingCycle(env.services);
    const [inv] = await invoicesOf(env, key);
    // ¥1000 − ¥1000 × 22/31 (709.68 → 710) + ¥3000 × 22/31 (2129.03 → 2129) + 12 calls × ¥2 = 2443
    assert.deepEqual(inv.lines.map((l: Json) => l.amount), [1000, -710, 2129, 24, 0]);
    assert.equal(inv.total, 2443);

    env.clock.set("2026-02-11T00:00:00Z"); // 41 days after d1 was first sent
    const retry = await events(env, key, [{ id: "d1", value: 3, timestamp: "2026-01-01T10:00:00Z" }]);
    assert.deepEqual([retry.accepted, retry.duplicates], [0, 1]);
  } finally {
    await env.close();
  }
});

Deno.test("billing routes answer bad input with problem+json and write nothing", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, basicId } = await setup(env);
    const sub = await subscribe(env, key, basicId);
    const before = await snapshotCounts(env);
    const cases: [string, string, unknown, number, string][] = [
      ["POST", `/v1/subscriptions/${sub.id}/change`, { plan_id: "pln_nope" }, 404, "plan_not_found"],
      [
        "POST",
        `/v1/subscriptions/${sub.id}/change`,
        { plan_id: basicId, proration: "sometimes" },
        400,
        "validation_failed",
      ],
      ["POST", "/v1/subscriptions/sub_nope/change", { plan_id: basicId }, 404, "subscription_not_found"],
      ["POST", "/v1/coupons", { code: "X", percent_off: 12.345, duration: "once" }, 400, "validation_failed"],
      ["POST", "/v1/coupons", { code: "X", amount_off: 100, duration: "once" }, 400, "validation_failed"],
      [
        "POST",
        "/v1/coupons",
        { code: "X", amount_off: 100, currency: "ZZZ", duration: "once" },
        400,
        "unsupported_currency",
      ],
      ["POST", `/v1/subscriptions/${sub.id}/discount`, { coupon: "NOPE" }, 404, "coupon_not_found"],
      [
        "POST",
        "/v1/tax_rates",
        { display_name: "VAT", percentage: 19.125, inclusive: false },
        400,
        "validation_failed",
      ],
      ["PUT", "/v1/customers/c1/tax_rate", { tax_rate_id: "txr_nope" }, 404, "tax_rate_not_found"],
      [
        "POST",
        "/v1/customers/c1/credit_grants",
        { reference: "r", kind: "units", amount: 5 },
        400,
        "validation_failed",
      ],
      [
        "POST",
        "/v1/customers/nobody/credit_grants",
        { reference: "r", kind: "units", amount: 5, feature: "calls" },
        404,
        "customer_not_found",
      ],
      ["POST", "/v1/invoices/inv_nope/credit_notes", { amount: 5, reference: "r" }, 404, "invoice_not_found"],
      ["POST", "/v1/invoices/inv_nope/mark_uncollectible", undefined, 404, "invoice_not_found"],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await call(env, method, path, { key, body });
      assert.equal(
        res.status,
        status,
        `${method} ${path} ${JSON.stringify(body)} → ${JSON.stringify(res.body)}`,
      );
      assert.equal(res.body.code, code, `${method} ${path}`);
      assert.match(res.contentType, /application\/problem\+json/);
    }
    assert.deepEqual(await snapshotCounts(env), before);
    const draft = await call(env, "POST", "/v1/invoices", { key, body: { subscription_id: sub.id } });
    const cnDraft = await call(env, "POST", `/v1/invoices/${draft.body.id}/credit_notes`, {
      key,
      body: { amount: 5, reference: "r" },
    });
    assert.deepEqual([cnDraft.status, cnDraft.body.code], [409, "invoice_not_creditable"]);
    const unc = await call(env, "POST", `/v1/invoices/${draft.body.id}/mark_uncollectible`, { key });
    assert.deepEqual([unc.status, unc.body.code], [409, "invoice_not_open"]);
    const badDue = await call(env, "POST", `/v1/invoices/${draft.body.id}/finalize`, {
      key,
      body: { days_until_due: 400 },
    });
    assert.deepEqual([badDue.status, badDue.body.code], [400, "validation_failed"]);
    const fin = await call(env, "POST", `/v1/invoices/${draft.body.id}/finalize`, {
      key,
      body: { days_until_due: 14 },
    });
    assert.deepEqual([fin.body.status, fin.body.due_at], ["open", "2026-01-15T00:00:00.000Z"]);
  } finally {
    await env.close();
  }
});

Deno.test("scenario: a fixed end_at makes the subscription expired (not canceled) and bills the cut-short last period", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, basicId } = await setup(env);
    const sub = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "c1", plan_id: basicId, end_at: "2026-02-11T00:00:00Z" },
    });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    assert.deepEqual([sub.body.status, sub.body.cancel_at, sub.body.cancel_at_period_end], [
      "active",
      "2026-02-11T00:00:00.000Z",
      false,
    ]);
    const bad = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "c1", plan_id: basicId, end_at: "2025-12-01T00:00:00Z" },
    });
    assert.deepEqual([bad.status, bad.body.code], [409, "subscription_exists"]); // another end than the live one
    env.clock.set("2026-02-11T01:00:00Z");
    await runBillingCycle(env.services);
    const got = await call(env, "GET", `/v1/subscriptions/${sub.body.id}`, { key });
    assert.equal(got.body.status, "expired");
    const all = await invoicesOf(env, key);
    // January full (3100); February (28 days) cut at the 11th, 18 days unused: 3100 − 3100 × 18/28 (1992.86 → 1993) = 1107
    assert.deepEqual(all.map((i) => [i.period_end, i.total]), [["2026-02-01T00:00:00.000Z", 3100], [
      "2026-02-11T00:00:00.000Z",
      1107,
    ]]);
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "c9" } });
    const early = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "c9", plan_id: basicId, end_at: "2026-02-11T00:30:00Z" },
    });
    assert.deepEqual([early.status, early.body.code], [422, "end_at_not_after_start"]);
  } finally {
    await env.close();
  }
});

Deno.test("time zones: a period named with an offset is the same UTC period — one invoice, not two", async () => {
  const env = await testEnv();
  env.clock.set("2026-02-05T00:00:00Z");
  try {
    const { key, basicId } = await setup(env);
    const sub = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "c1", plan_id: basicId, start_at: "2026-01-01T00:00:00Z" },
    });
    const utc = await call(env, "POST", "/v1/invoices", {
      key,
      body: {
        subscription_id: sub.body.id,
        period_start: "2026-01-01T00:00:00Z",
        period_end: "2026-02-01T00:00:00Z",
      },
    });
    assert.equal(utc.status, 201, JSON.stringify(utc.body));
    // the same instants written in UTC−05:00 and UTC+09:00
    const ny = await call(env, "POST", "/v1/invoices", {
      key,
      body: {
        subscription_id: sub.body.id,
        period_start: "2025-12-31T19:00:00-05:00",
        period_end: "2026-01-31T19:00:00-05:00",
      },
    });
    const tokyo = await call(env, "POST", "/v1/invoices", {
      key,
      body: {
        subscription_id: sub.body.id,
        period_start: "2026-01-01T09:00:00+09:00",
        period_end: "2026-02-01T09:00:00+09:00",
      },
    });
    assert.deepEqual([ny.status, ny.body.id, tokyo.status, tokyo.body.id], [
      200,
      utc.body.id,
      200,
      utc.body.id,
    ]);
    await runBillingCycle(env.services);
    assert.equal((await invoicesOf(env, key)).length, 1, "the job finds the same invoice");
  } finally {
    await env.close();
  }
});

Deno.test("scenario: a monetary grant expiring unspent is closed once as breakage, after the drafts that may spend it", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, basicId } = await setup(env, { invoice_grace_period_hours: 48 });
    await call(env, "POST", "/v1/customers/c1/credit_grants", {
      key,
      body: {
        reference: "bought",
        kind: "monetary",
        amount: 5000,
        currency: "USD",
        source: "purchased",
        expires_at: "2026-02-01T12:00:00Z",
      },
    });
    await call(env, "POST", "/v1/customers/c1/credit_grants", {
      key,
      body: {
        reference: "gift",
        kind: "monetary",
        amount: 700,
        currency: "USD",
        source: "promotional",
        priority: 9,
        expires_at: "2026-01-20T00:00:00Z",
      },
    });
    await subscribe(env, key, basicId);
    env.clock.set("2026-02-02T00:00:00Z"); // both expired, January's invoice still a draft (48 h grace)
    const waiting = await runBillingCycle(env.services);
    assert.equal(waiting.credits_expired, 0, "a draft of an overlapping period may still spend them");
    env.clock.set("2026-02-03T01:00:00Z");
    const closing = await runBillingCycle(env.services);
    assert.equal(closing.credits_expired, 2);
    assert.equal((await runBillingCycle(env.services)).credits_expired, 0, "closed once");
    const [jan] = await invoicesOf(env, key);
    // January 3100: the gift (priority 9) gives 700, the purchase 2400; the purchase expires with 2600 left
    assert.deepEqual([jan.credits_applied, jan.amount_due, jan.status], [3100, 0, "paid"]);
    const grants = await call(env, "GET", "/v1/customers/c1/credit_grants", { key });
    assert.deepEqual(grants.body.data.map((g: Json) => g.remaining), [0, 0]);
    const b = await balances(env, key);
    assert.deepEqual([b.customer_credit, b.credit_breakage, b.cash, b.revenue, b.accounts_receivable], [
      0,
      2600,
      5000,
      3100,
      0,
    ]);
    assert.equal(b.promotional_credit_expense, 700);
  } finally {
    await env.close();
  }
});

Deno.test("scenario: pause on day 11, resume on day 21 — no base fee, usage or entitlements while paused; the cycle keeps its anchor", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, basicId, proId } = await setup(env);
    const sub = await subscribe(env, key, basicId);
    env.clock.set("2026-01-11T00:00:00Z");
    const paused = await call(env, "POST", `/v1/subscriptions/${sub.id}/pause`, { key });
    assert.deepEqual([paused.status, paused.body.status, paused.body.paused_at], [
      200,
      "paused",
      "2026-01-11T00:00:00.000Z",
    ]);
    assert.equal(
      (await call(env, "POST", `/v1/subscriptions/${sub.id}/pause`, { key })).body.paused_at,
      "2026-01-11T00:00:00.000Z",
      "idempotent",
    );
    const check = await call(env, "POST", "/v1/entitlements/check", {
      key,
      body: { customer_id: "c1", feature: "calls" },
    });
    assert.equal(check.body.allowed, false);
    const during = await events(env, key, [{ id: "p1", value: 5, timestamp: "2026-01-11T00:00:00Z" }]);
    assert.deepEqual(during.rejected.map((r: Json) => r.code), ["subscription_paused"]);
    const change = await call(env, "POST", `/v1/subscriptions/${sub.id}/change`, {
      key,
      body: { plan_id: proId },
    });
    assert.deepEqual([change.status, change.body.code], [409, "subscription_paused"]);
    const again = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "c1", plan_id: proId },
    });
    assert.equal(
      again.body.code,
      "subscription_exists",
      "a paused subscription still counts as the customer's one",
    );

    env.clock.set("2026-01-21T00:00:00Z");
    const resumed = await call(env, "POST", `/v1/subscriptions/${sub.id}/resume`, { key });
    assert.deepEqual([resumed.body.status, resumed.body.paused_at, resumed.body.current_period_end], [
      "active",
      null,
      "2026-02-01T00:00:00.000Z",
    ]);
    assert.equal(
      (await call(env, "POST", `/v1/subscriptions/${sub.id}/resume`, { key })).body.status,
      "active",
      "idempotent",
    );
    await events(env, key, [{ id: "r1", value: 10, timestamp: "2026-01-21T00:00:00Z" }]);
    const late = await events(env, key, [{ id: "p2", value: 7, timestamp: "2026-01-15T00:00:00Z" }]);
    assert.deepEqual(
      late.rejected.map((r: Json) => r.code),
      ["subscription_paused"],
      "backfilled usage inside the pause is refused too",
    );

    env.clock.set("2026-02-01T01:00:00Z");
    await runBillingCycle(env.services);
    const [jan] = await invoicesOf(env, key);
    // 3100 − 10 paused days × 100 = 2100; 10 calls × 2 = 20
    assert.deepEqual(jan.lines.map((l: Json) => [l.kind, l.amount]), [["base", 3100], ["proration", -1000], [
      "usage",
      20,
    ]]);
    assert.equal(jan.total, 2120);
  } finally {
    await env.close();
  }
});

Deno.test("billing routes are tenant-scoped: another app's subscription, invoice, coupon and customer answer 404 and nothing is written", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { key, basicId } = await setup(env);
    const sub = await subscribe(env, key, basicId);
    await call(env, "POST", "/v1/coupons", {
      key,
      body: { code: "MINE", percent_off: 10, duration: "once" },
    });
    const inv = await call(env, "POST", "/v1/invoices", { key, body: { subscription_id: sub.id } });
    await call(env, "POST", `/v1/invoices/${inv.body.id}/finalize`, { key });
    const { secret_key: other } = await tenant(env);
    await call(env, "POST", "/v1/customers", { key: other, body: { external_id: "c1" } });
    const before = await snapshotCounts(env);
    const cases: [string, string, unknown, string][] = [
      ["POST", `/v1/subscriptions/${sub.id}/change`, { plan_id: basicId }, "subscription_not_found"],
      ["POST", `/v1/subscriptions/${sub.id}/pause`, undefined, "subscription_not_found"],
      ["POST", `/v1/subscriptions/${sub.id}/resume`, undefined, "subscription_not_found"],
      ["POST", `/v1/subscriptions/${sub.id}/discount`, { coupon: "MINE" }, "subscription_not_found"],
      ["GET", "/v1/coupons/MINE", undefined, "coupon_not_found"],
      [
        "POST",
        `/v1/invoices/${inv.body.id}/credit_notes`,
        { amount: 1, reference: "x" },
        "invoice_not_found",
      ],
      ["POST", `/v1/invoices/${inv.body.id}/mark_uncollectible`, undefined, "invoice_not_found"],
      ["GET", `/v1/invoices/${inv.body.id}/credit_notes`, undefined, "invoice_not_found"],
    ];
    for (const [method, path, body, code] of cases) {
      const res = await call(env, method, path, { key: other, body });
      assert.deepEqual([res.status, res.body.code], [404, code], `${method} ${path}`);
    }
    // the other app's own customer "c1" sees only its own (empty) usage and grants
    const usage = await call(
      env,
      "GET",
      "/v1/usage?customer_id=c1&feature=calls&from=2025-12-01T00:00:00Z&to=2026-01-02T00:00:00Z",
      { key: other },
    );
    assert.equal(usage.body.value, 0);
    assert.deepEqual(
      (await call(env, "GET", "/v1/customers/c1/credit_grants", { key: other })).body.data,
      [],
    );
    assert.deepEqual(await snapshotCounts(env), before);
  } finally {
    await env.close();
  }
});

Deno.test("scenario: anniversary Jan 30 in a leap year bills Jan 30 → Feb 29 → Mar 30, and a cancellation prorates against that period's 30 days", async () => {
  const env = await testEnv();
  env.clock.set("2028-01-30T00:00:00Z");
  try {
    const { key, basicId } = await setup(env);
    const sub = await subscribe(env, key, basicId);
    env.clock.set("2028-02-29T01:00:00Z");
    await runBillingCycle(env.services);
    env.clock.set("2028-03-15T00:00:00Z"); // 15 days into Feb 29 → Mar 30 (30 days), 15 unused
    await call(env, "POST", `/v1/subscriptions/${sub.id}/cancel`, { key, body: { at_period_end: false } });
    env.clock.set("2028-03-15T01:00:00Z");
    await runBillingCycle(env.services);
    const all = await invoicesOf(env, key);
    assert.deepEqual(all.map((i) => [i.period_start, i.period_end, i.total, i.status]), [
      ["2028-01-30T00:00:00.000Z", "2028-02-29T00:00:00.000Z", 3100, "open"],
      ["2028-02-29T00:00:00.000Z", "2028-03-15T00:00:00.000Z", 3100 - 1550, "open"], // 3100 × 15/30 = 1550 credited
    ]);
  } finally {
    await env.close();
  }
});
