import assert from "node:assert/strict";
import { BillingError } from "../../src/domain/errors.ts";
import {
  amountDue,
  creditNoteTransition,
  finalizeTransition,
  type InvoiceAmounts,
  type InvoiceStatus,
  paymentTransition,
  statusAfterFinalize,
  uncollectibleTransition,
  voidTransition,
} from "../../src/domain/invoice_state.ts";

const STATUSES: InvoiceStatus[] = ["draft", "open", "paid", "void", "uncollectible"];

function invoice(status: InvoiceStatus, over: Partial<InvoiceAmounts> = {}): InvoiceAmounts {
  return { status, total: 10_000, credits_applied: 1_000, amount_paid: 2_000, credited: 500, ...over };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof BillingError);
    return e.code;
  }
  throw new assert.AssertionError({ message: "Expected a BillingError" });
}

Deno.test("amountDue() owes total − credits − payments − credit notes only while open or uncollectible", () => {
  assert.deepEqual(amountDue(invoice("open")), 6_500);
  assert.deepEqual(amountDue(invoice("uncollectible")), 6_500);
  for (const s of ["draft", "paid", "void"] as const) assert.deepEqual(amountDue(invoice(s)), 0);
});

Deno.test("finalizeTransition() finalizes a draft, keeps open/paid/uncollectible, refuses void", () => {
  assert.deepEqual(finalizeTransition("inv_1", "draft"), "finalize");
  for (const s of ["open", "paid", "uncollectible"] as const) {
    assert.deepEqual(finalizeTransition("inv_1", s), "unchanged");
  }
  assert.deepEqual(code(() => finalizeTransition("inv_1", "void")), "invoice_voided");
  assert.deepEqual(statusAfterFinalize(0), "paid");
  assert.deepEqual(statusAfterFinalize(1), "open");
});

Deno.test("paymentTransition() pays open and uncollectible invoices up to the amount due", () => {
  assert.deepEqual(paymentTransition("inv_1", invoice("open"), 500), {
    amount: 500,
    status: "open",
    recovery: false,
  });
  assert.deepEqual(paymentTransition("inv_1", invoice("open")), {
    amount: 6_500,
    status: "paid",
    recovery: false,
  });
  assert.deepEqual(paymentTransition("inv_1", invoice("uncollectible"), 6_500), {
    amount: 6_500,
    status: "paid",
    recovery: true,
  });
  assert.deepEqual(
    code(() => paymentTransition("inv_1", invoice("open"), 6_501)),
    "payment_exceeds_amount_due",
  );
  for (const s of ["draft", "paid", "void"] as const) {
    assert.deepEqual(code(() => paymentTransition("inv_1", invoice(s), 1)), "invoice_not_open");
  }
});

Deno.test("voidTransition() voids drafts and untouched open invoices only", () => {
  const clean = { amount_paid: 0, credited: 0 };
  assert.deepEqual(voidTransition("inv_1", invoice("draft", clean)), "void");
  assert.deepEqual(voidTransition("inv_1", invoice("open", clean)), "void");
  assert.deepEqual(voidTransition("inv_1", invoice("void")), "unchanged");
  assert.deepEqual(code(() => voidTransition("inv_1", invoice("paid"))), "invoice_paid");
  assert.deepEqual(code(() => voidTransition("inv_1", invoice("uncollectible"))), "invoice_uncollectible");
  assert.deepEqual(
    code(() => voidTransition("inv_1", invoice("open", { credited: 0 }))),
    "invoice_has_payments",
  );
  assert.deepEqual(
    code(() => voidTransition("inv_1", invoice("open", { amount_paid: 0 }))),
    "invoice_has_credit_notes",
  );
});

Deno.test("uncollectibleTransition() writes off open invoices only", () => {
  assert.deepEqual(uncollectibleTransition("inv_1", "open"), "mark");
  assert.deepEqual(uncollectibleTransition("inv_1", "uncollectible"), "unchanged");
  for (const s of ["draft", "paid", "void"] as const) {
    assert.deepEqual(code(() => uncollectibleTransition("inv_1", s)), "invoice_not_open");
  }
});

Deno.test("creditNoteTransition() credits open (up to due) and paid (up to net total) invoices", () => {
  assert.deepEqual(creditNoteTransition("inv_1", invoice("open"), 100), "open");
  assert.deepEqual(creditNoteTransition("inv_1", invoice("open"), 6_500), "paid");
  assert.deepEqual(
    code(() => creditNoteTransition("inv_1", invoice("open"), 6_501)),
    "credit_note_exceeds_creditable",
  );
  // Paid: creditable = total − credits_applied − credited = 8 500.
  assert.deepEqual(creditNoteTransition("inv_1", invoice("paid"), 8_500), "paid");
  assert.deepEqual(
    code(() => creditNoteTransition("inv_1", invoice("paid"), 8_501)),
    "credit_note_exceeds_creditable",
  );
  for (const s of ["draft", "void", "uncollectible"] as const) {
    assert.deepEqual(code(() => creditNoteTransition("inv_1", invoice(s), 1)), "invoice_not_creditable");
  }
});

Deno.test("every (status, operation) pair either transitions or throws a stable code", () => {
  const codes = new Set<string>();
  for (const s of STATUSES) {
    for (
      const op of [
        () => finalizeTransition("inv_1", s),
        () => paymentTransition("inv_1", invoice(s), 1),
        () => voidTransition("inv_1", invoice(s, { amount_paid: 0, credited: 0 })),
        () => uncollectibleTransition("inv_1", s),
        () => creditNoteTransition("inv_1", invoice(s), 1),
      ]
    ) {
      try {
        op();
      } catch (e) {
        if (!(e instanceof BillingError)) throw e;
        codes.add(e.code);
      }
    }
  }
  assert.deepEqual([...codes].sort(), [
    "invoice_not_creditable",
    "invoice_not_open",
    "invoice_paid",
    "invoice_uncollectible",
    "invoice_voided",
  ]);
});
