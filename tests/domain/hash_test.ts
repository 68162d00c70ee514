import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalJson, payloadHash, sha256HexSync } from "../../src/domain/hash.ts";

/** The recursive serializer canonicalJson() replaced, kept here as the reference at small depths. */
function reference(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => reference(v === undefined ? null : v)).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(",")}}`;
}

Deno.test("canonicalJson() sorts keys at every depth and matches the recursive form it replaced", () => {
  const samples: unknown[] = [
    null,
    0,
    -1.5,
    'text \u2028 "quoted"',
    true,
    [],
    {},
    [1, undefined, "x", [null, {}]],
    { b: 1, a: { d: [3, { z: 1, y: undefined, x: 2 }], c: "é" }, "": 0, é: 1, Z: 2 },
    { when: new Date("2026-01-01T00:00:00Z") },
  ];
  for (const sample of samples) {
    assert.equal(canonicalJson(sample), reference(sample), JSON.stringify(sample));
  }
  assert.equal(canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }] }), '{"a":[2,{"c":2,"d":1}],"b":1}');
  assert.equal(canonicalJson({ b: 1, a: 2 }), canonicalJson({ a: 2, b: 1 }));
});

Deno.test("canonicalJson() matches the reference on generated values, across the recursion depth boundary", () => {
  fc.assert(
    fc.property(fc.anything({ maxDepth: 4, withDate: true, withNullPrototype: true }), (value) => {
      assert.equal(canonicalJson(value), reference(value));
    }),
    { seed: 14, numRuns: 500 },
  );
  // Unsorted objects and arrays from 60 to 70 levels deep: where the recursive form hands over
  // to the work stack (64 levels), the text must not change.
  for (let depth = 60; depth <= 70; depth++) {
    let deep: unknown = { z: [1, undefined, "x"], a: { y: 2, b: undefined } };
    for (let i = 0; i < depth; i++) deep = i % 2 === 0 ? { q: deep, c: i } : [i, deep];
    assert.equal(canonicalJson(deep), reference(deep), `depth ${depth}`);
  }
});

Deno.test("canonicalJson() and payloadHash() handle 100 000 levels of nesting (no recursion)", async () => {
  let deep: unknown = { leaf: true };
  for (let i = 0; i < 100_000; i++) deep = i % 2 === 0 ? { nested: deep } : [deep];
  const text = canonicalJson(deep);
  assert.equal(text.length, 50_000 * '{"nested":'.length + 50_000 * 2 + '{"leaf":true}'.length + 50_000);
  assert.match(await payloadHash(deep), /^[0-9a-f]{64}$/);
});

Deno.test("sha256HexSync() gives FIPS 180-4 digests and the same as Web Crypto on random Unicode text", async () => {
  assert.equal(sha256HexSync(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256HexSync("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  await fc.assert(
    fc.asyncProperty(fc.string({ unit: "grapheme", maxLength: 300 }), async (text) => {
      const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
      const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      assert.equal(sha256HexSync(text), hex);
    }),
    { numRuns: 2000, seed: 17 },
  );
});
