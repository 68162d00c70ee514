/**
 * The routes of the fast lane (`fast_lane.ts`): for each, a validator that accepts a strict subset
 * of what the route's zod schema accepts and the same service call and answer as the route's
 * handler, for secret keys (publishable keys always take the full chain).
 *
 * - `POST /v1/entitlements/check`: a hand-written validator (the zod-openapi validator was a
 *   large part of a check's CPU); anything unusual (`properties` with a `__proto__` key, a
 *   quantity that does not parse, unknown fields) is left to the schema.
 * - `POST /v1/events`: a hand-written validator (`eventsInput`; zod walking 1000 events was the
 *   largest piece of the path outside SQLite, ADR 0015 "Events, third pass") that also builds the
 *   service's input in the same pass; anything unusual is left to the schema.
 * - `POST /v1/ledger/entries`: a hand-written validator for the common body (`entryInput`: no
 *   `metadata`, known fields, every value within the schema's rules); anything else goes to the
 *   route's own zod schema (`safeParseAsync`, as the validator middleware runs it), so the lane
 *   cannot accept what the route refuses. Its cost is mostly the writer's.
 * - `POST /v1/ledger/entries/batch`: `entriesInput`, {@link entryInput} for every entry; a body
 *   with any entry it doubts goes to the route's own `CreateEntriesBody` (`safeParseAsync`).
 *
 * Each handler mirrors its route module (`entitlements/routes.ts`, `ledger/routes.ts`,
 * `usage/routes.ts`); `tests/http/fast_lane_test.ts` compares both on generated requests.
 *
 * @module
 */
import { checkEntitlement, type CheckInput, recordUsage } from "../entitlements/service.ts";
import { postEntriesBody, postEntryBody } from "../ledger/routes.ts";
import { CreateEntriesBody, CreateEntryBody } from "../ledger/schemas.ts";
import { MAX_ENTRIES_PER_REQUEST, MAX_POSTINGS_PER_ENTRY } from "../domain/ledger.ts";
import { MAX_EVENTS_PER_BATCH, type UsageEventInput } from "../usage/service.ts";
import { parseQuantity, quantityProblem } from "../domain/quantity.ts";
import { Instant, jsonBoundsIssue, PROPERTIES_BOUNDS } from "./schemas.ts";
import type { LaneRoute } from "./fast_lane.ts";

/** `Key` of `http/schemas.ts` in one expression: letters, digits, `_ . : -`, 1–128 characters. */
const KEY = /^[A-Za-z0-9_.:-]{1,128}$/;
/** The fields `CheckBody` knows (it is strict). */
const CHECK_FIELDS = new Set(["customer_id", "feature", "consume", "idempotency_key", "properties"]);

/** Whether `value` is what `boundedJsonObject(PROPERTIES_BOUNDS)` accepts unchanged (else: doubt). */
function plainProperties(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  for (const key of Object.keys(value)) {
    // zod copies a record key by key: `__proto__` would not survive the copy
    if (key.length > 64 || key === "__proto__") return false;
  }
  return jsonBoundsIssue(value, PROPERTIES_BOUNDS) === null;
}

/**
 * The input of a check body the `CheckBody` schema accepts as it is, or `null` (doubt: the schema
 * answers). Same rules: strict fields; `customer_id` 1–128 characters; `feature` and
 * `idempotency_key` keys; `consume` a number or a string of at most 40 characters that parses as
 * a quantity greater than 0 (`quantityProblem`, `parseQuantity`: the schema's own functions), and
 * only with an `idempotency_key`; `properties` within `PROPERTIES_BOUNDS`.
 */
export function checkInput(body: unknown): CheckInput | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  for (const key of Object.keys(body)) if (!CHECK_FIELDS.has(key)) return null;
  const b = body as Record<string, unknown>;
  const { customer_id, feature, consume, idempotency_key, properties } = b;
  if (typeof customer_id !== "string" || customer_id.length < 1 || customer_id.length > 128) return null;
  if (typeof feature !== "string" || !KEY.test(feature)) return null;
  if (idempotency_key !== undefined && (typeof idempotency_key !== "string" || !KEY.test(idempotency_key))) {
    return null;
  }
  if (consume !== undefined) {
    if (typeof consume !== "number" && (typeof consume !== "string" || consume.length > 40)) return null;
    if (quantityProblem(consume) !== undefined || parseQuantity(consume) <= 0n) return null;
    if (idempotency_key === undefined) return null;
  }
  if (properties !== undefined && !plainProperties(properties)) return null;
  return b as unknown as CheckInput;
}

/** `POST /v1/entitlements/check` (as `entitlements/routes.ts`, secret keys). */
export const checkLane: LaneRoute<CheckInput> = {
  path: "/v1/entitlements/check",
  validate: checkInput,
  async handle(ctx, input) {
    const decision = await checkEntitlement(ctx, input);
    return { status: 200, body: decision, checkAllowed: decision.allowed };
  },
};

/** The validated body of `POST /v1/ledger/entries`. */
export type EntryBody = ReturnType<typeof CreateEntryBody.parse>;

/** The fields `CreateEntryBody` knows (it is strict), and those of one posting. */
const ENTRY_FIELDS = new Set([
  "idempotency_key",
  "description",
  "postings",
  "metadata",
  "payment_intent_id",
  "refund_id",
  "payout_id",
  "dispute_id",
]);
const EXTERNAL_ID_FIELDS = ["payment_intent_id", "refund_id", "payout_id", "dispute_id"] as const;
/** `Currency` of `http/schemas.ts`. */
const CURRENCY = /^[A-Z]{3}$/;

/**
 * The entry body `CreateEntryBody` parses to, built without zod for the common shape, or
 * `undefined` when in doubt (the schema decides): a body with `metadata` (its bounds are the
 * schema's), an unknown field or any value outside the schema's rules. Same rules where it
 * answers: strict fields; `idempotency_key` a key; `description` at most 500 characters; 2 to
 * {@link MAX_POSTINGS_PER_ENTRY} postings, each exactly `account_id` (1–128 characters), `amount`
 * (a safe integer) and `currency` (three capitals); external ids 1–200 characters. The zod parse
 * was about a twentieth of a ledger request's CPU in process (issue 14).
 */
export function entryInput(body: unknown): EntryBody | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  for (const key of Object.keys(body)) if (!ENTRY_FIELDS.has(key)) return undefined;
  const b = body as Record<string, unknown>;
  const { idempotency_key, description, postings, metadata } = b;
  if (metadata !== undefined) return undefined;
  if (typeof idempotency_key !== "string" || !KEY.test(idempotency_key)) return undefined;
  if (description !== undefined && (typeof description !== "string" || description.length > 500)) {
    return undefined;
  }
  if (!Array.isArray(postings) || postings.length < 2 || postings.length > MAX_POSTINGS_PER_ENTRY) {
    return undefined;
  }
  const out: EntryBody["postings"] = [];
  for (const p of postings) {
    if (typeof p !== "object" || p === null || Array.isArray(p)) return undefined;
    const keys = Object.keys(p);
    if (keys.length !== 3) return undefined;
    const { account_id, amount, currency } = p as Record<string, unknown>;
    if (typeof account_id !== "string" || account_id.length < 1 || account_id.length > 128) return undefined;
    if (typeof amount !== "number" || !Number.isSafeInteger(amount)) return undefined;
    if (typeof currency !== "string" || !CURRENCY.test(currency)) return undefined;
    out.push({ account_id, amount, currency });
  }
  const entry: Record<string, unknown> = { idempotency_key };
  if (description !== undefined) entry.description = description;
  entry.postings = out;
  for (const field of EXTERNAL_ID_FIELDS) {
    const value = b[field];
    if (value === undefined) continue;
    if (typeof value !== "string" || value.length < 1 || value.length > 200) return undefined;
    entry[field] = value;
  }
  return entry as EntryBody;
}

/**
 * A lane route's validation: what `quick` builds without zod, or, when it is in doubt, the route's
 * own `schema` (`safeParseAsync`, as the validator middleware runs it); `null` when the schema
 * refuses (the full app then answers the 400).
 */
async function quickOrSchema<T>(
  body: unknown,
  quick: (body: unknown) => T | undefined,
  schema: { safeParseAsync(body: unknown): Promise<{ success: true; data: T } | { success: false }> },
): Promise<T | null> {
  const built = quick(body);
  if (built !== undefined) return built;
  const parsed = await schema.safeParseAsync(body);
  return parsed.success ? parsed.data : null;
}

/** `POST /v1/ledger/entries` (as `ledger/routes.ts`). */
export const ledgerEntryLane: LaneRoute<EntryBody> = {
  path: "/v1/ledger/entries",
  validate: (body) => quickOrSchema(body, entryInput, CreateEntryBody),
  async handle(ctx, input) {
    const { entry, replayed } = await postEntryBody(ctx, input);
    return {
      status: replayed ? 200 : 201,
      body: { ...entry, replayed },
      ...(replayed ? { headers: { "idempotent-replayed": "true" } } : {}),
    };
  },
};

/** The validated body of `POST /v1/ledger/entries/batch`. */
export type EntriesBody = ReturnType<typeof CreateEntriesBody.parse>;

/**
 * The batch body `CreateEntriesBody` parses to, built without zod when every entry has the common
 * shape, or `undefined` when in doubt (the schema decides): the body has only `entries`, an array
 * of 1 to {@link MAX_ENTRIES_PER_REQUEST} entries, each one {@link entryInput} answers (one entry it
 * doubts sends the whole body to the schema). Walking a 100-entry body with zod was about a
 * twentieth of the batch route's CPU in process (issue 17).
 */
export function entriesInput(body: unknown): EntriesBody | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  // `for … in` allocates no key array; a parsed JSON object has no inherited enumerable keys
  for (const key in body) if (key !== "entries") return undefined;
  const entries = (body as { entries?: unknown }).entries;
  if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES_PER_REQUEST) {
    return undefined;
  }
  const out = new Array<EntryBody>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const entry = entryInput(entries[i]);
    if (entry === undefined) return undefined;
    out[i] = entry;
  }
  return { entries: out };
}

/** `POST /v1/ledger/entries/batch` (as `ledger/routes.ts`): always 200 with the batch's report. */
export const ledgerBatchLane: LaneRoute<EntriesBody> = {
  path: "/v1/ledger/entries/batch",
  validate: (body) => quickOrSchema(body, entriesInput, CreateEntriesBody),
  async handle(ctx, input) {
    return { status: 200, body: await postEntriesBody(ctx, input) };
  },
};

/**
 * The pattern `Instant` (`z.iso.datetime({ offset: true })`) tests a timestamp with: the schema's
 * own regular expression, so the lane cannot drift from it. Were it ever missing (another zod),
 * no timestamp passes here and every event with one goes to the schema.
 */
const INSTANT: RegExp = (() => {
  const pattern = (Instant as unknown as { _zod?: { def?: { pattern?: unknown } } })._zod?.def?.pattern;
  return pattern instanceof RegExp ? pattern : /(?!)/;
})();

/**
 * Whether `value` is an event `value` the schema accepts (`decimalQuantity`: a number, or a string
 * of at most 40 characters, that `quantityProblem` finds no fault with). A non-negative safe
 * integer (nearly every event) is one without asking the decimal parser.
 */
function eventValue(value: unknown): boolean {
  if (typeof value === "number") {
    return (Number.isSafeInteger(value) && value >= 0) || quantityProblem(value) === undefined;
  }
  return typeof value === "string" && value.length <= 40 && quantityProblem(value) === undefined;
}

/**
 * One event of the batch as the service takes it, or `null` (doubt). The rules of `EventBody`
 * (`usage/schemas.ts`, strict): only `id`, `customer_id`, `feature`, `value`, `timestamp`,
 * `properties`; `id` and `feature` keys (`KEY`); `customer_id` a string of 1–128 characters;
 * `value` absent or a quantity ({@link eventValue}); `timestamp` absent or an ISO 8601 instant
 * (the schema's own pattern), turned into a `Date` as the route does; `properties` absent or an
 * object within `PROPERTIES_BOUNDS` without a `__proto__` key (zod's record copy drops it).
 */
function eventInput(event: unknown): UsageEventInput | null {
  if (typeof event !== "object" || event === null || Array.isArray(event)) return null;
  const e = event as Record<string, unknown>;
  // `for … in` allocates no key array; a parsed JSON object has no inherited enumerable keys
  for (const key in e) {
    switch (key) {
      case "id":
      case "customer_id":
      case "feature":
      case "value":
      case "timestamp":
      case "properties":
        continue;
      default:
        return null;
    }
  }
  const { id, customer_id, feature, value, timestamp, properties } = e;
  if (typeof id !== "string" || !KEY.test(id)) return null;
  if (typeof customer_id !== "string" || customer_id.length < 1 || customer_id.length > 128) return null;
  if (typeof feature !== "string" || !KEY.test(feature)) return null;
  if (value !== undefined && !eventValue(value)) return null;
  if (timestamp !== undefined && (typeof timestamp !== "string" || !INSTANT.test(timestamp))) return null;
  if (properties !== undefined && !plainProperties(properties)) return null;
  return {
    id,
    customer_id,
    feature,
    value: value as UsageEventInput["value"],
    timestamp: timestamp === undefined ? undefined : new Date(timestamp as string),
    properties: properties as UsageEventInput["properties"],
  };
}

/**
 * The events of a `POST /v1/events` body the `IngestBody` schema accepts as it is, as the route
 * hands them to `recordUsage` (a `timestamp` as a `Date`), or `null` (doubt: the schema answers).
 * Same rules: the body has only `events`, an array of 1 to {@link MAX_EVENTS_PER_BATCH} events,
 * each accepted by {@link eventInput}. One pass, no copy of the body beyond the events handed on.
 * `tests/http/fast_lane_events_test.ts` checks it against the schema on generated bodies.
 */
export function eventsInput(body: unknown): UsageEventInput[] | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  for (const key in body) if (key !== "events") return null;
  const events = (body as { events?: unknown }).events;
  if (!Array.isArray(events) || events.length < 1 || events.length > MAX_EVENTS_PER_BATCH) return null;
  const out = new Array<UsageEventInput>(events.length);
  for (let i = 0; i < events.length; i++) {
    const input = eventInput(events[i]);
    if (input === null) return null;
    out[i] = input;
  }
  return out;
}

/** `POST /v1/events` (as `usage/routes.ts`, secret keys). */
export const eventsLane: LaneRoute<UsageEventInput[]> = {
  path: "/v1/events",
  validate: eventsInput,
  async handle(ctx, input) {
    return { status: 200, body: await recordUsage(ctx, input) };
  },
};

/** Every route of the lane. */
export const LANE_ROUTES: readonly LaneRoute[] = [
  checkLane as LaneRoute,
  ledgerEntryLane as LaneRoute,
  ledgerBatchLane as LaneRoute,
  eventsLane as LaneRoute,
];
