/**
 * `POST /v1/events` in the fast lane (`eventsInput` in `src/http/lane_routes.ts`, ADR 0015 "Events,
 * third pass") against the route's zod schema and the full chain, on generated bodies (fast-check,
 * fixed seeds): valid and near-valid events (wrong types, missing and extra fields, NUL, huge and
 * negative numbers, decimal strings, `-0`, `1e400`, bad and leap-day timestamps, `__proto__` keys,
 * properties at and past their bounds, ids repeated inside a batch and across batches, batches of
 * 0, 1000 and 1001 events).
 *
 * 1. The validator against `IngestBody` directly: it accepts a body exactly when the schema does
 *    (a body whose `properties` hold a `__proto__` key aside: the lane leaves those to the schema,
 *    whose record copy drops the key), and then gives the events the route hands to the service.
 * 2. Two worlds, one app with the lane and one without, receive the same 1000 generated requests:
 *    same status, body and headers, then the same stored usage rows and table counts.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { call, snapshotCounts, tenant, type TestEnv, testEnv } from "../helpers.ts";
import { laneStats } from "../../src/http/fast_lane.ts";
import { eventsInput } from "../../src/http/lane_routes.ts";
import { IngestBody } from "../../src/usage/schemas.ts";

const SEED = 1415;

// ---- generated bodies, as JSON text (a few tokens only raw text can carry: -0, 1e400, __proto__) ----

/** A JSON token written as is into the text (`JSON.stringify` cannot write `-0` or `1e400`). */
const raw = (token: string) => `@@raw:${token}@@`;
/** The JSON text of `value`, each {@link raw} token put in place. */
const text = (value: unknown) =>
  JSON.stringify(value).replace(/"@@raw:(?:[^"\\]|\\.)*?@@"/g, (literal) => JSON.parse(literal).slice(6, -2));

/** A field's values: well-formed ones, and near misses (the schema refuses most, not all). */
interface Field {
  good: unknown[];
  bad: unknown[];
}
const oneOf = (good: unknown[], bad: unknown[]): Field => ({ good, bad });

const id = oneOf(
  ["e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "run.1", "a:b-c_d"],
  ["", "bad id", "x".repeat(129), "x".repeat(128), 5, null, "é", "e\u00001", ["e1"], raw("1e400")],
);
const customer = oneOf(["c1", "c1", "c2", "nobody"], [
  "",
  "x".repeat(129),
  "x".repeat(128),
  5,
  null,
  "c\u00001",
  "c 1",
  {},
]);
const feature = oneOf(["calls", "free", "free", "soft", "missing"], ["bad feature", 3, "", true]);
const quantity = oneOf([1, 1, 2, 7, "0.25", 3.75, 1000], [
  0,
  -1,
  raw("-0"),
  raw("1e400"),
  raw("-1e400"),
  raw("1.0"),
  raw("1E2"),
  2 ** 53,
  2 ** 53 - 1,
  9007199254740993,
  1e21,
  0.1 + 0.2,
  1.5e-7,
  "abc",
  "1e3",
  "00012",
  " 1",
  "1.000000000000",
  "0.0000000000001",
  "0.000000000001",
  "1".repeat(40),
  "1".repeat(41),
  "9007199254740991.999999999999",
  "9007199254740992",
  "-0",
  "",
  true,
  null,
  [1],
]);
const timestamp = oneOf(
  [
    "2026-01-15T11:00:00Z",
    "2026-01-15T11:00:00+02:00",
    "2026-01-15T11:59:59.999Z",
    "2026-01-14T23:00:00-05:00",
    "2026-01-16T00:00:00Z", // well-formed, in the future: refused by the service
  ],
  [
    "2024-02-29T00:00:00Z",
    "2026-02-29T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-01-15T11:00:00",
    "2026-01-15 11:00:00Z",
    "2026-01-15T11:00Z",
    "2026-01-15T11:00:00.123456789Z",
    "2026-01-15T24:00:00Z",
    "2026-01-15T11:00:00z",
    "2026-01-15T11:00:00+24:00",
    "2027-06-01T00:00:00Z",
    "2025-01-01T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "yesterday",
    "",
    1768474800000,
    null,
  ],
);
const fiftyKeys = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
const properties = oneOf(
  [{ model: "m" }, { a: [1, "x", null] }, {}, { "1": 1, b: 2, a: { z: 1, y: [2] } }, {
    "ключ": "значение 😀",
  }],
  [
    [],
    "text",
    null,
    { a: { b: { c: { d: { e: 1 } } } } },
    { a: { b: { c: { d: { e: { f: 1 } } } } } },
    { ["k".repeat(64)]: 1 },
    { ["k".repeat(65)]: 1 },
    { n: "\u0000" },
    raw('{"__proto__":{"x":1},"a":1}'),
    raw('{"a":{"__proto__":1}}'),
    { constructor: 1 },
    fiftyKeys,
    { ...fiftyKeys, extra: 1 },
    { big: "x".repeat(4086) },
    { big: "x".repeat(4087) },
  ],
);

/** `arb` once in `n` draws, else absent (`n` = 0: never). */
const once = <T>(arb: fc.Arbitrary<T>, n: number): fc.Arbitrary<T | undefined> =>
  n === 0 ? fc.constant(undefined) : fc.oneof({ weight: 1, arbitrary: arb }, {
    weight: n - 1,
    arbitrary: fc.constant(undefined),
  });
/** An event whose fields are drawn by `pick` (each field's good values, or good and bad ones); `required` always present. */
const eventOf = (pick: (f: Field) => fc.Arbitrary<unknown>, odd: number, required: string[]) =>
  fc.record({
    // mostly fresh ids (new events), else ids of a small pool (retries, conflicting reuses)
    id: fc.oneof(
      pick(id),
      fc.integer({ min: 1, max: 1e9 }).map((n) => `f${n}`),
      fc.nat(1e9).map((n) => `g${n}`),
    ),
    customer_id: pick(customer),
    feature: pick(feature),
    value: fc.option(pick(quantity), { nil: undefined, freq: 2 }),
    timestamp: fc.option(pick(timestamp), { nil: undefined, freq: 2 }),
    properties: fc.option(pick(properties), { nil: undefined, freq: 4 }),
    extra: once(fc.constantFrom<unknown>(1, raw('"x"')), odd),
    proto: once(fc.constant(true), odd),
  }, { requiredKeys: required as "id"[] }).map(({ proto, ...e }) => {
    const out: Record<string, unknown> = Object.fromEntries(
      Object.entries(e).filter(([, v]) => v !== undefined),
    );
    return proto ? { ...out, ["@@proto@@"]: 1 } : out;
  });
/** Seven in eight events well-formed (any good value of each field, every optional field or not), else anything. */
const event = fc.oneof(
  { weight: 7, arbitrary: eventOf((f) => fc.constantFrom(...f.good), 0, ["id", "customer_id", "feature"]) },
  {
    weight: 1,
    arbitrary: eventOf(
      (f) =>
        fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...f.good) }, {
          weight: 1,
          arbitrary: fc.constantFrom(...f.bad),
        }),
      8,
      [], // now and then a required field missing
    ),
  },
);

/** A 1000-event (or 1001-event) batch: unique ids of one run, one of them reused now and then. */
const bigBatch = fc.record({
  run: fc.integer({ min: 1, max: 1_000_000 }),
  size: fc.constantFrom(1000, 1000, 1000, 1001),
  value: fc.constantFrom<unknown>(1, "0.5", 2),
  repeatAt: fc.option(fc.integer({ min: 1, max: 999 }), { nil: undefined }),
}).map(({ run, size, value, repeatAt }) =>
  Array.from({ length: size }, (_, i) => ({
    id: `big-${run}-${repeatAt !== undefined && i === repeatAt ? 0 : i}`,
    customer_id: i % 7 === 0 ? "c2" : "c1",
    feature: "free",
    value,
  }))
);

const eventsBody: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 40,
    arbitrary: fc.array(event, { minLength: 1, maxLength: 4 }).map((events) => text({ events })),
  },
  { weight: 2, arbitrary: bigBatch.map((events) => text({ events })) },
  {
    weight: 3,
    arbitrary: fc.array(event, { minLength: 0, maxLength: 2 }).chain((events) =>
      fc.constantFrom(
        text({ events }),
        text({ events, extra: 1 }),
        text({ events: events[0] ?? {} }),
        text({ events: null }),
        text({}),
        text([{ events }]),
        "null",
        "{bad",
        `{"__proto__":{"x":1},"events":${text(events)}}`,
        `{"events":${text(events)},"events":[]}`,
      )
    ),
  },
).map((body) => body.replaceAll('"@@proto@@":1', '"__proto__":1'));

// ---- 1. the validator against the schema ----

/** The events the route hands to `recordUsage` from a body the schema accepted. */
function routeEvents(body: unknown) {
  const parsed = IngestBody.safeParse(body);
  if (!parsed.success) return null;
  return parsed.data.events.map((e) => ({
    ...e,
    timestamp: e.timestamp ? new Date(e.timestamp) : undefined,
  }));
}

/** An event's fields as the service reads them (absent and `undefined` alike). */
const fields = (e: object) =>
  ["id", "customer_id", "feature", "value", "timestamp", "properties"].map((k) =>
    (e as Record<string, unknown>)[k]
  );

/** Whether a `properties` object of the body has a `__proto__` key (the lane leaves those to the schema). */
const protoProperties = (body: unknown) =>
  Array.isArray((body as { events?: unknown })?.events) &&
  (body as { events: unknown[] }).events.some((e) => {
    const p = (e as { properties?: unknown } | null)?.properties;
    return typeof p === "object" && p !== null && Object.keys(p).includes("__proto__");
  });

Deno.test("eventsInput accepts exactly the bodies IngestBody accepts and gives the route's events (3000 generated bodies)", () => {
  let accepted = 0;
  let refused = 0;
  fc.assert(
    fc.property(eventsBody, (body) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return; // malformed JSON never reaches a validator
      }
      const lane = eventsInput(parsed);
      const route = routeEvents(parsed);
      if (lane === null) {
        refused++;
        assert.ok(
          route === null || protoProperties(parsed),
          `the lane refused what the schema accepts: ${body}`,
        );
        return;
      }
      accepted++;
      assert.ok(route !== null, `the lane accepted what the schema refuses: ${body}`);
      assert.deepEqual(lane.map(fields), route.map(fields), body);
    }),
    { numRuns: 3000, seed: SEED },
  );
  // Both outcomes were exercised in numbers (the generator is neither all-valid nor all-invalid).
  assert.ok(accepted >= 500 && refused >= 500, `accepted ${accepted}, refused ${refused}`);
});

// ---- 2. lane on vs off over the app ----

interface World {
  env: TestEnv;
  key: string;
}

async function world(fastLane: boolean): Promise<World> {
  const env = await testEnv({ app: { fastLane } });
  const t = await tenant(env, "events-lane");
  const key = t.secret_key;
  const ok = async (path: string, body: unknown) => {
    const res = await call(env, "POST", path, { key, body });
    assert.equal(res.status, 201, `${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const plan = await ok("/v1/plans", {
    key: "lane",
    name: "Lane",
    currency: "USD",
    interval: "month",
    features: [
      { key: "calls", type: "metered", limit: 100, aggregation: "sum" },
      { key: "soft", type: "metered", limit: 10, soft_limit: true, aggregation: "sum" },
      { key: "free", type: "metered", limit: null, aggregation: "sum" },
    ],
  });
  await ok("/v1/customers", { external_id: "c1" });
  await ok("/v1/customers", { external_id: "c2" });
  await ok("/v1/subscriptions", { customer_id: "c1", plan_id: plan.id });
  return { env, key };
}

async function send(w: World, body: string) {
  const res = await w.env.app.request("/v1/events", {
    method: "POST",
    headers: { authorization: `Bearer ${w.key}`, "content-type": "application/json" },
    body,
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of res.headers) headers[name] = name === "x-request-id" ? "<uuid>" : value;
  const answer = (await res.text()).replace(
    /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
    "<uuid>",
  );
  return { status: res.status, headers, body: answer };
}

/** Every stored usage row (customers by external id; the row's own TypeID left out), and the table counts. */
async function stored(w: World) {
  const rows = await w.env.database.client.execute(
    `select e.event_id, c.external_id, e.feature, e.value, e.value_frac, typeof(e.value) as tv,
            e.timestamp, e.properties, typeof(e.properties) as tp, e.payload_hash, e.created_at
       from usage_events e left join customers c on c.id = e.customer_id
      order by e.event_id`,
  );
  return { rows: JSON.stringify(rows.rows), counts: await snapshotCounts(w.env) };
}

Deno.test("fast lane vs full chain on POST /v1/events: 1000 generated bodies answer alike and store the same rows", async () => {
  const lane = await world(true);
  const chain = await world(false);
  try {
    const bodies = fc.sample(eventsBody, { numRuns: 1000, seed: SEED });
    const outcomes: Record<string, number> = {
      '"code":"idempotency_key_reused"': 0,
      '"code":"customer_not_found"': 0,
      '"code":"timestamp_in_future"': 0,
      '"code":"validation_failed"': 0,
    };
    let duplicates = 0;
    for (const [i, body] of bodies.entries()) {
      // one body in five sent twice in a row: the second is a client's retry
      for (const round of i % 5 === 0 ? [1, 2] : [1]) {
        const a = await send(lane, body);
        const b = await send(chain, body);
        assert.deepEqual(a, b, `request ${i}/${round} (seed ${SEED}): ${body.slice(0, 2000)}`);
        for (const code of Object.keys(outcomes)) if (a.body.includes(code)) outcomes[code]++;
        if (/"duplicates":[1-9]/.test(a.body)) duplicates++;
      }
    }
    // Retries, conflicting reuses, refusals and validation problems all occurred (and agreed).
    for (const [code, n] of Object.entries({ ...outcomes, duplicates })) {
      assert.ok(n >= 10, `${code}: ${n} answers`);
    }
    const [s1, s2] = [await stored(lane), await stored(chain)];
    assert.deepEqual(s1, s2);
    assert.ok(s1.counts.usage_events >= 1000, `stored ${s1.counts.usage_events} events`);
    const stats = laneStats(lane.env.app)!;
    assert.ok(stats.handled >= 300, `lane answered ${stats.handled}, fell through ${stats.fellThrough}`);
    assert.ok(stats.fellThrough >= 200, `lane answered ${stats.handled}, fell through ${stats.fellThrough}`);
  } finally {
    await lane.env.close();
    await chain.env.close();
  }
});
