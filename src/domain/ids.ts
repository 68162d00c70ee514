/**
 * Identifiers: TypeIDs (type prefix + UUIDv7 in Crockford base32) via `typeid-js`.
 * K-sortable by creation time, URL-safe, and impossible to confuse across types.
 *
 * @module
 */
import { TypeID, typeid } from "typeid-js";

/** Every TypeID prefix the service issues, by resource. */
export const ID_PREFIX = {
  tenant: "ten",
  app: "app",
  apiKey: "key",
  adminToken: "adt",
  plan: "pln",
  customer: "cus",
  subscription: "sub",
  event: "evt",
  invoice: "inv",
  invoiceLine: "il",
  coupon: "cpn",
  subscriptionChange: "sch",
  subscriptionDiscount: "sdi",
  subscriptionPause: "spa",
  taxRate: "txr",
  creditNote: "cn",
  creditGrant: "cgr",
  creditConsumption: "ccn",
  account: "acc",
  entry: "ent",
  posting: "pst",
  hold: "hld",
  inventoryHold: "ihl",
  inventoryOperation: "iop",
  outboxMessage: "msg",
  webhookEndpoint: "wep",
  webhookDelivery: "wdl",
  webhookAttempt: "wat",
  auditEvent: "aud",
  providerEvent: "pev",
  usageDeadLetter: "dlq",
  testClock: "clock",
} as const;

/** A prefix from {@link ID_PREFIX}. */
export type IdPrefix = (typeof ID_PREFIX)[keyof typeof ID_PREFIX];

/** Issues a new TypeID string such as `pln_01jd6…`. */
export function newId(prefix: IdPrefix): string {
  return typeid(prefix).toString();
}

/**
 * Whether `value` is a well-formed TypeID with exactly this prefix.
 * Used to answer 404 early for ids that cannot exist, without touching storage.
 */
export function isId(prefix: IdPrefix, value: string): boolean {
  try {
    return TypeID.fromString(value).getType() === prefix;
  } catch {
    return false;
  }
}

const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

let batchMs = 0;
let batchSeq = 0;

/**
 * `count` new TypeIDs of one prefix, strictly increasing in the order returned and after every id
 * this function returned before in the process: what {@link newId} gives one at a time (a UUIDv7 in
 * TypeID's Crockford base32, readable by `typeid-js`), for the ingestion path's 1000-row batches
 * (issue 14: `newId` cost about 4.5 µs per event, a fresh random buffer and a parse-back each).
 *
 * Layout (RFC 9562 §6.2 method 1, a dedicated counter as `uuid`'s v7 does): 48-bit Unix ms, version
 * 7, a 42-bit counter across `rand_a` and the top of `rand_b` (randomly seeded, 41 bits, whenever the
 * clock moved on; incremented per id otherwise, and on a clock that went back), then 32 random bits
 * from one `crypto.getRandomValues` call per batch.
 *
 * @throws {RangeError} when `count` is not a non-negative integer
 */
export function newIds(prefix: IdPrefix, count: number): string[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`newIds(): bad count ${count}`);
  const random = new Uint32Array(count + 2);
  crypto.getRandomValues(random);
  const now = Date.now();
  if (now > batchMs) {
    batchMs = now;
    // 41 random bits: the counter can run 2^41 ids within one millisecond before it carries
    batchSeq = (random[count] & 0x1ff) * 0x100000000 + random[count + 1];
  }
  const out = new Array<string>(count);
  const bytes = new Uint8Array(16);
  for (let i = 0; i < count; i++) {
    batchSeq++;
    if (batchSeq >= 2 ** 42) {
      batchMs++; // the counter carries into the clock, which keeps the order
      batchSeq = 0;
    }
    const ms = batchMs;
    const seq = batchSeq;
    const high = Math.floor(ms / 0x10000); // top 32 of the 48 bits
    bytes[0] = high >>> 24;
    bytes[1] = (high >>> 16) & 0xff;
    bytes[2] = (high >>> 8) & 0xff;
    bytes[3] = high & 0xff;
    bytes[4] = (ms >>> 8) & 0xff;
    bytes[5] = ms & 0xff;
    const seqHigh = Math.floor(seq / 0x40000000); // top 12 of the 42 bits
    const seqLow = seq % 0x40000000; // low 30 bits
    bytes[6] = 0x70 | (seqHigh >>> 8);
    bytes[7] = seqHigh & 0xff;
    bytes[8] = 0x80 | (seqLow >>> 24);
    bytes[9] = (seqLow >>> 16) & 0xff;
    bytes[10] = (seqLow >>> 8) & 0xff;
    bytes[11] = seqLow & 0xff;
    const r = random[i];
    bytes[12] = r >>> 24;
    bytes[13] = (r >>> 16) & 0xff;
    bytes[14] = (r >>> 8) & 0xff;
    bytes[15] = r & 0xff;
    out[i] = `${prefix}_${base32(bytes)}`;
  }
  return out;
}

/** TypeID's suffix: 16 bytes as 26 Crockford base32 characters (the first holds the top 3 bits). */
function base32(b: Uint8Array): string {
  const a = CROCKFORD;
  return a[(b[0] & 224) >> 5] + a[b[0] & 31] + a[(b[1] & 248) >> 3] +
    a[((b[1] & 7) << 2) | ((b[2] & 192) >> 6)] +
    a[(b[2] & 62) >> 1] + a[((b[2] & 1) << 4) | ((b[3] & 240) >> 4)] +
    a[((b[3] & 15) << 1) | ((b[4] & 128) >> 7)] +
    a[(b[4] & 124) >> 2] + a[((b[4] & 3) << 3) | ((b[5] & 224) >> 5)] + a[b[5] & 31] + a[(b[6] & 248) >> 3] +
    a[((b[6] & 7) << 2) | ((b[7] & 192) >> 6)] + a[(b[7] & 62) >> 1] +
    a[((b[7] & 1) << 4) | ((b[8] & 240) >> 4)] +
    a[((b[8] & 15) << 1) | ((b[9] & 128) >> 7)] + a[(b[9] & 124) >> 2] +
    a[((b[9] & 3) << 3) | ((b[10] & 224) >> 5)] +
    a[b[10] & 31] + a[(b[11] & 248) >> 3] + a[((b[11] & 7) << 2) | ((b[12] & 192) >> 6)] +
    a[(b[12] & 62) >> 1] +
    a[((b[12] & 1) << 4) | ((b[13] & 240) >> 4)] + a[((b[13] & 15) << 1) | ((b[14] & 128) >> 7)] +
    a[(b[14] & 124) >> 2] + a[((b[14] & 3) << 3) | ((b[15] & 224) >> 5)] + a[b[15] & 31];
}
