/**
 * Ledger and inventory changes reach the lifecycle (outbox, audit, in-process subscribers) in the
 * same transaction as the change: hold created / captured / voided / expired (once), entries,
 * accounts, inventory moves; replays and rejections emit nothing.
 */
import assert from "node:assert/strict";
import { sweepAllScopes } from "../../src/ledger/service.ts";
import { call, tenant, testEnv } from "../helpers.ts";

Deno.test("lifecycle: hold transitions, expiry (once), entries and inventory moves are emitted and stored in the outbox", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const account = async (name: string, type: string) =>
      (await call(env, "POST", "/v1/ledger/accounts", { key, body: { name, type, currency: "USD" } })).body
        .id as string;
    const cash = await account("cash", "asset");
    const wallet = await account("wallet:u1", "liability");
    const topup = {
      idempotency_key: "topup",
      postings: [{ account_id: cash, amount: 9000, currency: "USD" }, {
        account_id: wallet,
        amount: -9000,
        currency: "USD",
      }],
    };
    assert.equal((await call(env, "POST", "/v1/ledger/entries", { key, body: topup })).status, 201);
    assert.equal((await call(env, "POST", "/v1/ledger/entries", { key, body: topup })).status, 200, "replay");
    const hold = (k: string, ttl = 3600) =>
      call(env, "POST", "/v1/ledger/holds", {
        key,
        body: { idempotency_key: k, account_id: wallet, amount: 1000, currency: "USD", ttl_seconds: ttl },
      });
    const h1 = (await hold("h1")).body;
    const h2 = (await hold("h2")).body;
    const h3 = (await hold("h3", 60)).body;
    assert.equal(
      (await call(env, "POST", `/v1/ledger/holds/${h1.id}/capture`, { key, body: { amount: 400 } })).status,
      200,
    );
    assert.equal((await call(env, "POST", `/v1/ledger/holds/${h2.id}/void`, { key })).status, 200);
    await call(env, "POST", "/v1/inventory/acquire", {
      key,
      body: { idempotency_key: "a1", subject: "alice", item: "gem", quantity: 3 },
    });
    await call(env, "POST", "/v1/inventory/holds", {
      key,
      body: { idempotency_key: "ih1", subject: "alice", item: "gem", quantity: 2, ttl_seconds: 30 },
    });

    env.clock.advance(61_000);
    await sweepAllScopes(env.services); // notices both due holds
    await sweepAllScopes(env.services); // nothing left: no second event
    const expiredRead = await call(env, "GET", `/v1/ledger/holds/${h3.id}`, { key });
    assert.equal(expiredRead.body.status, "expired");

    const types = env.events.map((e) => e.type);
    const count = (t: string) => types.filter((x) => x === t).length;
    assert.equal(count("ledger.account_created"), 2);
    assert.equal(count("hold.created"), 3);
    assert.equal(count("hold.captured"), 1);
    assert.equal(count("hold.voided"), 1);
    assert.equal(count("hold.expired"), 2, "one money hold and one inventory hold, each once");
    assert.equal(count("inventory.changed"), 2);
    assert.ok(count("ledger.entry_posted") >= 2, "top-up and capture entries");
    const expired = env.events.filter((e) => e.type === "hold.expired").map((
      e,
    ) => [e.data.ledger, e.resource_id]).sort();
    assert.deepEqual(expired.map(([l]) => l), ["inventory", "money"]);
    assert.ok(expired.some(([, id]) => id === h3.id));

    // the same events are durable in the outbox, with an audit row each
    const outbox = await env.database.client.execute(
      "select type, count(*) as n from outbox_events group by type",
    );
    const stored = Object.fromEntries(outbox.rows.map((r) => [String(r.type), Number(r.n)]));
    assert.equal(stored["hold.expired"], 2);
    assert.equal(stored["hold.captured"], 1);
    const audit = await env.database.client.execute(
      "select actor from audit_events where action = 'hold.expired'",
    );
    assert.deepEqual(audit.rows.map((r) => r.actor), ["system", "system"]);
  } finally {
    await env.close();
  }
});
