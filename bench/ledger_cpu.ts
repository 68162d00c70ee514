/**
 * CPU per ledger entry in the writer, as the ADR 0015 writer round measured it:
 * `deno run --lock=deno.tools.lock -A bench/ledger_cpu.ts [entries] [maxBatchSize]` (defaults 5000, 50).
 *
 * An `InProcessWriter` with a lifecycle dispatcher (as the server runs it: outbox and audit rows per
 * entry) on a fresh libSQL file (WAL, durable commits), 100 accounts, 50 concurrent submitters each
 * posting two-posting entries with unique keys; 1000 warm-up entries, then `process.cpuUsage()`
 * (user + system, every thread) around `entries` entries. Add `--cpu-prof` to the deno flags for a
 * profile. Prints numbers, asserts nothing.
 *
 * @module
 */
import { InProcessWriter } from "../src/ledger/writer.ts";
import { openDatabase } from "../src/storage/db.ts";
import { LifecycleDispatcher } from "../src/lifecycle/dispatcher.ts";
import type { LedgerCommand } from "../src/domain/ledger_book.ts";

const ENTRIES = Number(Deno.args[0] ?? 5000);
const BATCH = Number(Deno.args[1] ?? 50);
const ACCOUNTS = 100;
const CLIENTS = 50;
const dir = await Deno.makeTempDir({ prefix: "ledger-cpu-" });
const database = await openDatabase({ url: `file:${dir}/ledger.db` });
const scope = { tenantId: "ten_cpu", appId: "app_cpu" };
let batches = 0;
let batched = 0;
const writer = new InProcessWriter({
  storage: database,
  clock: { now: () => new Date() },
  maxBatchSize: BATCH,
  maxQueueLength: ENTRIES + 2000,
  lifecycle: new LifecycleDispatcher(),
  onBatch: (b) => {
    batches++;
    batched += b.size;
  },
});
const ids: string[] = [];
for (let i = 0; i < ACCOUNTS; i++) {
  const { value } = await writer.submit(scope, {
    kind: "ensure_account",
    name: `acct:${i}`,
    type: "asset",
    currency: "USD",
  });
  ids.push(value.account!.id);
}
let key = 0;
const command = (): LedgerCommand => {
  const a = Math.floor(Math.random() * ACCOUNTS);
  let b = Math.floor(Math.random() * (ACCOUNTS - 1));
  if (b >= a) b++;
  const amount = 1 + Math.floor(Math.random() * 1000);
  return {
    kind: "post_entry",
    idempotency_key: `k${key++}`,
    postings: [{ account_id: ids[a], amount, currency: "USD" }, {
      account_id: ids[b],
      amount: -amount,
      currency: "USD",
    }],
  };
};
await Promise.all(Array.from({ length: 1000 }, () => writer.submit(scope, command())));
batches = 0;
batched = 0;
const cpu = process.cpuUsage();
const started = performance.now();
let sent = 0;
await Promise.all(Array.from({ length: CLIENTS }, async () => {
  while (sent < ENTRIES) {
    sent++;
    await writer.submit(scope, command());
  }
}));
const used = process.cpuUsage(cpu);
const seconds = (performance.now() - started) / 1000;
console.log(
  `${sent} entries, ${CLIENTS} submitters, batches ≤ ${BATCH} (mean ${(batched / batches).toFixed(1)}): ${
    ((used.user + used.system) / sent).toFixed(1)
  } µs CPU per entry (user ${(used.user / sent).toFixed(1)}, system ${(used.system / sent).toFixed(1)}), ${
    Math.round(sent / seconds)
  } entries/s wall`,
);
database.close();
await Deno.remove(dir, { recursive: true }).catch(() => {});
