/**
 * Limit crossings of consuming checks become lifecycle events in the consumption's transaction:
 * `entitlement.quota_exceeded` when a hard limit is reached, `entitlement.soft_limit_reached` when
 * a soft limit is first passed; once per crossing, never for replays or denials. Run on the
 * in-process live store and on the libSQL-only path.
 */
import assert from "node:assert/strict";
import { limitCrossing } from "../../src/domain/entitlement.ts";
import { decimalFromInteger as D } from "../../src/domain/decimal.ts";
import { DatabaseOnlyEntitlements, MemoryLiveEntitlements } from "../../src/entitlements/live_store.ts";
import { call, tenant, testEnv } from "../helpers.ts";

Deno.test("limitCrossing(): hard limits cross when reached, soft limits when first passed", () => {
  const hard = { limit: 10, soft_limit: false };
  const soft = { limit: 10, soft_limit: true };
  assert.equal(limitCrossing(hard, D(9), D(10)), "entitlement.quota_exceeded");
  assert.equal(limitCrossing(hard, D(5), D(12)), "entitlement.quota_exceeded");
  assert.equal(limitCrossing(hard, D(10), D(11)), null);
  assert.equal(limitCrossing(hard, D(3), D(9)), null);
  assert.equal(limitCrossing(soft, D(10), D(11)), "entitlement.soft_limit_reached");
  assert.equal(limitCrossing(soft, D(9), D(10)), null);
  assert.equal(limitCrossing(soft, D(11), D(12)), null);
  assert.equal(limitCrossing({ limit: null, soft_limit: false }, D(0), D(1e9)), null);
});

for (
  const [label, makeStore] of [
    ["in-process live store", () => new MemoryLiveEntitlements()],
    ["libSQL only", () => new DatabaseOnlyEntitlements()],
  ] as const
) {
  Deno.test(`consuming checks emit quota events once per crossing (${label})`, async () => {
    const env = await testEnv();
    env.services.live = makeStore();
    try {
      const { secret_key: key } = await tenant(env);
      const plan = await call(env, "POST", "/v1/plans", {
        key,
        body: {
          key: "p",
          name: "P",
          currency: "USD",
          interval: "month",
          features: [
            { key: "exports", type: "metered", limit: 3, aggregation: "sum" },
            { key: "emails", type: "metered", limit: 2, soft_limit: true, aggregation: "sum" },
          ],
        },
      });
      await call(env, "POST", "/v1/customers", { key, body: { external_id: "c" } });
      await call(env, "POST", "/v1/subscriptions", {
        key,
        body: { customer_id: "c", plan_id: plan.body.id },
      });
      const consume = (feature: string, n: number, idempotency_key: string) =>
        call(env, "POST", "/v1/entitlements/check", {
          key,
          body: { customer_id: "c", feature, consume: n, idempotency_key },
        });

      assert.equal((await consume("exports", 2, "x1")).body.allowed, true);
      assert.equal((await consume("exports", 1, "x2")).body.allowed, true); // reaches 3 = limit
      assert.equal((await consume("exports", 1, "x2")).body.allowed, true, "replay of x2");
      assert.equal((await consume("exports", 1, "x3")).body.allowed, false, "denied: nothing written");
      assert.equal((await consume("emails", 2, "m1")).body.over_soft_limit, false);
      assert.equal((await consume("emails", 1, "m2")).body.over_soft_limit, true); // passes 2
      assert.equal((await consume("emails", 1, "m3")).body.over_soft_limit, true); // already past

      const quota = env.events.filter((e) => e.type === "entitlement.quota_exceeded");
      const soft = env.events.filter((e) => e.type === "entitlement.soft_limit_reached");
      assert.equal(quota.length, 1);
      assert.deepEqual([quota[0].data.feature, quota[0].data.used, quota[0].data.limit], ["exports", 3, 3]);
      assert.match(quota[0].resource_id, /^cus_/);
      assert.equal(soft.length, 1);
      assert.deepEqual([soft[0].data.feature, soft[0].data.used], ["emails", 3]);
      const outbox = await env.database.client.execute(
        "select type, count(*) as n from outbox_events where type like 'entitlement.%' group by type order by type",
      );
      assert.deepEqual(outbox.rows.map((r) => [r.type, Number(r.n)]), [["entitlement.quota_exceeded", 1], [
        "entitlement.soft_limit_reached",
        1,
      ]]);
    } finally {
      await env.close();
    }
  });
}

Deno.test("recordUsage() with a flush source emits usage.flushed once per batch that stored something new", async () => {
  const { recordUsage } = await import("../../src/entitlements/service.ts");
  const env = await testEnv();
  try {
    const keys = await tenant(env);
    await call(env, "POST", "/v1/customers", { key: keys.secret_key, body: { external_id: "q" } });
    const ctx = { ...env.services, scope: { tenantId: keys.tenant_id, appId: keys.app_id } };
    const events = [{ id: "q1", customer_id: "q", feature: "api_calls", value: 5 }, {
      id: "q2",
      customer_id: "q",
      feature: "api_calls",
    }];
    const flush = { message_id: "msg-1", received_at: "2026-01-15T12:00:00.000Z" };
    const first = await recordUsage(ctx, events, flush);
    const redelivered = await recordUsage(ctx, events, flush);
    assert.deepEqual([first.accepted, redelivered.duplicates], [2, 2]);
    const flushed = env.events.filter((e) => e.type === "usage.flushed");
    assert.equal(flushed.length, 1);
    assert.deepEqual(flushed[0].data, {
      message_id: "msg-1",
      received_at: flush.received_at,
      accepted: 2,
      duplicates: 0,
      rejected: 0,
    });
  } finally {
    await env.close();
  }
});
