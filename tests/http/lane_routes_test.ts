import assert from "node:assert/strict";
import fc from "fast-check";
import { entriesInput, entryInput } from "../../src/http/lane_routes.ts";
import { CreateEntriesBody, CreateEntryBody } from "../../src/ledger/schemas.ts";
import { MAX_ENTRIES_PER_REQUEST } from "../../src/domain/ledger.ts";

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

/** A valid entry `i` of the common shape (what batch clients send). */
const plainEntry = (i: number) => ({
  idempotency_key: `order_${i}`,
  postings: [
    { account_id: "cash", amount: 100 + i, currency: "USD" },
    { account_id: "revenue", amount: -100 - i, currency: "USD" },
  ],
});

/** Batch bodies: many valid entries with now and then one the lane doubts (metadata) or the schema refuses. */
const batch = fc.record({
  entries: fc.oneof(
    {
      weight: 6,
      arbitrary: fc.array(
        fc.oneof(
          { weight: 40, arbitrary: fc.nat(1000).map(plainEntry) },
          { weight: 3, arbitrary: body },
          // valid, but the lane leaves metadata to the schema
          { weight: 1, arbitrary: fc.nat(1000).map((i) => ({ ...plainEntry(i), metadata: { order: i } })) },
        ),
        { minLength: 1, maxLength: 40 },
      ),
    },
    fc.constantFrom<unknown>([], null, "entries", {}, [null], [[]]),
  ),
  other: maybe(fc.constant(true), 12),
}).map((b) => Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)));

Deno.test("entriesInput() answers only where CreateEntriesBody accepts, with the data the schema parses", () => {
  let answered = 0;
  let doubted = 0;
  fc.assert(
    fc.property(fc.oneof({ weight: 8, arbitrary: batch }, fc.anything({ maxDepth: 3 })), (value) => {
      const quick = entriesInput(value);
      const parsed = CreateEntriesBody.safeParse(value);
      if (quick === undefined) {
        if (parsed.success) doubted++;
        return;
      }
      answered++;
      assert.ok(parsed.success, JSON.stringify(value));
      assert.deepEqual(quick, parsed.data);
    }),
    { seed: 17, numRuns: 1500 },
  );
  // Both sides of the comparison occurred: bodies the fast path took, and valid ones it left to zod.
  assert.ok(answered >= 300, `the fast path answered ${answered} bodies`);
  assert.ok(doubted >= 20, `the fast path left ${doubted} valid bodies to the schema`);
});

Deno.test("entriesInput() takes 1000 common entries, and leaves 1001, an empty list and metadata to the schema", () => {
  const entries = Array.from({ length: MAX_ENTRIES_PER_REQUEST }, (_, i) => plainEntry(i));
  const quick = entriesInput({ entries });
  assert.equal(quick?.entries.length, 1000);
  assert.deepEqual(quick, CreateEntriesBody.parse({ entries }));
  assert.equal(entriesInput({ entries: [...entries, plainEntry(1000)] }), undefined);
  assert.equal(entriesInput({ entries: [] }), undefined);
  assert.equal(entriesInput({ entries, extra: 1 }), undefined);
  const withMetadata = entries.map((e, i) => i === 999 ? { ...e, metadata: { order: 1 } } : e);
  assert.equal(entriesInput({ entries: withMetadata }), undefined);
  assert.equal(CreateEntriesBody.safeParse({ entries: withMetadata }).success, true);
  assert.equal(entriesInput(JSON.parse('{"__proto__":{},"entries":[]}')), undefined);
});
