/**
 * `hashEvents` hashes each event's own payload (issue 14, ADR 0015 "Events, third pass"): it
 * computes one digest per run of consecutive events with the same payload text, so every event's
 * hash must still be the SHA-256 of the canonical JSON of its own five fields, on generated
 * batches where equal, nearly equal (`1` / `"1.0"`, keys in another order, another timestamp) and
 * different payloads follow each other.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { hashEvents, type UsageEventInput } from "../../src/usage/service.ts";
import { payloadHashSync } from "../../src/domain/hash.ts";
import { canonicalQuantity } from "../../src/domain/quantity.ts";

const event: fc.Arbitrary<UsageEventInput> = fc.record({
  id: fc.constantFrom("e1", "e2", "e3"),
  customer_id: fc.constantFrom("c1", "c1", "c2"),
  feature: fc.constantFrom("free", "free", "calls"),
  value: fc.constantFrom<UsageEventInput["value"]>(undefined, undefined, 1, "1", "1.0", 2, "0.5", "0.50"),
  timestamp: fc.constantFrom(undefined, undefined, new Date(1768474800000), new Date(1768474800001)),
  properties: fc.constantFrom<UsageEventInput["properties"]>(
    undefined,
    undefined,
    { a: 1, b: 2 },
    { b: 2, a: 1 },
    { a: 1, b: 3 },
  ),
});

/** The digest of one event alone: SHA-256 of `canonicalJson` of what the client sent. */
const alone = (e: UsageEventInput) =>
  payloadHashSync({
    customer_id: e.customer_id,
    feature: e.feature,
    value: canonicalQuantity(e.value ?? 1),
    timestamp: e.timestamp ? e.timestamp.getTime() : null,
    properties: e.properties ?? null,
  });

Deno.test("hashEvents(): every event's hash is its own payload's, in batches of repeated and changing payloads", async () => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      // runs of a repeated event, so that equal payloads follow each other as in real batches
      fc.array(fc.tuple(event, fc.integer({ min: 1, max: 4 })), { minLength: 1, maxLength: 40 }),
      async (parts) => {
        const events = parts.flatMap(([e, n]) => Array.from({ length: n }, () => ({ ...e })));
        const hashed = await hashEvents(events);
        assert.equal(hashed.length, events.length);
        for (const [i, h] of hashed.entries()) {
          assert.equal(h.input, events[i]);
          assert.equal(h.hash, alone(events[i]), `event ${i}`);
        }
        runs += parts.filter(([, n]) => n > 1).length;
      },
    ),
    { numRuns: 1000, seed: 1416 },
  );
  assert.ok(runs >= 1000, `${runs} runs of repeated payloads`);
});
