import assert from "node:assert/strict";
import fc from "fast-check";
import {
  addDecimal,
  compareDecimal,
  type Decimal,
  DECIMAL_SCALE,
  DecimalError,
  decimalFromInteger,
  decimalToJson,
  divideDecimal,
  formatDecimal,
  multiplyDecimal,
  multiplyToInteger,
  parseDecimal,
  roundDecimalToInteger,
  sumDecimals,
  tryParseDecimal,
} from "../../src/domain/decimal.ts";

Deno.test("parseDecimal reads strings, JSON numbers and exponents exactly", () => {
  assert.equal(parseDecimal("0.000015"), 15_000_000n);
  assert.equal(parseDecimal("3"), 3n * DECIMAL_SCALE);
  assert.equal(parseDecimal(0.25), 250_000_000_000n);
  assert.equal(parseDecimal(1e-7), 100_000n); // String(1e-7) === "1e-7"
  assert.equal(parseDecimal("-1.5"), -1_500_000_000_000n);
  assert.equal(parseDecimal(".5"), 500_000_000_000n);
  assert.equal(parseDecimal("0.100000000000000"), 100_000_000_000n); // zeros past the 12th place
  assert.equal(parseDecimal("1.5e3"), 1500n * DECIMAL_SCALE);
  assert.equal(parseDecimal("0.000000000001"), 1n);
});

Deno.test("parseDecimal refuses what is not an exact 12-place decimal", () => {
  for (const bad of ["", ".", "1,5", " 1", "abc", "1.2.3", "0x10", NaN, Infinity]) {
    assert.throws(
      () => parseDecimal(bad as string),
      (e) => e instanceof DecimalError && e.reason === "format",
    );
  }
  assert.throws(
    () => parseDecimal("0.0000000000001"),
    (e) => e instanceof DecimalError && e.reason === "precision",
  );
  assert.throws(
    () => parseDecimal("1" + "0".repeat(21)),
    (e) => e instanceof DecimalError && e.reason === "range",
  );
  assert.equal(tryParseDecimal("nope"), undefined);
});

Deno.test("formatDecimal is canonical and round-trips", () => {
  assert.equal(formatDecimal(parseDecimal("0.000015")), "0.000015");
  assert.equal(formatDecimal(parseDecimal("12.50")), "12.5");
  assert.equal(formatDecimal(parseDecimal("-0.5")), "-0.5");
  assert.equal(formatDecimal(parseDecimal("0")), "0");
  assert.equal(decimalToJson(parseDecimal("7")), 7);
  assert.equal(decimalToJson(parseDecimal("7.25")), "7.25");
  fc.assert(fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), (raw) => {
    const d = raw as Decimal;
    assert.equal(parseDecimal(formatDecimal(d)), d);
  }));
});

Deno.test("arithmetic is exact; a line rounds once, half-up", () => {
  // 0.25 + 0.5 + 1.125 GB-hours = 1.875 exactly (floats give the same here, but 0.1 + 0.2 would not).
  assert.equal(formatDecimal(sumDecimals(["0.25", "0.5", "1.125"].map((s) => parseDecimal(s)))), "1.875");
  assert.equal(formatDecimal(addDecimal(parseDecimal("0.1"), parseDecimal("0.2"))), "0.3");
  // $0.15 per million tokens = 15 cents / 1e6 = 0.000015 cents per token.
  // 3 456 789 × 0.000015 = 51.851835 cents → 52; 1 234 567 × 0.00006 = 74.07402 → 74.
  assert.equal(multiplyToInteger(decimalFromInteger(3_456_789), parseDecimal("0.000015"), "half_up"), 52n);
  assert.equal(multiplyToInteger(decimalFromInteger(1_234_567), parseDecimal("0.00006"), "half_up"), 74n);
  // 0.5 exactly rounds away from zero under half_up.
  assert.equal(multiplyToInteger(parseDecimal("0.5"), decimalFromInteger(1), "half_up"), 1n);
  assert.equal(roundDecimalToInteger(parseDecimal("1000.000000000001"), "ceil"), 1001n);
  assert.equal(formatDecimal(multiplyDecimal(parseDecimal("2.5"), parseDecimal("0.3"), "half_up")), "0.75");
  assert.equal(
    formatDecimal(divideDecimal(decimalFromInteger(1), decimalFromInteger(3), "half_up")),
    "0.333333333333",
  );
  assert.equal(compareDecimal(parseDecimal("0.1"), parseDecimal("0.10")), 0);
});

Deno.test("property: multiplyToInteger equals the exact rational product rounded half-up once", () => {
  fc.assert(fc.property(
    fc.bigInt({ min: 0n, max: 10n ** 22n }),
    fc.bigInt({ min: 0n, max: 10n ** 16n }),
    (q, p) => {
      const exact = q * p; // in 10^-24
      const unit = DECIMAL_SCALE * DECIMAL_SCALE;
      const floor = exact / unit;
      const rem = exact % unit;
      const expected = rem * 2n >= unit ? floor + 1n : floor;
      assert.equal(multiplyToInteger(q as Decimal, p as Decimal, "half_up"), expected);
    },
  ));
});

Deno.test("parseDecimal: a safe integer number reads as its decimal text does (the integer fast path)", () => {
  fc.assert(
    fc.property(fc.maxSafeInteger(), (n) => {
      assert.equal(parseDecimal(n), parseDecimal(String(n)));
      assert.equal(parseDecimal(n), BigInt(n) * DECIMAL_SCALE);
    }),
    { numRuns: 2000 },
  );
  assert.equal(parseDecimal(-0), 0n);
  assert.equal(parseDecimal(Number.MAX_SAFE_INTEGER), parseDecimal("9007199254740991"));
});
