/**
 * The invoice state machine: `draft → open → paid | void | uncollectible` (and
 * `uncollectible → paid` on a recovery), as pure functions. Each function takes the invoice's
 * current state and either says what the operation does or throws a {@link BillingError} with a
 * stable code. No storage, no clock: the invoices service loads the row, asks here, then writes.
 *
 * | from \ op      | finalize    | pay             | void            | mark uncollectible | credit note |
 * | -------------- | ----------- | --------------- | --------------- | ------------------ | ----------- |
 * | draft          | open / paid | invoice_not_open| void            | invoice_not_open   | not_creditable |
 * | open           | unchanged   | open / paid     | void (no pay/cn)| uncollectible      | open / paid |
 * | paid           | unchanged   | invoice_not_open| invoice_paid    | invoice_not_open   | paid (refund) |
 * | void           | invoice_voided | invoice_not_open | unchanged    | invoice_not_open   | not_creditable |
 * | uncollectible  | unchanged   | recovery → paid | invoice_uncollectible | unchanged    | not_creditable |
 *
 * @module
 */
import { BillingError } from "./errors.ts";

/** Status of an invoice (Stripe's names). */
export type InvoiceStatus = "draft" | "open" | "paid" | "void" | "uncollectible";

/** The amounts of an invoice the state machine reads; all minor units of its currency. */
export interface InvoiceAmounts {
  /** Current status. */
  status: InvoiceStatus;
  /** Total after discount and tax. */
  total: number;
  /** Prepaid monetary credits applied at finalization. */
  credits_applied: number;
  /** Sum of payments recorded. */
  amount_paid: number;
  /** Sum of credit notes issued. */
  credited: number;
}

/**
 * What is still owed: `total − credits_applied − amount_paid − credited` while the invoice is open
 * or uncollectible, otherwise 0 (a draft owes nothing yet; paid and void owe nothing).
 *
 * @returns minor units, ≥ 0 for a consistent invoice
 */
export function amountDue(invoice: InvoiceAmounts): number {
  if (invoice.status !== "open" && invoice.status !== "uncollectible") return 0;
  return invoice.total - invoice.credits_applied - invoice.amount_paid - invoice.credited;
}

/**
 * Finalizing: a draft is finalized, an open, paid or uncollectible invoice is returned unchanged.
 *
 * @returns `"finalize"` for a draft, `"unchanged"` otherwise
 * @throws {BillingError} `invoice_voided` (conflict) for a void invoice
 */
export function finalizeTransition(id: string, status: InvoiceStatus): "finalize" | "unchanged" {
  if (status === "void") throw new BillingError("invoice_voided", "conflict", `Invoice "${id}" is void`);
  return status === "draft" ? "finalize" : "unchanged";
}

/**
 * Status right after finalization: `paid` when nothing is due once credits are applied (a
 * zero-total invoice, as Stripe), else `open`.
 *
 * @param due minor units still due after credits
 */
export function statusAfterFinalize(due: number): "open" | "paid" {
  return due === 0 ? "paid" : "open";
}

/**
 * Recording a payment: allowed on an open invoice, and on an uncollectible one (a recovery, as
 * Stripe lets uncollectible invoices be paid); at most the amount due.
 *
 * @param amount minor units of the payment; omitted = the amount due
 * @returns the amount to record, the status afterwards and whether it is a recovery
 * @throws {BillingError} `invoice_not_open` (conflict); `payment_exceeds_amount_due` (unprocessable)
 */
export function paymentTransition(
  id: string,
  invoice: InvoiceAmounts,
  amount?: number,
): { amount: number; status: InvoiceStatus; recovery: boolean } {
  if (invoice.status !== "open" && invoice.status !== "uncollectible") {
    throw new BillingError(
      "invoice_not_open",
      "conflict",
      `Invoice "${id}" is ${invoice.status}; only open or uncollectible invoices take payments`,
    );
  }
  const due = amountDue(invoice);
  const paid = amount ?? due;
  if (paid > due) {
    throw new BillingError(
      "payment_exceeds_amount_due",
      "unprocessable",
      `The payment ${paid} exceeds the amount due ${due}`,
    );
  }
  return {
    amount: paid,
    status: paid === due ? "paid" : invoice.status,
    recovery: invoice.status === "uncollectible",
  };
}

/**
 * Voiding: a draft, or an open invoice without payments or credit notes, becomes void; a void
 * invoice is returned unchanged.
 *
 * @returns `"void"` or `"unchanged"`
 * @throws {BillingError} `invoice_paid`, `invoice_uncollectible`, `invoice_has_payments`,
 *   `invoice_has_credit_notes` (conflict)
 */
export function voidTransition(id: string, invoice: InvoiceAmounts): "void" | "unchanged" {
  if (invoice.status === "void") return "unchanged";
  if (invoice.status === "paid") {
    throw new BillingError("invoice_paid", "conflict", `Invoice "${id}" is paid and cannot be voided`);
  }
  if (invoice.status === "uncollectible") {
    throw new BillingError(
      "invoice_uncollectible",
      "conflict",
      `Invoice "${id}" was written off as uncollectible`,
    );
  }
  if (invoice.amount_paid > 0) {
    throw new BillingError(
      "invoice_has_payments",
      "conflict",
      `Invoice "${id}" has payments and cannot be voided`,
    );
  }
  if (invoice.credited > 0) {
    throw new BillingError(
      "invoice_has_credit_notes",
      "conflict",
      `Invoice "${id}" has credit notes and cannot be voided`,
    );
  }
  return "void";
}

/**
 * Marking uncollectible: only an open invoice is written off; an uncollectible one is returned
 * unchanged.
 *
 * @returns `"mark"` or `"unchanged"`
 * @throws {BillingError} `invoice_not_open` (conflict)
 */
export function uncollectibleTransition(id: string, status: InvoiceStatus): "mark" | "unchanged" {
  if (status === "uncollectible") return "unchanged";
  if (status !== "open") {
    throw new BillingError(
      "invoice_not_open",
      "conflict",
      `Invoice "${id}" is ${status}; only open invoices can be marked uncollectible`,
    );
  }
  return "mark";
}

/**
 * Issuing a credit note: on an open invoice it lowers the amount due (and pays the invoice off
 * when nothing is left); on a paid invoice it is a refund.
 *
 * @param amount minor units of the credit note, tax included
 * @returns the status afterwards
 * @throws {BillingError} `invoice_not_creditable` (conflict) unless open or paid;
 *   `credit_note_exceeds_creditable` (unprocessable)
 */
export function creditNoteTransition(id: string, invoice: InvoiceAmounts, amount: number): InvoiceStatus {
  if (invoice.status !== "open" && invoice.status !== "paid") {
    throw new BillingError(
      "invoice_not_creditable",
      "conflict",
      `Invoice "${id}" is ${invoice.status}; credit notes need an open or paid invoice`,
    );
  }
  const creditable = invoice.status === "open"
    ? amountDue(invoice)
    : invoice.total - invoice.credits_applied - invoice.credited;
  if (amount > creditable) {
    throw new BillingError(
      "credit_note_exceeds_creditable",
      "unprocessable",
      `The credit note ${amount} exceeds the creditable amount ${creditable}`,
    );
  }
  return invoice.status === "open" && amount === creditable ? "paid" : invoice.status;
}
