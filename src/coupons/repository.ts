/**
 * Coupons and subscription discounts of one scope, through the one tenancy filter of
 * `storage/scoped.ts`.
 *
 * @module
 */
import { and, eq, sql } from "drizzle-orm";
import type { Scope } from "../domain/scope.ts";
import type { Executor } from "../storage/db.ts";
import { coupons, subscriptionDiscounts } from "../storage/schema.ts";
import { type Row, scoped, type TableRepository, tableRepository } from "../storage/scoped.ts";

/** A coupon row as stored. */
export type CouponRow = Row<typeof coupons>;
/** A subscription discount row as stored. */
export type DiscountRow = Row<typeof subscriptionDiscounts>;

/** The scope's coupons. */
export const couponRows: TableRepository<typeof coupons> = tableRepository(coupons);

/** The scope's subscription discounts (at most one per subscription). */
export const discountRows: TableRepository<typeof subscriptionDiscounts> = tableRepository(
  subscriptionDiscounts,
);

/** Adds one to a coupon's redemption count (in the statement, not read-modify-write). */
export async function countRedemption(exec: Executor, scope: Scope, couponId: string): Promise<void> {
  await scoped(exec, scope).update(
    coupons,
    { times_redeemed: sql`${coupons.times_redeemed} + 1` as never },
    eq(coupons.id, couponId),
  );
}

/** The subscription's discount with its coupon, or undefined. */
export async function discountWithCoupon(
  exec: Executor,
  scope: Scope,
  subscriptionId: string,
): Promise<{ d: DiscountRow; c: CouponRow } | undefined> {
  const [row] = await exec.select({ d: subscriptionDiscounts, c: coupons }).from(subscriptionDiscounts)
    .innerJoin(
      coupons,
      and(
        eq(coupons.id, subscriptionDiscounts.coupon_id),
        eq(coupons.tenant_id, subscriptionDiscounts.tenant_id),
        eq(coupons.app_id, subscriptionDiscounts.app_id),
      ),
    )
    .where(
      scoped(exec, scope).filter(
        subscriptionDiscounts,
        eq(subscriptionDiscounts.subscription_id, subscriptionId),
      ),
    );
  return row;
}
