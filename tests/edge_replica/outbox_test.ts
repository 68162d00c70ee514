/**
 * The edge outbox on a real replica and sync server (ADR 0014): concurrent appends share
 * transactions (group commit) and keep the idempotency rules per event id; what is pushed is
 * exactly what was acknowledged.
 */
import assert from "node:assert/strict";
import { openReplica } from "../../src/storage/turso_sync.ts";
import { EdgeOutbox } from "../../src/usage/edge_outbox.ts";
import type { SinkEvent } from "../../src/usage/sink.ts";
import { freePort, startSyncServer } from "./cluster.ts";

const scope = { tenantId: "ten_outbox", appId: "app_outbox" };

function event(id: string, value = 1): SinkEvent {
  return {
    id,
    customer_id: "c1",
    feature: "api_calls",
    value,
    timestamp: new Date("2026-01-15T00:00:00Z"),
    timestamp_sent: true,
    properties: null,
    hash: `hash-${value}`,
  };
}

Deno.test("EdgeOutbox.append(): 1000 concurrent single-event appends, repeated ids counted once, other payloads refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-outbox-" });
  const sync = await startSyncServer(`${dir}/hub.db`, await freePort());
  const outbox = await EdgeOutbox.open(await openReplica({ path: `${dir}/edge.db`, url: sync.url }), true, {
    path: `${dir}/edge.db`,
    pushIntervalMs: 3_600_000,
    pushBackoffMaxMs: 3_600_000,
    log: () => {},
  });
  try {
    const now = new Date();
    // 800 distinct ids; ids 0…99 sent again with the same payload, ids 100…199 with another one.
    const sends = [
      ...Array.from({ length: 800 }, (_, i) => event(`s${i}`)),
      ...Array.from({ length: 100 }, (_, i) => event(`s${i}`)),
      ...Array.from({ length: 100 }, (_, i) => event(`s${100 + i}`, 7)),
    ];
    const reports = await Promise.all(sends.map((e) => outbox.append(scope, [e], now)));
    const sum = (f: (r: (typeof reports)[number]) => number) => reports.reduce((n, r) => n + f(r), 0);
    assert.equal(sum((r) => r.accepted), 800);
    assert.equal(sum((r) => r.duplicates), 100);
    assert.equal(sum((r) => r.rejected.length), 100);
    assert.ok(
      reports.filter((r) => r.rejected.length > 0).every((r) =>
        r.rejected[0].code === "idempotency_key_reused"
      ),
    );
    assert.equal((await outbox.backlog()).pending_events, 800);

    assert.equal(await outbox.pushOnce(), 800);
    assert.equal((await outbox.backlog()).pending_events, 0);
    const reader = await openReplica({ path: `${dir}/reader.db`, url: sync.url });
    const [row] = await (await reader.prepare(
      "SELECT count(*) AS n, count(DISTINCT event_id) AS ids, max(seq) AS last FROM edge_usage_events",
    )).all();
    assert.deepEqual([Number(row.n), Number(row.ids), Number(row.last)], [800, 800, 800]);
    await reader.close();
  } finally {
    await outbox.stop(0);
    await sync.stop();
  }
});
