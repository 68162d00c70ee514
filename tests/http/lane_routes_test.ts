import assert from "node:assert/strict";
import fc from "fast-check";
import { entryInput } from "../../src/http/lane_routes.ts";
import { CreateEntryBody } from "../../src/ledger/schemas.ts";

/** Values near every rule of `CreateEntryBody`: valid ones, and just outside each bound. */
const text = (max: number) =>
  fc.oneof(
    fc.string({ minLength: 1, maxLength: 12 }),
    fc.constantFrom("", "x".repeat(max), "x".repeat(max + 1), "é\u2028", "a b", "__proto__"),
  );
const key = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,20}$/), text(128));
const amount = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.constantFrom(0, -0, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, NaN, Infinity),
  fc.constantFrom("100", null, true),
);
/** Absent `absent` times in `absent + 1`, else a value from `arbitrary`. */
const maybe = <T>(arbitrary: fc.Arbitrary<T>, absent = 1) =>
  fc.oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });
/** Mostly what the schema accepts; now and then a value, a field or a shape it refuses. */
const posting = fc.tuple(
  fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[a-z_]{1,12}$/) }, text(128)),
  fc.oneof({ weight: 4, arbitrary: fc.integer({ min: -1_000_000, max: 1_000_000 }) }, amount),
  fc.oneof({ weight: 4, arbitrary: fc.constant("USD") }, fc.constantFrom("EUR", "usd", "US", "USDX", 840)),
  maybe(fc.constant(1), 10),
).map(([account_id, amount, currency, extra]) =>
  extra === undefined ? { account_id, amount, currency } : { account_id, amount, currency, extra }
);
const body = fc.record({
  idempotency_key: fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,20}$/) }, key),
  description: maybe(fc.oneof(text(500), fc.constant(7))),
  postings: fc.oneof(
    { weight: 6, arbitrary: fc.array(posting, { minLength: 2, maxLength: 4 }) },
    fc.array(posting, { maxLength: 1 }),
    fc.constant("no"),
  ),
  metadata: maybe(fc.constant({ order: "1" }), 8),
  payment_intent_id: maybe(text(200)),
  refund_id: maybe(text(200), 4),
  payout_id: maybe(text(200), 4),
  dispute_id: maybe(text(200), 4),
  other: maybe(fc.constant(true), 10),
}).map((b) => Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)));

Deno.test("entryInput() answers only where CreateEntryBody accepts, with the data the schema parses", () => {
  let answered = 0;
  fc.assert(
    fc.property(fc.oneof(body, fc.anything({ maxDepth: 2 })), (value) => {
      const quick = entryInput(value);
      if (quick === undefined) return;
      answered++;
      const parsed = CreateEntryBody.safeParse(value);
      assert.ok(parsed.success, JSON.stringify(value));
      assert.deepEqual(quick, parsed.data);
    }),
    { seed: 14, numRuns: 4000 },
  );
  // The comparison above is only as good as the share of bodies the fast path took.
  assert.ok(answered >= 100, `the fast path answered ${answered} bodies`);
});

Deno.test("entryInput() takes the common two-posting body and leaves metadata to the schema", () => {
  const entry = {
    idempotency_key: "order_1042_paid",
    postings: [
      { account_id: "cash", amount: 2500, currency: "USD" },
      { account_id: "revenue", amount: -2500, currency: "USD" },
    ],
    payment_intent_id: "pi_1",
  };
  assert.deepEqual(entryInput(entry), CreateEntryBody.parse(entry));
  assert.equal(entryInput({ ...entry, metadata: { a: 1 } }), undefined);
  assert.equal(entryInput({ ...entry, postings: entry.postings.slice(1) }), undefined);
});
