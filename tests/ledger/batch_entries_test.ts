// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * `POST /v1/ledger/entries/batch` in process (libSQL file): a 1000-entry request posts in one writer
 * transaction with balances equal to the sum of its postings; each entry is judged on its own
 * (refusals beside postings, with the problem the single route gives); a key repeated in the batch
 * is decided in order; a retry replays every entry with its id; a malformed body writes nothing;
 * the `Idempotency-Key` header replays a 1000-entry answer; key scopes apply as on the single route;
 * on PostgreSQL the batch's account names are resolved in one select; a store failure of one entry
 * fails the request (503) and its retry replays the rest.
 */
import assert from "node:assert/strict";
import { call, snapshotCounts, tenant, type TestEnv, testEnv } from "../helpers.ts";
import { type BatchReport, type CommandWriter, InProcessWriter } from "../../src/ledger/writer.ts";
import { openPostgres } from "../../src/storage/postgres.ts";
import { freshPostgresDatabase } from "../pg_helpers.ts";
import { BillingError } from "../../src/domain/errors.ts";

/** An env whose ledger writer reports each batch (size, committed). */
async function batchedEnv(): Promise<{ env: TestEnv; batches: BatchReport[] }> {
  const batches: BatchReport[] = [];
  const holder: { writer?: InProcessWriter } = {};
  // The writer needs the env's store, so the services get a forwarder to it.
  const ledgerWriter: CommandWriter = {
    submit: (scope, command, who) => holder.writer!.submit(scope, command, who),
  };
  const env = await testEnv({ services: { ledgerWriter } });
  holder.writer = new InProcessWriter({
    storage: env.database,
    clock: env.clock,
    lifecycle: env.services.lifecycle,
    onBatch: (report) => batches.push(report),
  });
  return { env, batches };
}

async function account(env: TestEnv, key: string, name: string, type: string, extra = {}): Promise<string> {
  const res = await call(env, "POST", "/v1/ledger/accounts", {
    key,
    body: { name, type, currency: "USD", ...extra },
  });
  assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
  return res.body.id as string;
}

function entry(key: string, debit: string, credit: string, amount: number, currency = "USD") {
  return {
    idempotency_key: key,
    postings: [
      { account_id: debit, amount, currency },
      { account_id: credit, amount: -amount, currency },
    ],
  };
}

async function balances(env: TestEnv, key: string): Promise<Record<string, number>> {
  const res = await call(env, "GET", "/v1/ledger/balances?limit=500", { key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return Object.fromEntries(res.body.data.map((a: any) => [a.name, a.debits_minus_credits]));
}

Deno.test("POST /v1/ledger/entries/batch posts 1000 entries (names and ids) in one writer transaction; balances are the sum of postings; a retry replays every id", async () => {
  const { env, batches } = await batchedEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const cash = await account(env, key, "cash", "asset");
    const wallets: string[] = [];
    for (let i = 0; i < 20; i++) wallets.push(await account(env, key, `wallet:${i}`, "liability"));
    await account(env, key, "revenue", "revenue");
    // Entry i: cash (by id or by name) → wallet i % 20 (by name on odd i), i + 1 minor units; every
    // tenth entry moves wallet → revenue, by names only.
    const expected: Record<string, number> = { cash: 0, revenue: 0 };
    const entries = Array.from({ length: 1000 }, (_, i) => {
      const w = i % 20;
      if (i % 10 === 9) {
        expected[`wallet:${w}`] = (expected[`wallet:${w}`] ?? 0) + 1;
        expected.revenue -= 1;
        return entry(`b-${i}`, `wallet:${w}`, "revenue", 1);
      }
      expected.cash += i + 1;
      expected[`wallet:${w}`] = (expected[`wallet:${w}`] ?? 0) - (i + 1);
      return entry(`b-${i}`, i % 2 === 0 ? cash : "cash", i % 2 === 1 ? `wallet:${w}` : wallets[w], i + 1);
    });
    batches.length = 0;
    const res = await call(env, "POST", "/v1/ledger/entries/batch", { key, body: { entries } });
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
    assert.deepEqual([res.body.posted, res.body.replayed, res.body.rejected], [1000, 0, 0]);
    assert.equal(res.body.results.length, 1000);
    res.body.results.forEach((r: any, i: number) => {
      assert.deepEqual([r.idempotency_key, r.outcome, r.status, r.error], [`b-${i}`, "posted", 201, null]);
      assert.equal(r.entry.replayed, false);
      assert.match(r.entry.id, /^ent_/);
      assert.ok(r.entry.postings.every((p: any) => p.account_id.startsWith("acc_")), "names became ids");
    });
    const seqs = res.body.results.map((r: any) => r.entry.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), "journal order is request order");
    assert.deepEqual(
      batches.map((b) => [b.size, b.committed]),
      [[1000, true]],
      "one writer transaction for the whole request",
    );
    const after = await balances(env, key);
    for (const [name, amount] of Object.entries(expected)) assert.equal(after[name], amount, name);
    assert.equal(Object.values(after).reduce((s, v) => s + v, 0), 0);

    // A retry of the whole request: every entry replayed, same ids, nothing written.
    const before = await snapshotCounts(env);
    const retry = await call(env, "POST", "/v1/ledger/entries/batch", { key, body: { entries } });
    assert.deepEqual([retry.status, retry.body.posted, retry.body.replayed, retry.body.rejected], [
      200,
      0,
      1000,
      0,
    ]);
    assert.deepEqual(
      retry.body.results.map((r: any) => [r.outcome, r.status, r.entry.id, r.entry.replayed]),
      res.body.results.map((r: any) => ["replayed", 200, r.entry.id, true]),
    );
    assert.deepEqual(await snapshotCounts(env), before, "a replay writes nothing");
    // The single route sees the same entry (same payload hash by name or id).
    const single = await call(env, "POST", "/v1/ledger/entries", { key, body: entries[1] });
    assert.deepEqual([single.status, single.body.id], [200, res.body.results[1].entry.id]);
  } finally {
    await env.close();
  }
});

Deno.test("POST /v1/ledger/entries/batch judges each entry alone: refusals (balance, unknown name, currency, unbalanced, reused key) beside postings", async () => {
  const { env } = await batchedEnv();
  try {
    const { secret_key: key } = await tenant(env);
    const cash = await account(env, key, "cash", "asset");
    await account(env, key, "wallet:alice", "liability", { debits_must_not_exceed_credits: true });
    await account(env, key, "merchant", "liability");
    const first = await call(env, "POST", "/v1/ledger/entries", {
      key,
      body: entry("top-up", cash, "wallet:alice", 100),
    });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const entries = [
      entry("spend-1", "wallet:alice", "merchant", 60), // posts: 100 → 40
      entry("spend-2", "wallet:alice", "merchant", 60), // 40 < 60: insufficient_balance
      entry("ghost", "cash", "nobody", 5), // unknown name
      entry("eur", "cash", "wallet:alice", 5, "EUR"), // no account named cash in EUR
      entry("top-up", cash, "wallet:alice", 999), // key used before with another payload
      {
        idempotency_key: "unbalanced",
        postings: [{ account_id: "cash", amount: 10, currency: "USD" }, {
          account_id: "merchant",
          amount: -9,
          currency: "USD",
        }],
      },
      entry("top-up", cash, "wallet:alice", 100), // the earlier entry, replayed
      entry("spend-3", "wallet:alice", "merchant", 40), // posts: 40 → 0
    ];
    const res = await call(env, "POST", "/v1/ledger/entries/batch", { key, body: { entries } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.posted, res.body.replayed, res.body.rejected], [2, 1, 5]);
    // Each refusal is the problem the single route would answer.
    const alone = await Promise.all(
      entries.slice(1, 6).map(async (e) => {
        const r = await call(env, "POST", "/v1/ledger/entries", { key, body: e });
        return [r.status, r.body.code];
      }),
    );
    assert.deepEqual(
      res.body.results.map((r: any) => [r.outcome, r.status, r.error?.code ?? null]),
      [
        ["posted", 201, null],
        ["rejected", ...alone[0]],
        ["rejected", ...alone[1]],
        ["rejected", ...alone[2]],
        ["rejected", ...alone[3]],
        ["rejected", ...alone[4]],
        ["replayed", 200, null],
        ["posted", 201, null],
      ],
    );
    assert.deepEqual(alone.map(([, code]) => code), [
      "insufficient_balance",
      "account_not_found",
      "account_not_found",
      "idempotency_key_reused",
      "postings_not_balanced",
    ]);
    assert.equal(res.body.results[6].entry.id, first.body.id);
    assert.ok(res.body.results.every((r: any) => (r.entry === null) === (r.outcome === "rejected")));
    assert.match(res.body.results[2].error.message, /No account named "nobody" in USD/);
    const after = await balances(env, key);
    assert.deepEqual([after["wallet:alice"], after.merchant, after.cash], [0, -100, 100]);
  } finally {
    await env.close();
  }
});

Deno.test("POST /v1/ledger/entries/batch decides a key repeated in one batch in order: same payload replays the first, another is idempotency_key_reused", async () => {
  const { env } = await batchedEnv();
  try {
    const { secret_key: key } = await tenant(env);
    await account(env, key, "cash", "asset");
    await account(env, key, "revenue", "revenue");
    const entries = [
      entry("dup", "cash", "revenue", 10),
      entry("other", "cash", "revenue", 1),
      entry("dup", "cash", "revenue", 10),
      entry("dup", "cash", "revenue", 11),
    ];
    for (let round = 0; round < 2; round++) {
      const res = await call(env, "POST", "/v1/ledger/entries/batch", { key, body: { entries } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const [a, b, c, d] = res.body.results;
      assert.deepEqual(
        [a.outcome, b.outcome, c.outcome, d.outcome],
        [round === 0 ? "posted" : "replayed", round === 0 ? "posted" : "replayed", "replayed", "rejected"],
      );
      assert.equal(c.entry.id, a.entry.id);
      assert.deepEqual([d.status, d.error.code], [409, "idempotency_key_reused"]);
    }
    assert.equal((await balances(env, key)).revenue, -11);
  } finally {
    await env.close();
  }
});

Deno.test("POST /v1/ledger/entries/batch refuses a malformed body whole (400 problem+json, nothing written): bad entry, empty list, 1001 entries, unknown field", async () => {
  const { env } = await batchedEnv();
  try {
    const { secret_key: key } = await tenant(env);
    await account(env, key, "cash", "asset");
    await account(env, key, "revenue", "revenue");
    const good = Array.from({ length: 999 }, (_, i) => entry(`m-${i}`, "cash", "revenue", 1));
    const before = await snapshotCounts(env);
    const bodies: [unknown, string][] = [
      [{ entries: [...good, { idempotency_key: "x", postings: [] }] }, "entries.999.postings"],
      [{ entries: [...good, entry("f", "cash", "revenue", 1.5)] }, "entries.999.postings.0.amount"],
      [{ entries: [] }, "entries"],
      [{ entries: [...good, entry("a", "cash", "revenue", 1), entry("b", "cash", "revenue", 1)] }, "entries"],
      [{ entries: good, extra: true }, "extra"],
      [{ entries: [{ ...good[0], note: "x" }] }, "entries.0.note"],
    ];
    for (const [body, path] of bodies) {
      const res = await call(env, "POST", "/v1/ledger/entries/batch", { key, body });
      assert.equal(res.status, 400, JSON.stringify(res.body).slice(0, 300));
      assert.match(res.contentType, /^application\/problem\+json/);
      assert.equal(res.body.code, "validation_failed");
      assert.ok(res.body.fields.some((f: any) => f.path.endsWith(path)), JSON.stringify(res.body.fields));
    }
    const notJson = await call(env, "POST", "/v1/ledger/entries/batch", { key, body: "{" });
    assert.equal(notJson.status, 400);
    assert.deepEqual(await snapshotCounts(env), before, "nothing written");
  } finally {
    await env.close();
  }
});

Deno.test("POST /v1/ledger/entries/batch: the Idempotency-Key header replays a 1000-entry answer; ledger_only keys reach it, read_only and publishable keys do not", async () => {
  const { env } = await batchedEnv();
  try {
    const { secret_key: key, publishable_key: pk } = await tenant(env);
    await account(env, key, "cash", "asset");
    await account(env, key, "revenue", "revenue");
    const entries = Array.from({ length: 1000 }, (_, i) => ({
      ...entry(`h-${i}`, "cash", "revenue", 7),
      description: `Order ${i} paid`,
      metadata: { order_id: `ord_${i}` },
    }));
    const headers = { "idempotency-key": "batch-1" };
    const first = await call(env, "POST", "/v1/ledger/entries/batch", { key, body: { entries }, headers });
    assert.equal(first.status, 200, JSON.stringify(first.body).slice(0, 300));
    assert.equal(first.body.posted, 1000);
    const again = await call(env, "POST", "/v1/ledger/entries/batch", { key, body: { entries }, headers });
    assert.equal(again.headers.get("idempotent-replayed"), "true", "the stored answer is replayed");
    assert.deepEqual(again.body, first.body, "the first answer, byte for byte (posted, not replayed)");
    const other = await call(env, "POST", "/v1/ledger/entries/batch", {
      key,
      body: { entries: entries.slice(1) },
      headers,
    });
    assert.deepEqual([other.status, other.body.code], [409, "idempotency_key_reused"]);

    const scoped = async (scope: string) => {
      const made = await call(env, "POST", "/v1/api_keys", { key, body: { name: scope, scope } });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      return made.body.key as string;
    };
    const body = { entries: [entry("scoped-1", "cash", "revenue", 1)] };
    const ledgerOnly = await call(env, "POST", "/v1/ledger/entries/batch", {
      key: await scoped("ledger_only"),
      body,
    });
    assert.deepEqual([ledgerOnly.status, ledgerOnly.body.posted], [200, 1]);
    for (const k of [await scoped("read_only"), await scoped("usage_only"), pk]) {
      const res = await call(env, "POST", "/v1/ledger/entries/batch", {
        key: k,
        body: { entries: [entry("scoped-2", "cash", "revenue", 1)] },
      });
      assert.equal(res.status, 403, JSON.stringify(res.body));
    }
    assert.equal((await balances(env, key)).revenue, -7001);
  } finally {
    await env.close();
  }
});

Deno.test("POST /v1/ledger/entries/batch on PostgreSQL resolves the names of 1000 entries (40 accounts) in one select, not one per entry", async () => {
  const fresh = await freshPostgresDatabase("batch_names");
  const texts: string[] = [];
  const store = await openPostgres({ url: fresh.url, onStatement: (text) => texts.push(text) });
  const env = await testEnv({ services: { database: store } });
  try {
    const { secret_key: key } = await tenant(env);
    await account(env, key, "cash", "asset");
    for (let i = 0; i < 39; i++) await account(env, key, `wallet:${i}`, "liability");
    const entries = Array.from({ length: 1000 }, (_, i) => entry(`pg-${i}`, "cash", `wallet:${i % 39}`, 1));
    texts.length = 0;
    const res = await call(env, "POST", "/v1/ledger/entries/batch", { key, body: { entries } });
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
    assert.deepEqual([res.body.posted, res.body.rejected], [1000, 0]);
    const byName = texts.filter((t) =>
      /from "ledger_accounts"/.test(t) && /"ledger_accounts"\."name"/.test(t)
    );
    assert.equal(byName.length, 1, byName.join("\n"));
    const balances = await call(env, "GET", "/v1/ledger/balances?limit=500", { key });
    const by = Object.fromEntries(balances.body.data.map((a: any) => [a.name, a.debits_minus_credits]));
    assert.equal(by.cash, 1000);
    assert.equal(by["wallet:0"], -26);
    assert.equal(by["wallet:38"], -25);
  } finally {
    await env.close();
    await store.close();
    await fresh.drop();
  }
});

Deno.test("POST /v1/ledger/entries/batch answers a store failure of any entry with 503 for the whole request (a retry replays what was written)", async () => {
  const holder: { writer?: InProcessWriter } = {};
  let failKey: string | null = null;
  const ledgerWriter: CommandWriter = {
    submit: (scope, command, who) =>
      "idempotency_key" in command && command.idempotency_key === failKey
        ? Promise.reject(
          new BillingError("database_unavailable", "unavailable", "The database is unavailable"),
        )
        : holder.writer!.submit(scope, command, who),
  };
  const env = await testEnv({ services: { ledgerWriter } });
  holder.writer = new InProcessWriter({ storage: env.database, clock: env.clock });
  try {
    const { secret_key: key } = await tenant(env);
    await account(env, key, "cash", "asset");
    await account(env, key, "revenue", "revenue");
    const entries = Array.from({ length: 50 }, (_, i) => entry(`u-${i}`, "cash", "revenue", 1));
    failKey = "u-25";
    const failed = await call(env, "POST", "/v1/ledger/entries/batch", { key, body: { entries } });
    assert.equal(failed.status, 503, JSON.stringify(failed.body));
    assert.match(failed.contentType, /^application\/problem\+json/);
    assert.equal(failed.body.code, "database_unavailable");
    failKey = null;
    const retry = await call(env, "POST", "/v1/ledger/entries/batch", { key, body: { entries } });
    assert.deepEqual([retry.status, retry.body.posted, retry.body.replayed], [200, 1, 49]);
    assert.equal(retry.body.results[25].outcome, "posted");
    assert.equal((await balances(env, key)).revenue, -50);
  } finally {
    await env.close();
  }
});
