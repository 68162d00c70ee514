/**
 * The ingestion path's SHA-256 (`domain/sha256.ts`) gives the digests `@noble/hashes` gives (the
 * stored payload hashes of earlier events must match their retries): FIPS 180-4 vectors, every
 * length across the one- and two-block padding boundaries, and random Unicode text.
 */
import assert from "node:assert/strict";
import { sha256HexOfText } from "../../src/domain/sha256.ts";
import { sha256HexSync } from "../../src/domain/hash.ts";

Deno.test("sha256HexOfText(): FIPS 180-4 vectors", () => {
  assert.equal(sha256HexOfText(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256HexOfText("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(
    sha256HexOfText("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assert.equal(
    sha256HexOfText("a".repeat(1_000_000)),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});

Deno.test("sha256HexOfText() equals @noble/hashes for every length 0–300 and for random Unicode text", () => {
  for (let n = 0; n <= 300; n++) {
    const text = Array.from({ length: n }, (_, i) => String.fromCharCode(33 + ((i * 7 + n) % 90))).join("");
    assert.equal(sha256HexOfText(text), sha256HexSync(text), `length ${n}`);
  }
  const alphabet = ["a", "Z", "0", '"', "\\", "é", "€", "\u2028", "😀", "\ud800", "\u0000", "日"];
  let seed = 42;
  for (let k = 0; k < 2000; k++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const length = seed % 400;
    let text = "";
    for (let i = 0; i < length; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      text += alphabet[seed % alphabet.length];
    }
    assert.equal(sha256HexOfText(text), sha256HexSync(text), JSON.stringify(text));
  }
  // a long text after short ones (the buffer grows) and a short one after it (stale bytes ignored)
  const long = "x€".repeat(50_000);
  assert.equal(sha256HexOfText(long), sha256HexSync(long));
  assert.equal(sha256HexOfText("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});
