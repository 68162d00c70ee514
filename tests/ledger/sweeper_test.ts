/** The periodic hold sweep expires due ledger and inventory holds of every tenant, once. */
import assert from "node:assert/strict";
import { startHoldSweeper } from "../../src/ledger/hold_sweeper.ts";
import { call, tenant, testEnv } from "../helpers.ts";

Deno.test("startHoldSweeper(): a sweep expires due ledger and inventory holds of every tenant exactly once", async () => {
  const env = await testEnv();
  const sweeper = startHoldSweeper(env.services, { intervalMs: 3_600_000 });
  try {
    const holds: { db: string; id: string }[] = [];
    for (const name of ["t1", "t2"]) {
      const { secret_key: key } = await tenant(env, `${name}-${crypto.randomUUID().slice(0, 6)}`);
      const cash = await call(env, "POST", "/v1/ledger/accounts", {
        key,
        body: { name: "cash", type: "asset", currency: "USD" },
      });
      const wallet = await call(env, "POST", "/v1/ledger/accounts", {
        key,
        body: { name: "wallet", type: "liability", currency: "USD" },
      });
      await call(env, "POST", "/v1/ledger/entries", {
        key,
        body: {
          idempotency_key: "fund",
          postings: [{ account_id: cash.body.id, amount: 500, currency: "USD" }, {
            account_id: wallet.body.id,
            amount: -500,
            currency: "USD",
          }],
        },
      });
      const hold = await call(env, "POST", "/v1/ledger/holds", {
        key,
        body: {
          idempotency_key: "h",
          account_id: wallet.body.id,
          amount: 200,
          currency: "USD",
          ttl_seconds: 5,
        },
      });
      assert.equal(hold.status, 201, JSON.stringify(hold.body));
      holds.push({ db: "ledger_holds", id: hold.body.id });
      await call(env, "POST", "/v1/inventory/acquire", {
        key,
        body: { idempotency_key: "a", subject: "s", item: "i", quantity: 3 },
      });
      const inv = await call(env, "POST", "/v1/inventory/holds", {
        key,
        body: { idempotency_key: "ih", subject: "s", item: "i", quantity: 2, ttl_seconds: 5 },
      });
      holds.push({ db: "inventory_holds", id: inv.body.hold.id });
    }
    const statuses = async () => {
      const out: string[] = [];
      for (const h of holds) {
        out.push(
          String(
            (await env.database.client.execute({
              sql: `select status from ${h.db} where id = ?`,
              args: [h.id],
            })).rows[0].status,
          ),
        );
      }
      return out;
    };
    assert.equal(await sweeper.sweepNow(), 0, "nothing is due yet");
    env.clock.advance(5_000);
    assert.equal(await sweeper.sweepNow(), 4, "two tenants, ledger and inventory");
    assert.deepEqual(await statuses(), ["expired", "expired", "expired", "expired"]);
    assert.equal(await sweeper.sweepNow(), 0, "already expired holds are not touched again");
    const held = await env.database.client.execute("select sum(held) as h from ledger_balances");
    assert.equal(Number(held.rows[0].h), 0);
    const expiries = await env.database.client.execute(
      "select count(*) as n from inventory_operations where kind = 'expire'",
    );
    assert.equal(Number(expiries.rows[0].n), 2);
  } finally {
    await sweeper.stop();
    await env.close();
  }
});
