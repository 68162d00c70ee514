/**
 * Ingestion dedupes by (tenant, app, event id) without reading the batch's ids first (issue 14,
 * ADR 0015): a 1000-event batch mixing new events, retries of stored ones, stored ids reused with
 * other payloads, duplicates and conflicting reuses inside the batch, unknown customers and future
 * timestamps (some on stored ids, some on ids a later event of the batch stores) answers exactly
 * what the read-first order answered. The expected answer comes from that order written out here
 * as a model; the test runs on libSQL and on PostgreSQL. On SQLite the rows travel as one JSON
 * parameter (`json_each`): they are stored exactly as bound values store them.
 */
import assert from "node:assert/strict";
import { call, tenant, type TestEnv, testEnv } from "../helpers.ts";
import { canonicalQuantity } from "../../src/domain/quantity.ts";
import { openPostgres, type PostgresStore } from "../../src/storage/postgres.ts";
import { freshPostgresDatabase } from "../pg_helpers.ts";
import { drizzle } from "drizzle-orm/libsql";
import * as schema from "../../src/storage/schema.ts";
import type { Db } from "../../src/storage/db.ts";
import { bindLimits } from "../../src/storage/limits.ts";
import { newIds } from "../../src/domain/ids.ts";
import { insertNewUsageEvents, type UsageEventValues } from "../../src/usage/repository.ts";

interface Sent {
  id: string;
  customer_id: string;
  feature: string;
  value?: number | string;
  timestamp?: string;
  properties?: Record<string, unknown>;
}

interface Rejection {
  id: string;
  code: string;
  status: number;
}

const NOW = "2026-03-10T00:00:00.000Z";
const FUTURE = "2026-03-11T00:00:00.000Z"; // a day ahead: past the 300 s skew

/** What idempotency compares: the sent payload, the value canonical (`"1"` and `1` are one value). */
function payloadKey(e: Sent): string {
  return JSON.stringify([
    e.customer_id,
    e.feature,
    canonicalQuantity(e.value ?? 1),
    e.timestamp ?? null,
    e.properties ?? null,
  ]);
}

/**
 * The read-first order (the code before issue 14's change): read the stored hashes of the batch's
 * ids, then walk the batch: a known id is a retry or a conflict; else the customer, then the
 * timing check; an accepted event's id is known to the rest of the batch.
 */
function model(stored: Map<string, string>, batch: readonly Sent[], customers: Set<string>) {
  const known = new Map(stored);
  let accepted = 0;
  let duplicates = 0;
  const rejected: Rejection[] = [];
  for (const e of batch) {
    const key = payloadKey(e);
    const seen = known.get(e.id);
    if (seen !== undefined) {
      if (seen === key) duplicates++;
      else rejected.push({ id: e.id, code: "idempotency_key_reused", status: 409 });
      continue;
    }
    if (!customers.has(e.customer_id)) {
      rejected.push({ id: e.id, code: "customer_not_found", status: 404 });
      continue;
    }
    if (e.timestamp === FUTURE) {
      rejected.push({ id: e.id, code: "timestamp_in_future", status: 422 });
      continue;
    }
    known.set(e.id, key);
    accepted++;
  }
  return { report: { accepted, duplicates, rejected }, stored: known };
}

/** A deterministic shuffle (the order matters: the same batch is replayed by the model). */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const ev = (id: string, over: Partial<Sent> = {}): Sent => ({
  id,
  customer_id: "c",
  feature: "calls",
  value: 1,
  ...over,
});

/** The mixed 1000-event batch (each group's ids are disjoint unless said otherwise). */
function mixedBatch(): Sent[] {
  const events: Sent[] = [];
  // 100 retries of stored events, 20 of them with the value written differently ("1" for 1)
  for (let i = 0; i < 100; i++) events.push(ev(`s-${i}`, { value: i < 20 ? "1" : 1, properties: { n: i } }));
  // 50 stored ids reused with another payload
  for (let i = 100; i < 150; i++) events.push(ev(`s-${i}`, { value: 2, properties: { n: i } }));
  // 540 new events, some with properties and timestamps, some decimal
  for (let i = 0; i < 540; i++) {
    events.push(ev(`n-${i}`, {
      value: i % 7 === 0 ? "0.25" : i,
      ...(i % 3 === 0 ? { properties: { model: `m${i % 4}`, nested: { b: 1, a: [i, null] } } } : {}),
      ...(i % 5 === 0 ? { timestamp: "2026-03-09T12:00:00.000Z" } : {}),
    }));
  }
  // 30 unknown customers, 10 of them on stored ids (a stored id answers first), 10 on ids that a
  // later event of the batch stores
  for (let i = 0; i < 10; i++) {
    events.push(ev(`s-${200 + i}`, { customer_id: "ghost", properties: { n: 200 + i } }));
  }
  for (let i = 0; i < 10; i++) events.push(ev(`g-${i}`, { customer_id: "ghost" }));
  for (let i = 0; i < 10; i++) events.push(ev(`late-ok-${i}`, { customer_id: "ghost" }));
  // 30 future timestamps: 10 on stored ids (same payload but the timestamp: a conflict), 10 plain,
  // 10 on ids a later event stores
  for (let i = 0; i < 10; i++) {
    events.push(ev(`s-${220 + i}`, { timestamp: FUTURE, properties: { n: 220 + i } }));
  }
  for (let i = 0; i < 10; i++) events.push(ev(`f-${i}`, { timestamp: FUTURE }));
  for (let i = 0; i < 10; i++) events.push(ev(`late-ok-${10 + i}`, { timestamp: FUTURE }));
  const head = shuffled(events, 7); // 750 events so far
  const tail: Sent[] = [];
  // the later events that store the ids refused above
  for (let i = 0; i < 20; i++) tail.push(ev(`late-ok-${i}`, { value: 3 }));
  // 130 duplicates of new events of this batch (same payload) and 100 conflicting reuses of them
  for (let i = 0; i < 130; i++) {
    const original = head.find((e) => e.id === `n-${i * 4}`)!;
    tail.push({ ...original });
  }
  for (let i = 0; i < 100; i++) tail.push(ev(`n-${i * 5 + 1}`, { value: 999 }));
  const batch = [...head, ...shuffled(tail, 11)];
  assert.equal(batch.length, 1000);
  return batch;
}

async function scenario(env: TestEnv) {
  env.clock.set("2026-03-01T00:00:00Z");
  const { secret_key: key } = await tenant(env);
  const plan = await call(env, "POST", "/v1/plans", {
    key,
    body: {
      key: "p",
      name: "P",
      currency: "USD",
      interval: "month",
      features: [{ key: "calls", type: "metered", aggregation: "sum" }],
    },
  });
  assert.equal(plan.status, 201, JSON.stringify(plan.body));
  await call(env, "POST", "/v1/customers", { key, body: { external_id: "c" } });
  const sub = await call(env, "POST", "/v1/subscriptions", { key, body: { customer_id: "c", plan_id: "p" } });
  assert.equal(sub.status, 201, JSON.stringify(sub.body));
  env.clock.set(NOW);
  const customers = new Set(["c"]);

  // 300 stored events first
  const first = Array.from({ length: 300 }, (_, i) => ev(`s-${i}`, { value: 1, properties: { n: i } }));
  const seeded = await call(env, "POST", "/v1/events", { key, body: { events: first } });
  assert.equal(seeded.status, 200, JSON.stringify(seeded.body));
  let expected = model(new Map(), first, customers);
  assert.deepEqual(seeded.body, { ...expected.report, rejected: [] });
  assert.equal(seeded.body.accepted, 300);

  const batch = mixedBatch();
  for (const round of [1, 2]) {
    const before = expected.stored;
    expected = model(before, batch, customers);
    const res = await call(env, "POST", "/v1/events", { key, body: { events: batch } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { rejected, ...counts } = res.body as {
      accepted: number;
      duplicates: number;
      rejected: (Rejection & { message: string })[];
    };
    assert.deepEqual(counts, { accepted: expected.report.accepted, duplicates: expected.report.duplicates });
    assert.deepEqual(
      rejected.map((r) => ({ id: r.id, code: r.code, status: r.status })),
      expected.report.rejected,
      `round ${round}: rejections in the batch's order`,
    );
    for (const r of rejected) {
      if (r.code === "idempotency_key_reused") {
        assert.equal(r.message, `Event id "${r.id}" was already used with a different payload`);
      }
    }
    if (round === 1) {
      // the first round stores 540 new + 20 refused-then-stored ids; the retry stores nothing
      assert.equal(counts.accepted, 560);
      assert.ok(rejected.some((r) => r.code === "customer_not_found"));
      assert.ok(rejected.some((r) => r.code === "timestamp_in_future"));
    } else {
      assert.equal(counts.accepted, 0);
    }
  }

  // what is stored: one row per accepted id, with the payload of the event that stored it
  const total = await call(
    env,
    "GET",
    "/v1/usage?customer_id=c&feature=calls&from=2026-03-01T00:00:00Z&to=2026-03-11T00:00:00Z",
    { key },
  );
  assert.equal(total.status, 200);
  let sum = 0;
  for (const [id, payload] of expected.stored) {
    assert.ok(id.length > 0);
    const value = JSON.parse(payload)[2] as number | string;
    sum += Number(value);
  }
  assert.equal(Number(total.body.value), sum);
  assert.equal(expected.stored.size, 300 + 560);
}

Deno.test("a 1000-event batch with stored retries, reused ids, in-batch duplicates and refusals answers as the read-first order (libSQL)", async () => {
  const env = await testEnv();
  try {
    await scenario(env);
  } finally {
    await env.close();
  }
});

Deno.test({
  name:
    "a 1000-event batch with stored retries, reused ids, in-batch duplicates and refusals answers as the read-first order (PostgreSQL)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const database = await freshPostgresDatabase("billing_ingest");
    let store: PostgresStore | undefined;
    let env: TestEnv | undefined;
    try {
      store = await openPostgres({ url: database.url, poolMax: 4 });
      env = await testEnv({ services: { database: store } });
      await scenario(env);
    } finally {
      await env?.close();
      await store?.close();
      await database.drop();
    }
  },
});

Deno.test("usage rows sent as one JSON parameter (SQLite) are stored exactly as rows sent as bound values", async () => {
  const env = await testEnv();
  try {
    const now = Date.UTC(2026, 2, 10);
    const rows: UsageEventValues[] = Array.from({ length: 1000 }, (_, i) => ({
      id: newIds("evt", 1)[0],
      // ids and keys JSON writes as they are, and some it must escape
      event_id: `e-${String(i).padStart(4, "0")}${i % 10 === 0 ? ' é"\\\t' : ""}`,
      customer_id: "cus_01jd0000000000000000000000",
      feature: i % 5 === 0 ? "fé/\u2028" : i % 2 ? "calls" : "tokens",
      value: [0, 1, Number.MAX_SAFE_INTEGER, 12345678901][i % 4],
      value_frac: [0, 250_000_000_000, 999_999_999_999, 1][i % 4],
      timestamp: now - i * 1000,
      properties: i % 3 === 0
        ? null
        : JSON.stringify({ model: "m-large", text: 'é € 😀 "q" \\ \u2028 \ud800', n: i, f: 0.1, big: 1e21 }),
      payload_hash: `${i}`.padStart(64, "0"),
      created_at: now,
    }));
    const json = { tenantId: "ten_json", appId: "app_json" };
    const bound = { tenantId: "ten_bound", appId: "app_bound" };
    const inserted = await env.database.write((tx) => insertNewUsageEvents(tx, json, rows));
    assert.equal(inserted, 1000);
    // a drizzle handle no store registered has no json_each: multi-row VALUES, 8 rows per statement
    const plain = drizzle(env.database.client, { schema });
    const fresh = () => {
      const ids = newIds("evt", rows.length);
      return rows.map((r, i) => ({ ...r, id: ids[i] }));
    };
    assert.equal(await insertNewUsageEvents(plain as unknown as Db, bound, fresh()), 1000);
    // again (new row ids): every event id is stored, nothing is inserted, nothing fails
    assert.equal(await env.database.write((tx) => insertNewUsageEvents(tx, json, fresh())), 0);
    assert.equal(await insertNewUsageEvents(plain as unknown as Db, bound, fresh()), 0);
    const read = async (scope: { tenantId: string }) =>
      (await env.database.client.execute({
        sql:
          `select event_id, customer_id, feature, value, typeof(value) tv, value_frac, typeof(value_frac) tf,
                timestamp, typeof(timestamp) tt, properties, typeof(properties) tp, payload_hash, created_at,
                typeof(created_at) tc from usage_events where tenant_id = ? order by event_id`,
        args: [scope.tenantId],
      })).rows.map((r) => ({ ...r }));
    // JSON rows cut by size: a store that takes 20 KB per JSON value gets many statements
    const small = { tenantId: "ten_small", appId: "app_small" };
    const statements: number[] = [];
    const limited = bindLimits(
      drizzle(env.database.client, { schema, logger: { logQuery: (_q, p) => statements.push(p.length) } }),
      {
        maxParameters: 100,
        maxStatementBytes: 100_000,
        maxJsonRowsBytes: 20_000,
      },
    );
    assert.equal(await insertNewUsageEvents(limited as unknown as Db, small, fresh()), 1000);
    assert.ok(statements.length > 10, `${statements.length} statements`);
    assert.ok(statements.every((n) => n === 4), "scope, created_at and the JSON rows");
    const a = await read(json);
    const b = await read(bound);
    assert.equal(a.length, 1000);
    assert.deepEqual(a, b);
    assert.deepEqual(await read(small), a);
    assert.equal(a[1].tv, "integer");
    assert.equal(a[1].tp, "text");
    assert.equal(a[0].tp, "null");
    assert.equal(a[1].properties, rows[1].properties);
    assert.equal(a[2].value, Number.MAX_SAFE_INTEGER);
  } finally {
    await env.close();
  }
});
