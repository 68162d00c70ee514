/**
 * SHA-256 (FIPS 180-4) of a string's UTF-8 bytes, as lower-case hex, for the ingestion path's one
 * digest per event (issue 14). Same digests as `sha256HexSync` (`@noble/hashes`): checked against
 * it on every length from 0 to 300 bytes and on random Unicode text (tests/domain/sha256_test.ts).
 *
 * Why not `@noble/hashes` here: measured on 1000-event batches (ADR 0015), its per-call set-up
 * (a hasher object, its block buffer and view, the encoded copy of the text, the digest array and
 * its hex) cost about three times the compression itself for a ~200-byte payload; this function
 * reuses one block schedule, one byte buffer and one hex table, so a digest allocates only its
 * result string. Synchronous and single-threaded: not reentrant across workers, which JavaScript
 * never is within one isolate.
 *
 * @module
 */

const K = new Int32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

const W = new Int32Array(64);
const H = new Int32Array(8);
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const UTF8 = new TextEncoder();
let buffer = new Uint8Array(1024);

/** Lower-case hex SHA-256 of the UTF-8 encoding of `text`. */
export function sha256HexOfText(text: string): string {
  // UTF-8 takes at most 3 bytes per UTF-16 unit; then 0x80, padding and the 8-byte length
  const need = text.length * 3 + 72;
  if (buffer.length < need) buffer = new Uint8Array(Math.max(need, buffer.length * 2));
  const bytes = UTF8.encodeInto(text, buffer).written;
  const blocks = Math.ceil((bytes + 9) / 64);
  const end = blocks * 64;
  buffer[bytes] = 0x80;
  buffer.fill(0, bytes + 1, end - 8);
  const bits = bytes * 8; // < 2^53: exact; the high word is the quotient
  const high = Math.floor(bits / 0x100000000);
  buffer[end - 8] = high >>> 24;
  buffer[end - 7] = (high >>> 16) & 0xff;
  buffer[end - 6] = (high >>> 8) & 0xff;
  buffer[end - 5] = high & 0xff;
  buffer[end - 4] = bits >>> 24;
  buffer[end - 3] = (bits >>> 16) & 0xff;
  buffer[end - 2] = (bits >>> 8) & 0xff;
  buffer[end - 1] = bits & 0xff;
  H[0] = 0x6a09e667;
  H[1] = 0xbb67ae85;
  H[2] = 0x3c6ef372;
  H[3] = 0xa54ff53a;
  H[4] = 0x510e527f;
  H[5] = 0x9b05688c;
  H[6] = 0x1f83d9ab;
  H[7] = 0x5be0cd19;
  for (let offset = 0; offset < end; offset += 64) compress(buffer, offset);
  let out = "";
  for (let i = 0; i < 8; i++) {
    const h = H[i];
    out += HEX[h >>> 24] + HEX[(h >>> 16) & 0xff] + HEX[(h >>> 8) & 0xff] + HEX[h & 0xff];
  }
  return out;
}

/** One 64-byte block at `offset` into {@link H}. */
function compress(b: Uint8Array, offset: number): void {
  for (let t = 0; t < 16; t++) {
    const i = offset + t * 4;
    W[t] = (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];
  }
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15];
    const w2 = W[t - 2];
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[t] = (W[t - 16] + s0 + W[t - 7] + s1) | 0;
  }
  let a = H[0], b2 = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K[t] + W[t]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b2) ^ (a & c) ^ (b2 & c);
    const t2 = (S0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b2;
    b2 = a;
    a = (t1 + t2) | 0;
  }
  H[0] = (H[0] + a) | 0;
  H[1] = (H[1] + b2) | 0;
  H[2] = (H[2] + c) | 0;
  H[3] = (H[3] + d) | 0;
  H[4] = (H[4] + e) | 0;
  H[5] = (H[5] + f) | 0;
  H[6] = (H[6] + g) | 0;
  H[7] = (H[7] + h) | 0;
}
