import assert from "node:assert/strict";
import fc from "fast-check";
import {
  consumptionCap,
  decideConsumption,
  decideEntitlement,
  featureLimit,
} from "../../src/domain/entitlement.ts";
import type { Feature } from "../../src/domain/plan.ts";
import {
  type Decimal,
  decimalFromInteger,
  decimalFromScaled,
  maxDecimal,
  parseDecimal,
} from "../../src/domain/decimal.ts";
import { quantityToJson } from "../../src/domain/quantity.ts";

const feature = (over: Partial<Feature> = {}): Feature => ({
  key: "calls",
  name: "Calls",
  type: "metered",
  limit: 100,
  soft_limit: false,
  aggregation: "sum",
  included: 0,
  unique_property: null,
  pricing: null,
  ...over,
});
const decide = (f: Feature | undefined, used: number, consume: number, subscribed = true) =>
  decideConsumption({
    featureKey: "calls",
    subscribed,
    feature: f,
    used: decimalFromInteger(used),
    consume: decimalFromInteger(consume),
    periodEnd: new Date("2026-02-01T00:00:00Z"),
  });

Deno.test("decideConsumption() hard limit: allowed iff used + consume ≤ limit; used and remaining are after the consumption", () => {
  assert.deepEqual(
    [
      decide(feature(), 99, 1).allowed,
      decide(feature(), 99, 1).consumed,
      decide(feature(), 99, 1).used,
      decide(feature(), 99, 1).remaining,
    ],
    [true, 1, 100, 0],
  );
  const denied = decide(feature(), 99, 2);
  assert.deepEqual([denied.allowed, denied.consumed, denied.used, denied.remaining, denied.reason], [
    false,
    0,
    99,
    1,
    "limit_reached",
  ]);
  const exact = decide(feature(), 0, 100);
  assert.deepEqual([exact.allowed, exact.used, exact.remaining], [true, 100, 0]);
});

Deno.test("decideConsumption() plain check (consume 0) asks about one unit and consumes nothing", () => {
  const at = decide(feature(), 100, 0);
  assert.deepEqual([at.allowed, at.consumed, at.used, at.reason], [false, 0, 100, "limit_reached"]);
  const below = decide(feature(), 99, 0);
  assert.deepEqual([below.allowed, below.consumed, below.used, below.remaining], [true, 0, 99, 1]);
});

Deno.test("decideConsumption() soft limit always consumes and flags over_soft_limit once past the limit", () => {
  const f = feature({ limit: 10, soft_limit: true });
  const within = decide(f, 5, 5);
  assert.deepEqual([within.allowed, within.consumed, within.used, within.over_soft_limit], [
    true,
    5,
    10,
    false,
  ]);
  const atLimit = decide(f, 10, 0);
  assert.deepEqual([atLimit.allowed, atLimit.reason, atLimit.over_soft_limit], [
    true,
    "soft_limit_exceeded",
    false,
  ], "one more would pass it; not passed yet");
  assert.equal(decide(f, 11, 0).over_soft_limit, true);
  const over = decide(f, 10, 3);
  assert.deepEqual([
    over.allowed,
    over.consumed,
    over.used,
    over.remaining,
    over.over_soft_limit,
    over.reason,
  ], [true, 3, 13, 0, true, "soft_limit_exceeded"]);
});

Deno.test("decideConsumption() consumes nothing for boolean features, missing features and customers without subscription", () => {
  const flag = decide(feature({ type: "boolean", limit: null }), 0, 5);
  assert.deepEqual([flag.allowed, flag.consumed, flag.reason], [true, 0, "included"]);
  assert.deepEqual([decide(undefined, 0, 5).allowed, decide(undefined, 0, 5).consumed], [false, 0]);
  const unsubscribed = decide(feature(), 0, 5, false);
  assert.deepEqual([unsubscribed.allowed, unsubscribed.consumed, unsubscribed.reason], [
    false,
    0,
    "no_active_subscription",
  ]);
  const unlimited = decide(feature({ limit: null }), 1_000_000, 1_000_000);
  assert.deepEqual([unlimited.allowed, unlimited.consumed, unlimited.used, unlimited.remaining], [
    true,
    1_000_000,
    2_000_000,
    null,
  ]);
});

Deno.test("consumptionCap() is the limit for hard limits and null for soft or no limit (the stores' atomic rule)", () => {
  assert.equal(consumptionCap(feature()), decimalFromInteger(100));
  assert.equal(consumptionCap(feature({ soft_limit: true })), null);
  assert.equal(consumptionCap(feature({ limit: null })), null);
  // the stores' rule (cap === null || used + n ≤ cap) agrees with decideConsumption on a grid
  for (
    const f of [
      feature(),
      feature({ soft_limit: true, limit: 7 }),
      feature({ limit: null }),
      feature({ limit: 0 }),
    ]
  ) {
    for (let used = 0; used <= 12; used++) {
      for (let n = 1; n <= 12; n++) {
        const cap = consumptionCap(f);
        assert.equal(
          cap === null || decimalFromInteger(used + n) <= cap,
          decide(f, used, n).allowed,
          `limit ${f.limit} soft ${f.soft_limit} used ${used} n ${n}`,
        );
      }
    }
  }
});

Deno.test("decideConsumption() with decimals: 0.75 + 0.25 fits a limit of 1.5 twice, then 0.5 is denied; JSON keeps integers as numbers", () => {
  const f = feature({ limit: "1.5" });
  const at = (used: string, consume: string) =>
    decideConsumption({
      featureKey: "calls",
      subscribed: true,
      feature: f,
      used: parseDecimal(used),
      consume: parseDecimal(consume),
      periodEnd: null,
    });
  // 0.75 used + 0.25 = 1 ≤ 1.5: allowed, used 1 (a whole number answers as a number), remaining 0.5
  const first = at("0.75", "0.25");
  assert.deepEqual([first.allowed, first.consumed, first.used, first.limit, first.remaining], [
    true,
    "0.25",
    1,
    "1.5",
    "0.5",
  ]);
  // 1 + 0.5 = 1.5 ≤ 1.5: allowed exactly at the limit, remaining 0
  assert.deepEqual([at("1", "0.5").allowed, at("1", "0.5").remaining], [true, 0]);
  // 1.25 + 0.5 = 1.75 > 1.5: denied, nothing consumed, remaining 1.5 − 1.25 = 0.25
  const denied = at("1.25", "0.5");
  assert.deepEqual([denied.allowed, denied.consumed, denied.used, denied.remaining, denied.reason], [
    false,
    0,
    "1.25",
    "0.25",
    "limit_reached",
  ]);
  // 12 places: 1.499999999999 + 0.000000000001 = 1.5 fits; + 0.000000000002 does not
  assert.equal(at("1.499999999999", "0.000000000001").allowed, true);
  assert.equal(at("1.499999999999", "0.000000000002").allowed, false);
});

/**
 * `decideConsumption` as it was before its single pass (issue 14, ADR 0015 "The check over
 * HTTP"): the entitlement's decision, then the consumption applied to it. The reference the
 * property below compares the answer with, fields and their order included.
 */
function referenceDecideConsumption(input: Parameters<typeof decideConsumption>[0]) {
  const requested = input.consume > 0n ? input.consume : input.ask ?? decimalFromInteger(1);
  const decision = decideEntitlement({ ...input, requested });
  const counted = decision.allowed && decision.type !== null && decision.type !== "boolean";
  const consumed = counted ? input.consume : decimalFromInteger(0);
  const used = (input.used + consumed) as Decimal;
  const cap = input.feature ? featureLimit(input.feature) : null;
  const limited = decision.limit !== null && cap !== null;
  return {
    ...decision,
    used: decision.type === null || decision.type === "boolean" ? decision.used : quantityToJson(used),
    remaining: limited ? quantityToJson(maxDecimal(decimalFromInteger(0), (cap - used) as Decimal)) : null,
    consumed: quantityToJson(consumed),
    over_soft_limit: decision.soft_limit && limited && used > cap,
  };
}

Deno.test("decideConsumption() answers as the entitlement decision plus the consumption did, byte for byte, on generated inputs", () => {
  // Quantities with up to 12 places, around small limits (so every reason occurs) and past 2^53.
  const quantity = fc.oneof(
    fc.integer({ min: 0, max: 12 }).map((n) => decimalFromInteger(n)),
    fc.bigInt({ min: 0n, max: 12_000_000_000_000n }).map((n) => decimalFromScaled(n)),
    fc.bigInt({ min: 0n, max: 2n ** 60n }).map((n) => decimalFromScaled(n * 1_000_000_000_000n)),
  );
  // Limits are stored as quantities (whole part at most 2^53 − 1), as plans validate them.
  const limit = fc.oneof(
    fc.constant(null),
    fc.integer({ min: 0, max: 12 }),
    quantity.filter((d) => d <= decimalFromInteger(Number.MAX_SAFE_INTEGER)).map((d) => quantityToJson(d)),
  );
  const arbitraryFeature = fc.record({
    type: fc.constantFrom("metered", "seat", "boolean") as fc.Arbitrary<Feature["type"]>,
    limit,
    soft_limit: fc.boolean(),
  }).map((over) => feature(over));
  const seen = new Set<string>();
  fc.assert(
    fc.property(
      fc.option(arbitraryFeature, { nil: undefined }),
      fc.boolean(),
      quantity,
      fc.oneof(fc.constant(decimalFromInteger(0)), quantity),
      fc.option(quantity, { nil: undefined }),
      fc.option(fc.integer({ min: 0, max: 2 ** 40 }).map((ms) => new Date(ms)), { nil: null }),
      (f, subscribed, used, consume, ask, periodEnd) => {
        const input = { featureKey: "calls", subscribed, feature: f, used, consume, periodEnd, ask };
        const answer = decideConsumption(input);
        assert.equal(JSON.stringify(answer), JSON.stringify(referenceDecideConsumption(input)));
        seen.add(answer.reason);
      },
    ),
    { seed: 14, numRuns: 5000 },
  );
  assert.deepEqual([...seen].sort(), [
    "feature_not_in_plan",
    "included",
    "limit_reached",
    "no_active_subscription",
    "soft_limit_exceeded",
    "unlimited",
    "within_limit",
  ]);
});
