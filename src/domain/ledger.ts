/**
 * Double-entry rules (pure). Vocabulary as TigerBeetle and the seed ledger package: an **entry**
 * (journal entry) groups **postings**; a posting moves an integer amount of minor units on one
 * account; positive = debit, negative = credit; an entry's postings sum to zero per currency.
 *
 * @module
 */
import { BillingError, type FieldIssue, invalid } from "./errors.ts";
import { assertAmount } from "./money.ts";

/** Classes of the chart of accounts. */
export type AccountType = "asset" | "liability" | "equity" | "revenue" | "expense";

/** Side on which an account's balance grows. */
export type NormalBalance = "debit" | "credit";

/**
 * Normal balance by account type (standard accounting): assets and expenses grow with debits;
 * liabilities, equity and revenue grow with credits.
 */
export function normalBalanceOf(type: AccountType): NormalBalance {
  return type === "asset" || type === "expense" ? "debit" : "credit";
}

/** One leg of an entry. `amount` > 0 debits the account, < 0 credits it; never 0. */
export interface PostingInput {
  /** TypeID `acc_…` of an account of the scope. */
  account_id: string;
  /** Minor units, debit > 0, credit < 0. */
  amount: number;
  /** ISO 4217, the account's currency. */
  currency: string;
}

/** Largest number of postings one entry may carry (a limit on everything). */
export const MAX_POSTINGS_PER_ENTRY = 128;

/**
 * Most entries one request may post (`POST /v1/ledger/entries/batch`): the writer's default batch
 * size (`ledger/writer.ts` `DEFAULT_MAX_BATCH_SIZE`) and the bound of `POST /v1/events`, so a full
 * request is one writer transaction when nothing else of the tenant is waiting.
 */
export const MAX_ENTRIES_PER_REQUEST = 1000;

/**
 * Checks the postings of an entry.
 *
 * @throws {BillingError} `validation_failed` for fewer than two postings, more than
 *   {@link MAX_POSTINGS_PER_ENTRY}, zero or unsafe amounts;
 *   `postings_not_balanced` (422) when some currency's postings do not sum to zero
 */
export function checkPostings(postings: readonly PostingInput[]): void {
  const issues: FieldIssue[] = [];
  if (postings.length < 2) issues.push({ path: "postings", message: "An entry needs at least two postings" });
  if (postings.length > MAX_POSTINGS_PER_ENTRY) {
    issues.push({ path: "postings", message: `An entry takes at most ${MAX_POSTINGS_PER_ENTRY} postings` });
  }
  for (const [i, p] of postings.entries()) {
    if (!Number.isSafeInteger(p.amount) || p.amount === 0) {
      issues.push({ path: `postings.${i}.amount`, message: "Must be a non-zero integer of minor units" });
    }
  }
  if (issues.length > 0) throw invalid(issues);
  const totals = new Map<string, bigint>();
  for (const p of postings) totals.set(p.currency, (totals.get(p.currency) ?? 0n) + BigInt(p.amount));
  const unbalanced = [...totals].filter(([, total]) => total !== 0n);
  if (unbalanced.length > 0) {
    const detail = unbalanced.map(([currency, total]) => `${currency} ${total}`).join(", ");
    throw new BillingError(
      "postings_not_balanced",
      "unprocessable",
      `The postings do not sum to zero per currency: ${detail}`,
    );
  }
}

/** Names of the accounts the billing flow posts to, per tenant+app and currency. */
export const BILLING_ACCOUNTS = {
  /** Asset: what a customer owes on finalized invoices. */
  receivable: (customerId: string) => `accounts_receivable:${customerId}`,
  /** Revenue: billed revenue net of discounts. */
  revenue: "revenue",
  /** Liability: tax collected on behalf of authorities. */
  taxPayable: "tax_payable",
  /** Asset: money received. */
  cash: "cash",
} as const;

/** Account references used to build postings (ids resolved by the caller). */
export interface InvoiceAccounts {
  /** `accounts_receivable:{customer}` (asset). */
  receivable: string;
  /** `revenue` (revenue). */
  revenue: string;
  /** `tax_payable` (liability). */
  taxPayable: string;
  /** `cash` (asset). */
  cash: string;
}

/**
 * Postings of a finalized invoice: debit receivable `total`, credit revenue `total − tax`,
 * credit tax payable `tax` (omitted when 0). Requires `total > 0`.
 */
export function invoiceFinalizedPostings(
  accounts: InvoiceAccounts,
  amounts: { total: number; tax: number; currency: string },
): PostingInput[] {
  const total = assertAmount(amounts.total, "invoice total");
  const postings: PostingInput[] = [
    { account_id: accounts.receivable, amount: total, currency: amounts.currency },
    { account_id: accounts.revenue, amount: -(total - amounts.tax), currency: amounts.currency },
  ];
  if (amounts.tax > 0) {
    postings.push({ account_id: accounts.taxPayable, amount: -amounts.tax, currency: amounts.currency });
  }
  checkPostings(postings);
  return postings;
}

/** Postings of a payment on an invoice: debit cash, credit the customer's receivable. */
export function invoicePaymentPostings(
  accounts: InvoiceAccounts,
  amount: number,
  currency: string,
): PostingInput[] {
  const postings = [
    { account_id: accounts.cash, amount: assertAmount(amount), currency },
    { account_id: accounts.receivable, amount: -amount, currency },
  ];
  checkPostings(postings);
  return postings;
}

/** Postings that reverse a finalized invoice when it is voided: the finalization's legs negated. */
export function reversalPostings(postings: readonly PostingInput[]): PostingInput[] {
  return postings.map((p) => ({ ...p, amount: -p.amount }));
}

// ---- accounts, balances and the available rule (ADR 0007) ----

/**
 * Balance constraints of an account, TigerBeetle's flags (at most one may be set):
 * - `debits_must_not_exceed_credits`: `debits_pending + debits_posted ≤ credits_posted`
 *   (a liability such as a customer's prepaid balance must never go below zero);
 * - `credits_must_not_exceed_debits`: `credits_pending + credits_posted ≤ debits_posted`.
 */
export interface AccountConstraints {
  /** debits_pending + debits_posted ≤ credits_posted. */
  debits_must_not_exceed_credits: boolean;
  /** credits_pending + credits_posted ≤ debits_posted. */
  credits_must_not_exceed_debits: boolean;
}

/** An account of the chart, as the ledger keeps it. `currency` is its only currency (ISO 4217). */
export interface LedgerAccount extends AccountConstraints {
  /** TypeID `acc_…`. */
  id: string;
  /** Unique per (scope, currency). */
  name: string;
  /** Class in the chart of accounts. */
  type: AccountType;
  /** ISO 4217. */
  currency: string;
  /** Side on which the balance grows. */
  normal_balance: NormalBalance;
  /** Free-form JSON. */
  metadata: Record<string, unknown> | null;
  /** Creation instant. */
  created_at: Date;
}

/**
 * Stored balance of an (account, currency), TigerBeetle's four counters plus `held`. All are
 * non-negative safe integers of minor units:
 * - `debits_posted` / `credits_posted`: Σ of committed debit / credit postings;
 * - `debits_pending` / `credits_pending`: Σ of pending holds that will debit / credit the account
 *   when captured (as the authorizing account or as the destination);
 * - `held`: Σ of pending holds that authorize against this account (part of the pending side
 *   opposite its normal balance).
 */
export interface BalanceCounters {
  /** Σ debit postings, minor units. */
  debits_posted: number;
  /** Σ credit postings, minor units. */
  credits_posted: number;
  /** Σ pending holds that will debit it, minor units. */
  debits_pending: number;
  /** Σ pending holds that will credit it, minor units. */
  credits_pending: number;
  /** Σ pending holds authorized against it, minor units. */
  held: number;
}

/** Counters of an account that has never been touched. */
export function emptyBalance(): BalanceCounters {
  return { debits_posted: 0, credits_posted: 0, debits_pending: 0, credits_pending: 0, held: 0 };
}

/**
 * Balance as the API shows it, every figure signed to the account's normal side (positive =
 * the account's natural direction):
 * - `posted` = `debits_posted − credits_posted` for debit-normal accounts (asset, expense) and
 *   `credits_posted − debits_posted` for credit-normal accounts (liability, equity, revenue);
 * - `held` = Σ pending holds authorized against the account;
 * - `pending` = what pending holds *into* this account (as destination) will add on capture,
 *   signed the same way;
 * - `available` = `posted − held`, for both normal sides. For a credit-normal account (a
 *   customer's prepaid balance) this is "credits minus debits minus what is authorized to be
 *   debited"; the seed computed `posted − held` on raw debits − credits, which gives the wrong
 *   sign for every credit-normal account.
 */
export interface BalanceSummary {
  /** Posted balance on the normal side. */
  posted: number;
  /** What pending holds into it add on capture. */
  pending: number;
  /** Authorized against it, pending. */
  held: number;
  /** posted − held. */
  available: number;
}

/** The side a hold on an account of this normal balance will move when captured: the opposite one. */
export function heldSide(normal: NormalBalance): NormalBalance {
  return normal === "debit" ? "credit" : "debit";
}

/** Summarizes counters with the rules of {@link BalanceSummary}. Pure; never throws. */
export function summarizeBalance(normal: NormalBalance, b: BalanceCounters): BalanceSummary {
  const posted = normal === "debit" ? b.debits_posted - b.credits_posted : b.credits_posted - b.debits_posted;
  const normalPending = normal === "debit" ? b.debits_pending : b.credits_pending;
  const oppositePending = normal === "debit" ? b.credits_pending : b.debits_pending;
  return {
    posted,
    pending: normalPending - (oppositePending - b.held),
    held: b.held,
    available: posted - b.held,
  };
}

/**
 * Whether counters satisfy the account's constraint flags (TigerBeetle's rule: pending counts
 * against the limit, so a hold reserves the room it may later use).
 */
export function satisfiesConstraints(account: AccountConstraints, b: BalanceCounters): boolean {
  if (account.debits_must_not_exceed_credits && b.debits_pending + b.debits_posted > b.credits_posted) {
    return false;
  }
  if (account.credits_must_not_exceed_debits && b.credits_pending + b.credits_posted > b.debits_posted) {
    return false;
  }
  return true;
}

/**
 * Adds `amount` (may be negative to release) to one side of posted or pending counters and
 * returns new counters; the input is not modified.
 *
 * @throws {BillingError} `amount_out_of_range` (422) when a counter would exceed 2^53 − 1
 * @throws {Error} when a counter would go negative (a broken invariant, never input)
 */
export function addToSide(
  b: BalanceCounters,
  kind: "posted" | "pending",
  side: NormalBalance,
  amount: number,
  heldDelta = 0,
): BalanceCounters {
  const field = `${side === "debit" ? "debits" : "credits"}_${kind}` as keyof BalanceCounters;
  const next = { ...b, [field]: b[field] + amount, held: b.held + heldDelta };
  for (const key of [field, "held"] as const) {
    if (next[key] > Number.MAX_SAFE_INTEGER) {
      throw new BillingError(
        "amount_out_of_range",
        "unprocessable",
        `The ${key} counter would exceed 2^53 - 1 minor units`,
      );
    }
    if (next[key] < 0) throw new Error(`invariant: ${key} would go negative`);
  }
  return next;
}

/** Longest hold: 30 days, in seconds (a limit on everything; card authorizations last 7–30 days). */
export const MAX_HOLD_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Checks a hold's time to live.
 *
 * @throws {BillingError} `validation_failed` unless `ttl_seconds` is an integer in 1…{@link MAX_HOLD_TTL_SECONDS}
 */
export function checkTtl(ttl_seconds: number): void {
  if (!Number.isInteger(ttl_seconds) || ttl_seconds < 1 || ttl_seconds > MAX_HOLD_TTL_SECONDS) {
    throw invalid([{ path: "ttl_seconds", message: `Must be an integer from 1 to ${MAX_HOLD_TTL_SECONDS}` }]);
  }
}

/**
 * Checks a positive amount of minor units (hold, capture, payment).
 *
 * @throws {BillingError} `invalid_amount` (400) unless `amount` is a safe integer > 0 (seed `ErrInvalidAmount`)
 */
export function checkPositiveAmount(amount: number, what = "amount"): number {
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw new BillingError(
      "invalid_amount",
      "invalid_request",
      `The ${what} must be a positive integer of minor units, got ${amount}`,
      {
        fields: [{ path: what, message: "Must be a positive integer of minor units" }],
      },
    );
  }
  return amount;
}

/** An account the ledger finds or creates by name (high-level operations, default hold destination). */
export interface NamedAccount extends AccountConstraints {
  /** Account name. */
  name: string;
  /** Class in the chart. */
  type: AccountType;
}

const named = (
  name: string,
  type: AccountType,
  constraints: Partial<AccountConstraints> = {},
): NamedAccount => ({
  name,
  type,
  debits_must_not_exceed_credits: constraints.debits_must_not_exceed_credits ?? false,
  credits_must_not_exceed_debits: constraints.credits_must_not_exceed_debits ?? false,
});

/**
 * The chart used by the high-level operations (seed `RecordPayment` …), per app and currency.
 * Types are chosen so every seed posting is coherent (ADR 0007):
 * - `cash` (asset): money received at the processor; the same account invoices post payments to;
 * - `platform_fees` (revenue): the fee the platform keeps from a payment (seed `platform:fees`);
 * - `customer_balance:{id}` (liability, debits must not exceed credits): what the platform owes a
 *   customer; a refund can never take it below zero;
 * - `merchant_settlement:{id}` (asset): money paid out to a merchant's bank, debited by a payout;
 * - `disputes_held` (asset): funds the processor withholds while a dispute is open;
 * - `hold_captures` (liability): default destination of a captured hold that names none.
 */
export const LEDGER_CHART = {
  cash: named(BILLING_ACCOUNTS.cash, "asset"),
  platformFees: named("platform_fees", "revenue"),
  customerBalance: (customerId: string) =>
    named(`customer_balance:${customerId}`, "liability", { debits_must_not_exceed_credits: true }),
  merchantSettlement: (merchantId: string) => named(`merchant_settlement:${merchantId}`, "asset"),
  disputesHeld: named("disputes_held", "asset"),
  holdCaptures: named("hold_captures", "liability"),
} as const;

/** A posting whose account is named (found or created when the entry commits). */
export interface NamedPosting {
  /** The account by name. */
  account: NamedAccount;
  /** Minor units, debit > 0, credit < 0. */
  amount: number;
  /** ISO 4217. */
  currency: string;
}

/**
 * Postings of a successful payment (seed `RecordPayment`): debit `cash` the amount, credit the
 * customer's balance `amount − fees`, credit `platform_fees` the fees. Legs of 0 are left out.
 *
 * @throws {BillingError} `invalid_amount` (400) for a non-positive amount or negative fees;
 *   `fees_exceed_amount` (422) when fees > amount (the seed would credit the customer a negative amount)
 */
export function paymentPostings(
  input: { amount: number; fees?: number; currency: string; customer_id: string },
): NamedPosting[] {
  const amount = checkPositiveAmount(input.amount);
  const fees = input.fees ?? 0;
  if (!Number.isSafeInteger(fees) || fees < 0) {
    throw new BillingError(
      "invalid_amount",
      "invalid_request",
      `The fees must be a non-negative integer of minor units, got ${fees}`,
      {
        fields: [{ path: "fees", message: "Must be a non-negative integer of minor units" }],
      },
    );
  }
  if (fees > amount) {
    throw new BillingError(
      "fees_exceed_amount",
      "unprocessable",
      `The fees ${fees} exceed the payment amount ${amount}`,
    );
  }
  const postings: NamedPosting[] = [{ account: LEDGER_CHART.cash, amount, currency: input.currency }];
  if (amount - fees > 0) {
    postings.push({
      account: LEDGER_CHART.customerBalance(input.customer_id),
      amount: -(amount - fees),
      currency: input.currency,
    });
  }
  if (fees > 0) {
    postings.push({ account: LEDGER_CHART.platformFees, amount: -fees, currency: input.currency });
  }
  return postings;
}

/** Postings of a refund (seed `RecordRefund`): debit the customer's balance, credit `cash`. @throws {BillingError} `invalid_amount` */
export function refundPostings(
  input: { amount: number; currency: string; customer_id: string },
): NamedPosting[] {
  const amount = checkPositiveAmount(input.amount);
  return [
    { account: LEDGER_CHART.customerBalance(input.customer_id), amount, currency: input.currency },
    { account: LEDGER_CHART.cash, amount: -amount, currency: input.currency },
  ];
}

/** Postings of a payout (seed `RecordPayout`): debit `merchant_settlement:{id}`, credit `cash`. @throws {BillingError} `invalid_amount` */
export function payoutPostings(
  input: { amount: number; currency: string; merchant_id: string },
): NamedPosting[] {
  const amount = checkPositiveAmount(input.amount);
  return [
    { account: LEDGER_CHART.merchantSettlement(input.merchant_id), amount, currency: input.currency },
    { account: LEDGER_CHART.cash, amount: -amount, currency: input.currency },
  ];
}

/** Postings of a dispute (seed `RecordDispute`): debit `disputes_held`, credit `cash`. @throws {BillingError} `invalid_amount` */
export function disputePostings(input: { amount: number; currency: string }): NamedPosting[] {
  const amount = checkPositiveAmount(input.amount);
  return [
    { account: LEDGER_CHART.disputesHeld, amount, currency: input.currency },
    { account: LEDGER_CHART.cash, amount: -amount, currency: input.currency },
  ];
}
