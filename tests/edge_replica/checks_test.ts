/**
 * Entitlement checks on edge nodes (ADR 0014): no per-node counters. Without Redis a consuming
 * check decides and records on the primary in one transaction; with Redis the nodes share its
 * live counters and the consumption events travel through each node's replica outbox. Either
 * way two nodes together never consume past a hard limit, and every consumption is billed once.
 */
import assert from "node:assert/strict";
import { acquireRedis, testPrefix, upstashFor } from "../redis_helpers.ts";
import {
  eventually,
  freePort,
  http,
  metric,
  provision,
  startNode,
  startSyncServer,
  usage,
} from "./cluster.ts";

const LIMIT = 100;

/** 150 concurrent consuming checks of 1 unit, alternating between the nodes; returns how many were allowed. */
async function consumeAcross(bases: string[], key: string): Promise<number> {
  const answers = await Promise.all(Array.from({ length: 150 }, async (_, i) => {
    const res = await http(bases[i % bases.length], "POST", "/v1/entitlements/check", key, {
      customer_id: "c1",
      feature: "api_calls",
      consume: 1,
      idempotency_key: `check-${i}`,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.allowed as boolean;
  }));
  return answers.filter(Boolean).length;
}

Deno.test("edge nodes without Redis: consuming checks decide on the primary; two nodes stop at the hard limit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-replica-checks-" });
  const sync = await startSyncServer(`${dir}/hub.db`, await freePort());
  const primary = `file:${dir}/primary.db`;
  const billing = await startNode("billing", primary, `${dir}/billing-replica.db`, sync.url);
  const a = await startNode("edge", primary, `${dir}/edge-a.db`, sync.url);
  const b = await startNode("edge", primary, `${dir}/edge-b.db`, sync.url);
  try {
    const key = await provision(billing.base, LIMIT);
    assert.equal(await consumeAcross([a.base, b.base], key), LIMIT);
    // Recorded on the primary in the deciding transaction: counted at once, nothing in the outboxes.
    assert.equal(await usage(billing.base, key), LIMIT);
    assert.equal(await metric(a.base, "billing_edge_usage_pending_events"), 0);
    assert.equal(await metric(b.base, "billing_edge_usage_pending_events"), 0);
  } finally {
    await Promise.all([a.stop(), b.stop(), billing.stop()]);
    await sync.stop();
  }
});

const redis = await acquireRedis();

Deno.test({
  name:
    "edge nodes with Redis: shared live counters stop two nodes at the hard limit; consumptions arrive once via the replicas",
  ignore: redis === null,
  async fn() {
    const upstash = await upstashFor(redis!);
    const dir = await Deno.makeTempDir({ prefix: "edge-replica-redis-" });
    const sync = await startSyncServer(`${dir}/hub.db`, await freePort());
    const primary = `file:${dir}/primary.db`;
    const shared = {
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
      REDIS_KEY_PREFIX: testPrefix("edge-replica"),
    };
    const billing = await startNode("billing", primary, `${dir}/billing-replica.db`, sync.url, shared);
    // No push until the nodes stop: the consumptions must wait in the outboxes.
    const slow = { ...shared, EDGE_PUSH_INTERVAL_MS: "3600000" };
    const a = await startNode("edge", primary, `${dir}/edge-a.db`, sync.url, slow);
    const b = await startNode("edge", primary, `${dir}/edge-b.db`, sync.url, slow);
    let stopped = false;
    try {
      const key = await provision(billing.base, LIMIT);
      // Warm both nodes (entitlement snapshot and counter in Redis) so the checks take the live path.
      for (const node of [a, b]) {
        const warm = await http(node.base, "POST", "/v1/entitlements/check", key, {
          customer_id: "c1",
          feature: "api_calls",
        });
        assert.equal(warm.status, 200);
      }
      assert.equal(await consumeAcross([a.base, b.base], key), LIMIT);
      const waiting = await metric(a.base, "billing_edge_usage_pending_events") +
        await metric(b.base, "billing_edge_usage_pending_events");
      // A check that cannot settle on Redis (contention, Redis slow) decides on the primary instead
      // (hard limit kept); every other allowed consumption waits in its node's outbox.
      assert.ok(waiting > 0, "consumptions went through the outboxes");
      assert.equal(waiting + await usage(billing.base, key), LIMIT);
      // A retried check consumes nothing more, on either node.
      const retry = await http(b.base, "POST", "/v1/entitlements/check", key, {
        customer_id: "c1",
        feature: "api_calls",
        consume: 1,
        idempotency_key: "check-0",
      });
      assert.equal(retry.status, 200);
      // A graceful stop pushes what is waiting.
      await Promise.all([a.stop(), b.stop()]);
      stopped = true;
      assert.equal(await eventually(() => usage(billing.base, key), LIMIT), LIMIT);
    } finally {
      await Promise.all([stopped ? null : a.stop(), stopped ? null : b.stop(), billing.stop()]);
      await sync.stop();
      await upstash.stop();
    }
  },
});
