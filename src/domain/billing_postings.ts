/**
 * Ledger postings of the billing lifecycle (pure builders). Positive amounts debit, negative
 * credit; every builder returns postings that sum to zero and omits zero legs.
 *
 * Chart of accounts used by billing (per tenant+app and currency):
 * - `accounts_receivable:{customer}` (asset): what the customer owes on finalized invoices;
 * - `revenue` (revenue): billed revenue net of discounts and tax;
 * - `tax_payable` (liability): tax collected on behalf of authorities;
 * - `cash` (asset): money received (or refunded);
 * - `customer_credit:{customer}` (liability): prepaid credit balance owed back as service;
 * - `promotional_credit_expense` (expense): cost of credits given away;
 * - `bad_debt_expense` (expense): receivables written off as uncollectible;
 * - `credit_breakage` (revenue): purchased credit that expired unspent.
 *
 * @module
 */

/** One leg of an entry, in the shape the ledger module's `postEntry` takes. */
export interface BillingPosting {
  /** Ledger account id. */
  account_id: string;
  /** Minor units; > 0 debit, < 0 credit. */
  amount: number;
  /** ISO 4217 code. */
  currency: string;
}

/** Account types billing asks the ledger to ensure. */
export type BillingAccountType = "asset" | "liability" | "revenue" | "expense";

/** Billing account names and their types. */
export const BILLING_LEDGER_ACCOUNTS = {
  receivable: (customerId: string) => ({ name: `accounts_receivable:${customerId}`, type: "asset" as const }),
  revenue: { name: "revenue", type: "revenue" as const },
  taxPayable: { name: "tax_payable", type: "liability" as const },
  cash: { name: "cash", type: "asset" as const },
  customerCredit: (customerId: string) => ({
    name: `customer_credit:${customerId}`,
    type: "liability" as const,
  }),
  promotionalExpense: { name: "promotional_credit_expense", type: "expense" as const },
  badDebt: { name: "bad_debt_expense", type: "expense" as const },
  breakage: { name: "credit_breakage", type: "revenue" as const },
} as const;

function legs(currency: string, pairs: [string, number][]): BillingPosting[] {
  return pairs.filter(([, amount]) => amount !== 0).map(([account_id, amount]) => ({
    account_id,
    amount,
    currency,
  }));
}

/**
 * A finalized invoice: debit the receivable `total`, credit `revenue` `total − tax` and
 * `tax_payable` `tax`; zero legs are left out (a total made only of tax, after rounding, posts no
 * revenue leg).
 *
 * @throws {RangeError} unless `total > 0` and `0 ≤ tax ≤ total` (a caller bug)
 */
export function invoiceFinalizedPostings(
  a: { receivable: string; revenue: string; taxPayable: string },
  amounts: { total: number; tax: number; currency: string },
): BillingPosting[] {
  if (amounts.total <= 0 || amounts.tax < 0 || amounts.tax > amounts.total) {
    throw new RangeError(`invoiceFinalizedPostings(): total ${amounts.total}, tax ${amounts.tax}`);
  }
  return legs(amounts.currency, [[a.receivable, amounts.total], [a.revenue, -(amounts.total - amounts.tax)], [
    a.taxPayable,
    -amounts.tax,
  ]]);
}

/**
 * A monetary credit grant: purchased credit debits `cash`, promotional credit debits
 * `promotional_credit_expense`; both credit the customer's `customer_credit` liability.
 */
export function creditGrantPostings(
  a: { source: string; customerCredit: string },
  amount: number,
  currency: string,
): BillingPosting[] {
  return legs(currency, [[a.source, amount], [a.customerCredit, -amount]]);
}

/** Monetary credits applied to a finalized invoice: debit `customer_credit`, credit the receivable. */
export function creditsAppliedPostings(
  a: { customerCredit: string; receivable: string },
  amount: number,
  currency: string,
): BillingPosting[] {
  return legs(currency, [[a.customerCredit, amount], [a.receivable, -amount]]);
}

/**
 * A credit note of `amount` (tax included) of which `tax` is tax: debit `revenue` (amount − tax)
 * and `tax_payable` (tax); credit the receivable (open invoice: less to collect) or `cash` (paid
 * invoice: a refund).
 */
export function creditNotePostings(
  a: { revenue: string; taxPayable: string; counter: string },
  amount: number,
  tax: number,
  currency: string,
): BillingPosting[] {
  return legs(currency, [[a.revenue, amount - tax], [a.taxPayable, tax], [a.counter, -amount]]);
}

/**
 * A monetary grant expiring with `amount` unspent: debit `customer_credit`; credit
 * `credit_breakage` (purchased credit becomes revenue) or `promotional_credit_expense`
 * (promotional credit never given costs nothing).
 */
export function creditExpiryPostings(
  a: { customerCredit: string; counter: string },
  amount: number,
  currency: string,
): BillingPosting[] {
  return legs(currency, [[a.customerCredit, amount], [a.counter, -amount]]);
}

/** Writing off an uncollectible invoice: debit `bad_debt_expense`, credit the receivable. */
export function uncollectiblePostings(
  a: { badDebt: string; receivable: string },
  amount: number,
  currency: string,
): BillingPosting[] {
  return legs(currency, [[a.badDebt, amount], [a.receivable, -amount]]);
}
