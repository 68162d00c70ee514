/**
 * Posting to a ledger account by name (resolved in the ledger service, within the tenant and app,
 * with the posting's currency, before the command reaches the writer): names and ids are the same
 * entry for idempotency, an unknown name is 404 `account_not_found` with nothing written, another
 * tenant's names are never found. 50 concurrent clients posting by name.
 */
import assert from "node:assert/strict";
import { call, snapshotCounts, tenant, testEnv } from "../helpers.ts";

Deno.test("ledger: postings and holds name their accounts; unknown names 404, other tenants' names unseen, 50 concurrent clients by name", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const { secret_key: otherKey } = await tenant(env);
    const account = async (k: string, name: string, type: string, currency = "USD") => {
      const res = await call(env, "POST", "/v1/ledger/accounts", { key: k, body: { name, type, currency } });
      assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
      return res.body.id as string;
    };
    const cash = await account(key, "cash", "asset");
    const revenue = await account(key, "revenue", "revenue");
    const cashEur = await account(key, "cash", "asset", "EUR");
    const revenueEur = await account(key, "revenue", "revenue", "EUR");
    await account(otherKey, "secret", "asset");

    const post = (k: string, idem: string, debit: string, credit: string, amount: number, currency = "USD") =>
      call(env, "POST", "/v1/ledger/entries", {
        key: k,
        body: {
          idempotency_key: idem,
          postings: [
            { account_id: debit, amount, currency },
            { account_id: credit, amount: -amount, currency },
          ],
        },
      });

    // By name: the entry carries the accounts' ids.
    const byName = await post(key, "e1", "cash", "revenue", 2500);
    assert.equal(byName.status, 201, JSON.stringify(byName.body));
    assert.deepEqual(byName.body.postings.map((p: { account_id: string }) => p.account_id), [cash, revenue]);
    // A retry by id (or by name again) is the same entry.
    const byId = await post(key, "e1", cash, revenue, 2500);
    assert.deepEqual([byId.status, byId.body.id], [200, byName.body.id]);
    const again = await post(key, "e1", "cash", "revenue", 2500);
    assert.deepEqual([again.status, again.body.id], [200, byName.body.id]);
    // Names are per currency: "cash" in EUR is another account.
    const eur = await post(key, "e2", "cash", "revenue", 700, "EUR");
    assert.deepEqual(eur.body.postings.map((p: { account_id: string }) => p.account_id), [
      cashEur,
      revenueEur,
    ]);

    // Unknown names, a name only in another currency, another tenant's name: 404, nothing written.
    const before = await snapshotCounts(env);
    for (
      const [debit, currency] of [["nope", "USD"], ["cash", "GBP"], ["secret", "USD"]] as const
    ) {
      const res = await post(key, `bad-${debit}-${currency}`, debit, "revenue", 1, currency);
      assert.equal(res.status, 404, JSON.stringify(res.body));
      assert.match(res.contentType, /^application\/problem\+json/);
      assert.equal(res.body.code, "account_not_found");
    }
    const hold404 = await call(env, "POST", "/v1/ledger/holds", {
      key,
      body: { idempotency_key: "h-bad", account_id: "nope", amount: 1, currency: "USD", ttl_seconds: 60 },
    });
    assert.deepEqual([hold404.status, hold404.body.code], [404, "account_not_found"]);
    assert.deepEqual(await snapshotCounts(env), before, "nothing written by a refused name");

    // A hold by names, captured into the named destination.
    const hold = await call(env, "POST", "/v1/ledger/holds", {
      key,
      body: {
        idempotency_key: "h1",
        account_id: "cash",
        destination_account_id: "revenue",
        amount: 500,
        currency: "USD",
        ttl_seconds: 600,
      },
    });
    assert.equal(hold.status, 201, JSON.stringify(hold.body));
    assert.deepEqual([hold.body.account_id, hold.body.destination_account_id], [cash, revenue]);

    // 50 concurrent clients, 20 entries each, all by name: balances exact.
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, c) =>
        (async () => {
          const statuses: number[] = [];
          for (let i = 0; i < 20; i++) {
            statuses.push((await post(key, `c${c}-${i}`, "cash", "revenue", 3)).status);
          }
          return statuses;
        })()),
    );
    assert.ok(results.flat().every((s) => s === 201));
    const balance = await call(env, "GET", `/v1/ledger/accounts/${cash}/balance?currency=USD`, { key });
    assert.equal(balance.body.posted, 2500 + 50 * 20 * 3);
  } finally {
    await env.close();
  }
});
