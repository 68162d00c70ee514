/**
 * The routes of the fast lane (`fast_lane.ts`): for each, a validator that accepts a strict subset
 * of what the route's zod schema accepts and the same service call and answer as the route's
 * handler, for secret keys (publishable keys always take the full chain).
 *
 * - `POST /v1/entitlements/check`: a hand-written validator (the zod-openapi validator was a
 *   large part of a check's CPU); anything unusual (`properties` with a `__proto__` key, a
 *   quantity that does not parse, unknown fields) is left to the schema.
 * - `POST /v1/ledger/entries`, `POST /v1/events`: the route's own zod schema (`safeParseAsync`,
 *   as the validator middleware runs it), so the lane cannot accept what the route refuses; their
 *   cost is elsewhere (the writer, the ingestion storage), the lane only skips the middleware.
 *
 * Each handler mirrors its route module (`entitlements/routes.ts`, `ledger/routes.ts`,
 * `usage/routes.ts`); `tests/http/fast_lane_test.ts` compares both on generated requests.
 *
 * @module
 */
import { checkEntitlement, type CheckInput, recordUsage } from "../entitlements/service.ts";
import { postEntryBody } from "../ledger/routes.ts";
import { CreateEntryBody } from "../ledger/schemas.ts";
import { IngestBody } from "../usage/schemas.ts";
import { parseQuantity, quantityProblem } from "../domain/quantity.ts";
import { jsonBoundsIssue, PROPERTIES_BOUNDS } from "./schemas.ts";
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

/** `POST /v1/ledger/entries` (as `ledger/routes.ts`). */
export const ledgerEntryLane: LaneRoute<EntryBody> = {
  path: "/v1/ledger/entries",
  async validate(body) {
    const parsed = await CreateEntryBody.safeParseAsync(body);
    return parsed.success ? parsed.data : null;
  },
  async handle(ctx, input) {
    const { entry, replayed } = await postEntryBody(ctx, input);
    return {
      status: replayed ? 200 : 201,
      body: { ...entry, replayed },
      ...(replayed ? { headers: { "idempotent-replayed": "true" } } : {}),
    };
  },
};

/** The validated body of `POST /v1/events`. */
export type IngestInput = ReturnType<typeof IngestBody.parse>;

/** `POST /v1/events` (as `usage/routes.ts`, secret keys). */
export const eventsLane: LaneRoute<IngestInput> = {
  path: "/v1/events",
  async validate(body) {
    const parsed = await IngestBody.safeParseAsync(body);
    return parsed.success ? parsed.data : null;
  },
  async handle(ctx, input) {
    const report = await recordUsage(
      ctx,
      input.events.map((e) => ({ ...e, timestamp: e.timestamp ? new Date(e.timestamp) : undefined })),
    );
    return { status: 200, body: report };
  },
};

/** Every route of the lane. */
export const LANE_ROUTES: readonly LaneRoute[] = [
  checkLane as LaneRoute,
  ledgerEntryLane as LaneRoute,
  eventsLane as LaneRoute,
];
