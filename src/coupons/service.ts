/**
 * Coupons and subscription discounts. Rules live in `domain/coupons.ts`.
 *
 * - `code` is unique per app and is the natural idempotency key: creating the same definition again
 *   returns the existing coupon (`replayed`), another definition under the same code fails with
 *   `coupon_code_exists`.
 * - A subscription carries at most one discount. Redeeming the coupon it already carries is a
 *   replay; another coupon fails with `discount_exists`. Redemption checks the validity window,
 *   `max_redemptions`, plan restriction and currency, and counts the redemption in the same
 *   transaction, so concurrent redemptions cannot exceed the maximum.
 *
 * @module
 */
import { assertRedeemable, checkCoupon, type CouponInput } from "../domain/coupons.ts";
import { BillingError, notFound } from "../domain/errors.ts";
import { canonicalJson } from "../domain/hash.ts";
import { isId, newId } from "../domain/ids.ts";
import { currencyExponent } from "../domain/money.ts";
import { periodAt } from "../domain/subscription.ts";
import type { Executor } from "../storage/db.ts";
import { countRedemption, type CouponRow, couponRows, type DiscountRow, discountRows } from "./repository.ts";
import type { Ctx } from "../context.ts";
import { writeOp } from "../lifecycle/write.ts";
import { loadSubscription, subscriptionCtx, timelineOf } from "../subscriptions/read.ts";
import type { CouponView, DiscountView } from "../domain/views.ts";
export type { CouponView, DiscountView };

function couponView(row: CouponRow): CouponView {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    percent_off: row.percent_off_bp === null ? null : row.percent_off_bp / 100,
    amount_off: row.amount_off,
    currency: row.currency,
    duration: row.duration,
    duration_periods: row.duration_periods,
    max_redemptions: row.max_redemptions,
    times_redeemed: row.times_redeemed,
    valid_from: row.valid_from?.toISOString() ?? null,
    redeem_by: row.redeem_by?.toISOString() ?? null,
    plan_ids: row.plan_ids as string[] | null,
    created_at: row.created_at.toISOString(),
  };
}

function definition(
  row: Omit<CouponRow, "id" | "tenant_id" | "app_id" | "times_redeemed" | "created_at">,
): string {
  return canonicalJson({
    ...row,
    valid_from: row.valid_from?.getTime() ?? null,
    redeem_by: row.redeem_by?.getTime() ?? null,
  });
}

/**
 * Creates a coupon.
 *
 * @throws {BillingError} `validation_failed`, `unsupported_currency` (400); `coupon_code_exists` (409)
 */
export async function createCoupon(
  ctx: Ctx,
  input: CouponInput & { name?: string },
): Promise<{ coupon: CouponView; replayed: boolean }> {
  const checked = checkCoupon(input);
  if (checked.currency) currencyExponent(checked.currency);
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const fields = { code: input.code, name: input.name ?? null, ...checked };
    const existing = await couponRows.first(tx, ctx.scope, { code: input.code });
    if (existing) {
      const { id: _i, tenant_id: _t, app_id: _a, times_redeemed: _r, created_at: _c, ...rest } = existing;
      if (definition({ ...rest, plan_ids: rest.plan_ids as string[] | null }) === definition(fields)) {
        return { coupon: couponView(existing), replayed: true };
      }
      throw new BillingError(
        "coupon_code_exists",
        "conflict",
        `A different coupon with code "${input.code}" already exists`,
      );
    }
    const row: CouponRow = {
      id: newId("cpn"),
      tenant_id: ctx.scope.tenantId,
      app_id: ctx.scope.appId,
      ...fields,
      times_redeemed: 0,
      created_at: now,
    };
    await couponRows.insert(tx, ctx.scope, row);
    emit("coupon.created", row.id, couponView(row));
    return { coupon: couponView(row), replayed: false };
  });
}

async function loadCoupon(ctx: Ctx, exec: Executor, ref: string): Promise<CouponRow> {
  const row = await couponRows.first(exec, ctx.scope, isId("cpn", ref) ? { id: ref } : { code: ref });
  if (!row) throw notFound("coupon", ref);
  return row;
}

/** GET a coupon by id or code. @throws {BillingError} `coupon_not_found` */
export async function getCoupon(ctx: Ctx, ref: string): Promise<CouponView> {
  return couponView(await loadCoupon(ctx, ctx.database.db, ref));
}

/**
 * Applies a coupon (id or code) to a subscription.
 *
 * @throws {BillingError} `subscription_not_found`, `coupon_not_found` (404); `discount_exists`,
 *   `subscription_canceled` (409); `coupon_not_yet_valid`, `coupon_expired`,
 *   `coupon_max_redemptions_reached`, `coupon_not_applicable_to_plan`, `coupon_currency_mismatch` (422)
 */
export async function applyDiscount(
  caller: Ctx,
  subscriptionId: string,
  input: { coupon: string },
): Promise<{ discount: DiscountView; replayed: boolean }> {
  const ctx = await subscriptionCtx(caller, subscriptionId);
  const now = ctx.clock.now();
  return await writeOp(ctx, async (tx, emit) => {
    const { row: sub, plan } = await loadSubscription(ctx, tx, subscriptionId);
    const coupon = await loadCoupon(ctx, tx, input.coupon);
    const existing = await discountRows.first(tx, ctx.scope, { subscription_id: sub.id });
    if (existing) {
      if (existing.coupon_id === coupon.id) {
        return { discount: discountView(existing, coupon), replayed: true };
      }
      throw new BillingError(
        "discount_exists",
        "conflict",
        `Subscription "${sub.id}" already has a discount (coupon "${existing.coupon_id}")`,
      );
    }
    const timeline = timelineOf(sub);
    if (timeline.cancel_at && timeline.cancel_at.getTime() <= now.getTime()) {
      throw new BillingError("subscription_canceled", "conflict", `Subscription "${sub.id}" has ended`);
    }
    assertRedeemable({ ...coupon, plan_ids: coupon.plan_ids as string[] | null }, {
      planId: plan.id,
      currency: plan.currency,
      now,
    });
    const trialing = timeline.trial_end !== null && now.getTime() < timeline.trial_end.getTime();
    const firstPeriodIndex = trialing
      ? 0
      : Math.max(0, periodAt({ ...timeline, cancel_at: null }, plan.interval, now).index);
    const row = {
      id: newId("sdi"),
      tenant_id: ctx.scope.tenantId,
      app_id: ctx.scope.appId,
      subscription_id: sub.id,
      coupon_id: coupon.id,
      redeemed_at: now,
      first_period_index: firstPeriodIndex,
      created_at: now,
    };
    await discountRows.insert(tx, ctx.scope, row);
    await countRedemption(tx, ctx.scope, coupon.id);
    const view = discountView(row, { ...coupon, times_redeemed: coupon.times_redeemed + 1 });
    emit("subscription.discount_applied", sub.id, view);
    return { discount: view, replayed: false };
  });
}

function discountView(row: DiscountRow, coupon: CouponRow): DiscountView {
  return {
    id: row.id,
    subscription_id: row.subscription_id,
    coupon: couponView(coupon),
    redeemed_at: row.redeemed_at.toISOString(),
    first_period_index: row.first_period_index,
  };
}
