/**
 * Prepaid credit grants. Rules (coverage, spending order, once-only consumption) live in
 * `domain/credits.ts`; invoices spend them at finalization (`invoices.ts`).
 *
 * - Monetary grants post to the ledger when granted: purchased credit debits `cash`, promotional
 *   credit debits `promotional_credit_expense`, both credit `customer_credit:{customer}`.
 * - Unit grants are an inventory of free units of one feature; what an invoice consumed is a
 *   `credit_consumptions` row (one per grant and invoice).
 * - A monetary grant that expires with a balance is closed once by the billing job
 *   ({@link expireCredits}): the remainder is posted as breakage.
 * - `reference` is the client's idempotency key per app: the same reference with the same grant
 *   returns it; with another grant → `idempotency_key_reused`.
 *
 * @module
 */
import {
  BILLING_LEDGER_ACCOUNTS,
  creditExpiryPostings,
  creditGrantPostings,
} from "../domain/billing_postings.ts";
import { type FieldIssue, invalid } from "../domain/errors.ts";
import { payloadHash } from "../domain/hash.ts";
import { keyReused, onceVerdict } from "../domain/idempotency.ts";
import { newId } from "../domain/ids.ts";
import { assertAmount, currencyExponent } from "../domain/money.ts";
import type { Executor } from "../storage/db.ts";
import type { Scope } from "../domain/scope.ts";
import {
  consumptionRows,
  creditGrantPage,
  type CreditGrantRow,
  creditGrantRows,
  expiredOpenGrantsOfAllScopes,
  hasDraftStartingBefore,
  spentOfGrant,
  spentOfGrants,
} from "./repository.ts";
import type { Ctx, Services } from "../context.ts";
import { writeOp } from "../lifecycle/write.ts";
import { mapPage, type Page, type PageRequest } from "../domain/paging.ts";
import { loadCustomer } from "../customers/service.ts";
import { customerByRef } from "../customers/repository.ts";
import { customerCtx } from "../test_clocks/time.ts";
import { ensureAccount, postEntry } from "../ledger/service.ts";
import type { CreditGrantView } from "../domain/views.ts";
export type { CreditGrantView };

/** Body of a grant. */
export interface CreditGrantInput {
  /**
   * The client's idempotency key, unique per app: a retry with the same grant returns the first one, the
   * same reference with another grant is `idempotency_key_reused`.
   */
  reference: string;
  /**
   * `monetary` (minor units spent against invoice totals after tax) or `units` (free units of `feature`,
   * spent before pricing).
   */
  kind: "monetary" | "units";
  /** Minor units of `currency` (monetary) or units of `feature`. */
  amount: number;
  /** ISO 4217 code; required for `monetary`, rejected for `units`. */
  currency?: string;
  /** Feature key; required for `units`, rejected for `monetary`. */
  feature?: string;
  /** Higher spends first (default 0). */
  priority?: number;
  /** When the grant starts covering periods (default now). */
  effective_at?: Date;
  /** When it stops covering periods; after `effective_at`; absent = never. */
  expires_at?: Date;
  /**
   * `purchased` (booked against cash) or `promotional` (booked against promotional expense); default
   * `promotional`: a grant that does not say money came in must not claim cash (Stripe requires the
   * category; the API documented promotional as the default).
   */
  source?: "purchased" | "promotional";
}

type GrantRow = CreditGrantRow;

function view(row: GrantRow, spent: number): CreditGrantView {
  return {
    id: row.id,
    customer_id: row.customer_id,
    kind: row.kind,
    currency: row.currency,
    feature: row.feature,
    amount: row.amount,
    remaining: row.amount - spent,
    priority: row.priority,
    effective_at: row.effective_at.toISOString(),
    expires_at: row.expires_at?.toISOString() ?? null,
    source: row.source,
    reference: row.reference,
    entry_id: row.entry_id,
    created_at: row.created_at.toISOString(),
  };
}

/**
 * Grants prepaid credit to a customer.
 *
 * @throws {BillingError} `customer_not_found` (404); `validation_failed`, `unsupported_currency`;
 *   `idempotency_key_reused` (409)
 */
export async function grantCredits(
  caller: Ctx,
  customerRef: string,
  input: CreditGrantInput,
): Promise<{ grant: CreditGrantView; replayed: boolean }> {
  // On the customer's clock (a test clock's frozen time when bound to one); a missing customer
  // keeps the caller's, and the lookup below answers 404 after the field checks.
  const bound = await customerByRef(caller.database.db, caller.scope, customerRef);
  const ctx = bound ? await customerCtx(caller, caller.database.db, bound.id) : caller;
  const issues: FieldIssue[] = [];
  assertAmount(input.amount);
  if (input.amount < 1) issues.push({ path: "amount", message: "Must be at least 1" });
  if (input.kind === "monetary") {
    if (!input.currency) issues.push({ path: "currency", message: "Required for monetary grants" });
    if (input.feature) issues.push({ path: "feature", message: "Only used for unit grants" });
  } else {
    if (!input.feature) issues.push({ path: "feature", message: "Required for unit grants" });
    if (input.currency) issues.push({ path: "currency", message: "Only used for monetary grants" });
  }
  const now = ctx.clock.now();
  const effective = input.effective_at ?? now;
  if (input.expires_at && input.expires_at.getTime() <= effective.getTime()) {
    issues.push({ path: "expires_at", message: "Must be after effective_at" });
  }
  if (issues.length > 0) throw invalid(issues, "The credit grant breaks one or more rules");
  if (input.currency) currencyExponent(input.currency);
  const hash = await payloadHash({
    customer: customerRef,
    kind: input.kind,
    amount: input.amount,
    currency: input.currency ?? null,
    feature: input.feature ?? null,
    priority: input.priority ?? 0,
    effective_at: input.effective_at?.getTime() ?? null,
    expires_at: input.expires_at?.getTime() ?? null,
    source: input.source ?? "promotional",
  });
  return await writeOp(ctx, async (tx, emit) => {
    const customer = await loadCustomer(ctx, tx, customerRef);
    const prior = await creditGrantRows.first(tx, ctx.scope, { reference: input.reference });
    const verdict = onceVerdict(input.reference, hash, prior);
    if (verdict === "conflict") throw keyReused(`Credit grant reference "${input.reference}"`);
    if (prior && verdict === "replay") {
      return { grant: view(prior, await spentOf(ctx, tx, prior.id)), replayed: true };
    }
    const id = newId("cgr");
    let entryId: string | null = null;
    const source = input.source ?? "promotional";
    if (input.kind === "monetary") {
      const currency = input.currency!;
      const ensure = async (a: { name: string; type: "asset" | "liability" | "revenue" | "expense" }) =>
        (await ensureAccount(tx, ctx.scope, now, { ...a, currency })).id;
      const from = await ensure(
        source === "purchased" ? BILLING_LEDGER_ACCOUNTS.cash : BILLING_LEDGER_ACCOUNTS.promotionalExpense,
      );
      const customerCredit = await ensure(BILLING_LEDGER_ACCOUNTS.customerCredit(customer.id));
      const { entry } = await postEntry(tx, ctx.scope, now, {
        idempotency_key: `credit_grant:${id}`,
        description: `${source === "purchased" ? "Purchased" : "Promotional"} credit for ${customer.id}`,
        postings: creditGrantPostings({ source: from, customerCredit }, input.amount, currency),
        metadata: { credit_grant_id: id, reference: input.reference },
      });
      entryId = entry.id;
      emit("ledger.entry_posted", entry.id, entry);
    }
    const row: GrantRow = {
      id,
      tenant_id: ctx.scope.tenantId,
      app_id: ctx.scope.appId,
      customer_id: customer.id,
      kind: input.kind,
      currency: input.currency ?? null,
      feature: input.feature ?? null,
      amount: input.amount,
      priority: input.priority ?? 0,
      effective_at: effective,
      expires_at: input.expires_at ?? null,
      source,
      reference: input.reference,
      payload_hash: hash,
      entry_id: entryId,
      created_at: now,
    };
    await creditGrantRows.insert(tx, ctx.scope, row);
    emit("credit_grant.created", id, view(row, 0));
    return { grant: view(row, 0), replayed: false };
  });
}

async function spentOf(ctx: Ctx, exec: Executor, grantId: string): Promise<number> {
  return await spentOfGrant(exec, ctx.scope, grantId);
}

/**
 * A customer's credit grants with their remaining balances, newest first, one page at a time
 * (`domain/paging.ts`).
 *
 * @throws {BillingError} `customer_not_found` (404); `validation_failed` for a cursor this list did not hand out
 */
export async function listCreditGrants(
  ctx: Ctx,
  customerRef: string,
  request: PageRequest = {},
): Promise<Page<CreditGrantView>> {
  const db = ctx.database.db;
  const customer = await loadCustomer(ctx, db, customerRef);
  const page = await creditGrantPage(db, ctx.scope, customer.id, request);
  if (page.data.length === 0) return { data: [], next_cursor: null };
  const by = await spentOfGrants(db, ctx.scope, page.data.map((r) => r.id));
  return await mapPage(page, (r) => view(r, by.get(r.id) ?? 0));
}

/** Invoice id recorded on the consumption row that closes an expired grant. */
export const EXPIRY_CONSUMPTION = "expiry";

/**
 * Closes monetary grants that expired with a balance (all scopes; customers on the wall clock, or
 * only those of `testClock` when given), at most `limit` per call: the
 * unspent remainder is recorded as a consumption (`invoice_id = "expiry"`, so it happens once per
 * grant) and posted as breakage (`creditExpiryPostings`). A grant is closed only when the customer
 * has no draft invoice for a period starting before the expiry, because such a draft may still
 * spend it (the grant covers periods it overlaps); the next run retries it.
 *
 * @returns how many grants were closed
 */
export async function expireCredits(
  services: Services,
  now: Date,
  limit = 500,
  testClock?: { scope: Scope; id: string },
): Promise<number> {
  const db = services.database.db;
  const due = await expiredOpenGrantsOfAllScopes(db, now, EXPIRY_CONSUMPTION, limit, testClock);
  let closed = 0;
  for (const grant of due) {
    const ctx: Ctx = {
      ...services,
      scope: { tenantId: grant.tenant_id, appId: grant.app_id },
      actor: "billing_cycle",
    };
    const done = await writeOp(ctx, async (tx, emit) => {
      const open = await hasDraftStartingBefore(tx, ctx.scope, grant.customer_id, grant.expires_at!);
      if (open) return false;
      const remaining = grant.amount - await spentOf(ctx, tx, grant.id);
      await consumptionRows.insert(tx, ctx.scope, {
        id: newId("ccn"),
        grant_id: grant.id,
        invoice_id: EXPIRY_CONSUMPTION,
        amount: remaining,
        created_at: now,
      });
      if (remaining > 0) {
        const currency = grant.currency!;
        const ensure = async (a: { name: string; type: "asset" | "liability" | "revenue" | "expense" }) =>
          (await ensureAccount(tx, ctx.scope, now, { ...a, currency })).id;
        const customerCredit = await ensure(BILLING_LEDGER_ACCOUNTS.customerCredit(grant.customer_id));
        const counter = await ensure(
          grant.source === "purchased"
            ? BILLING_LEDGER_ACCOUNTS.breakage
            : BILLING_LEDGER_ACCOUNTS.promotionalExpense,
        );
        const { entry } = await postEntry(tx, ctx.scope, now, {
          idempotency_key: `credit_grant:${grant.id}:expire`,
          description: `Credit grant ${grant.reference} expired with ${remaining} unspent`,
          postings: creditExpiryPostings({ customerCredit, counter }, remaining, currency),
          metadata: { credit_grant_id: grant.id },
        });
        emit("ledger.entry_posted", entry.id, entry);
      }
      return true;
    });
    if (done) closed++;
  }
  return closed;
}
