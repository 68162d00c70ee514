/**
 * Edge replicas (ADR 0014), in numbers:
 *
 * 1. acknowledged usage events/s of one server process over HTTP, as an edge node appending to
 *    its Turso replica (`BILLING_ROLE=edge`, pushing in the background) and as the same process
 *    writing to the primary directly (`BILLING_ROLE=all`), for 1000-event batches and for
 *    single-event requests;
 * 2. push throughput: events/s of one `push()` of a large outbox to `tursodb --sync-server`;
 * 3. the billing side: events/s pulled and ingested into the primary by one round.
 *
 *     deno task bench:edge-replica [-- --batches 20 --singles 2000 --concurrency 16 --outbox 20000]
 *
 * Prints one table. Everything is local (one machine): the edge's advantage over a primary far
 * away (a round trip per ingest) is not in these numbers; they show the local cost.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config.ts";
import { buildServices } from "../src/runtime/services.ts";
import { openStore } from "../src/storage/open.ts";
import { openReplica } from "../src/storage/turso_sync.ts";
import { EdgeOutbox } from "../src/usage/edge_outbox.ts";
import { ReplicaIngester } from "../src/usage/replica_ingest.ts";
import { hashEvents } from "../src/usage/service.ts";
import {
  ADMIN,
  batch,
  freePort,
  http,
  provisionScoped,
  startNode,
  startSyncServer,
} from "../tests/edge_replica/cluster.ts";
import { type ChildServer, spawnServer } from "../tests/process.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    batches: { type: "string", default: "20" },
    singles: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "16" },
    outbox: { type: "string", default: "20000" },
  },
});
const BATCHES = Number(args.batches);
const SINGLES = Number(args.singles);
const CONCURRENCY = Number(args.concurrency);
const OUTBOX = Number(args.outbox);

async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await task(next++);
  }));
}

/** Events/s acknowledged by `base` for 1000-event batches and for single events. */
async function measure(
  base: string,
  key: string,
  prefix: string,
): Promise<{ batches: number; singles: number }> {
  // Warm-up (connections, caches, JIT).
  await http(base, "POST", "/v1/events", key, batch(`${prefix}w`, 0, 1000));
  let started = performance.now();
  await pool(BATCHES, 4, async (i) => {
    const res = await http(base, "POST", "/v1/events", key, batch(`${prefix}b${i}-`, 0, 1000));
    if (res.body.accepted !== 1000) throw new Error(`batch ${i}: ${JSON.stringify(res.body).slice(0, 200)}`);
  });
  const batches = (BATCHES * 1000) / ((performance.now() - started) / 1000);
  started = performance.now();
  await pool(SINGLES, CONCURRENCY, async (i) => {
    const res = await http(base, "POST", "/v1/events", key, batch(`${prefix}s`, i, 1));
    if (res.body.accepted !== 1) throw new Error(`single ${i}: ${JSON.stringify(res.body)}`);
  });
  const singles = SINGLES / ((performance.now() - started) / 1000);
  return { batches, singles };
}

const dir = await Deno.makeTempDir({ prefix: "bench-edge-replica-" });
const sync = await startSyncServer(`${dir}/hub.db`, await freePort());
const primary = `file:${dir}/primary.db`;
const rows: [string, string][] = [];
let key = "";
let scope = { tenantId: "", appId: "" };
{
  // Provision through a process on the primary, then measure each mode alone.
  const direct: ChildServer = await spawnServer({
    DATABASE_URL: primary,
    BILLING_ADMIN_TOKEN: ADMIN,
    LOG_LEVEL: "error",
    WEBHOOK_WORKER_INTERVAL_MS: "0",
    BILLING_CYCLE_INTERVAL_MS: "0",
  });
  try {
    const provisioned = await provisionScoped(direct.base);
    key = provisioned.key;
    scope = { tenantId: provisioned.tenantId, appId: provisioned.appId };
    const r = await measure(direct.base, key, "p");
    rows.push([
      "primary directly (BILLING_ROLE=all), 1000-event batches",
      `${r.batches.toFixed(0)} events/s`,
    ]);
    rows.push([
      `primary directly, single events (${CONCURRENCY} concurrent)`,
      `${r.singles.toFixed(0)} events/s`,
    ]);
  } finally {
    await direct.stop();
  }
  const edge = await startNode("edge", primary, `${dir}/edge.db`, sync.url, {
    EDGE_PUSH_INTERVAL_MS: "1000",
  });
  try {
    const r = await measure(edge.base, key, "e");
    rows.push(["edge replica (BILLING_ROLE=edge), 1000-event batches", `${r.batches.toFixed(0)} events/s`]);
    rows.push([
      `edge replica, single events (${CONCURRENCY} concurrent)`,
      `${r.singles.toFixed(0)} events/s`,
    ]);
  } finally {
    await edge.stop();
  }
}

// Push and ingestion throughput, in this process.
{
  const config = loadConfig({ DATABASE_URL: primary, BILLING_ADMIN_TOKEN: ADMIN, LOG_LEVEL: "silent" });
  const store = await openStore({ url: primary });
  const services = buildServices(config, store);
  const me = scope;
  const outboxDb = await openReplica({ path: `${dir}/bench-edge.db`, url: sync.url });
  const outbox = await EdgeOutbox.open(outboxDb, true, {
    path: `${dir}/bench-edge.db`,
    pushIntervalMs: 3_600_000,
    pushBackoffMaxMs: 3_600_000,
    log: () => {},
  });
  let started = performance.now();
  for (let i = 0; i < OUTBOX; i += 1000) {
    const events = batch(`x${i}-`, 0, Math.min(1000, OUTBOX - i)).events;
    const hashed = await hashEvents(events);
    const now = new Date();
    await outbox.append(
      me,
      hashed.map(({ input, hash }) => ({
        id: input.id,
        customer_id: input.customer_id,
        feature: input.feature,
        value: input.value ?? 1,
        timestamp: now,
        timestamp_sent: false,
        properties: null,
        hash,
      })),
      now,
    );
  }
  const appendRate = OUTBOX / ((performance.now() - started) / 1000);
  started = performance.now();
  const pushed = await outbox.pushOnce();
  const pushRate = pushed / ((performance.now() - started) / 1000);
  rows.push([
    `outbox append in process (${OUTBOX} events, 1000 per transaction)`,
    `${appendRate.toFixed(0)} events/s`,
  ]);
  rows.push([`push of ${pushed} waiting events (one push())`, `${pushRate.toFixed(0)} events/s`]);
  const ingester = await ReplicaIngester.open(
    await openReplica({ path: `${dir}/bench-billing.db`, url: sync.url }),
    services,
    { path: `${dir}/bench-billing.db`, pullIntervalMs: 3_600_000, backoffMaxMs: 3_600_000, batch: 1000 },
  );
  started = performance.now();
  const round = await ingester.runOnce();
  const ingestRate = round.read / ((performance.now() - started) / 1000);
  rows.push([
    `billing: pull + ingest ${round.read} replica events (${round.accepted} new, ${round.duplicates} duplicates)`,
    `${ingestRate.toFixed(0)} events/s`,
  ]);
  await outbox.stop(0);
  await ingester.stop();
  await store.close();
}
await sync.stop();

const width = Math.max(...rows.map(([k]) => k.length));
console.log(`\nedge replica bench (${BATCHES} batches of 1000, ${SINGLES} single events, outbox ${OUTBOX})`);
for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v.padStart(16)}`);
await Deno.remove(dir, { recursive: true }).catch(() => {});
