/** `onceCouponApplies()`: a `once` coupon waits for an invoice with something to discount (ADR 0004). */
import assert from "node:assert/strict";
import { onceCouponApplies } from "../../src/domain/coupons.ts";

Deno.test("onceCouponApplies(): from the first counted period on until another invoice used it; plan restrictions hold", () => {
  const coupon = { plan_ids: null };
  // counted from period 2: not before, then every period while unused
  assert.deepEqual([1, 2, 3, 7].map((i) => onceCouponApplies(coupon, 2, i, "p", false)), [
    false,
    true,
    true,
    true,
  ]);
  // once another finalized invoice took a discount from it, never again
  assert.deepEqual([2, 3, 7].map((i) => onceCouponApplies(coupon, 2, i, "p", true)), [false, false, false]);
  assert.equal(onceCouponApplies({ plan_ids: ["q"] }, 0, 0, "p", false), false);
  assert.equal(onceCouponApplies({ plan_ids: ["q"] }, 0, 0, "q", false), true);
});
