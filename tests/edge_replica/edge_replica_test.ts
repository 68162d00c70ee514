/**
 * Usage appended to Turso replicas at the edge, synced to the primary (issue 13, ADR 0014), with
 * real processes: `tursodb --sync-server`, edge nodes (`BILLING_ROLE=edge`) and a billing process
 * (`BILLING_ROLE=billing`) on one primary database file. 1000-event batches.
 */
import assert from "node:assert/strict";
import {
  ADMIN,
  batch,
  eventually,
  freePort,
  http,
  metric,
  provision,
  startNode,
  startSyncServer,
  usage,
} from "./cluster.ts";

Deno.test("two edge nodes and a billing process count events sent to both (overlapping ids) exactly once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-replica-overlap-" });
  const sync = await startSyncServer(`${dir}/hub.db`, await freePort());
  const primary = `file:${dir}/primary.db`;
  const billing = await startNode("billing", primary, `${dir}/billing-replica.db`, sync.url);
  const a = await startNode("edge", primary, `${dir}/edge-a.db`, sync.url);
  const b = await startNode("edge", primary, `${dir}/edge-b.db`, sync.url);
  try {
    const key = await provision(billing.base);
    // e0…e999 to A, e500…e1499 to B: 500 ids on both nodes, 1500 distinct events.
    const toA = await http(a.base, "POST", "/v1/events", key, batch("e", 0, 1000));
    const toB = await http(b.base, "POST", "/v1/events", key, batch("e", 500, 1000));
    assert.deepEqual([toA.status, toA.body.accepted, toB.status, toB.body.accepted], [200, 1000, 200, 1000]);
    // A retry on the same node is a duplicate there already.
    const retry = await http(a.base, "POST", "/v1/events", key, batch("e", 0, 1000));
    assert.deepEqual([retry.body.accepted, retry.body.duplicates], [0, 1000]);
    // The same id with another payload on each node: only the billing side can see the conflict.
    const one = { events: [{ id: "conflict-1", customer_id: "c2", feature: "api_calls", value: 1 }] };
    const five = { events: [{ id: "conflict-1", customer_id: "c2", feature: "api_calls", value: 5 }] };
    assert.equal((await http(a.base, "POST", "/v1/events", key, one)).body.accepted, 1);
    assert.equal((await http(b.base, "POST", "/v1/events", key, five)).body.accepted, 1);

    assert.equal(await eventually(() => usage(billing.base, key), 1500), 1500);
    const conflicts = await eventually(
      () => metric(billing.base, "billing_edge_usage_refused_total"),
      1,
    );
    assert.equal(conflicts, 1, "the reused id is counted in billing_edge_usage_refused_total");
    const c2 = await usage(billing.base, key, "c2");
    assert.ok(c2 === 1 || c2 === 5, `one of the two payloads won (c2 = ${c2})`);
    const letters = await http(billing.base, "GET", "/v1/admin/dead_letters", ADMIN);
    const refused = letters.body.data.filter((d: { refusals: { id: string }[] | null }) =>
      d.refusals?.some((r) => r.id === "conflict-1")
    );
    assert.equal(refused.length, 1, "the losing payload is a dead letter, not silently dropped");
    assert.equal(refused[0].refusals[0].code, "idempotency_key_reused");
    assert.equal(refused[0].reason, "rejected");
    // Both nodes pushed everything.
    assert.equal(await eventually(() => metric(a.base, "billing_edge_usage_pending_events"), 0), 0);
    assert.equal(await eventually(() => metric(b.base, "billing_edge_usage_pending_events"), 0), 0);
    assert.equal(await usage(billing.base, key), 1500, "still 1500 after every push settled");
  } finally {
    await Promise.all([a.stop(), b.stop(), billing.stop()]);
    await sync.stop();
  }
});

Deno.test("an edge node killed (-9) after acknowledging and before pushing pushes after restart: none lost, none doubled", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-replica-kill-" });
  const sync = await startSyncServer(`${dir}/hub.db`, await freePort());
  const primary = `file:${dir}/primary.db`;
  const replica = `${dir}/edge.db`;
  const billing = await startNode("billing", primary, `${dir}/billing-replica.db`, sync.url);
  // An hour between pushes: nothing is pushed before the kill.
  let edge = await startNode("edge", primary, replica, sync.url, { EDGE_PUSH_INTERVAL_MS: "3600000" });
  try {
    const key = await provision(billing.base);
    for (let i = 0; i < 2; i++) {
      const res = await http(edge.base, "POST", "/v1/events", key, batch("k", i * 1000, 1000));
      assert.deepEqual([res.status, res.body.accepted], [200, 1000]);
    }
    assert.equal(await metric(edge.base, "billing_edge_usage_pending_events"), 2000);
    assert.ok(await metric(edge.base, "billing_edge_usage_oldest_pending_age_seconds") >= 0);
    const killed = await edge.stop("SIGKILL");
    assert.equal(killed.signal, "SIGKILL");
    assert.equal(await usage(billing.base, key), 0, "nothing reached the primary before the kill");

    edge = await startNode("edge", primary, replica, sync.url);
    assert.equal(await eventually(() => usage(billing.base, key), 2000), 2000);
    // The restarted node still knows what it acknowledged: a client retry is a duplicate.
    const retry = await http(edge.base, "POST", "/v1/events", key, batch("k", 0, 1000));
    assert.deepEqual([retry.body.accepted, retry.body.duplicates], [0, 1000]);
    const more = await http(edge.base, "POST", "/v1/events", key, batch("k", 2000, 1000));
    assert.equal(more.body.accepted, 1000);
    assert.equal(await eventually(() => usage(billing.base, key), 3000), 3000);
    assert.equal(await eventually(() => metric(edge.base, "billing_edge_usage_pending_events"), 0), 0);
    assert.equal(await usage(billing.base, key), 3000);
  } finally {
    await Promise.all([edge.stop(), billing.stop()]);
    await sync.stop();
  }
});

Deno.test("while the sync server is down edge nodes keep accepting; everything arrives once it is back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-replica-outage-" });
  const port = await freePort();
  let sync = await startSyncServer(`${dir}/hub.db`, port);
  const primary = `file:${dir}/primary.db`;
  const billing = await startNode("billing", primary, `${dir}/billing-replica.db`, sync.url);
  const a = await startNode("edge", primary, `${dir}/edge-a.db`, sync.url);
  const b = await startNode("edge", primary, `${dir}/edge-b.db`, sync.url);
  try {
    const key = await provision(billing.base);
    await sync.stop();
    for (let i = 0; i < 3; i++) {
      for (const [node, prefix] of [[a, "a"], [b, "b"]] as const) {
        const res = await http(node.base, "POST", "/v1/events", key, batch(prefix, i * 1000, 1000));
        assert.deepEqual(
          [res.status, res.body.accepted],
          [200, 1000],
          "accepted while the sync server is down",
        );
      }
    }
    assert.ok(await metric(a.base, "billing_edge_usage_pending_events") > 0, "the backlog is visible");
    sync = await startSyncServer(`${dir}/hub.db`, port);
    assert.equal(await eventually(() => usage(billing.base, key), 6000), 6000);
    assert.equal(await eventually(() => metric(a.base, "billing_edge_usage_pending_events"), 0), 0);
    assert.equal(await eventually(() => metric(b.base, "billing_edge_usage_pending_events"), 0), 0);
    assert.equal(await usage(billing.base, key), 6000);
  } finally {
    await Promise.all([a.stop(), b.stop(), billing.stop()]);
    await sync.stop();
  }
});
