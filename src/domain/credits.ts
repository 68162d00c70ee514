/**
 * Prepaid credits (pure rules).
 *
 * - A grant is **monetary** (minor units of a currency, spent against an invoice's total after
 *   tax, as Lago's prepaid-credit wallets and Stripe's customer credit balance) or in **units** of
 *   one feature (spent against the feature's billable units, after the plan's `included`
 *   allowance, before pricing).
 * - A grant covers a billing period when it overlaps it: `effective_at < period_end` and
 *   (`expires_at` is null or `expires_at > period_start`).
 * - Spending order: higher `priority` first, then earliest `expires_at` (never-expiring last), then
 *   oldest `effective_at`, then id, as Stripe's credit grants ("priority, then expiry, then
 *   creation"). Each grant gives at most its remaining balance.
 * - Consumption is recorded once per (grant, invoice) at finalization; a draft only previews it.
 *   Remaining = amount − all recorded consumptions, so recomputing a draft, finalizing twice or
 *   rolling the period over never spends the same grant twice.
 *
 * @module
 */

/** A grant with its remaining balance, as the spending rule needs it. */
export interface GrantBalance {
  /** TypeID `cgr_…` of the grant. */
  id: string;
  /** Higher is spent first. */
  priority: number;
  /** From when the grant may be spent (UTC). */
  effective_at: Date;
  /** When it stops covering periods, null = never. */
  expires_at: Date | null;
  /** Amount left to spend (minor units or units), ≥ 0. */
  remaining: number;
}

/** One draw on a grant. */
export interface Draw {
  /** Grant drawn on. */
  grant_id: string;
  /** Amount drawn (minor units or units), > 0. */
  amount: number;
}

/** Whether a grant covers `[start, end)` (see module rule). */
export function grantCovers(
  grant: Pick<GrantBalance, "effective_at" | "expires_at">,
  start: Date,
  end: Date,
): boolean {
  return grant.effective_at.getTime() < end.getTime() &&
    (grant.expires_at === null || grant.expires_at.getTime() > start.getTime());
}

/** Grants in spending order (see module rule). Does not mutate its input. */
export function spendingOrder<T extends GrantBalance>(grants: readonly T[]): T[] {
  return [...grants].sort((a, b) => {
    if (a.priority !== b.priority) return b.priority - a.priority;
    const ea = a.expires_at?.getTime() ?? Number.POSITIVE_INFINITY;
    const eb = b.expires_at?.getTime() ?? Number.POSITIVE_INFINITY;
    if (ea !== eb) return ea < eb ? -1 : 1;
    if (a.effective_at.getTime() !== b.effective_at.getTime()) {
      return a.effective_at.getTime() - b.effective_at.getTime();
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

/**
 * Draws up to `needed` from grants in spending order.
 *
 * @param needed non-negative integer
 * @returns the draws (only non-zero ones) and the total drawn (≤ needed)
 */
export function drawCredits(
  grants: readonly GrantBalance[],
  needed: number,
): { draws: Draw[]; drawn: number } {
  const draws: Draw[] = [];
  let left = Math.max(0, needed);
  for (const grant of spendingOrder(grants)) {
    if (left === 0) break;
    const take = Math.min(grant.remaining, left);
    if (take <= 0) continue;
    draws.push({ grant_id: grant.id, amount: take });
    left -= take;
  }
  return { draws, drawn: Math.max(0, needed) - left };
}
