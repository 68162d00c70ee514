/**
 * The fast lane (`src/http/fast_lane.ts`, ADR 0015) against the full chain: two identical worlds,
 * one app with the lane and one without (`fastLane: false`), receive the same generated requests
 * (fast-check: valid and invalid bodies, every kind of key and scope, publishable keys with and
 * without Origin and session, Idempotency-Key replays and conflicts, NUL, decimals, huge bodies,
 * malformed JSON, throttled addresses, batches of entries up to 1000). Every answer must agree in status, body and headers (the
 * server's request ids and generated resource ids aside), and so must the stored rows, the
 * metrics counters and the request log. Plus 50 concurrent clients consuming against a hard limit.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { call, sessionHeaders, snapshotCounts, tenant, type TestEnv, testEnv } from "../helpers.ts";
import { Metrics } from "../../src/metrics/service.ts";
import { laneStats } from "../../src/http/fast_lane.ts";

const SEED = 1414;
const ORIGIN = "https://app.example.com";

interface World {
  env: TestEnv;
  metrics: Metrics;
  logs: Record<string, unknown>[];
  keys: Record<string, string>;
  accounts: Record<string, string>;
  session: Record<string, string>;
}

async function world(fastLane: boolean): Promise<World> {
  const metrics = new Metrics();
  const logs: Record<string, unknown>[] = [];
  const env = await testEnv({
    services: { metrics, log: (r) => logs.push(r) },
    app: { fastLane, clientAddress: (c) => c.req.header("x-test-client") },
  });
  const t = await tenant(env, "lane");
  const key = t.secret_key;
  const ok = async (method: string, path: string, body: unknown, expect = 201) => {
    const res = await call(env, method, path, { key, body });
    assert.equal(res.status, expect, `${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const keys: Record<string, string> = { full: key, publishable: t.publishable_key };
  for (const scope of ["read_only", "usage_only", "ledger_only"]) {
    keys[scope] = (await ok("POST", "/v1/api_keys", { name: scope, scope })).key;
  }
  const revoked = await ok("POST", "/v1/api_keys", { name: "gone", scope: "full" });
  await ok("POST", `/v1/api_keys/${revoked.id}/revoke`, undefined, 200);
  keys.revoked = revoked.key;
  keys.unknown = `sk_${"ab".repeat(32)}`;
  keys.malformed = "sk_not_a_key";
  await ok("PATCH", "/v1/apps/current", { allowed_origins: [ORIGIN] }, 200);
  const plan = await ok("POST", "/v1/plans", {
    key: "lane",
    name: "Lane",
    currency: "USD",
    interval: "month",
    features: [
      { key: "calls", type: "metered", limit: 100, aggregation: "sum" },
      { key: "soft", type: "metered", limit: 10, soft_limit: true, aggregation: "sum" },
      { key: "free", type: "metered", limit: null, aggregation: "sum" },
      { key: "sso", type: "boolean" },
    ],
  });
  await ok("POST", "/v1/customers", { external_id: "c1" });
  await ok("POST", "/v1/customers", { external_id: "c2" });
  await ok("POST", "/v1/subscriptions", { customer_id: "c1", plan_id: plan.id });
  const accounts: Record<string, string> = {};
  for (const [name, currency] of [["A0", "USD"], ["A1", "USD"], ["A2", "EUR"]]) {
    accounts[name] = (await ok("POST", "/v1/ledger/accounts", { name, type: "asset", currency })).id;
  }
  accounts.AX = "acc_01jd0000000000000000000000";
  const session = await sessionHeaders(env, key, "c1");
  logs.length = 0;
  return { env, metrics, logs, keys, accounts, session };
}

/** A request in terms both worlds understand (keys and accounts by name). */
interface Abstract {
  path: string;
  key: string | null;
  origin: boolean;
  session: boolean;
  idempotencyKey: string | null;
  /** Sent twice in a row (with a key: the second is a replay, or the same refusal). */
  repeat: boolean;
  correlation: string | null;
  client: string;
  contentType: string | null;
  body: string;
}

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
/** `arb` once in `n` times, else `nil`. */
const rarely = <T, N>(arb: fc.Arbitrary<T>, n: number, nil: N) =>
  fc.oneof({ weight: 1, arbitrary: arb }, { weight: n - 1, arbitrary: fc.constant(nil) });
/** Mostly one of `good`, sometimes one of `bad` (so that most requests are valid and some are not). */
const mostly = <T>(good: T[], bad: T[]) =>
  fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...good) }, {
    weight: 1,
    arbitrary: fc.constantFrom(...bad),
  });
const idemKey = mostly(["k1", "k2", "k3", "k4", "k5", "k6"], ["bad key", "", "k".repeat(129)]);
const customer = mostly<unknown>(["c1", "c1", "c1", "c2", "nobody"], [
  "",
  "x".repeat(129),
  5,
  null,
  "c\u00001",
]);
const feature = mostly<unknown>(["calls", "calls", "soft", "free", "sso", "missing"], ["bad feature", 3]);
const quantity = mostly<unknown>(
  [1, 1, 2, 7, "0.25", 3.75],
  [0, -1, "abc", "1e3", 2 ** 53, "0.0000000000001", "1".repeat(41), true],
);
const properties = mostly<unknown>(
  [{ model: "m" }, { a: [1, "x", null] }],
  [[], { a: { b: { c: { d: { e: { f: 1 } } } } } }, { ["k".repeat(65)]: 1 }, "text", { n: "\u0000" }],
);

const checkBody = fc.record({
  customer_id: customer,
  feature,
  consume: maybe(quantity),
  idempotency_key: maybe(idemKey),
  properties: rarely(properties, 5, undefined),
  extra: rarely(fc.constant(1), 12, undefined),
}, { requiredKeys: ["customer_id", "feature"] }).chain((b) =>
  // now and then a required field missing
  fc.constantFrom<Record<string, unknown>>(
    b,
    b,
    b,
    b,
    b,
    b,
    b,
    b,
    { ...b, feature: undefined },
    { ...b, customer_id: undefined },
  )
);

const posting = fc.record({
  account_id: mostly(["@A0", "@A1"], ["@A2", "@AX"]),
  amount: mostly<unknown>([100, -100, 50], [0, 1.5, "100"]),
  currency: mostly(["USD"], ["EUR", "usd"]),
});
const ledgerBody = fc.record({
  idempotency_key: idemKey,
  postings: fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constant([
        { account_id: "@A0", amount: 100, currency: "USD" },
        { account_id: "@A1", amount: -100, currency: "USD" },
      ]),
    },
    { weight: 1, arbitrary: fc.array(posting, { minLength: 0, maxLength: 3 }) },
  ),
  description: maybe(mostly(["paid"], ["x".repeat(501), "nul\u0000"])),
  metadata: maybe(mostly<unknown>([{ order: 1 }], [[], "m"])),
  payment_intent_id: maybe(mostly(["pi_1"], [""])),
}, { requiredKeys: ["idempotency_key", "postings"] });

const event = fc.record({
  id: idemKey,
  customer_id: customer,
  feature,
  value: maybe(quantity),
  timestamp: maybe(mostly(["2026-01-15T11:00:00Z", "2026-01-15T11:00:00+02:00"], ["yesterday"])),
  properties: rarely(properties, 5, undefined),
}, { requiredKeys: ["id", "customer_id", "feature"] });
const eventsBody = fc.record({ events: fc.array(event, { minLength: 0, maxLength: 3 }) });

const drop = (value: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));

const bodyText = (arb: fc.Arbitrary<Record<string, unknown>>) =>
  fc.oneof(
    { weight: 20, arbitrary: arb.map((b) => JSON.stringify(drop(b))) },
    { weight: 1, arbitrary: fc.constantFrom("{bad", "", "[]", "null", '{"__proto__":{"x":1}}') },
  );

/** A request of `path` with `body`, with every kind of key, header and client around it. */
const requestOf = (pathAndBody: fc.Arbitrary<[string, string]>): fc.Arbitrary<Abstract> =>
  pathAndBody.chain(([path, body]) =>
    fc.record({
      path: fc.constant(path),
      body: fc.constant(body),
      key: mostly<string | null>(
        ["full", "full", "full", "usage_only", "ledger_only"],
        ["read_only", "publishable", "revoked", "unknown", "malformed", null],
      ),
      origin: fc.integer({ min: 0, max: 6 }).map((n) => n === 0),
      session: fc.boolean(),
      // What our SDK sends on every POST: keys reused across bodies (conflicts), equal to the body's
      // own key, fresh, and malformed (empty, over 255 characters).
      idempotencyKey: fc.oneof(
        { weight: 3, arbitrary: fc.constant(null) },
        { weight: 2, arbitrary: fc.constantFrom("h1", "h2", "h3") },
        { weight: 1, arbitrary: fc.constantFrom("k1", "k2", "k3") },
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 1_000_000_000 }).map((n) => `fresh-${n}`) },
        { weight: 1, arbitrary: fc.constantFrom("", "x".repeat(256), "x".repeat(255)) },
      ),
      repeat: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
      correlation: rarely(fc.constantFrom("corr-1", "bad id with spaces"), 3, null),
      // 60 addresses: a few wrong keys each over the run, under the throttle's 20 (the second test throttles)
      client: fc.integer({ min: 1, max: 60 }).map((n) => `10.0.0.${n}`),
      contentType: mostly<string | null>(["application/json"], [
        "application/json; charset=utf-8",
        "text/plain",
        null,
      ]),
    })
  );

const request: fc.Arbitrary<Abstract> = requestOf(fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constant("/v1/entitlements/check"), bodyText(checkBody)) },
  { weight: 2, arbitrary: fc.tuple(fc.constant("/v1/ledger/entries"), bodyText(ledgerBody)) },
  { weight: 2, arbitrary: fc.tuple(fc.constant("/v1/events"), bodyText(eventsBody)) },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom("/v1/entitlements/check?x=1", "/v1/entitlements/check/"),
      bodyText(checkBody),
    ),
  },
));

/** Keys of batch entries: many fresh ones (posted), some reused (replays, conflicts), a few invalid. */
const entryKey = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 400 }).map((n) => `b${n}`) },
  { weight: 1, arbitrary: idemKey },
);
/**
 * An entry of a batch: mostly a valid one; the single route's bodies (valid, doubtful, invalid), and
 * now and then one naming its accounts by name.
 */
const batchEntry = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      idempotency_key: entryKey,
      description: maybe(fc.constant("paid")),
      postings: fc.constant([
        { account_id: "@A0", amount: 100, currency: "USD" },
        { account_id: "@A1", amount: -100, currency: "USD" },
      ]),
      payment_intent_id: maybe(fc.constant("pi_2")),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(ledgerBody, entryKey).map(([body, key]) => ({ ...body, idempotency_key: key })),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      idempotency_key: entryKey,
      postings: fc.constant([
        { account_id: "A0", amount: 25, currency: "USD" },
        { account_id: "A1", amount: -25, currency: "USD" },
      ]),
    }),
  },
);
/** Batch bodies: valid, with an entry the lane doubts (metadata), with an invalid entry, malformed. */
const batchBody = fc.record({
  entries: fc.oneof(
    { weight: 12, arbitrary: fc.array(batchEntry, { minLength: 1, maxLength: 6 }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>([], "no", [null]) },
  ),
  extra: rarely(fc.constant(1), 12, undefined),
});
const batchRequest = requestOf(fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constant("/v1/ledger/entries/batch"), bodyText(batchBody)) },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom("/v1/ledger/entries/batch?x=1", "/v1/ledger/entries/batch/"),
      bodyText(batchBody),
    ),
  },
));

/** Sends `r` to a world; the answer with its ids made comparable. */
async function send(w: World, r: Abstract) {
  const headers: Record<string, string> = { "x-test-client": r.client };
  if (r.key !== null) headers.authorization = `Bearer ${w.keys[r.key]}`;
  if (r.origin) headers.origin = ORIGIN;
  if (r.session) Object.assign(headers, w.session);
  if (r.idempotencyKey !== null) headers["idempotency-key"] = r.idempotencyKey;
  if (r.correlation !== null) headers["x-request-id"] = r.correlation;
  if (r.contentType !== null) headers["content-type"] = r.contentType;
  const body = r.body.replace(/@A[0-9X]/g, (name) => w.accounts[name.slice(1)]);
  const res = await w.env.app.request(r.path, { method: "POST", headers, body });
  return {
    status: res.status,
    headers: comparableHeaders(res.headers),
    body: comparable(await res.text(), w),
  };
}

/** `text` with the world's own ids (request ids, TypeIDs, keys) replaced by placeholders. */
function comparable(text: string, w: World): string {
  let out = text;
  for (const [name, id] of Object.entries(w.accounts)) out = out.replaceAll(id, `<${name}>`);
  return out
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")
    .replace(/\b[a-z]{2,8}_[0-9a-z]{26}\b/g, "<id>")
    // The two worlds' throttle windows start a few ms apart, so a countdown may straddle a second.
    .replace(/retry after \d+ s/g, "retry after <s> s");
}

function comparableHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    out[name] = name === "x-request-id"
      ? "<uuid>"
      : name === "ratelimit-reset" || name === "retry-after"
      ? "<s>"
      : value;
  }
  return out;
}

/** Rows of the tables the three routes write, ids made comparable. */
async function storedState(w: World) {
  const rows = async (sql: string) =>
    comparable(JSON.stringify((await w.env.database.client.execute(sql)).rows), w);
  return {
    counts: await snapshotCounts(w.env),
    usage: await rows("select id, feature, value, properties from usage_events order by id"),
    entries: await rows(
      "select idempotency_key, description, metadata from ledger_entries order by idempotency_key",
    ),
    answers: await rows(
      "select idempotency_key, request, status, body from idempotent_requests order by idempotency_key",
    ),
  };
}

/** The counters (not the durations) of the metrics text. */
async function counters(w: World): Promise<string[]> {
  return (await w.metrics.render()).split("\n")
    .filter((l) =>
      /^billing_(http_requests_total|entitlement_checks_total)/.test(l) && !l.includes("/v1/admin")
    )
    .sort();
}

const requestLogs = (w: World) =>
  w.logs.filter((l) => l.msg === "request").map(({ request_id: _, duration_ms: __, ...rest }) => rest);

Deno.test("fast lane vs full chain: 600 generated requests answer alike; rows, metrics and logs agree", async () => {
  const lane = await world(true);
  const chain = await world(false);
  try {
    const requests = fc.sample(request, { numRuns: 600, seed: SEED });
    const outcomes = { replayed: 0, reused: 0, invalidKey: 0, mismatch: 0 };
    for (const [i, r] of requests.entries()) {
      for (const round of r.repeat ? [1, 2] : [1]) {
        const a = await send(lane, r);
        const b = await send(chain, r);
        assert.deepEqual(a, b, `request ${i}/${round} (seed ${SEED}): ${JSON.stringify(r)}`);
        if (r.idempotencyKey === null) continue;
        if (a.headers["idempotent-replayed"] === "true") outcomes.replayed++;
        if (a.body.includes('"code":"idempotency_key_reused"')) outcomes.reused++;
        if (a.body.includes('"path":"header.idempotency-key"')) outcomes.invalidKey++;
        if (a.body.includes('"code":"idempotency_key_mismatch"')) outcomes.mismatch++;
      }
    }
    // Every outcome of the Idempotency-Key rules occurred (and agreed) more than a few times.
    for (const [name, n] of Object.entries(outcomes)) assert.ok(n >= 10, `${name}: ${n} times`);
    assert.deepEqual(await storedState(lane), await storedState(chain));
    assert.deepEqual(await counters(lane), await counters(chain));
    assert.deepEqual(requestLogs(lane), requestLogs(chain));
    const stats = laneStats(lane.env.app)!;
    assert.equal(laneStats(chain.env.app), undefined, "fastLane: false has no lane");
    // The comparison means something only if the lane answered a good share itself.
    assert.ok(stats.handled >= 100, `lane answered ${stats.handled}, fell through ${stats.fellThrough}`);
    assert.ok(stats.fellThrough >= 100, `lane answered ${stats.handled}, fell through ${stats.fellThrough}`);
    // ...and a good share of those with an Idempotency-Key (what the SDK sends on every POST).
    assert.ok(
      stats.keyed >= 100,
      `lane answered ${stats.keyed} requests with an Idempotency-Key ${JSON.stringify(outcomes)}`,
    );
  } finally {
    await lane.env.close();
    await chain.env.close();
  }
});

Deno.test("fast lane vs full chain: 250 generated batches of entries answer alike; rows, metrics and logs agree", async () => {
  const lane = await world(true);
  const chain = await world(false);
  try {
    const requests = fc.sample(batchRequest, { numRuns: 250, seed: SEED });
    const outcomes = { posted: 0, replayed: 0, rejected: 0, invalid: 0, headerReplay: 0 };
    for (const [i, r] of requests.entries()) {
      for (const round of r.repeat ? [1, 2] : [1]) {
        const a = await send(lane, r);
        const b = await send(chain, r);
        assert.deepEqual(a, b, `batch ${i}/${round} (seed ${SEED}): ${JSON.stringify(r)}`);
        if (a.status === 200 && a.body.startsWith('{"posted"')) {
          const report = JSON.parse(a.body);
          outcomes.posted += report.posted;
          outcomes.replayed += report.replayed;
          outcomes.rejected += report.rejected;
        }
        if (a.body.includes('"code":"validation_failed"')) outcomes.invalid++;
        if (a.headers["idempotent-replayed"] === "true") outcomes.headerReplay++;
      }
    }
    // Every kind of answer occurred (and agreed) more than a few times.
    for (const [name, n] of Object.entries(outcomes)) {
      assert.ok(n >= 10, `${name}: ${n} times ${JSON.stringify(outcomes)}`);
    }
    assert.deepEqual(await storedState(lane), await storedState(chain));
    assert.deepEqual(await counters(lane), await counters(chain));
    assert.deepEqual(requestLogs(lane), requestLogs(chain));
    const stats = laneStats(lane.env.app)!;
    assert.ok(stats.handled >= 60, `lane answered ${stats.handled}, fell through ${stats.fellThrough}`);
    assert.ok(stats.fellThrough >= 60, `lane answered ${stats.handled}, fell through ${stats.fellThrough}`);
    assert.ok(stats.keyed >= 30, `lane answered ${stats.keyed} batches with an Idempotency-Key`);
  } finally {
    await lane.env.close();
    await chain.env.close();
  }
});

Deno.test("fast lane vs full chain: a batch of 1000 entries (repeats, an unknown account, metadata), its retry, and 1001 entries", async () => {
  const lane = await world(true);
  const chain = await world(false);
  try {
    // Entry `j` of the batch; position i sends entry j = i, except every 100th position repeats its
    // predecessor (same payload: a replay within the batch). Entry 500 names an unknown account and
    // four entries do not balance: refused each on its own.
    const entry = (j: number) => ({
      idempotency_key: `big-${j}`,
      ...(j % 7 === 0 ? { description: `entry ${j}` } : {}),
      ...(j % 13 === 0 ? { payment_intent_id: `pi_${j}` } : {}),
      postings: [
        { account_id: j === 500 ? "nowhere" : j % 2 === 0 ? "@A0" : "A0", amount: 100 + j, currency: "USD" },
        { account_id: "@A1", amount: j % 250 === 125 ? -99 - j : -100 - j, currency: "USD" },
      ],
    });
    const entries = Array.from({ length: 1000 }, (_, i) => entry(i % 100 === 99 ? i - 1 : i));
    const base: Abstract = {
      path: "/v1/ledger/entries/batch",
      key: "ledger_only",
      origin: false,
      session: false,
      idempotencyKey: null,
      repeat: false,
      correlation: null,
      client: "10.0.0.7",
      contentType: "application/json",
      body: JSON.stringify({ entries }),
    };
    const withMetadata = entries.map((e, i) =>
      i === 3
        ? { ...e, idempotency_key: "meta-3", metadata: { order: 3 } }
        : { ...e, idempotency_key: `m-${i}` }
    );
    const cases: Abstract[] = [
      base,
      base, // the retry: every posted entry replayed
      { ...base, idempotencyKey: "whole-batch", body: JSON.stringify({ entries: withMetadata }) },
      { ...base, idempotencyKey: "whole-batch", body: JSON.stringify({ entries: withMetadata }) },
      { ...base, body: JSON.stringify({ entries: [...entries, entries[0]] }) },
    ];
    const before = laneStats(lane.env.app)!.handled;
    const answers = [];
    for (const [i, r] of cases.entries()) {
      const a = await send(lane, r);
      const b = await send(chain, r);
      assert.deepEqual(a, b, `case ${i}`);
      answers.push(a);
    }
    const report = JSON.parse(answers[0].body);
    assert.deepEqual([report.posted, report.replayed, report.rejected], [985, 10, 5]);
    assert.equal(JSON.parse(answers[1].body).replayed, 995);
    assert.equal(JSON.parse(answers[2].body).posted, 995);
    assert.equal(answers[3].headers["idempotent-replayed"], "true");
    assert.equal(answers[4].status, 400);
    assert.equal(laneStats(lane.env.app)!.handled - before, 4, "the lane answered all but the 1001 entries");
    assert.deepEqual(await storedState(lane), await storedState(chain));
    assert.deepEqual(requestLogs(lane), requestLogs(chain));
  } finally {
    await lane.env.close();
    await chain.env.close();
  }
});

Deno.test("fast lane vs full chain: a body over the limit, a revoked key, 25 wrong keys from one address", async () => {
  const lane = await world(true);
  const chain = await world(false);
  try {
    const base: Abstract = {
      path: "/v1/entitlements/check",
      key: "full",
      origin: false,
      session: false,
      idempotencyKey: null,
      repeat: false,
      correlation: "corr-2",
      client: "10.0.0.9",
      contentType: "application/json",
      body: JSON.stringify({ customer_id: "c1", feature: "calls" }),
    };
    const huge = {
      ...base,
      body: JSON.stringify({ customer_id: "c1", feature: "calls", pad: "x".repeat(2_200_000) }),
    };
    const cases: Abstract[] = [base, huge, { ...base, key: "revoked" }];
    for (let i = 0; i < 25; i++) cases.push({ ...base, key: "unknown" });
    cases.push(base); // throttled address: 429 even with a valid key
    cases.push({ ...base, client: "10.0.0.8" });
    for (const [i, r] of cases.entries()) {
      const a = await send(lane, r);
      const b = await send(chain, r);
      assert.deepEqual(a, b, `case ${i}`);
    }
    const [first, again] = [await send(lane, base), await send(chain, base)];
    assert.equal(first.status, 429, "the address is throttled");
    assert.deepEqual(first, again);
    assert.deepEqual(await counters(lane), await counters(chain));
    assert.deepEqual(requestLogs(lane), requestLogs(chain));
    assert.ok(laneStats(lane.env.app)!.handled >= 2);
    for (const w of [lane, chain]) {
      const res = await w.env.app.request(base.path, {
        method: "POST",
        headers: {
          authorization: `Bearer ${w.keys.full}`,
          "content-type": "application/json",
          "x-test-client": base.client,
        },
        body: base.body,
      });
      await res.body?.cancel();
      const wait = Number(res.headers.get("retry-after"));
      assert.ok(res.status === 429 && wait >= 1 && wait <= 60, `429 with Retry-After ${wait}`);
    }
  } finally {
    await lane.env.close();
    await chain.env.close();
  }
});

Deno.test("fast lane: 50 concurrent clients consume 150 times against a hard limit of 100: exactly 100 allowed, 100 stored", async () => {
  const w = await world(true);
  try {
    const key = w.keys.full;
    const client = async (n: number) => {
      const answers: boolean[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await call(w.env, "POST", "/v1/entitlements/check", {
          key,
          body: { customer_id: "c1", feature: "calls", consume: 1, idempotency_key: `con-${n}-${i}` },
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        answers.push(res.body.allowed);
      }
      return answers;
    };
    const all = (await Promise.all(Array.from({ length: 50 }, (_, n) => client(n)))).flat();
    assert.equal(all.filter((a) => a).length, 100);
    assert.equal(all.filter((a) => !a).length, 50);
    const after = await call(w.env, "POST", "/v1/entitlements/check", {
      key,
      body: { customer_id: "c1", feature: "calls" },
    });
    assert.equal(after.body.used, 100);
    assert.equal(after.body.allowed, false);
    const stored = await w.env.database.client.execute(
      "select count(*) as n from usage_events where feature = 'calls'",
    );
    assert.equal(Number(stored.rows[0].n), 100);
    assert.ok(laneStats(w.env.app)!.handled >= 151, "every check took the lane");
  } finally {
    await w.env.close();
  }
});

Deno.test("fast lane: 50 concurrent clients send one ledger entry under one Idempotency-Key (SDK retries in flight): one entry, one stored answer, 50 answers naming it", async () => {
  const w = await world(true);
  try {
    const body = {
      idempotency_key: "in-flight-1",
      postings: [
        { account_id: w.accounts.A0, amount: 100, currency: "USD" },
        { account_id: w.accounts.A1, amount: -100, currency: "USD" },
      ],
    };
    const before = laneStats(w.env.app)!.keyed;
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        call(w.env, "POST", "/v1/ledger/entries", {
          key: w.keys.full,
          body,
          headers: { "idempotency-key": "in-flight-1" },
        })),
    );
    const ids = new Set(answers.map((a) => a.body.id));
    assert.equal(ids.size, 1, `one entry: ${[...ids].join(", ")}`);
    assert.ok(
      answers.every((a) => a.status === 201 || a.status === 200),
      answers.map((a) => a.status).join(),
    );
    assert.ok(answers.some((a) => a.status === 201), "one request created it");
    for (const a of answers.filter((a) => a.status === 200)) {
      assert.equal(a.headers.get("idempotent-replayed"), "true");
    }
    const count = async (sql: string) => Number((await w.env.database.client.execute(sql)).rows[0].n);
    assert.equal(
      await count("select count(*) as n from ledger_entries where idempotency_key = 'in-flight-1'"),
      1,
    );
    assert.equal(
      await count("select count(*) as n from idempotent_requests where idempotency_key = 'in-flight-1'"),
      1,
    );
    assert.equal(laneStats(w.env.app)!.keyed - before, 50, "every request took the lane");
    // A later retry is the stored answer of the first.
    const retry = await call(w.env, "POST", "/v1/ledger/entries", {
      key: w.keys.full,
      body,
      headers: { "idempotency-key": "in-flight-1" },
    });
    assert.equal(retry.headers.get("idempotent-replayed"), "true");
    assert.equal(retry.body.id, [...ids][0]);
  } finally {
    await w.env.close();
  }
});
