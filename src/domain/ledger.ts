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
  account_id: string;
  amount: number;
  currency: string;
}

/** Largest number of postings one entry may carry (a limit on everything). */
export const MAX_POSTINGS_PER_ENTRY = 128;

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
    throw new BillingError("postings_not_balanced", "unprocessable", `The postings do not sum to zero per currency: ${detail}`);
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
  receivable: string;
  revenue: string;
  taxPayable: string;
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
  if (amounts.tax > 0) postings.push({ account_id: accounts.taxPayable, amount: -amounts.tax, currency: amounts.currency });
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
