// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * Issue 15: the invoice preview (`GET /v1/invoices/upcoming`), several tax rates per customer or
 * subscription, and a `once` coupon that a zero-cost period does not use up. Worked examples with
 * the arithmetic in comments; the TestClock drives time and the billing cycle.
 */
import assert from "node:assert/strict";
import { runBillingCycle } from "../../src/subscriptions/billing_cycle.ts";
import { call, snapshotCounts, tenant, type TestEnv, testEnv } from "../helpers.ts";

/** 31.00 a month plus 2 cents a call (ADR 0004's worked-example plan). */
const BASIC = {
  key: "basic",
  name: "Basic",
  currency: "USD",
  interval: "month",
  base_amount: 3100,
  features: [{
    key: "calls",
    name: "Calls",
    type: "metered",
    pricing: { model: "per_unit", unit_amount: 2 },
  }],
};

async function ok(env: TestEnv, key: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await call(env, method, path, { key, body });
  assert.ok(
    res.status === 200 || res.status === 201,
    `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`,
  );
  return res.body;
}

async function usage(env: TestEnv, key: string, id: string, value: number, customer = "c1"): Promise<void> {
  await ok(env, key, "POST", "/v1/events", {
    events: [{
      id,
      customer_id: customer,
      feature: "calls",
      value,
      timestamp: env.clock.now().toISOString(),
    }],
  });
}

/** Two exclusive rates, created once per app. */
async function rates(env: TestEnv, key: string) {
  const vat = await ok(env, key, "POST", "/v1/tax_rates", {
    display_name: "VAT",
    percentage: 19,
    inclusive: false,
  });
  const levy = await ok(env, key, "POST", "/v1/tax_rates", {
    display_name: "Levy",
    percentage: 2.5,
    inclusive: false,
  });
  return { vat: vat.id as string, levy: levy.id as string };
}

/** The fields a preview and the invoice generated at the same instant must share. */
function amounts(invoice: any) {
  const {
    lines,
    subtotal,
    discount,
    tax,
    taxes,
    tax_rate,
    total,
    credits_applied,
    coupon_id,
    currency,
    period_start,
    period_end,
    customer_id,
    subscription_id,
    status,
    amount_due,
  } = invoice;
  return {
    lines,
    subtotal,
    discount,
    tax,
    taxes,
    tax_rate,
    total,
    credits_applied,
    coupon_id,
    currency,
    period_start,
    period_end,
    customer_id,
    subscription_id,
    status,
    amount_due,
  };
}

Deno.test("two tax rates: 19 % + 2.5 % on 10 000 → 1 900 + 250, each rounded per line and rate; a subscription's rates replace the customer's", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { secret_key: key } = await tenant(env);
    const { vat, levy } = await rates(env, key);
    const flat = await ok(env, key, "POST", "/v1/plans", {
      ...BASIC,
      key: "flat",
      name: "Flat",
      base_amount: 10_000,
    });
    const customer = await ok(env, key, "POST", "/v1/customers", {
      external_id: "c1",
      tax_rate_ids: [vat, levy],
    });
    assert.deepEqual(customer.tax_rate_ids, [vat, levy]);
    const sub = await ok(env, key, "POST", "/v1/subscriptions", { customer_id: "c1", plan_id: flat.id });
    assert.equal(sub.tax_rate_ids, null);
    env.clock.set("2026-01-10T00:00:00Z");
    await usage(env, key, "u1", 5); // 5 calls × 2 = 10

    const invoice = await ok(env, key, "POST", "/v1/invoices", { subscription_id: sub.id });
    // base 10 000: 19 % = 1 900, 2.5 % = 250
    // calls 10:    19 % = 1.9 → 2, 2.5 % = 0.25 → 0   (per line and rate, half up)
    // tax = (1 900 + 2) + (250 + 0) = 2 152; total = 10 010 + 2 152 = 12 162
    assert.deepEqual(invoice.lines.map((l: any) => [l.amount, l.tax_amount]), [[10_000, 2_150], [10, 2]]);
    assert.deepEqual(invoice.taxes, [
      { tax_rate_id: vat, percentage_bp: 1900, inclusive: false, amount: 1_902 },
      { tax_rate_id: levy, percentage_bp: 250, inclusive: false, amount: 250 },
    ]);
    assert.deepEqual([invoice.subtotal, invoice.tax, invoice.total], [10_010, 2_152, 12_162]);
    assert.deepEqual(
      invoice.tax_rate,
      { id: vat, percentage_bp: 1900, inclusive: false },
      "first rate, as before",
    );

    // The subscription's own rates replace the customer's: the levy alone → 250 + 0
    const own = await ok(env, key, "PUT", `/v1/subscriptions/${sub.id}/tax_rates`, { tax_rate_ids: [levy] });
    assert.deepEqual(own.tax_rate_ids, [levy]);
    const refreshed = await ok(env, key, "POST", "/v1/invoices", { subscription_id: sub.id });
    assert.equal(refreshed.id, invoice.id);
    assert.deepEqual([refreshed.tax, refreshed.total], [250, 10_260]);
    assert.deepEqual(refreshed.taxes.map((t: any) => [t.tax_rate_id, t.amount]), [[levy, 250]]);
    // null clears them: the customer's two rates apply again; the finalized invoice keeps both
    await ok(env, key, "PUT", `/v1/subscriptions/${sub.id}/tax_rates`, { tax_rate_ids: null });
    const finalized = await ok(env, key, "POST", `/v1/invoices/${invoice.id}/finalize`, {});
    assert.deepEqual([finalized.status, finalized.tax, finalized.total], ["open", 2_152, 12_162]);
    assert.deepEqual(finalized.taxes.map((t: any) => t.amount), [1_902, 250]);
    // the ledger books the whole tax as payable
    const balances = (await call(env, "GET", "/v1/ledger/balances", { key })).body.data;
    assert.equal(balances.find((b: any) => b.name === "tax_payable").balance, 2_152);

    // PUT …/tax_rates replaces the list; the single-rate PUT sets a one-rate list
    const set = await ok(env, key, "PUT", "/v1/customers/c1/tax_rates", { tax_rate_ids: [levy] });
    assert.deepEqual(set.tax_rates.map((r: any) => r.id), [levy]);
    await ok(env, key, "PUT", "/v1/customers/c1/tax_rate", { tax_rate_id: vat });
    assert.deepEqual((await ok(env, key, "GET", "/v1/customers/c1")).tax_rate_ids, [vat]);
    await ok(env, key, "PUT", "/v1/customers/c1/tax_rate", { tax_rate_id: null });
    assert.deepEqual((await ok(env, key, "GET", "/v1/customers/c1")).tax_rate_ids, []);
  } finally {
    await env.close();
  }
});

Deno.test("tax rates: more than 5, a rate twice, an unknown rate, an inclusive rate beside another → refused, nothing written", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const { vat, levy } = await rates(env, key);
    const gst = await ok(env, key, "POST", "/v1/tax_rates", {
      display_name: "GST",
      percentage: 10,
      inclusive: true,
    });
    const more = [];
    for (const p of [1, 2, 3, 4]) {
      more.push(
        (await ok(env, key, "POST", "/v1/tax_rates", {
          display_name: `R${p}`,
          percentage: p,
          inclusive: false,
        })).id,
      );
    }
    await ok(env, key, "POST", "/v1/customers", { external_id: "c1" });
    await ok(env, key, "POST", "/v1/plans", BASIC);
    const before = await snapshotCounts(env);
    const cases: [string, string, unknown, number, string][] = [
      ["PUT", "/v1/customers/c1/tax_rates", { tax_rate_ids: [vat, levy, ...more] }, 400, "validation_failed"],
      ["PUT", "/v1/customers/c1/tax_rates", { tax_rate_ids: [vat, vat] }, 400, "validation_failed"],
      ["PUT", "/v1/customers/c1/tax_rates", { tax_rate_ids: [vat, "txr_nope"] }, 404, "tax_rate_not_found"],
      ["PUT", "/v1/customers/c1/tax_rates", { tax_rate_ids: [vat, gst.id] }, 422, "tax_rates_incompatible"],
      ["PUT", "/v1/customers/c1/tax_rates", { tax_rate_ids: "txr_x" }, 400, "validation_failed"],
      [
        "POST",
        "/v1/customers",
        { external_id: "c2", tax_rate_ids: [gst.id, levy] },
        422,
        "tax_rates_incompatible",
      ],
      [
        "POST",
        "/v1/subscriptions",
        { customer_id: "c1", plan_id: "basic", tax_rate_ids: [levy, levy] },
        400,
        "validation_failed",
      ],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await call(env, method, path, { key, body });
      assert.deepEqual(
        [res.status, res.body.code],
        [status, code],
        `${method} ${path} ${JSON.stringify(body)}`,
      );
    }
    assert.deepEqual(await snapshotCounts(env), before);
    // an inclusive rate alone is fine
    const alone = await ok(env, key, "PUT", "/v1/customers/c1/tax_rates", { tax_rate_ids: [gst.id] });
    assert.deepEqual(alone.tax_rates.map((r: any) => r.inclusive), [true]);
  } finally {
    await env.close();
  }
});

Deno.test("GET /v1/invoices/upcoming: the preview equals the invoice then generated at the same instant, and writes nothing", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { secret_key: key } = await tenant(env);
    const { vat, levy } = await rates(env, key);
    const plan = await ok(env, key, "POST", "/v1/plans", BASIC);
    await ok(env, key, "POST", "/v1/customers", { external_id: "c1", tax_rate_ids: [vat, levy] });
    await ok(env, key, "POST", "/v1/customers/c1/credit_grants", {
      reference: "promo-1",
      kind: "monetary",
      amount: 500,
      currency: "USD",
    });
    const coupon = await ok(env, key, "POST", "/v1/coupons", {
      code: "TEN",
      percent_off: 10,
      duration: "forever",
    });
    const sub = await ok(env, key, "POST", "/v1/subscriptions", { customer_id: "c1", plan_id: plan.id });
    await ok(env, key, "POST", `/v1/subscriptions/${sub.id}/discount`, { coupon: "TEN" });
    env.clock.set("2026-01-20T12:00:00Z");
    await usage(env, key, "u1", 1_234);

    const before = await snapshotCounts(env);
    const couponBefore = await ok(env, key, "GET", `/v1/coupons/${coupon.id}`);
    const preview = await call(env, "GET", `/v1/invoices/upcoming?subscription_id=${sub.id}`, { key });
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    const p = preview.body;
    // subtotal = 3 100 + 1 234 × 2 = 5 568; discount 10 % = 556.8 → 557, allocated 310 + 247
    // (floors 310, 246; the leftover unit goes to the larger remainder, the usage line)
    // nets 2 790 and 2 221; VAT 19 %: 530.1 → 530, 421.99 → 422 = 952; levy 2.5 %: 69.75 → 70,
    // 55.525 → 56 = 126; tax 1 078; total 5 568 − 557 + 1 078 = 6 089; credits drawn 500
    assert.equal(p.id, null);
    assert.deepEqual(p.lines.map((l: any) => [l.amount, l.discount_amount, l.tax_amount]), [
      [3_100, 310, 600],
      [2_468, 247, 478],
    ]);
    assert.deepEqual([p.subtotal, p.discount, p.tax, p.total, p.credits_applied], [
      5_568,
      557,
      1_078,
      6_089,
      500,
    ]);
    assert.deepEqual(p.taxes.map((t: any) => [t.tax_rate_id, t.amount]), [[vat, 952], [levy, 126]]);
    assert.deepEqual([p.period_start, p.period_end], [
      "2026-01-01T00:00:00.000Z",
      "2026-02-01T00:00:00.000Z",
    ]);
    assert.equal(p.coupon_id, coupon.id);
    // no side effects: no row anywhere, the coupon and the grant untouched, no event
    assert.deepEqual(await snapshotCounts(env), before);
    assert.deepEqual(await ok(env, key, "GET", `/v1/coupons/${coupon.id}`), couponBefore);
    const grants = await ok(env, key, "GET", "/v1/customers/c1/credit_grants");
    assert.deepEqual(grants.data.map((g: any) => g.remaining), [500]);
    const eventsBefore = env.events.length;
    await call(env, "GET", `/v1/invoices/upcoming?subscription_id=${sub.id}`, { key });
    assert.equal(env.events.length, eventsBefore);

    const generated = await call(env, "POST", "/v1/invoices", { key, body: { subscription_id: sub.id } });
    assert.equal(generated.status, 201);
    assert.deepEqual(amounts(p), amounts(generated.body));
    // the preview of a period with a draft still equals that draft
    const again = await ok(env, key, "GET", `/v1/invoices/upcoming?subscription_id=${sub.id}`);
    assert.deepEqual(amounts(again), amounts(generated.body));
  } finally {
    await env.close();
  }
});

Deno.test("GET /v1/invoices/upcoming: unknown or another tenant's subscription → 404; missing or unknown parameter → 400", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const other = await tenant(env);
    await ok(env, other.secret_key, "POST", "/v1/plans", BASIC);
    await ok(env, other.secret_key, "POST", "/v1/customers", { external_id: "c1" });
    const theirs = await ok(env, other.secret_key, "POST", "/v1/subscriptions", {
      customer_id: "c1",
      plan_id: "basic",
    });
    for (const id of ["sub_01jd0000000000000000000000", "nope", theirs.id]) {
      const res = await call(env, "GET", `/v1/invoices/upcoming?subscription_id=${id}`, { key });
      assert.deepEqual([res.status, res.body.code], [404, "subscription_not_found"], id);
    }
    const missing = await call(env, "GET", "/v1/invoices/upcoming", { key });
    assert.deepEqual([missing.status, missing.body.fields[0].path], [400, "query.subscription_id"]);
    const unknown = await call(env, "GET", `/v1/invoices/upcoming?subscription_id=${theirs.id}&customer=c1`, {
      key,
    });
    assert.equal(unknown.status, 400);
    assert.ok(unknown.body.fields.some((f: any) => f.path === "query.customer"));
  } finally {
    await env.close();
  }
});

Deno.test("a once coupon is not used up by a zero-cost period: it discounts the first invoice with an amount, and only that one", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { secret_key: key } = await tenant(env);
    // usage only: a month without calls bills nothing
    const payg = await ok(env, key, "POST", "/v1/plans", {
      ...BASIC,
      key: "payg",
      name: "Pay as you go",
      base_amount: 0,
    });
    await ok(env, key, "POST", "/v1/customers", { external_id: "c1" });
    const coupon = await ok(env, key, "POST", "/v1/coupons", {
      code: "WELCOME5",
      amount_off: 500,
      currency: "USD",
      duration: "once",
    });
    const sub = await ok(env, key, "POST", "/v1/subscriptions", { customer_id: "c1", plan_id: payg.id });
    await ok(env, key, "POST", `/v1/subscriptions/${sub.id}/discount`, { coupon: "WELCOME5" });

    // January: no calls. February: 1 000 calls. March: 1 000 calls.
    env.clock.set("2026-02-10T00:00:00Z");
    await usage(env, key, "feb", 1_000);
    env.clock.set("2026-03-10T00:00:00Z");
    await usage(env, key, "mar", 1_000);
    for (const month of ["02", "03", "04"]) {
      env.clock.set(`2026-${month}-01T01:00:00Z`);
      await runBillingCycle(env.services);
    }
    const invoices = (await ok(env, key, "GET", `/v1/invoices?subscription_id=${sub.id}&limit=100`)).data
      .sort((a: any, b: any) => a.period_start.localeCompare(b.period_start));
    // January: 0 → nothing to discount, paid at 0, the coupon stays unused
    // February: 1 000 × 2 = 2 000 − 500 = 1 500 (the coupon's one use)
    // March: 2 000, no discount (used up by February)
    assert.deepEqual(
      invoices.map((i: any) => [i.period_start.slice(0, 7), i.status, i.subtotal, i.discount, i.total]),
      [
        ["2026-01", "paid", 0, 0, 0],
        ["2026-02", "open", 2_000, 500, 1_500],
        ["2026-03", "open", 2_000, 0, 2_000],
      ],
    );
    assert.equal(invoices[1].coupon_id, coupon.id);
    assert.equal(invoices[2].coupon_id, null);
    // the preview of April agrees: no discount any more
    const april = await ok(env, key, "GET", `/v1/invoices/upcoming?subscription_id=${sub.id}`);
    assert.deepEqual([april.discount, april.coupon_id], [0, null]);
  } finally {
    await env.close();
  }
});

Deno.test("a once coupon discounts exactly one non-void invoice: voiding that invoice frees it for the invoice that replaces it", async () => {
  const env = await testEnv();
  env.clock.set("2026-01-01T00:00:00Z");
  try {
    const { secret_key: key } = await tenant(env);
    const plan = await ok(env, key, "POST", "/v1/plans", BASIC);
    await ok(env, key, "POST", "/v1/customers", { external_id: "c1" });
    await ok(env, key, "POST", "/v1/coupons", { code: "HALF", percent_off: 50, duration: "once" });
    const sub = await ok(env, key, "POST", "/v1/subscriptions", { customer_id: "c1", plan_id: plan.id });
    await ok(env, key, "POST", `/v1/subscriptions/${sub.id}/discount`, { coupon: "HALF" });
    env.clock.set("2026-02-01T01:00:00Z");
    await runBillingCycle(env.services);
    const [jan] = (await ok(env, key, "GET", `/v1/invoices?subscription_id=${sub.id}`)).data;
    assert.deepEqual([jan.discount, jan.total], [1_550, 1_550]); // 3 100 × 50 %
    await ok(env, key, "POST", `/v1/invoices/${jan.id}/void`, {});
    env.clock.set("2026-03-01T01:00:00Z");
    await runBillingCycle(env.services);
    // The cycle bills the voided January again; the freed coupon goes to that invoice (3 100 × 50 %),
    // and February, the next period, pays in full.
    const open = (await ok(env, key, "GET", `/v1/invoices?subscription_id=${sub.id}&status=open`)).data
      .sort((a: any, b: any) => a.period_start.localeCompare(b.period_start));
    assert.deepEqual(open.map((i: any) => [i.period_start.slice(0, 7), i.discount, i.total]), [
      ["2026-01", 1_550, 1_550],
      ["2026-02", 0, 3_100],
    ]);
    assert.notEqual(open[0].id, jan.id);
  } finally {
    await env.close();
  }
});

Deno.test("GET /v1/invoices/upcoming and GET /v1/subscriptions use the customer's test clock, as POST /v1/invoices does", async () => {
  const env = await testEnv();
  env.clock.set("2026-06-15T00:00:00Z");
  try {
    const { secret_key: key } = await tenant(env);
    const clock = await ok(env, key, "POST", "/v1/test_clocks", {
      frozen_time: "2026-01-01T00:00:00Z",
      name: "t",
    });
    const plan = await ok(env, key, "POST", "/v1/plans", BASIC);
    await ok(env, key, "POST", "/v1/customers", { external_id: "c1", test_clock: clock.id });
    const sub = await ok(env, key, "POST", "/v1/subscriptions", { customer_id: "c1", plan_id: plan.id });
    const preview = await ok(env, key, "GET", `/v1/invoices/upcoming?subscription_id=${sub.id}`);
    // the clock's January, not the wall clock's June
    assert.deepEqual([preview.period_start, preview.total], ["2026-01-01T00:00:00.000Z", 3_100]);
    const generated = await ok(env, key, "POST", "/v1/invoices", { subscription_id: sub.id });
    assert.deepEqual(amounts(preview), amounts(generated));
    const [listed] = (await ok(env, key, "GET", "/v1/subscriptions")).data;
    assert.equal(listed.current_period_start, "2026-01-01T00:00:00.000Z");
  } finally {
    await env.close();
  }
});
