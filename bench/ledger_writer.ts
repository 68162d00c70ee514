/**
 * Benchmark of the per-tenant ledger writer: `deno task bench:ledger [--entries N] [--accounts N]`.
 *
 * For writer batch sizes 1, 10, 50, 100 and 1000 it submits balanced two-posting entries between
 * random accounts of one tenant to an `InProcessWriter` on a fresh libSQL file (WAL, the same
 * settings as the server) all at once, so every transaction carries a full batch, and prints the
 * committed entries per second and the process CPU per entry (`process.cpuUsage()`, user +
 * system, every thread: what the shared machine distorts least). The writer runs as the server
 * runs it, with a lifecycle dispatcher, so every entry also writes its outbox and audit rows. Then it writes the same rows (command record, entry, two
 * postings, the touched balances) with plain multi-row INSERTs in transactions of 1000 entries,
 * without loading or checking anything: the ceiling. It prints the ratio of the best writer
 * figure to the ceiling. Numbers, never assertions (the team's rule for speed targets).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { newId } from "../src/domain/ids.ts";
import type { LedgerCommand } from "../src/domain/ledger_book.ts";
import { hashCommand } from "../src/ledger/batch.ts";
import { InProcessWriter } from "../src/ledger/writer.ts";
import { LifecycleDispatcher } from "../src/lifecycle/dispatcher.ts";
import { openDatabase } from "../src/storage/db.ts";
import { ledgerBalances, ledgerCommands, ledgerEntries, ledgerPostings } from "../src/storage/schema.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    entries: { type: "string", default: "20000" },
    "entries-batch-1": { type: "string", default: "2000" },
    accounts: { type: "string", default: "200" },
  },
});
const ENTRIES = Number(values.entries);
const ENTRIES_AT_1 = Number(values["entries-batch-1"]);
const ACCOUNTS = Number(values.accounts);
const scope = { tenantId: "ten_bench", appId: "app_bench" };
const clock = { now: () => new Date() };

async function freshDatabase() {
  const dir = await Deno.makeTempDir({ prefix: "ledger-bench-" });
  const database = await openDatabase({ url: `file:${dir}/bench.db` });
  return { dir, database };
}

function randomPair(): [number, number] {
  const a = Math.floor(Math.random() * ACCOUNTS);
  let b = Math.floor(Math.random() * (ACCOUNTS - 1));
  if (b >= a) b++;
  return [a, b];
}

async function benchWriter(batchSize: number, count: number): Promise<{ rate: number; cpuMicros: number }> {
  const { dir, database } = await freshDatabase();
  try {
    const writer = new InProcessWriter({
      storage: database,
      clock,
      maxBatchSize: batchSize,
      maxQueueLength: count + 1,
      lifecycle: new LifecycleDispatcher(),
    });
    const ids: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const { value } = await writer.submit(scope, {
        kind: "ensure_account",
        name: `acct:${i}`,
        type: i % 2 ? "asset" : "revenue",
        currency: "USD",
      });
      ids.push(value.account!.id);
    }
    const commands: LedgerCommand[] = Array.from({ length: count }, (_, i) => {
      const [a, b] = randomPair();
      const amount = 1 + Math.floor(Math.random() * 10_000);
      return {
        kind: "post_entry",
        idempotency_key: `bench-${i}`,
        postings: [{ account_id: ids[a], amount, currency: "USD" }, {
          account_id: ids[b],
          amount: -amount,
          currency: "USD",
        }],
      };
    });
    const cpu = process.cpuUsage();
    const started = performance.now();
    const results = await Promise.allSettled(commands.map((c) => writer.submit(scope, c)));
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const failed = results.filter((r) => r.status === "rejected");
    if (failed.length > 0) {
      throw new Error(`${failed.length} commands failed: ${(failed[0] as PromiseRejectedResult).reason}`);
    }
    const rs = await database.client.execute("select count(*) as n from ledger_entries");
    if (Number(rs.rows[0].n) !== count) throw new Error(`expected ${count} entries, found ${rs.rows[0].n}`);
    return { rate: count / seconds, cpuMicros: (used.user + used.system) / count };
  } finally {
    database.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function benchCeiling(count: number): Promise<number> {
  const { dir, database } = await freshDatabase();
  try {
    const s = { tenant_id: scope.tenantId, app_id: scope.appId };
    const ids = Array.from({ length: ACCOUNTS }, () => newId("acc"));
    const now = new Date();
    const rows = await Promise.all(Array.from({ length: count }, async (_, i) => {
      const [a, b] = randomPair();
      const amount = 1 + Math.floor(Math.random() * 10_000);
      const id = newId("ent");
      const command: LedgerCommand = {
        kind: "post_entry",
        idempotency_key: `bench-${i}`,
        postings: [{ account_id: ids[a], amount, currency: "USD" }, {
          account_id: ids[b],
          amount: -amount,
          currency: "USD",
        }],
      };
      const hash = await hashCommand(command);
      return {
        entry: {
          ...s,
          id,
          seq: i + 1,
          idempotency_key: `bench-${i}`,
          payload_hash: hash,
          description: null,
          reverses_entry_id: null,
          metadata: null,
          created_at: now,
        },
        postings: [
          {
            ...s,
            id: newId("pst"),
            entry_id: id,
            account_id: ids[a],
            amount,
            currency: "USD",
            created_at: now,
            entry_seq: i + 1,
          },
          {
            ...s,
            id: newId("pst"),
            entry_id: id,
            account_id: ids[b],
            amount: -amount,
            currency: "USD",
            created_at: now,
            entry_seq: i + 1,
          },
        ],
        command: {
          ...s,
          idempotency_key: `bench-${i}`,
          kind: "post_entry",
          payload_hash: hash,
          entry_id: id,
          hold_id: null,
          created_at: now,
        },
        accounts: [a, b],
      };
    }));
    const chunk = <T>(xs: T[], n = 400) =>
      Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));
    const started = performance.now();
    for (const batch of chunk(rows, 1000)) {
      await database.write(async (tx) => {
        for (const c of chunk(batch.map((r) => r.command))) await tx.insert(ledgerCommands).values(c);
        for (const c of chunk(batch.map((r) => r.entry))) await tx.insert(ledgerEntries).values(c);
        for (const c of chunk(batch.flatMap((r) => r.postings))) await tx.insert(ledgerPostings).values(c);
        const touched = [...new Set(batch.flatMap((r) => r.accounts))].map((i) => ({
          ...s,
          account_id: ids[i],
          currency: "USD",
          debits_posted: 1,
          credits_posted: 1,
          debits_pending: 0,
          credits_pending: 0,
          held: 0,
          updated_at: now,
        }));
        for (const c of chunk(touched)) await tx.insert(ledgerBalances).values(c).onConflictDoNothing();
      });
    }
    return count / ((performance.now() - started) / 1000);
  } finally {
    database.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

console.log(
  `Ledger writer benchmark: two-posting entries between ${ACCOUNTS} accounts of one tenant, libSQL file (WAL), Deno ${Deno.version.deno}`,
);
const results: [string, number][] = [];
for (const size of [1, 10, 50, 100, 1000]) {
  const count = size === 1 ? ENTRIES_AT_1 : ENTRIES;
  const { rate, cpuMicros } = await benchWriter(size, count);
  results.push([`writer batch ${size}`, rate]);
  console.log(
    `writer batch size ${String(size).padStart(4)}: ${Math.round(rate).toString().padStart(7)} entries/s, ${
      cpuMicros.toFixed(0).padStart(5)
    } µs CPU per entry (${count} entries)`,
  );
}
const ceiling = await benchCeiling(ENTRIES);
console.log(
  `plain batched INSERT (same rows, 1000 entries per transaction): ${
    Math.round(ceiling)
  } entries/s (${ENTRIES} entries)`,
);
const best = Math.max(...results.map(([, r]) => r));
console.log(
  `ratio best writer / ceiling: ${(best / ceiling).toFixed(2)} (batch 1000: ${
    (results[4][1] / ceiling).toFixed(2)
  })`,
);
