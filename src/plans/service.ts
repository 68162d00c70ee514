/**
 * Plans: create, read, list, update, archive.
 *
 * Natural idempotency: `key` is unique per app. Creating a plan whose key exists returns the
 * existing plan (`replayed: true`) when the definition is identical, and fails with
 * `plan_key_exists` (409) otherwise. `currency`, `interval` and `key` are immutable after creation
 * (invoices of running subscriptions depend on them); price and feature changes apply to periods
 * billed after the change.
 *
 * @module
 */
import { BillingError, notFound } from "../domain/errors.ts";
import { canonicalJson } from "../domain/hash.ts";
import { isId, newId } from "../domain/ids.ts";
import { assertAmount, currencyExponent } from "../domain/money.ts";
import type { Interval } from "../domain/period.ts";
import {
  checkFeatures,
  DEFAULT_INVOICE_GRACE_PERIOD_HOURS,
  type Feature,
  type FeatureInput,
  type Plan,
  type PlanStatus,
} from "../domain/plan.ts";
import type { Executor } from "../storage/db.ts";
import { planPage, type PlanRow, planRows } from "./repository.ts";
import { mapPage, type Page, type PageRequest } from "../domain/paging.ts";
import type { Ctx } from "../context.ts";
import { writeOp } from "../lifecycle/write.ts";
import { invalidateEntitlements } from "../entitlements/invalidate.ts";
import { featureView, type PlanView } from "../domain/views.ts";
export type { PlanView };

/** Body of plan creation. Amounts are integer minor units of `currency`. */
export interface CreatePlanInput {
  /** Plan key, unique per app; `plan_id` fields accept it. */
  key: string;
  /** Display name. */
  name: string;
  /** Free text shown to customers. */
  description?: string | null;
  /** ISO 4217 code of every amount of the plan. */
  currency: string;
  /** Billing period length (`month` or `year`). */
  interval: Interval;
  /** Days of free trial before the first paid period (default 0). */
  trial_days?: number;
  /** Fixed fee per period in minor units of `currency` (default 0). */
  base_amount?: number;
  /** Hours a period's draft invoice takes late usage (default 1). */
  invoice_grace_period_hours?: number;
  /** Features with limits and prices, checked by `domain/plan.ts` (at most 100). */
  features?: FeatureInput[];
}

/** Fields a plan update may change. */
export interface UpdatePlanInput {
  /** New display name. */
  name?: string;
  /** New description; `null` clears it. */
  description?: string | null;
  /** Trial days for subscriptions created after the update. */
  trial_days?: number;
  /** Hours a period's draft invoice takes late usage; applies to drafts not yet finalized. */
  invoice_grace_period_hours?: number;
  /** New fixed fee per period in minor units of the plan's currency. */
  base_amount?: number;
  /** The full new feature list (replaces the old one), checked by `domain/plan.ts`. */
  features?: FeatureInput[];
}

/** Row → domain plan. */
export function planFromRow(row: PlanRow): Plan {
  const { tenant_id: _tenant, app_id: _app, ...plan } = row;
  return { ...plan, features: plan.features as Feature[] };
}

/** Domain plan → API view. */
export function planView(plan: Plan): PlanView {
  return {
    ...plan,
    features: plan.features.map(featureView),
    created_at: plan.created_at.toISOString(),
    updated_at: plan.updated_at.toISOString(),
  };
}

/**
 * Creates a plan.
 *
 * @returns the plan and whether it was an identical replay of an existing one
 * @throws {BillingError} `unsupported_currency`, `validation_failed` (feature rules),
 *   `plan_key_exists` (409)
 */
export async function createPlan(
  ctx: Ctx,
  input: CreatePlanInput,
): Promise<{ plan: PlanView; replayed: boolean }> {
  currencyExponent(input.currency);
  const features = checkFeatures(input.features ?? []);
  const now = ctx.clock.now();
  const plan: Plan = {
    id: newId("pln"),
    key: input.key,
    name: input.name,
    description: input.description ?? null,
    currency: input.currency,
    interval: input.interval,
    trial_days: input.trial_days ?? 0,
    base_amount: assertAmount(input.base_amount ?? 0, "base_amount"),
    invoice_grace_period_hours: input.invoice_grace_period_hours ?? DEFAULT_INVOICE_GRACE_PERIOD_HOURS,
    features,
    status: "active",
    created_at: now,
    updated_at: now,
  };
  return await writeOp(ctx, async (tx, emit) => {
    const existing = await planRows.first(tx, ctx.scope, { key: input.key });
    if (existing) {
      const current = planFromRow(existing);
      if (definition(current) === definition(plan)) return { plan: planView(current), replayed: true };
      throw new BillingError(
        "plan_key_exists",
        "conflict",
        `A different plan with key "${input.key}" already exists`,
      );
    }
    await planRows.insert(tx, ctx.scope, plan);
    emit("plan.created", plan.id, planView(plan));
    return { plan: planView(plan), replayed: false };
  });
}

function definition(p: Plan): string {
  const { id: _id, created_at: _c, updated_at: _u, status: _s, ...rest } = p;
  return canonicalJson(rest);
}

/**
 * Loads a plan of the caller's scope.
 *
 * @throws {BillingError} `plan_not_found` (404) when missing or of another tenant/app
 */
export async function loadPlan(ctx: Ctx, exec: Executor, id: string): Promise<Plan> {
  if (!isId("pln", id)) throw notFound("plan", id);
  const row = await planRows.first(exec, ctx.scope, { id });
  if (!row) throw notFound("plan", id);
  return planFromRow(row);
}

/**
 * Loads a plan of the caller's scope by `pln_` id or by its key (unique per app, like Stripe's
 * price `lookup_key`): the `plan_id` fields of subscription creation and plan changes take either,
 * as their schemas document.
 *
 * @throws {BillingError} `plan_not_found` (404) when neither an id nor a key of this app matches
 */
export async function loadPlanByRef(ctx: Ctx, exec: Executor, ref: string): Promise<Plan> {
  if (isId("pln", ref)) return await loadPlan(ctx, exec, ref);
  const row = await planRows.first(exec, ctx.scope, { key: ref });
  if (!row) throw notFound("plan", ref);
  return planFromRow(row);
}

/** GET a plan. @throws {BillingError} `plan_not_found` */
export async function getPlan(ctx: Ctx, id: string): Promise<PlanView> {
  return planView(await loadPlan(ctx, ctx.database.db, id));
}

/**
 * Lists the app's plans, newest first, one page at a time (`domain/paging.ts`), optionally in one status.
 *
 * @throws {BillingError} `validation_failed` for a cursor this list did not hand out
 */
export async function listPlans(
  ctx: Ctx,
  filter: { status?: PlanStatus } & PageRequest,
): Promise<Page<PlanView>> {
  const page = await planPage(ctx.database.db, ctx.scope, { status: filter.status }, {
    limit: filter.limit,
    cursor: filter.cursor,
  });
  return await mapPage(page, (r) => planView(planFromRow(r)));
}

/**
 * Updates a plan's mutable fields and drops cached entitlements of the app.
 *
 * @throws {BillingError} `plan_not_found`, `validation_failed`
 */
export async function updatePlan(ctx: Ctx, id: string, input: UpdatePlanInput): Promise<PlanView> {
  const features = input.features ? checkFeatures(input.features) : undefined;
  if (input.base_amount !== undefined) assertAmount(input.base_amount, "base_amount");
  const result = await writeOp(ctx, async (tx, emit) => {
    const plan = await loadPlan(ctx, tx, id);
    const updated: Plan = {
      ...plan,
      name: input.name ?? plan.name,
      description: input.description === undefined ? plan.description : input.description,
      trial_days: input.trial_days ?? plan.trial_days,
      invoice_grace_period_hours: input.invoice_grace_period_hours ?? plan.invoice_grace_period_hours,
      base_amount: input.base_amount ?? plan.base_amount,
      features: features ?? plan.features,
      updated_at: ctx.clock.now(),
    };
    await planRows.update(tx, ctx.scope, { id }, {
      name: updated.name,
      description: updated.description,
      trial_days: updated.trial_days,
      invoice_grace_period_hours: updated.invoice_grace_period_hours,
      base_amount: updated.base_amount,
      features: updated.features,
      updated_at: updated.updated_at,
    });
    emit("plan.updated", id, planView(updated));
    return planView(updated);
  });
  await invalidateEntitlements(ctx);
  return result;
}

/**
 * Archives a plan: it keeps its subscriptions but accepts no new ones. Idempotent.
 *
 * @throws {BillingError} `plan_not_found`
 */
export async function archivePlan(ctx: Ctx, id: string): Promise<PlanView> {
  const result = await writeOp(ctx, async (tx, emit) => {
    const plan = await loadPlan(ctx, tx, id);
    if (plan.status === "archived") return planView(plan);
    const updated: Plan = { ...plan, status: "archived", updated_at: ctx.clock.now() };
    await planRows.update(tx, ctx.scope, { id }, { status: "archived", updated_at: updated.updated_at });
    emit("plan.archived", id, planView(updated));
    return planView(updated);
  });
  await invalidateEntitlements(ctx);
  return result;
}
