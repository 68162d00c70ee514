/**
 * `sha256HexSync` (`domain/hash.ts`, the runtime's native `node:crypto`) gives the FIPS 180-4
 * digests: the stored payload hashes of earlier events must match their retries whichever
 * implementation computed them. Random text against Web Crypto is in `hash_test.ts`.
 */
import assert from "node:assert/strict";
import { sha256HexSync } from "../../src/domain/hash.ts";

Deno.test("sha256HexSync(): FIPS 180-4 vectors, across the one- and two-block padding boundaries", () => {
  assert.equal(sha256HexSync(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256HexSync("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(
    sha256HexSync("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assert.equal(
    sha256HexSync("a".repeat(1_000_000)),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});
