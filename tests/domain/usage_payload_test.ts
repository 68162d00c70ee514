/**
 * The ingestion path's shortcuts are exact (issue 14, ADR 0015): the event payload text equals the
 * generic canonical JSON of the same five fields (so the stored hashes of earlier events still
 * match their retries), the integer quantity shortcut equals the decimal parser, and batch TypeIDs
 * are TypeIDs `typeid-js` reads, increasing in the order issued.
 */
import assert from "node:assert/strict";
import { TypeID } from "typeid-js";
import { canonicalJson, payloadHashSync } from "../../src/domain/hash.ts";
import { eventQuantity, usagePayloadHash, usagePayloadText } from "../../src/domain/usage_payload.ts";
import { canonicalQuantity, parseQuantity, splitQuantity } from "../../src/domain/quantity.ts";
import { DecimalError } from "../../src/domain/decimal.ts";
import { newIds } from "../../src/domain/ids.ts";

Deno.test("usagePayloadText() is canonicalJson() of the five hashed fields, for every shape a client sends", () => {
  const properties: (Record<string, unknown> | null)[] = [
    null,
    {},
    { model: "m-large", tokens: 12 },
    { z: 1, a: { d: [3, { y: undefined, x: 2 }], c: 'é \u2028 "q"' }, "": 0, é: 1, Z: 2 },
    { skipped: undefined },
  ];
  const ids = ["user_42", 'we"ird\\id', "cus_01jd0000000000000000000000", "ü"];
  const values = [0, 1, 12345678901, "0.25", "0.000000000001"];
  const timestamps = [null, 0, Date.UTC(2026, 0, 1, 12, 30, 15, 250)];
  let n = 0;
  for (const customer_id of ids) {
    for (const value of values) {
      for (const timestamp of timestamps) {
        for (const p of properties) {
          const payload = { customer_id, feature: "api_calls", value, timestamp, properties: p };
          assert.equal(usagePayloadText(payload), canonicalJson(payload));
          assert.equal(usagePayloadHash(payload), payloadHashSync(payload));
          n++;
        }
      }
    }
  }
  assert.equal(n, 300);
});

Deno.test("eventQuantity() reads integers as the decimal parser does and leaves the rest to it", () => {
  for (const input of [0, -0, 1, 7, 2 ** 40, Number.MAX_SAFE_INTEGER, "3", "0.50", 0.25, "1e2", 1.5]) {
    const q = eventQuantity(input);
    const d = parseQuantity(input);
    assert.equal(q.value, d, String(input));
    assert.deepEqual(q.canonical, canonicalQuantity(input), String(input));
    assert.deepEqual({ whole: q.whole, frac: q.frac }, splitQuantity(d), String(input));
    assert.ok(!Object.is(q.whole, -0));
  }
  for (const bad of [-1, Number.MAX_SAFE_INTEGER + 1, 1e30, "abc", "0.0000000000001", NaN]) {
    assert.throws(() => eventQuantity(bad), DecimalError, String(bad));
    assert.throws(() => parseQuantity(bad), DecimalError, String(bad));
  }
});

Deno.test("newIds(): 1000-id batches are TypeIDs of the prefix, UUIDv7, unique and increasing across batches", () => {
  const before = Date.now();
  const batches = Array.from({ length: 20 }, () => newIds("evt", 1000));
  const after = Date.now();
  const all = batches.flat();
  assert.equal(all.length, 20_000);
  assert.equal(new Set(all).size, all.length);
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1] < all[i], `${all[i - 1]} < ${all[i]}`);
  for (const id of [all[0], all[999], all[12_345], all[19_999]]) {
    const parsed = TypeID.fromString(id);
    assert.equal(parsed.getType(), "evt");
    assert.equal(parsed.toString(), id);
    const uuid = parsed.toUUID();
    assert.equal(uuid[14], "7", uuid); // version 7
    assert.ok("89ab".includes(uuid[19]), uuid); // RFC 9562 variant
    const ms = parseInt(uuid.replaceAll("-", "").slice(0, 12), 16);
    assert.ok(ms >= before && ms <= after + 1, `${ms} within [${before}, ${after}]`);
  }
  assert.deepEqual(newIds("evt", 0), []);
  assert.throws(() => newIds("evt", -1), RangeError);
});
