/**
 * Prints (does not assert) the cost of the transactional outbox + audit row on a write, and the
 * throughput of the webhook delivery worker against a loopback receiver.
 *
 *   npx -y deno@2.9.6 run -A scripts/bench_outbox.ts [writes=2000] [messages=1000] [endpoints=5]
 *
 * @module
 */
import { customers } from "../src/storage/schema.ts";
import { newId } from "../src/domain/ids.ts";
import type { Ctx, Services } from "../src/context.ts";
import { LifecycleDispatcher } from "../src/lifecycle/dispatcher.ts";
import { systemClock } from "../src/domain/scope.ts";
import { writeOp } from "../src/lifecycle/write.ts";
import { MemoryEntitlementCache } from "../src/entitlements/cache.ts";
import { createTenantApp } from "../src/tenants/service.ts";
import type { CustomerView } from "../src/domain/views.ts";
import { createWebhookEndpoint } from "../src/webhooks/endpoints.ts";
import { drainWebhooksOnce } from "../src/webhooks/delivery.ts";
import { generateEncryptionKey, SecretBox } from "../src/storage/secret_box.ts";
import { openDatabase } from "../src/storage/db.ts";

const [writes, messages, endpointCount] = [
  Number(Deno.args[0] ?? 2000),
  Number(Deno.args[1] ?? 1000),
  Number(Deno.args[2] ?? 5),
];
const dir = await Deno.makeTempDir({ prefix: "bench-outbox-" });
const database = await openDatabase({ url: `file:${dir}/bench.db` });
const services: Services = {
  database,
  clock: systemClock,
  lifecycle: new LifecycleDispatcher(),
  entitlementCache: new MemoryEntitlementCache(),
  log: () => {},
  webhookAllowPrivateUrls: true, // the receiver is on 127.0.0.1
  secrets: await SecretBox.create(generateEncryptionKey()), // signing secrets are sealed at rest
};
const created = await createTenantApp(services, { name: "bench", app: "production" });
const ctx: Ctx = {
  ...services,
  scope: { tenantId: created.tenant_id, appId: created.app_id },
  actor: "key_bench",
  requestId: "bench",
};

function row(i: number, tag: string) {
  const now = new Date();
  return {
    id: newId("cus"),
    tenant_id: ctx.scope.tenantId,
    app_id: ctx.scope.appId,
    external_id: `${tag}${i}`,
    name: null,
    email: null,
    created_at: now,
  };
}

/** The `customer.created` payload of a row: the customer as the API shows it. */
function customerData(r: ReturnType<typeof row>): CustomerView {
  return {
    id: r.id,
    external_id: r.external_id,
    name: r.name,
    email: r.email,
    test_clock: null,
    tax_rate_ids: [],
    created_at: r.created_at.toISOString(),
  };
}

async function timed(label: string, n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  const ms = performance.now() - started;
  console.log(
    `${label.padEnd(46)} ${n} ops  ${(ms / n * 1000).toFixed(0).padStart(6)} µs/op  ${
      (n / ms * 1000).toFixed(0).padStart(6)
    } ops/s`,
  );
  return ms / n;
}

console.log(`database ${dir}/bench.db (libSQL file, WAL)`);
const plain = await timed(
  "write tx, no event (baseline)",
  writes,
  (i) => database.write((tx) => tx.insert(customers).values(row(i, "a"))),
);
const withOutbox = await timed(
  "writeOp + 1 event (outbox row + audit row)",
  writes,
  (i) =>
    writeOp(ctx, async (tx, emit) => {
      const r = row(i, "b");
      await tx.insert(customers).values(r);
      emit("customer.created", r.id, customerData(r));
    }),
);
console.log(`outbox + audit overhead per write: ${((withOutbox - plain) * 1000).toFixed(0)} µs`);

let received = 0;
const receiver = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
  await req.arrayBuffer();
  received++;
  return new Response(null, { status: 204 });
});
for (let e = 0; e < endpointCount; e++) {
  await createWebhookEndpoint(ctx, {
    url: `http://127.0.0.1:${receiver.addr.port}/e${e}`,
    events: ["customer.created"],
  });
}
for (let i = 0; i < messages; i++) {
  await writeOp(ctx, async (tx, emit) => {
    const r = row(i, "c");
    await tx.insert(customers).values(r);
    emit("customer.created", r.id, customerData(r));
  });
}
const expected = messages * endpointCount;
const started = performance.now();
let drains = 0;
while (received < expected && drains < 100_000) {
  await drainWebhooksOnce(services, { roundsPerDrain: 50, fanOutBatch: 500 });
  drains++;
}
const ms = performance.now() - started;
console.log(
  `webhook worker: ${received}/${expected} deliveries (${messages} messages × ${endpointCount} endpoints, in order per endpoint) ` +
    `in ${ms.toFixed(0)} ms = ${(received / ms * 1000).toFixed(0)} deliveries/s over ${drains} drains`,
);
await receiver.shutdown();
database.close();
await Deno.remove(dir, { recursive: true });
