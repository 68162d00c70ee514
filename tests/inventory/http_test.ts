/** HTTP contract of the inventory ledger: acquire, consume, transfer, holds, balances, idempotency. */
import assert from "node:assert/strict";
import { call, snapshotCounts, tenant, testEnv } from "../helpers.ts";

Deno.test("inventory: acquire, consume, transfer atomically; insufficient and invalid quantities write nothing", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const acquire = await call(env, "POST", "/v1/inventory/acquire", {
      key,
      body: { idempotency_key: "a1", subject: "alice", item: "gem", quantity: 10 },
    });
    assert.equal(acquire.status, 201, JSON.stringify(acquire.body));
    assert.deepEqual(acquire.body.balances[0], {
      subject: "alice",
      item: "gem",
      free: 10,
      on_hold: 0,
      total: 10,
    });
    const replay = await call(env, "POST", "/v1/inventory/acquire", {
      key,
      body: { idempotency_key: "a1", subject: "alice", item: "gem", quantity: 10 },
    });
    assert.equal(replay.status, 200);
    assert.equal(replay.body.replayed, true);
    assert.equal(replay.body.operation.id, acquire.body.operation.id);
    const reused = await call(env, "POST", "/v1/inventory/acquire", {
      key,
      body: { idempotency_key: "a1", subject: "alice", item: "gem", quantity: 11 },
    });
    assert.equal(reused.status, 409);
    assert.equal(reused.body.code, "idempotency_key_reused");

    const before = await snapshotCounts(env);
    for (const quantity of [0, -1, 1.5]) {
      const bad = await call(env, "POST", "/v1/inventory/consume", {
        key,
        body: { idempotency_key: `c${quantity}`, subject: "alice", item: "gem", quantity },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, "invalid_quantity");
    }
    const short = await call(env, "POST", "/v1/inventory/transfer", {
      key,
      body: { idempotency_key: "t0", from: "alice", to: "bob", item: "gem", quantity: 11 },
    });
    assert.equal(short.status, 422);
    assert.equal(short.body.code, "insufficient_quantity");
    assert.deepEqual(await snapshotCounts(env), before);

    const transfer = await call(env, "POST", "/v1/inventory/transfer", {
      key,
      body: { idempotency_key: "t1", from: "alice", to: "bob", item: "gem", quantity: 4 },
    });
    assert.equal(transfer.status, 201);
    assert.deepEqual(transfer.body.balances.map((b: { free: number }) => b.free), [6, 4]);
    const consume = await call(env, "POST", "/v1/inventory/consume", {
      key,
      body: { idempotency_key: "c1", subject: "bob", item: "gem", quantity: 4 },
    });
    assert.equal(consume.body.balances[0].free, 0);
    const bob = await call(env, "GET", "/v1/inventory/balances/bob", { key });
    assert.deepEqual(bob.body.data, [], "zero balances are not listed");
    const missing = await call(env, "GET", "/v1/inventory/balances/carol/gem", { key });
    assert.deepEqual(missing.body, { subject: "carol", item: "gem", free: 0, on_hold: 0, total: 0 });
  } finally {
    await env.close();
  }
});

Deno.test("inventory holds: reserve, commit consumes, release returns, expiry returns exactly once", async () => {
  const env = await testEnv();
  try {
    const { secret_key: key } = await tenant(env);
    await call(env, "POST", "/v1/inventory/acquire", {
      key,
      body: { idempotency_key: "a", subject: "shop", item: "sku-1", quantity: 5 },
    });
    const hold = (k: string, quantity: number, ttl = 60) =>
      call(env, "POST", "/v1/inventory/holds", {
        key,
        body: { idempotency_key: k, subject: "shop", item: "sku-1", quantity, ttl_seconds: ttl },
      });
    const h1 = await hold("h1", 2);
    assert.equal(h1.status, 201, JSON.stringify(h1.body));
    assert.deepEqual([h1.body.balances[0].free, h1.body.balances[0].on_hold], [3, 2]);
    const tooMany = await hold("h2", 4);
    assert.equal(tooMany.body.code, "insufficient_quantity");
    const commit = await call(env, "POST", `/v1/inventory/holds/${h1.body.hold.id}/commit`, { key });
    assert.equal(commit.status, 200);
    assert.equal(commit.body.hold.status, "committed");
    assert.deepEqual([commit.body.balances[0].free, commit.body.balances[0].on_hold], [3, 0]);
    const retried = await call(env, "POST", `/v1/inventory/holds/${h1.body.hold.id}/commit`, { key });
    assert.equal(retried.body.replayed, true, "a retried commit replays");
    const release = await call(env, "POST", `/v1/inventory/holds/${h1.body.hold.id}/release`, { key });
    assert.equal(release.status, 409);
    assert.equal(release.body.code, "hold_not_pending");

    const h3 = await hold("h3", 1);
    const released = await call(env, "POST", `/v1/inventory/holds/${h3.body.hold.id}/release`, {
      key,
      body: { idempotency_key: "rel-h3" },
    });
    assert.deepEqual([released.body.balances[0].free, released.body.balances[0].on_hold], [3, 0]);

    const h4 = await hold("h4", 3, 10);
    env.clock.advance(10_000);
    const listed = await call(env, "GET", "/v1/inventory/balances/shop", { key });
    assert.deepEqual(listed.body.data, [{ subject: "shop", item: "sku-1", free: 3, on_hold: 0, total: 3 }]);
    const late = await call(env, "POST", `/v1/inventory/holds/${h4.body.hold.id}/commit`, { key });
    assert.equal(late.status, 409);
    assert.equal(late.body.code, "hold_expired");
    const got = await call(env, "GET", `/v1/inventory/holds/${h4.body.hold.id}`, { key });
    assert.equal(got.body.status, "expired");
    const balance = await call(env, "GET", "/v1/inventory/balances/shop/sku-1", { key });
    assert.equal(balance.body.free, 3, "the expired quantity came back once");
    const ops = await env.database.client.execute(
      "select kind, count(*) as n from inventory_operations group by kind order by kind",
    );
    assert.deepEqual(ops.rows.map((r) => [r.kind, Number(r.n)]), [
      ["acquire", 1],
      ["commit", 1],
      ["expire", 1],
      ["hold", 3],
      ["release", 1],
    ]);
  } finally {
    await env.close();
  }
});
