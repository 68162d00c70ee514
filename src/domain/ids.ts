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
