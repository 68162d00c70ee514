/**
 * The per-tenant writer's batching contract: waiting commands share one transaction (up to the
 * batch size), each gets its own outcome, a poison command is isolated, a full queue is refused,
 * and scopes never see each other's commands.
 */
import assert from "node:assert/strict";
import type { LedgerCommand } from "../../src/domain/ledger_book.ts";
import { type BatchReport, InProcessWriter } from "../../src/ledger/writer.ts";
import { openDatabase } from "../../src/storage/db.ts";
import { hashCommandSync } from "../../src/ledger/batch.ts";
import { TestClock } from "../helpers.ts";

async function setup(options: { maxBatchSize?: number; maxQueueLength?: number } = {}) {
  const dir = await Deno.makeTempDir({ prefix: "ledger-writer-" });
  const database = await openDatabase({ url: `file:${dir}/w.db` });
  const batches: BatchReport[] = [];
  const writer = new InProcessWriter({
    storage: database,
    clock: new TestClock(),
    onBatch: (b) => batches.push(b),
    ...options,
  });
  const scope = { tenantId: "ten_a", appId: "app_a" };
  const account = async (name: string, type: "asset" | "revenue" | "liability", extra = {}) =>
    (await writer.submit(scope, { kind: "ensure_account", name, type, currency: "USD", ...extra })).value
      .account!.id;
  return {
    database,
    writer,
    batches,
    scope,
    account,
    async close() {
      database.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

const post = (key: string, from: string, to: string, amount: number): LedgerCommand => ({
  kind: "post_entry",
  idempotency_key: key,
  postings: [{ account_id: from, amount, currency: "USD" }, {
    account_id: to,
    amount: -amount,
    currency: "USD",
  }],
});

Deno.test("InProcessWriter: waiting commands are committed in batches of at most maxBatchSize, each answered on its own", async () => {
  const t = await setup({ maxBatchSize: 10 });
  try {
    const cash = await t.account("cash", "asset");
    const wallet = await t.account("wallet", "liability", { debits_must_not_exceed_credits: true });
    t.batches.length = 0;
    const commands = [
      post("fund", cash, wallet, 1000),
      ...Array.from({ length: 24 }, (_, i) => post(`spend-${i}`, wallet, cash, 100)),
    ];
    const results = await Promise.allSettled(commands.map((c) => t.writer.submit(t.scope, c)));
    assert.deepEqual(t.batches.map((b) => [b.size, b.committed]), [[10, true], [10, true], [5, true]]);
    const ok = results.filter((r) => r.status === "fulfilled").length;
    assert.equal(ok, 11, "the funding and ten spends of 100 fit; the rest are refused one by one");
    for (const r of results.slice(11)) {
      assert.equal((r as PromiseRejectedResult).reason.code, "insufficient_balance");
    }
    const seqs = results.slice(0, 11).map((r) =>
      (r as PromiseFulfilledResult<{ value: { entry?: { seq: number } } }>).value.value.entry!.seq
    );
    assert.deepEqual(seqs, Array.from({ length: 11 }, (_, i) => i + 1), "journal order is submission order");
  } finally {
    await t.close();
  }
});

Deno.test("InProcessWriter: a poison command fails alone; the rest of its batch commits", async () => {
  const t = await setup();
  try {
    const cash = await t.account("cash", "asset");
    const revenue = await t.account("revenue", "revenue");
    // Corrupt storage for one key: a command record (with the command's own payload hash, so the
    // verdict is a replay) naming a hold that does not exist, so replaying it breaks an invariant
    // of the book: an Error, not a business rejection. (An entry row without a command record is no
    // longer corruption: a post_entry stores none, ADR 0015.)
    const poison = post("poison", cash, revenue, 2);
    await t.database.client.execute({
      sql:
        "insert into ledger_commands (tenant_id, app_id, idempotency_key, kind, payload_hash, entry_id, hold_id, created_at) values (?, ?, 'poison', 'create_hold', ?, null, 'hold_missing', 0)",
      args: [t.scope.tenantId, t.scope.appId, hashCommandSync(poison)],
    });
    const results = await Promise.allSettled(
      [post("a", cash, revenue, 1), poison, post("b", cash, revenue, 3)].map((c) =>
        t.writer.submit(t.scope, c)
      ),
    );
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
    const reason = (results[1] as PromiseRejectedResult).reason;
    assert.ok(reason instanceof Error && /invariant: hold hold_missing/.test(reason.message), String(reason));
    const rs = await t.database.client.execute("select idempotency_key from ledger_entries order by seq");
    assert.deepEqual(rs.rows.map((r) => r.idempotency_key), ["a", "b"]);
  } finally {
    await t.close();
  }
});

Deno.test("InProcessWriter: a full queue answers writer_overloaded (503); other scopes are independent", async () => {
  const t = await setup({ maxQueueLength: 5 });
  try {
    const cash = await t.account("cash", "asset");
    const revenue = await t.account("revenue", "revenue");
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => t.writer.submit(t.scope, post(`k${i}`, cash, revenue, 1))),
    );
    const refused = results.filter((r) => r.status === "rejected");
    assert.equal(refused.length, 3);
    for (const r of refused) {
      assert.equal((r as PromiseRejectedResult).reason.code, "writer_overloaded");
      assert.equal((r as PromiseRejectedResult).reason.retryable, true);
    }
    const other = { tenantId: "ten_b", appId: "app_b" };
    const missing = await t.writer.submit(other, post("k0", cash, revenue, 1)).catch((e) => e);
    assert.equal(missing.code, "account_not_found", "another scope cannot see these accounts");
    assert.equal(t.writer.waiting, 0);
  } finally {
    await t.close();
  }
});

Deno.test("InProcessWriter: a post_entry stores no command record; a fresh writer still replays it, and refuses its key for another body or kind", async () => {
  const t = await setup();
  try {
    const cash = await t.account("cash", "asset");
    const revenue = await t.account("revenue", "revenue");
    const commands = Array.from({ length: 1000 }, (_, i) => post(`sale-${i}`, cash, revenue, 100 + i));
    const first = await Promise.all(commands.map((c) => t.writer.submit(t.scope, c)));
    const stored = await t.database.client.execute(
      "select count(*) as n from ledger_commands where idempotency_key like 'sale-%'",
    );
    assert.equal(Number(stored.rows[0].n), 0);
    // A new writer (nothing in memory: a restart) over the same file.
    const again = new InProcessWriter({ storage: t.database, clock: new TestClock() });
    const replays = await Promise.all(commands.map((c) => again.submit(t.scope, c)));
    for (let i = 0; i < commands.length; i++) {
      assert.equal(replays[i].replayed, true);
      assert.equal(replays[i].value.entry!.id, first[i].value.entry!.id);
      assert.equal(replays[i].value.entry!.seq, first[i].value.entry!.seq);
    }
    await assert.rejects(
      again.submit(t.scope, post("sale-7", cash, revenue, 1)),
      (e: { code?: string }) => e.code === "idempotency_key_reused",
    );
    await assert.rejects(
      again.submit(t.scope, {
        kind: "create_hold",
        idempotency_key: "sale-8",
        account_id: cash,
        destination_account_id: revenue,
        amount: 5,
        currency: "USD",
        ttl_seconds: 60,
      }),
      (e: { code?: string }) => e.code === "idempotency_key_reused",
    );
    const entries = await t.database.client.execute("select count(*) as n from ledger_entries");
    assert.equal(Number(entries.rows[0].n), 1000);
  } finally {
    await t.close();
  }
});
