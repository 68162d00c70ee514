// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * Late usage through edge replicas (ADR 0014): an event an edge node acknowledged inside a period
 * but pushed after the period ended still lands in that period's invoice while the invoice waits
 * out the plan's grace window (`invoice_grace_period_hours`); one pushed after finalization is
 * refused as today (`period_closed`) and kept as a dead letter with a metric, never dropped.
 *
 * In one process with a controllable clock: the edge node is a second app on the same primary
 * whose usage goes to an outbox on a real replica; the billing side is the ingester on another
 * replica of the same real `tursodb --sync-server`.
 */
import assert from "node:assert/strict";
import { createApp } from "../../src/http/app.ts";
import { Metrics } from "../../src/metrics/service.ts";
import { openReplica } from "../../src/storage/turso_sync.ts";
import { runBillingCycle } from "../../src/subscriptions/billing_cycle.ts";
import { EdgeOutbox } from "../../src/usage/edge_outbox.ts";
import { ReplicaIngester } from "../../src/usage/replica_ingest.ts";
import { ADMIN_TOKEN, call, testEnv } from "../helpers.ts";
import { freePort, startSyncServer } from "./cluster.ts";

Deno.test("edge usage pushed after the period ended lands in it during the grace window; after finalization it is a dead letter", async () => {
  const env = await testEnv({ services: { metrics: new Metrics() } });
  const sync = await startSyncServer(`${env.dir}/hub.db`, await freePort());
  const outboxDb = await openReplica({ path: `${env.dir}/edge.db`, url: sync.url });
  const outbox = await EdgeOutbox.open(outboxDb, true, {
    path: `${env.dir}/edge.db`,
    pushIntervalMs: 3_600_000,
    pushBackoffMaxMs: 3_600_000,
    log: () => {},
  });
  const ingester = await ReplicaIngester.open(
    await openReplica({ path: `${env.dir}/billing-replica.db`, url: sync.url }),
    env.services,
    {
      path: `${env.dir}/billing-replica.db`,
      pullIntervalMs: 3_600_000,
      backoffMaxMs: 3_600_000,
      batch: 1000,
    },
  );
  const edge = { app: createApp({ ...env.services, usageSink: outbox }, { adminToken: ADMIN_TOKEN }) };
  try {
    env.clock.set("2026-01-01T00:00:00Z");
    const created = await call(env, "POST", "/v1/admin/tenants", {
      key: ADMIN_TOKEN,
      body: { name: "late", app: "production" },
    });
    const key = created.body.secret_key as string;
    const plan = await call(env, "POST", "/v1/plans", {
      key,
      body: {
        key: "metered",
        name: "Metered",
        currency: "USD",
        interval: "month",
        base_amount: 0,
        invoice_grace_period_hours: 24,
        features: [{
          key: "calls",
          name: "Calls",
          type: "metered",
          limit: null,
          aggregation: "sum",
          pricing: { model: "per_unit", unit_amount: 2 },
        }],
      },
    });
    assert.equal(plan.status, 201, JSON.stringify(plan.body));
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "c1" } });
    const sub = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "c1", plan_id: plan.body.id },
    });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));

    // The edge node acknowledges 1000 calls of January 31 (no push yet).
    env.clock.set("2026-01-31T23:00:00Z");
    const events = (prefix: string, count: number) => ({
      events: Array.from({ length: count }, (_, i) => ({
        id: `${prefix}${i}`,
        customer_id: "c1",
        feature: "calls",
        value: 1,
        timestamp: "2026-01-31T22:00:00Z",
      })),
    });
    const acked = await call(edge, "POST", "/v1/events", { key, body: events("jan-", 1000) });
    assert.deepEqual([acked.status, acked.body.accepted], [200, 1000]);
    assert.equal((await outbox.backlog()).pending_events, 1000);

    // The period ends; the billing cycle drafts January's invoice without them.
    env.clock.set("2026-02-01T01:00:00Z");
    const drafted = await runBillingCycle(env.services);
    assert.deepEqual([drafted.invoices_generated, drafted.invoices_finalized], [1, 0]);

    // Pushed late, inside the grace window: accepted into January.
    assert.equal(await outbox.pushOnce(), 1000);
    const round = await ingester.runOnce();
    assert.deepEqual([round.read, round.accepted, round.refused], [1000, 1000, 0]);

    // The grace window ends: finalization rates the late events into January.
    env.clock.set("2026-02-02T00:00:00Z");
    const finalized = await runBillingCycle(env.services);
    assert.equal(finalized.invoices_finalized, 1);
    const invoices = await call(env, "GET", "/v1/invoices?limit=10", { key });
    const january = invoices.body.data.find((i: any) => i.period_start === "2026-01-01T00:00:00.000Z");
    assert.equal(january.status, "open");
    assert.equal(january.total, 2000, "1000 calls × 2 cents");

    // After finalization, a late event of January is refused as today, and kept.
    const after = await call(edge, "POST", "/v1/events", { key, body: events("late-", 3) });
    assert.equal(after.body.accepted, 3, "the edge node cannot know; it acknowledges");
    await outbox.pushOnce();
    const refused = await ingester.runOnce();
    assert.deepEqual([refused.accepted, refused.refused], [0, 3]);
    const letters = await call(env, "GET", "/v1/admin/dead_letters", { key: ADMIN_TOKEN });
    const codes = letters.body.data.flatMap((d: any) => d.refusals.map((r: any) => `${r.id}:${r.code}`))
      .sort();
    assert.deepEqual(codes, ["late-0:period_closed", "late-1:period_closed", "late-2:period_closed"]);
    const metrics = await env.services.metrics!.render();
    assert.match(metrics, /billing_edge_usage_refused_total\{code="period_closed"\} 3/);
    // Re-reading the replica (a lost cursor) records nothing twice and counts nothing twice.
    await Deno.remove(`${env.dir}/billing-replica.db.cursor.json`);
    const again = await ReplicaIngester.open(
      await openReplica({ path: `${env.dir}/billing-replica-2.db`, url: sync.url }),
      env.services,
      {
        path: `${env.dir}/billing-replica-2.db`,
        pullIntervalMs: 3_600_000,
        backoffMaxMs: 3_600_000,
        batch: 1000,
      },
    );
    const reread = await again.runOnce();
    await again.stop();
    assert.deepEqual([reread.read, reread.accepted, reread.duplicates, reread.refused], [1003, 0, 1000, 3]);
    const lettersAfter = await call(env, "GET", "/v1/admin/dead_letters", { key: ADMIN_TOKEN });
    assert.equal(lettersAfter.body.data.length, 3);
    assert.match(
      await env.services.metrics!.render(),
      /billing_edge_usage_refused_total\{code="period_closed"\} 3/,
    );
  } finally {
    await outbox.stop(0);
    await ingester.stop();
    await sync.stop();
    await env.close();
  }
});
