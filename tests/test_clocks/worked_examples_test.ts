// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * Worked examples driven by test clocks only: every instant comes from a clock's frozen time, so
 * the amounts below do not depend on the wall clock (the services' clock is set far away from the
 * test clocks on purpose). Amounts are hand-computed in the comments (ADR 0004 roundings).
 *
 * @module
 */
import assert from "node:assert/strict";
import { ADMIN_TOKEN, call, snapshotCounts, tenant, TestClock, type TestEnv, testEnv } from "../helpers.ts";

/** The wall clock of these tests: nowhere near the test clocks' instants. */
const WALL = "2031-07-04T09:00:00Z";

function metered(unitAmount: number) {
  return [{
    key: "api_calls",
    name: "API calls",
    type: "metered",
    limit: null,
    aggregation: "sum",
    pricing: { model: "per_unit", unit_amount: unitAmount },
  }];
}

async function setup(env: TestEnv) {
  const { secret_key: key } = await tenant(env);
  const api = async (method: string, path: string, body?: unknown, expected?: number) => {
    const res = await call(env, method, path, { key, body });
    if (expected !== undefined) {
      assert.equal(res.status, expected, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res;
  };
  return { key, api };
}

async function invoicesOf(api: Awaited<ReturnType<typeof setup>>["api"], customer: string) {
  const res = await api("GET", `/v1/invoices?customer_id=${customer}&limit=100`, undefined, 200);
  return (res.body.data as any[]).sort((a, b) => a.period_start.localeCompare(b.period_start));
}

Deno.test("test clock: a monthly plan with a 14-day trial and a 2-period coupon, advanced across four periods, bills one invoice per period and stops discounting after two", async () => {
  const env = await testEnv({ clock: new TestClock(WALL) });
  try {
    const { api } = await setup(env);
    const clock = await api("POST", "/v1/test_clocks", {
      frozen_time: "2026-01-01T00:00:00Z",
      name: "trial + coupon",
    }, 201);
    assert.equal(clock.body.status, "ready");
    assert.match(clock.body.id, /^clock_/);
    const clockId = clock.body.id;
    await api("POST", "/v1/plans", {
      key: "pro",
      name: "Pro",
      currency: "USD",
      interval: "month",
      trial_days: 14,
      base_amount: 3000,
      features: metered(2),
    }, 201);
    await api("POST", "/v1/coupons", {
      code: "QUARTER",
      percent_off: 25,
      duration: "repeating",
      duration_periods: 2,
    }, 201);
    const customer = await api("POST", "/v1/customers", { external_id: "ada", test_clock: clockId }, 201);
    assert.equal(customer.body.test_clock, clockId);
    assert.equal(customer.body.created_at, "2026-01-01T00:00:00.000Z");
    const sub = await api("POST", "/v1/subscriptions", { customer_id: "ada", plan_id: "pro" }, 201);
    // Starts at the clock's time; trial 14 days → anchor 2026-01-15.
    assert.equal(sub.body.start_at, "2026-01-01T00:00:00.000Z");
    assert.equal(sub.body.trial_end, "2026-01-15T00:00:00.000Z");
    assert.equal(sub.body.status, "trialing");
    await api("POST", `/v1/subscriptions/${sub.body.id}/discount`, { coupon: "QUARTER" }, 201);

    // Usage without a timestamp is stamped with the clock's time; one in the clock's future is refused.
    await api("POST", `/v1/test_clocks/${clockId}/advance`, { frozen_time: "2026-01-10T00:00:00Z" }, 200);
    const trialUsage = await api("POST", "/v1/events", {
      events: [
        { id: "t-1", customer_id: "ada", feature: "api_calls", value: 100 },
        { id: "t-2", customer_id: "ada", feature: "api_calls", value: 5, timestamp: "2026-01-10T01:00:00Z" },
      ],
    }, 200);
    assert.equal(trialUsage.body.accepted, 1);
    assert.deepEqual(trialUsage.body.rejected.map((r: any) => [r.id, r.code]), [[
      "t-2",
      "timestamp_in_future",
    ]]);

    // A wall-clock billing run (years after the clock) leaves the clock's customer alone.
    const wallRun = await call(env, "POST", "/v1/admin/billing_cycle/run", { key: ADMIN_TOKEN });
    assert.equal(wallRun.status, 200);
    assert.equal(wallRun.body.subscriptions_scanned, 0);
    assert.equal((await invoicesOf(api, "ada")).length, 0);

    await api("POST", `/v1/test_clocks/${clockId}/advance`, { frozen_time: "2026-02-01T00:00:00Z" }, 200);
    await api("POST", "/v1/events", {
      events: [{ id: "p0-1", customer_id: "ada", feature: "api_calls", value: 500 }],
    }, 200);
    const during = await api("GET", `/v1/subscriptions/${sub.body.id}`, undefined, 200);
    assert.equal(during.body.status, "active");
    assert.equal(during.body.current_period_start, "2026-01-15T00:00:00.000Z");
    assert.equal(during.body.current_period_end, "2026-02-15T00:00:00.000Z");

    // Past the 4th recurring period's end plus the 1 h grace period.
    const advanced = await api("POST", `/v1/test_clocks/${clockId}/advance`, {
      frozen_time: "2026-05-15T02:00:00Z",
    }, 200);
    assert.equal(advanced.body.frozen_time, "2026-05-15T02:00:00.000Z");

    const invoices = await invoicesOf(api, "ada");
    const summary = invoices.map((
      i,
    ) => [i.period_start.slice(0, 10), i.subtotal, i.discount, i.total, i.status]);
    assert.deepEqual(summary, [
      // trial [01-01, 01-15): no base fee, usage billed: 100 × 2 = 200; coupons never count trials
      ["2026-01-01", 200, 0, 200, "open"],
      // period 0 [01-15, 02-15): 3000 + 500 × 2 = 4000; 25 % off = 1000 → 3000
      ["2026-01-15", 4000, 1000, 3000, "open"],
      // period 1 [02-15, 03-15): 3000; 25 % off = 750 → 2250 (the coupon's 2nd and last period)
      ["2026-02-15", 3000, 750, 2250, "open"],
      // period 2 [03-15, 04-15): 3000, no discount
      ["2026-03-15", 3000, 0, 3000, "open"],
      // period 3 [04-15, 05-15): 3000
      ["2026-04-15", 3000, 0, 3000, "open"],
    ]);
    // Each finalized at its period end + 1 h grace, on the clock's time, numbered in time order.
    assert.deepEqual(invoices.map((i) => [i.number, i.finalized_at]), [
      ["INV-000001", "2026-01-15T01:00:00.000Z"],
      ["INV-000002", "2026-02-15T01:00:00.000Z"],
      ["INV-000003", "2026-03-15T01:00:00.000Z"],
      ["INV-000004", "2026-04-15T01:00:00.000Z"],
      ["INV-000005", "2026-05-15T01:00:00.000Z"],
    ]);
    // Due 30 days after finalization (clock time).
    assert.equal(invoices[1].due_at, "2026-03-17T01:00:00.000Z");
    const after = await api("GET", `/v1/subscriptions/${sub.body.id}`, undefined, 200);
    assert.equal(after.body.current_period_start, "2026-05-15T00:00:00.000Z");
    assert.equal(after.body.current_period_end, "2026-06-15T00:00:00.000Z");
    // Entitlements follow the clock's period: May's usage is 0, not the wall clock's.
    const check = await api(
      "POST",
      "/v1/entitlements/check",
      { customer_id: "ada", feature: "api_calls" },
      200,
    );
    assert.equal(check.body.allowed, true);
    assert.equal(check.body.used, 0);
  } finally {
    await env.close();
  }
});

Deno.test("test clock: an upgrade at a proration_date prorates to the second at that instant", async () => {
  const env = await testEnv({ clock: new TestClock(WALL) });
  try {
    const { api } = await setup(env);
    const clockId =
      (await api("POST", "/v1/test_clocks", { frozen_time: "2026-03-01T00:00:00Z" }, 201)).body.id;
    await api("POST", "/v1/plans", {
      key: "basic",
      name: "Basic",
      currency: "USD",
      interval: "month",
      base_amount: 3100,
      features: [],
    }, 201);
    const premium = await api("POST", "/v1/plans", {
      key: "premium",
      name: "Premium",
      currency: "USD",
      interval: "month",
      base_amount: 6200,
      features: [],
    }, 201);
    await api("POST", "/v1/customers", { external_id: "bob", test_clock: clockId }, 201);
    const sub = await api("POST", "/v1/subscriptions", { customer_id: "bob", plan_id: "basic" }, 201);
    await api("POST", `/v1/test_clocks/${clockId}/advance`, { frozen_time: "2026-03-20T00:00:00Z" }, 200);

    // Outside the current period [03-01, 04-01) → 400, nothing written.
    const before = await snapshotCounts(env);
    for (const date of ["2026-02-28T23:59:59Z", "2026-04-01T00:00:00Z"]) {
      const out = await api("POST", `/v1/subscriptions/${sub.body.id}/change`, {
        plan_id: "premium",
        proration_date: date,
      });
      assert.equal(out.status, 400, JSON.stringify(out.body));
      assert.equal(out.body.code, "proration_date_outside_period");
      assert.equal(out.body.fields[0].path, "proration_date");
    }
    const withPeriodEnd = await api("POST", `/v1/subscriptions/${sub.body.id}/change`, {
      plan_id: "premium",
      effective: "period_end",
      proration_date: "2026-03-10T00:00:00Z",
    });
    assert.equal(withPeriodEnd.status, 400);
    assert.equal(withPeriodEnd.body.code, "validation_failed");
    assert.deepEqual(await snapshotCounts(env), before);

    const changed = await api("POST", `/v1/subscriptions/${sub.body.id}/change`, {
      plan_id: "premium",
      proration_date: "2026-03-10T12:34:56Z",
    }, 200);
    assert.equal(changed.body.plan_id, premium.body.id);
    // Retried: the same change again is a no-op.
    await api("POST", `/v1/subscriptions/${sub.body.id}/change`, {
      plan_id: "premium",
      proration_date: "2026-03-10T12:34:56Z",
    }, 200);

    await api("POST", `/v1/test_clocks/${clockId}/advance`, { frozen_time: "2026-04-01T01:00:00Z" }, 200);
    const [invoice] = await invoicesOf(api, "bob");
    // March has 31 days = 2 678 400 s. From 03-10T12:34:56 to 04-01T00:00:00:
    //   21 d 11:25:04 = 1 814 400 + 39 600 + 1 500 + 4 = 1 855 504 s.
    // Unused Basic:      3100 × 1 855 504 / 2 678 400 = 2147.57… → 2148 (half up)
    // Remaining Premium: 6200 × 1 855 504 / 2 678 400 = 4295.15… → 4295
    // Total: 3100 − 2148 + 4295 = 5247
    assert.deepEqual(invoice.lines.map((l: any) => [l.kind, l.amount]), [
      ["base", 3100],
      ["proration", -2148],
      ["proration", 4295],
    ]);
    assert.equal(invoice.total, 5247);
    assert.equal(invoice.status, "open");
    assert.equal(invoice.finalized_at, "2026-04-01T01:00:00.000Z");
  } finally {
    await env.close();
  }
});

Deno.test("test clock: monthly → yearly credits the unused month, invoices at once and resets the billing anchor", async () => {
  const env = await testEnv({ clock: new TestClock(WALL) });
  try {
    const { api } = await setup(env);
    const clockId =
      (await api("POST", "/v1/test_clocks", { frozen_time: "2026-04-01T00:00:00Z" }, 201)).body.id;
    const plan = (key: string, interval: string, base: number, currency = "USD") =>
      api("POST", "/v1/plans", {
        key,
        name: key,
        currency,
        interval,
        base_amount: base,
        features: metered(2),
      }, 201);
    await plan("monthly", "month", 3000);
    await plan("yearly", "year", 30000);
    await plan("yearly-eur", "year", 30000, "EUR");
    await api("POST", "/v1/customers", { external_id: "cy", test_clock: clockId }, 201);
    const sub = await api("POST", "/v1/subscriptions", { customer_id: "cy", plan_id: "monthly" }, 201);
    await api("POST", `/v1/test_clocks/${clockId}/advance`, { frozen_time: "2026-04-11T00:00:00Z" }, 200);
    const usage = await api("POST", "/v1/events", {
      events: [{
        id: "u-1",
        customer_id: "cy",
        feature: "api_calls",
        value: 50,
        timestamp: "2026-04-05T00:00:00Z",
      }],
    }, 200);
    assert.equal(usage.body.accepted, 1);

    const before = await snapshotCounts(env);
    const eur = await api("POST", `/v1/subscriptions/${sub.body.id}/change`, { plan_id: "yearly-eur" });
    assert.equal(eur.status, 422);
    assert.equal(eur.body.code, "currency_mismatch");
    const atEnd = await api("POST", `/v1/subscriptions/${sub.body.id}/change`, {
      plan_id: "yearly",
      effective: "period_end",
    });
    assert.equal(atEnd.status, 422);
    assert.equal(atEnd.body.code, "interval_mismatch");
    assert.deepEqual(await snapshotCounts(env), before);

    const changed = await api("POST", `/v1/subscriptions/${sub.body.id}/change`, { plan_id: "yearly" }, 200);
    assert.equal(changed.body.billing_anchor, "2026-04-11T00:00:00.000Z");
    assert.equal(changed.body.current_period_start, "2026-04-11T00:00:00.000Z");
    assert.equal(changed.body.current_period_end, "2027-04-11T00:00:00.000Z");
    // A retry changes nothing more.
    await api("POST", `/v1/subscriptions/${sub.body.id}/change`, { plan_id: "yearly" }, 200);

    const [cut] = await invoicesOf(api, "cy");
    // April has 30 days; the change at 04-11 leaves 20 days unused:
    //   monthly base 3000, unused 3000 × 20/30 = 2000 credited → 1000 for the 10 days used,
    //   usage to date at the monthly price: 50 × 2 = 100. Total 3000 − 2000 + 100 = 1100,
    //   finalized at the change.
    assert.equal(cut.period_start, "2026-04-01T00:00:00.000Z");
    assert.equal(cut.period_end, "2026-04-11T00:00:00.000Z");
    assert.deepEqual(cut.lines.map((l: any) => [l.kind, l.amount]), [
      ["base", 3000],
      ["proration", -2000],
      ["usage", 100],
    ]);
    assert.match(cut.lines[1].description, /interval change/);
    assert.equal(cut.total, 1100);
    assert.equal(cut.status, "open");
    assert.equal(cut.number, "INV-000001");
    assert.equal(cut.finalized_at, "2026-04-11T00:00:00.000Z");

    // Usage in the old period is now closed; in the new one it is billed at the yearly plan's price.
    const late = await api("POST", "/v1/events", {
      events: [
        { id: "u-2", customer_id: "cy", feature: "api_calls", value: 1, timestamp: "2026-04-10T00:00:00Z" },
        { id: "u-3", customer_id: "cy", feature: "api_calls", value: 10 },
      ],
    }, 200);
    assert.deepEqual(late.body.rejected.map((r: any) => r.code), ["period_closed"]);

    await api("POST", `/v1/test_clocks/${clockId}/advance`, { frozen_time: "2027-04-11T01:00:00Z" }, 200);
    const invoices = await invoicesOf(api, "cy");
    assert.equal(invoices.length, 2);
    // The first yearly period [2026-04-11, 2027-04-11): base 30000 + 10 × 2 = 30020.
    assert.equal(invoices[1].period_start, "2026-04-11T00:00:00.000Z");
    assert.equal(invoices[1].period_end, "2027-04-11T00:00:00.000Z");
    assert.equal(invoices[1].total, 30020);
    assert.equal(invoices[1].finalized_at, "2027-04-11T01:00:00.000Z");
  } finally {
    await env.close();
  }
});

Deno.test("test clock: advancing twice to the same instant does nothing; backwards → 400; list pages; delete removes the customers' data", async () => {
  const env = await testEnv({ clock: new TestClock(WALL) });
  try {
    const { api } = await setup(env);
    const clockId =
      (await api("POST", "/v1/test_clocks", { frozen_time: "2026-01-31T00:00:00Z" }, 201)).body.id;
    await api("POST", "/v1/plans", {
      key: "m",
      name: "M",
      currency: "USD",
      interval: "month",
      base_amount: 1000,
      features: [],
    }, 201);
    await api("POST", "/v1/customers", { external_id: "dee", test_clock: clockId }, 201);
    const sub = await api("POST", "/v1/subscriptions", { customer_id: "dee", plan_id: "m" }, 201);
    await api("POST", `/v1/customers/dee/credit_grants`, {
      kind: "monetary",
      amount: 500,
      currency: "USD",
      reference: "promo-1",
      expires_at: "2026-04-15T00:00:00Z",
    }, 201);

    // Anchor Jan 31 → Feb 28 → Mar 31 (clamped): two periods end before 04-01.
    await api("POST", `/v1/test_clocks/${clockId}/advance`, { frozen_time: "2026-04-01T00:00:00Z" }, 200);
    const first = await invoicesOf(api, "dee");
    assert.deepEqual(
      first.map((i) => [i.period_end.slice(0, 10), i.total, i.credits_applied, i.amount_due]),
      [
        // 1000, 500 of prepaid credit applied → 500 due
        ["2026-02-28", 1000, 500, 500],
        ["2026-03-31", 1000, 0, 1000],
      ],
    );
    const snapshot = await snapshotCounts(env);
    const again = await api("POST", `/v1/test_clocks/${clockId}/advance`, {
      frozen_time: "2026-04-01T00:00:00Z",
    }, 200);
    assert.equal(again.body.frozen_time, "2026-04-01T00:00:00.000Z");
    assert.deepEqual(await snapshotCounts(env), snapshot, "a repeated advance writes nothing");

    const back = await api("POST", `/v1/test_clocks/${clockId}/advance`, {
      frozen_time: "2026-03-31T23:59:59Z",
    });
    assert.equal(back.status, 400);
    assert.equal(back.body.code, "frozen_time_in_past");
    const far = await api("POST", `/v1/test_clocks/${clockId}/advance`, {
      frozen_time: "2036-04-01T00:00:00Z",
    });
    assert.equal(far.status, 400);
    assert.equal(far.body.code, "test_clock_advance_too_far");
    assert.deepEqual(await snapshotCounts(env), snapshot, "refused advances write nothing");
    assert.equal(
      (await api("GET", `/v1/test_clocks/${clockId}`, undefined, 200)).body.frozen_time,
      "2026-04-01T00:00:00.000Z",
    );

    // Paging with limit=2 through three clocks.
    await api("POST", "/v1/test_clocks", { frozen_time: "2026-01-01T00:00:00Z", name: "b" }, 201);
    await api("POST", "/v1/test_clocks", { frozen_time: "2026-01-01T00:00:00Z", name: "c" }, 201);
    const page1 = await api("GET", "/v1/test_clocks?limit=2", undefined, 200);
    assert.equal(page1.body.data.length, 2);
    assert.equal(page1.body.data[0].id, clockId);
    const page2 = await api(
      "GET",
      `/v1/test_clocks?limit=2&cursor=${page1.body.next_cursor}`,
      undefined,
      200,
    );
    assert.equal(page2.body.data.length, 1);
    assert.equal(page2.body.next_cursor, null);
    assert.equal((await api("GET", "/v1/test_clocks?limit=0")).status, 400);
    assert.equal((await api("GET", "/v1/test_clocks?colour=red")).status, 400);

    const onClock = await api("POST", "/v1/entitlements/check", { customer_id: "dee", feature: "sso" }, 200);
    const ledgerBefore = await api("GET", "/v1/ledger/entries?limit=100", undefined, 200);
    const deleted = await api("DELETE", `/v1/test_clocks/${clockId}`, undefined, 200);
    assert.deepEqual(deleted.body, { id: clockId, deleted: true, deleted_customers: 1 });
    assert.equal((await api("GET", `/v1/test_clocks/${clockId}`)).status, 404);
    assert.equal((await api("GET", "/v1/customers/dee")).status, 404);
    assert.equal((await api("GET", `/v1/subscriptions/${sub.body.id}`)).status, 404);
    assert.equal((await api("GET", `/v1/invoices/${first[0].id}`)).status, 404);
    for (
      const table of [
        "subscriptions",
        "invoices",
        "invoice_lines",
        "usage_events",
        "credit_grants",
        "credit_consumptions",
        "customers",
      ]
    ) {
      const rs = await env.database.client.execute(`select count(*) as n from ${table}`);
      assert.equal(Number(rs.rows[0].n), 0, table);
    }
    // Ledger entries are append-only: the finalized invoices stay booked.
    const ledgerAfter = await api("GET", "/v1/ledger/entries?limit=100", undefined, 200);
    assert.equal(ledgerAfter.body.data.length, ledgerBefore.body.data.length);
    assert.ok(ledgerAfter.body.data.length >= 3);
    assert.equal((await api("DELETE", `/v1/test_clocks/${clockId}`)).status, 404);
    // The external id is free again; checks resolve it to the new customer (on the wall clock).
    const again2 = await api("POST", "/v1/customers", { external_id: "dee" }, 201);
    assert.equal(again2.body.test_clock, null);
    assert.notEqual(again2.body.id, onClock.body.customer_id);
    await api("POST", "/v1/subscriptions", { customer_id: "dee", plan_id: "m" }, 201);
    const wall = await api("POST", "/v1/entitlements/check", { customer_id: "dee", feature: "sso" }, 200);
    // Subscribed (not a stale reference to the deleted customer), on the wall clock's period.
    assert.deepEqual([onClock.body.reason, onClock.body.resets_at], [
      "feature_not_in_plan",
      "2026-04-30T00:00:00.000Z",
    ]);
    assert.deepEqual([wall.body.reason, wall.body.resets_at], [
      "feature_not_in_plan",
      "2031-08-04T09:00:00.000Z",
    ]);
    assert.equal(
      (await api("POST", "/v1/customers", { external_id: "eve", test_clock: clockId })).status,
      404,
    );
  } finally {
    await env.close();
  }
});

Deno.test("test clock: the first advance catches up a subscription backdated before the clock's time; a credit grant expires at its instant on the way", async () => {
  const env = await testEnv({ clock: new TestClock(WALL) });
  try {
    const { api } = await setup(env);
    const clockId =
      (await api("POST", "/v1/test_clocks", { frozen_time: "2026-06-01T00:00:00Z" }, 201)).body.id;
    await api("POST", "/v1/plans", {
      key: "m",
      name: "M",
      currency: "USD",
      interval: "month",
      base_amount: 1000,
      features: [],
    }, 201);
    await api("POST", "/v1/customers", { external_id: "fay", test_clock: clockId }, 201);
    // Backdated two months before the clock's time (start_at may not lie after the clock's time).
    const future = await api("POST", "/v1/subscriptions", {
      customer_id: "fay",
      plan_id: "m",
      start_at: "2026-06-02T00:00:00Z",
    });
    assert.equal(future.body.code, "start_at_in_future");
    await api("POST", "/v1/subscriptions", {
      customer_id: "fay",
      plan_id: "m",
      start_at: "2026-04-01T00:00:00Z",
    }, 201);
    await api("POST", "/v1/customers/fay/credit_grants", {
      kind: "monetary",
      amount: 5000,
      currency: "USD",
      reference: "welcome",
      effective_at: "2026-04-01T00:00:00Z",
      expires_at: "2026-06-10T00:00:00Z",
    }, 201);
    await api("POST", `/v1/test_clocks/${clockId}/advance`, { frozen_time: "2026-06-15T00:00:00Z" }, 200);
    const invoices = await invoicesOf(api, "fay");
    // April and May (ended before the clock's time) are invoiced and finalized at the first stop
    // (06-01 01:00, May's grace end); each 1000 is paid from the grant: 5000 − 2 × 1000 = 3000 left.
    assert.deepEqual(
      invoices.map((i) => [i.period_start.slice(0, 10), i.total, i.credits_applied, i.status]),
      [
        ["2026-04-01", 1000, 1000, "paid"],
        ["2026-05-01", 1000, 1000, "paid"],
      ],
    );
    assert.deepEqual(invoices.map((i) => i.finalized_at), [
      "2026-06-01T01:00:00.000Z",
      "2026-06-01T01:00:00.000Z",
    ]);
    // The grant expired at 06-10 with 3000 unspent: closed once (breakage), nothing left to spend.
    const grants = await api("GET", "/v1/customers/fay/credit_grants", undefined, 200);
    const grant = (grants.body.data ?? grants.body)[0];
    assert.equal(grant.remaining, 0);
    const entries = await api("GET", "/v1/ledger/entries?limit=100", undefined, 200);
    const expiry = entries.body.data.find((e: any) => /expired with 3000 unspent/.test(e.description));
    assert.ok(expiry, "the expiry is booked once");
    assert.equal(expiry.created_at ?? expiry.posted_at, "2026-06-10T00:00:00.000Z");
  } finally {
    await env.close();
  }
});
