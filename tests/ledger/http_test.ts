/**
 * HTTP contract of the double-entry ledger: accounts, entries, idempotency, constraints,
 * holds (authorize / capture / void / expire), high-level operations, listing.
 */
import assert from "node:assert/strict";
import { call, snapshotCounts, tenant, testEnv } from "../helpers.ts";

async function setup() {
  const env = await testEnv();
  const { secret_key: key } = await tenant(env);
  const account = async (name: string, type: string, extra: Record<string, unknown> = {}) => {
    const res = await call(env, "POST", "/v1/ledger/accounts", {
      key,
      body: { name, type, currency: "USD", ...extra },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };
  return { env, key, account };
}

Deno.test("ledger accounts: EnsureAccount finds the same account; type or constraint mismatch is 409", async () => {
  const { env, key, account } = await setup();
  try {
    const id = await account("wallet:u1", "liability", { debits_must_not_exceed_credits: true });
    const again = await call(env, "POST", "/v1/ledger/accounts", {
      key,
      body: { name: "wallet:u1", type: "liability", currency: "USD", debits_must_not_exceed_credits: true },
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, id);
    assert.equal(again.body.normal_balance, "credit");
    const wrongType = await call(env, "POST", "/v1/ledger/accounts", {
      key,
      body: { name: "wallet:u1", type: "asset", currency: "USD" },
    });
    assert.equal(wrongType.status, 409);
    assert.equal(wrongType.body.code, "account_type_mismatch");
    const wrongFlags = await call(env, "POST", "/v1/ledger/accounts", {
      key,
      body: { name: "wallet:u1", type: "liability", currency: "USD" },
    });
    assert.equal(wrongFlags.body.code, "account_constraints_mismatch");
    const both = await call(env, "POST", "/v1/ledger/accounts", {
      key,
      body: {
        name: "x",
        type: "asset",
        currency: "USD",
        debits_must_not_exceed_credits: true,
        credits_must_not_exceed_debits: true,
      },
    });
    assert.equal(both.status, 400);
    const currency = await call(env, "POST", "/v1/ledger/accounts", {
      key,
      body: { name: "x", type: "asset", currency: "ZZZ" },
    });
    assert.equal(currency.body.code, "unsupported_currency");
    const got = await call(env, "GET", `/v1/ledger/accounts/${id}`, { key });
    assert.equal(got.body.name, "wallet:u1");
  } finally {
    await env.close();
  }
});

Deno.test("ledger entries: balanced per currency, idempotent replay 200, conflicting reuse 409, nothing half-written", async () => {
  const { env, key, account } = await setup();
  try {
    const cash = await account("cash", "asset");
    const wallet = await account("wallet:u1", "liability", { debits_must_not_exceed_credits: true });
    const body = {
      idempotency_key: "topup-1",
      description: "Top-up",
      postings: [{ account_id: cash, amount: 5000, currency: "USD" }, {
        account_id: wallet,
        amount: -5000,
        currency: "USD",
      }],
    };
    const first = await call(env, "POST", "/v1/ledger/entries", { key, body });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.replayed, false);
    assert.equal(first.body.seq, 1);
    const replay = await call(env, "POST", "/v1/ledger/entries", { key, body });
    assert.equal(replay.status, 200);
    assert.equal(replay.body.replayed, true);
    assert.equal(replay.body.id, first.body.id);
    const reused = await call(env, "POST", "/v1/ledger/entries", {
      key,
      body: { ...body, description: "Other" },
    });
    assert.equal(reused.status, 409);
    assert.equal(reused.body.code, "idempotency_key_reused");

    const before = await snapshotCounts(env);
    const unbalanced = await call(env, "POST", "/v1/ledger/entries", {
      key,
      body: {
        idempotency_key: "bad-1",
        postings: [{ account_id: cash, amount: 100, currency: "USD" }, {
          account_id: wallet,
          amount: -99,
          currency: "USD",
        }],
      },
    });
    assert.equal(unbalanced.status, 422);
    assert.equal(unbalanced.body.code, "postings_not_balanced");
    const mixed = await call(env, "POST", "/v1/ledger/entries", {
      key,
      body: {
        idempotency_key: "bad-2",
        postings: [{ account_id: cash, amount: 100, currency: "USD" }, {
          account_id: wallet,
          amount: -100,
          currency: "EUR",
        }],
      },
    });
    assert.equal(mixed.body.code, "postings_not_balanced", "sums are per currency, not across currencies");
    const mismatch = await call(env, "POST", "/v1/ledger/entries", {
      key,
      body: {
        idempotency_key: "bad-3",
        postings: [{ account_id: cash, amount: 100, currency: "EUR" }, {
          account_id: wallet,
          amount: -100,
          currency: "EUR",
        }],
      },
    });
    assert.equal(mismatch.body.code, "currency_mismatch");
    const overdraw = await call(env, "POST", "/v1/ledger/entries", {
      key,
      body: {
        idempotency_key: "bad-4",
        postings: [{ account_id: wallet, amount: 5001, currency: "USD" }, {
          account_id: cash,
          amount: -5001,
          currency: "USD",
        }],
      },
    });
    assert.equal(overdraw.status, 422);
    assert.equal(overdraw.body.code, "insufficient_balance");
    const missing = await call(env, "POST", "/v1/ledger/entries", {
      key,
      body: {
        idempotency_key: "bad-5",
        postings: [{ account_id: "acc_01jd0000000000000000000000", amount: 1, currency: "USD" }, {
          account_id: cash,
          amount: -1,
          currency: "USD",
        }],
      },
    });
    assert.equal(missing.status, 404);
    assert.deepEqual(await snapshotCounts(env), before, "rejected entries write nothing");

    const balance = await call(env, "GET", `/v1/ledger/accounts/${wallet}/balance?currency=USD`, { key });
    assert.deepEqual(
      {
        posted: balance.body.posted,
        held: balance.body.held,
        available: balance.body.available,
        credits_posted: balance.body.credits_posted,
      },
      { posted: 5000, held: 0, available: 5000, credits_posted: 5000 },
    );
    const otherCurrency = await call(env, "GET", `/v1/ledger/accounts/${wallet}/balance?currency=EUR`, {
      key,
    });
    assert.equal(otherCurrency.body.code, "currency_mismatch");
  } finally {
    await env.close();
  }
});

Deno.test("ledger reversal: negates the original, references it, only once", async () => {
  const { env, key, account } = await setup();
  try {
    const cash = await account("cash", "asset");
    const revenue = await account("revenue", "revenue");
    const entry = await call(env, "POST", "/v1/ledger/entries", {
      key,
      body: {
        idempotency_key: "sale-1",
        postings: [{ account_id: cash, amount: 700, currency: "USD" }, {
          account_id: revenue,
          amount: -700,
          currency: "USD",
        }],
      },
    });
    const reversal = await call(env, "POST", `/v1/ledger/entries/${entry.body.id}/reverse`, {
      key,
      body: { idempotency_key: "sale-1-rev" },
    });
    assert.equal(reversal.status, 201, JSON.stringify(reversal.body));
    assert.equal(reversal.body.reverses_entry_id, entry.body.id);
    assert.deepEqual(reversal.body.postings.map((p: { amount: number }) => p.amount), [-700, 700]);
    const again = await call(env, "POST", `/v1/ledger/entries/${entry.body.id}/reverse`, {
      key,
      body: { idempotency_key: "sale-1-rev-2" },
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, "entry_already_reversed");
    const bal = await call(env, "GET", `/v1/ledger/accounts/${revenue}/balance`, { key });
    assert.equal(bal.body.posted, 0);
  } finally {
    await env.close();
  }
});

Deno.test("ledger holds: authorize against available, partial capture releases the rest, void, expiry releases once", async () => {
  const { env, key, account } = await setup();
  try {
    const cash = await account("cash", "asset");
    const wallet = await account("wallet:u1", "liability", { debits_must_not_exceed_credits: true });
    const revenue = await account("revenue", "revenue");
    await call(env, "POST", "/v1/ledger/entries", {
      key,
      body: {
        idempotency_key: "topup",
        postings: [{ account_id: cash, amount: 1000, currency: "USD" }, {
          account_id: wallet,
          amount: -1000,
          currency: "USD",
        }],
      },
    });
    const hold = (k: string, amount: number, ttl = 60) =>
      call(env, "POST", "/v1/ledger/holds", {
        key,
        body: {
          idempotency_key: k,
          account_id: wallet,
          destination_account_id: revenue,
          amount,
          currency: "USD",
          ttl_seconds: ttl,
        },
      });
    const h1 = await hold("h1", 600);
    assert.equal(h1.status, 201, JSON.stringify(h1.body));
    assert.equal(h1.body.status, "pending");
    const tooMuch = await hold("h2", 401);
    assert.equal(tooMuch.status, 422);
    assert.equal(tooMuch.body.code, "insufficient_balance");
    const spend = await call(env, "POST", "/v1/ledger/entries", {
      key,
      body: {
        idempotency_key: "spend",
        postings: [{ account_id: wallet, amount: 401, currency: "USD" }, {
          account_id: revenue,
          amount: -401,
          currency: "USD",
        }],
      },
    });
    assert.equal(spend.body.code, "insufficient_balance", "held funds cannot be spent by a posting either");
    let bal = await call(env, "GET", `/v1/ledger/accounts/${wallet}/balance`, { key });
    assert.deepEqual([bal.body.posted, bal.body.held, bal.body.available], [1000, 600, 400]);
    const revPending = await call(env, "GET", `/v1/ledger/accounts/${revenue}/balance`, { key });
    assert.equal(revPending.body.pending, 600);

    const over = await call(env, "POST", `/v1/ledger/holds/${h1.body.id}/capture`, {
      key,
      body: { amount: 601 },
    });
    assert.equal(over.body.code, "capture_exceeds_hold");
    const captured = await call(env, "POST", `/v1/ledger/holds/${h1.body.id}/capture`, {
      key,
      body: { amount: 250 },
    });
    assert.equal(captured.status, 200, JSON.stringify(captured.body));
    assert.equal(captured.body.hold.status, "captured");
    assert.equal(captured.body.hold.captured_amount, 250);
    assert.deepEqual(captured.body.entry.postings.map((p: { amount: number }) => p.amount), [250, -250]);
    const retry = await call(env, "POST", `/v1/ledger/holds/${h1.body.id}/capture`, {
      key,
      body: { amount: 250 },
    });
    assert.equal(retry.body.replayed, true);
    assert.equal(retry.body.entry.id, captured.body.entry.id);
    const voidCaptured = await call(env, "POST", `/v1/ledger/holds/${h1.body.id}/void`, { key });
    assert.equal(voidCaptured.status, 409);
    assert.equal(voidCaptured.body.code, "hold_not_pending");
    bal = await call(env, "GET", `/v1/ledger/accounts/${wallet}/balance`, { key });
    assert.deepEqual([bal.body.posted, bal.body.held, bal.body.available], [750, 0, 750]);

    const h3 = await hold("h3", 300);
    const voided = await call(env, "POST", `/v1/ledger/holds/${h3.body.id}/void`, { key });
    assert.equal(voided.body.status, "voided");

    const h4 = await hold("h4", 700, 30);
    env.clock.advance(31_000);
    bal = await call(env, "GET", `/v1/ledger/accounts/${wallet}/balance`, { key });
    assert.deepEqual(
      [bal.body.held, bal.body.available],
      [0, 750],
      "a read notices the expiry and releases it",
    );
    const late = await call(env, "POST", `/v1/ledger/holds/${h4.body.id}/capture`, { key });
    assert.equal(late.status, 409);
    assert.equal(late.body.code, "hold_expired");
    const got = await call(env, "GET", `/v1/ledger/holds/${h4.body.id}`, { key });
    assert.equal(got.body.status, "expired");
    bal = await call(env, "GET", `/v1/ledger/accounts/${wallet}/balance`, { key });
    assert.equal(bal.body.held, 0, "released exactly once");

    const badAmount = await hold("h5", 0);
    assert.equal(badAmount.body.code, "invalid_amount");
  } finally {
    await env.close();
  }
});

Deno.test("ledger operations: payment with fees, refund bounded by the customer balance, payout, dispute, listing by external id", async () => {
  const { env, key } = await setup();
  try {
    const pay = await call(env, "POST", "/v1/ledger/payments", {
      key,
      body: { payment_intent_id: "pi_1", amount: 10_000, currency: "USD", customer_id: "c1", fees: 300 },
    });
    assert.equal(pay.status, 201, JSON.stringify(pay.body));
    assert.deepEqual(pay.body.postings.map((p: { amount: number }) => p.amount), [10_000, -9_700, -300]);
    const again = await call(env, "POST", "/v1/ledger/payments", {
      key,
      body: { payment_intent_id: "pi_1", amount: 10_000, currency: "USD", customer_id: "c1", fees: 300 },
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, pay.body.id);
    const conflict = await call(env, "POST", "/v1/ledger/payments", {
      key,
      body: { payment_intent_id: "pi_1", amount: 9_000, currency: "USD", customer_id: "c1" },
    });
    assert.equal(conflict.body.code, "idempotency_key_reused");
    const fees = await call(env, "POST", "/v1/ledger/payments", {
      key,
      body: { payment_intent_id: "pi_2", amount: 100, currency: "USD", customer_id: "c1", fees: 101 },
    });
    assert.equal(fees.body.code, "fees_exceed_amount");

    const refund = await call(env, "POST", "/v1/ledger/refunds", {
      key,
      body: {
        refund_id: "re_1",
        amount: 9_000,
        currency: "USD",
        customer_id: "c1",
        payment_intent_id: "pi_1",
      },
    });
    assert.equal(refund.status, 201);
    const tooBig = await call(env, "POST", "/v1/ledger/refunds", {
      key,
      body: { refund_id: "re_2", amount: 701, currency: "USD", customer_id: "c1" },
    });
    assert.equal(tooBig.body.code, "insufficient_balance");
    const payout = await call(env, "POST", "/v1/ledger/payouts", {
      key,
      body: { payout_id: "po_1", amount: 500, currency: "USD", merchant_id: "m1" },
    });
    assert.equal(payout.status, 201);
    const dispute = await call(env, "POST", "/v1/ledger/disputes", {
      key,
      body: {
        dispute_id: "dp_1",
        amount: 200,
        currency: "USD",
        customer_id: "c1",
        payment_intent_id: "pi_1",
      },
    });
    assert.equal(dispute.status, 201);

    const byPayment = await call(env, "GET", "/v1/ledger/entries?payment_intent_id=pi_1", { key });
    assert.deepEqual(byPayment.body.data.map((e: { id: string }) => e.id), [
      pay.body.id,
      refund.body.id,
      dispute.body.id,
    ]);
    const cashId = pay.body.postings[0].account_id;
    const page1 = await call(env, "GET", `/v1/ledger/entries?account_id=${cashId}&limit=2`, { key });
    assert.equal(page1.body.data.length, 2);
    const page2 = await call(
      env,
      "GET",
      `/v1/ledger/entries?account_id=${cashId}&limit=2&cursor=${page1.body.next_cursor}`,
      { key },
    );
    assert.deepEqual(page2.body.data.map((e: { seq: number }) => e.seq), [3, 4]);
    assert.equal(page2.body.next_cursor, null);
    const cash = await call(env, "GET", `/v1/ledger/accounts/${cashId}/balance`, { key });
    assert.equal(cash.body.posted, 10_000 - 9_000 - 500 - 200);
    const later = await call(env, "GET", `/v1/ledger/entries?created_after=2030-01-01T00:00:00Z`, { key });
    assert.equal(later.body.data.length, 0);
  } finally {
    await env.close();
  }
});

Deno.test("ledger tenancy: another tenant's accounts are not found and cannot be posted to", async () => {
  const { env, account } = await setup();
  try {
    const cash = await account("cash", "asset");
    const other = await tenant(env);
    const res = await call(env, "GET", `/v1/ledger/accounts/${cash}`, { key: other.secret_key });
    assert.equal(res.status, 404);
    const own = await call(env, "POST", "/v1/ledger/accounts", {
      key: other.secret_key,
      body: { name: "rev", type: "revenue", currency: "USD" },
    });
    const post = await call(env, "POST", "/v1/ledger/entries", {
      key: other.secret_key,
      body: {
        idempotency_key: "x",
        postings: [{ account_id: cash, amount: 1, currency: "USD" }, {
          account_id: own.body.id,
          amount: -1,
          currency: "USD",
        }],
      },
    });
    assert.equal(post.status, 404);
    assert.equal(post.body.code, "account_not_found");
  } finally {
    await env.close();
  }
});
