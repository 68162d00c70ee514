/**
 * Pruning of the edge outbox (ADR 0014): rows are deleted only once pushed and final on the
 * billing side, in bounded runs, never the node's highest row; the deletes reach the sync server;
 * an edge node killed (-9) between push and prune loses nothing and doubles nothing, and keeps
 * its `seq` gap-free after a restart. 1000-event batches, real `tursodb --sync-server`.
 */
import assert from "node:assert/strict";
import { openReplica } from "../../src/storage/turso_sync.ts";
import { EdgeOutbox, type PushedRow } from "../../src/usage/edge_outbox.ts";
import type { SinkEvent } from "../../src/usage/sink.ts";
import {
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

const scope = { tenantId: "ten_prune", appId: "app_prune" };

function event(id: string): SinkEvent {
  return {
    id,
    customer_id: "c1",
    feature: "api_calls",
    value: 1,
    timestamp: new Date("2026-01-15T00:00:00Z"),
    timestamp_sent: true,
    properties: null,
    hash: "hash-1",
  };
}

/** Rows of `node` the sync server holds, read through a fresh replica. */
async function rowsOnServer(dir: string, url: string, node: string): Promise<number> {
  const reader = await openReplica({ path: `${dir}/reader-${crypto.randomUUID()}.db`, url });
  try {
    const [row] =
      await (await reader.prepare("SELECT count(*) AS n FROM edge_usage_events WHERE node_id = ?"))
        .all(node);
    return Number(row.n);
  } finally {
    await reader.close();
  }
}

Deno.test("EdgeOutbox.pruneOnce(): only pushed rows the billing side made final, bounded per run, never the highest; the deletes reach the sync server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-prune-" });
  const sync = await startSyncServer(`${dir}/hub.db`, await freePort());
  // The billing side's answer: rows whose seq it lists as final (stored or dead-lettered).
  let final = new Set<number>();
  const asked: PushedRow[][] = [];
  const options = {
    path: `${dir}/edge.db`,
    pushIntervalMs: 3_600_000,
    pushBackoffMaxMs: 3_600_000,
    log: () => {},
    retentionMs: 0,
    ingested: (_node: string, rows: readonly PushedRow[]) => {
      asked.push([...rows]);
      return Promise.resolve(new Set(rows.map((r) => r.seq).filter((s) => final.has(s))));
    },
  };
  let outbox = await EdgeOutbox.open(
    await openReplica({ path: `${dir}/edge.db`, url: sync.url }),
    true,
    options,
  );
  try {
    const now = new Date();
    const first = await outbox.append(scope, Array.from({ length: 1000 }, (_, i) => event(`p${i}`)), now);
    assert.equal(first.accepted, 1000);
    // Nothing pushed yet: nothing may be pruned, even rows the lookup would call final.
    final = new Set(Array.from({ length: 1000 }, (_, i) => i + 1));
    assert.equal(await outbox.pruneOnce(), 0);
    assert.equal(asked.length, 0, "rows above the push mark are never even offered");

    assert.equal(await outbox.pushOnce(), 1000);
    // A second batch appended after the push: above the mark.
    assert.equal(
      (await outbox.append(scope, Array.from({ length: 1000 }, (_, i) => event(`q${i}`)), now)).accepted,
      1000,
    );
    // The billing side has made 1…600 final only.
    final = new Set(Array.from({ length: 600 }, (_, i) => i + 1));
    assert.equal(await outbox.pruneOnce(250), 250, "bounded: at most the run's limit");
    assert.equal(await outbox.pruneOnce(), 350, "the rest of what is final; 601…1000 stay");
    assert.ok(asked.flat().every((r) => r.seq <= 1000), "never a row not yet pushed");
    assert.equal(await outbox.storedRows(), 1400);
    assert.equal((await outbox.backlog()).pruned_events, 600);
    assert.equal((await outbox.backlog()).pending_events, 1000);

    // Everything pushed and final: all but the node's highest row go.
    await outbox.pushOnce();
    final = new Set(Array.from({ length: 2000 }, (_, i) => i + 1));
    while (await outbox.pruneOnce() > 0) { /* bounded runs until nothing is left to prune */ }
    assert.equal(await outbox.storedRows(), 1, "the highest row stays: it keeps seq gap-free");
    assert.equal(outbox.pruned, 1999);
    await outbox.pushOnce();
    assert.equal(await rowsOnServer(dir, sync.url, outbox.nodeId), 1, "the deletes reached the sync server");

    // Reopened (a restart): seq continues after 2000, never reused.
    const node = outbox.nodeId;
    await outbox.stop(0);
    outbox = await EdgeOutbox.open(
      await openReplica({ path: `${dir}/edge.db`, url: sync.url }),
      false,
      options,
    );
    assert.equal(outbox.nodeId, node);
    assert.equal((await outbox.append(scope, [event("after-restart")], now)).accepted, 1);
    const replica = await openReplica({ path: `${dir}/check.db`, url: sync.url });
    await outbox.pushOnce();
    await replica.pull();
    const [row] =
      await (await replica.prepare("SELECT max(seq) AS s FROM edge_usage_events WHERE node_id = ?"))
        .all(node);
    assert.equal(Number(row.s), 2001);
    await replica.close();
  } finally {
    await outbox.stop(0);
    await sync.stop();
  }
});

Deno.test("EdgeOutbox.pruneOnce(): rows younger than the retention stay (a retry is still a local duplicate)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-prune-retention-" });
  const sync = await startSyncServer(`${dir}/hub.db`, await freePort());
  let clock = Date.parse("2026-01-15T00:00:00Z");
  const outbox = await EdgeOutbox.open(await openReplica({ path: `${dir}/edge.db`, url: sync.url }), true, {
    path: `${dir}/edge.db`,
    pushIntervalMs: 3_600_000,
    pushBackoffMaxMs: 3_600_000,
    log: () => {},
    now: () => clock,
    retentionMs: 60_000,
    ingested: (_node, rows) => Promise.resolve(new Set(rows.map((r) => r.seq))),
  });
  try {
    const sent = Array.from({ length: 1000 }, (_, i) => event(`r${i}`));
    assert.equal((await outbox.append(scope, sent, new Date(clock))).accepted, 1000);
    await outbox.pushOnce();
    assert.equal(await outbox.pruneOnce(), 0, "final, but younger than the retention");
    const retry = await outbox.append(scope, sent, new Date(clock));
    assert.deepEqual([retry.accepted, retry.duplicates], [0, 1000]);
    clock += 60_000;
    assert.equal(await outbox.pruneOnce(), 999);
  } finally {
    await outbox.stop(0);
    await sync.stop();
  }
});

Deno.test("an edge node killed (-9) between push and prune: nothing lost, nothing doubled; pruned once back, seq continues", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-prune-kill-" });
  const sync = await startSyncServer(`${dir}/hub.db`, await freePort());
  const primary = `file:${dir}/primary.db`;
  const replica = `${dir}/edge.db`;
  const billing = await startNode("billing", primary, `${dir}/billing-replica.db`, sync.url);
  let edge = await startNode("edge", primary, replica, sync.url, { EDGE_OUTBOX_RETENTION_MS: "0" });
  try {
    const key = await provision(billing.base);
    for (let i = 0; i < 2; i++) {
      const res = await http(edge.base, "POST", "/v1/events", key, batch("k", i * 1000, 1000));
      assert.deepEqual([res.status, res.body.accepted], [200, 1000]);
    }
    // Pushed (nothing pending) and ingested: killed right then, before or during its prune.
    assert.equal(await eventually(() => metric(edge.base, "billing_edge_usage_pending_events"), 0), 0);
    assert.equal(await eventually(() => usage(billing.base, key), 2000), 2000);
    assert.equal((await edge.stop("SIGKILL")).signal, "SIGKILL");

    edge = await startNode("edge", primary, replica, sync.url, { EDGE_OUTBOX_RETENTION_MS: "0" });
    // Back: the prune runs after the next confirmed push mark, deletes all but the highest row.
    const more = await http(edge.base, "POST", "/v1/events", key, batch("k", 2000, 1000));
    assert.equal(more.body.accepted, 1000);
    assert.equal(await eventually(() => usage(billing.base, key), 3000), 3000);
    const pruned = await eventually(async () => {
      const outbox = await openReplica({ path: `${dir}/peek-${crypto.randomUUID()}.db`, url: sync.url });
      try {
        const [row] = await (await outbox.prepare("SELECT count(*) AS n FROM edge_usage_events")).all();
        return Number(row.n);
      } finally {
        await outbox.close();
      }
    }, 1);
    assert.equal(pruned, 1, "the sync server keeps only the node's highest row");
    assert.ok(await metric(edge.base, "billing_edge_usage_pruned_events_total") > 0);
    // Nothing doubled: usage is exact, and still exact after more pulls.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await usage(billing.base, key), 3000);
    // A later batch after everything was pruned is still ingested (seq continues past the cursor).
    const last = await http(edge.base, "POST", "/v1/events", key, batch("k", 3000, 1000));
    assert.equal(last.body.accepted, 1000);
    assert.equal(await eventually(() => usage(billing.base, key), 4000), 4000);
    // A retry of a pruned id (retention 0) is accepted locally and counted once by billing.
    const retry = await http(edge.base, "POST", "/v1/events", key, batch("k", 0, 1000));
    assert.equal(retry.status, 200);
    await eventually(() => metric(edge.base, "billing_edge_usage_pending_events"), 0);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await usage(billing.base, key), 4000, "a retried id is counted once");
  } finally {
    await Promise.all([edge.stop(), billing.stop()]);
    await sync.stop();
  }
});
