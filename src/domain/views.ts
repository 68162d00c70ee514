/**
 * Resources as the API shows them (JSON-ready: instants are ISO 8601 strings, amounts integers of
 * minor units). They are also what lifecycle events carry (`events.ts`), which is why they live
 * in the domain: a capability's service builds them, webhooks, audit and plugins receive them.
 *
 * @module
 */
import type { Coupon } from "./coupons.ts";
import type { InvoiceLineDraft } from "./invoice.ts";
import type { InvoiceStatus } from "./invoice_state.ts";
import type { PostingInput } from "./ledger.ts";
import type { Plan } from "./plan.ts";
import type { ProrationBehavior, SubscriptionStatus } from "./subscription.ts";

/** An invoice line as the API shows it: exactly the computed line (`invoice.ts`). */
export type InvoiceLineView = InvoiceLineDraft;

/** A plan as the API shows it. */
export interface PlanView extends Omit<Plan, "created_at" | "updated_at"> {
  created_at: string;
  updated_at: string;
}

/** An invoice as the API shows it; amounts in minor units of `currency`. */
export interface InvoiceView {
  /** TypeID (`inv_…` / `cn_…`). */
  id: string;
  /** Gapless number (`INV-000001` / `CN-000001`); null while a draft. */
  number: string | null;
  /** Lifecycle status (`domain/invoice_state.ts`). */
  status: InvoiceStatus;
  /** Customer TypeID. */
  customer_id: string;
  /** Subscription TypeID. */
  subscription_id: string;
  /** ISO 4217 code. */
  currency: string;
  /** Computed lines in order. */
  lines: InvoiceLineView[];
  /** Sum of lines before discount and tax. */
  subtotal: number;
  /** Coupon discount. */
  discount: number;
  /** Tax amount. */
  tax: number;
  /** subtotal − discount + exclusive tax. */
  total: number;
  /** Prepaid monetary credits applied (a draft shows the preview). */
  credits_applied: number;
  /** Sum of credit notes against the invoice. */
  credited: number;
  /** Sum of payments recorded. */
  amount_paid: number;
  /** `total − credits_applied − amount_paid − credited` while open or uncollectible, else 0. */
  amount_due: number;
  /** Coupon applied, if any. */
  coupon_id: string | null;
  /** Tax rate applied (basis points), if any. */
  tax_rate: { id: string; percentage_bp: number; inclusive: boolean } | null;
  /** ISO 8601 start of the billed period (inclusive). */
  period_start: string;
  /** ISO 8601 end of the billed period (exclusive). */
  period_end: string;
  /** ISO 8601 due date, while open. */
  due_at: string | null;
  /** ISO 8601 time of finalization. */
  finalized_at: string | null;
  /** ISO 8601 time it became paid. */
  paid_at: string | null;
  /** ISO 8601 time it was voided. */
  voided_at: string | null;
  /** ISO 8601 time it was written off. */
  uncollectible_at: string | null;
  /** ISO 8601 creation time. */
  created_at: string;
}

/** A credit note as the API shows it. */
export interface CreditNoteView {
  /** TypeID (`inv_…` / `cn_…`). */
  id: string;
  /** Gapless number (`INV-000001` / `CN-000001`); null while a draft. */
  number: string;
  /** Invoice TypeID the credit note is against. */
  invoice_id: string;
  /** Amount credited, tax included. */
  amount: number;
  /** Tax amount. */
  tax: number;
  /** Free-text reason. */
  reason: string | null;
  /** Caller's retry-safety reference. */
  reference: string | null;
  /** Ledger entry TypeID of its posting. */
  entry_id: string;
  /** ISO 8601 creation time. */
  created_at: string;
}

/** A customer as the API shows it. */
export interface CustomerView {
  id: string;
  external_id: string;
  name: string | null;
  email: string | null;
  created_at: string;
}

/** A tax rate as the API shows it (`percentage` as a decimal, `percentage_bp` exact). */
export interface TaxRateView {
  id: string;
  display_name: string;
  jurisdiction: string | null;
  percentage: number;
  percentage_bp: number;
  inclusive: boolean;
  created_at: string;
}

/** A journal entry with its postings (in posting order). */
export interface EntryView {
  /** TypeID of the resource. */
  id: string;
  /** Position in the app's journal (1, 2, 3…). */
  seq: number;
  /** Key of the command that wrote it. */
  idempotency_key: string;
  /** Free text. */
  description: string | null;
  /** Entry this one reverses, if any. */
  reverses_entry_id: string | null;
  /** Free-form JSON. */
  metadata: Record<string, unknown> | null;
  /** External id. */
  payment_intent_id: string | null;
  /** External id. */
  refund_id: string | null;
  /** External id. */
  payout_id: string | null;
  /** External id. */
  dispute_id: string | null;
  /** Legs in order; minor units, debit > 0, credit < 0. */
  postings: PostingInput[];
  /** ISO 8601 instant. */
  created_at: string;
}

/** A coupon as the API shows it (`percent_off` back as a decimal percentage). */
export interface CouponView {
  id: string;
  code: string;
  name: string | null;
  percent_off: number | null;
  amount_off: number | null;
  currency: string | null;
  duration: Coupon["duration"];
  duration_periods: number | null;
  max_redemptions: number | null;
  times_redeemed: number;
  valid_from: string | null;
  redeem_by: string | null;
  plan_ids: string[] | null;
  created_at: string;
}

/** A discount on a subscription. */
export interface DiscountView {
  id: string;
  subscription_id: string;
  coupon: CouponView;
  redeemed_at: string;
  /** First recurring period index discounted (0 = the first paid period). */
  first_period_index: number;
}

/** A grant as the API shows it, with what is left. */
export interface CreditGrantView {
  id: string;
  customer_id: string;
  kind: "monetary" | "units";
  currency: string | null;
  feature: string | null;
  amount: number;
  remaining: number;
  priority: number;
  effective_at: string;
  expires_at: string | null;
  source: "purchased" | "promotional";
  reference: string;
  entry_id: string | null;
  created_at: string;
}

/** A subscription as the API shows it (instants in ISO 8601 UTC). */
export interface SubscriptionView {
  id: string;
  customer_id: string;
  plan_id: string;
  status: SubscriptionStatus;
  start_at: string;
  trial_end: string | null;
  billing_anchor: string;
  current_period_start: string;
  current_period_end: string;
  cancel_at_period_end: boolean;
  cancel_at: string | null;
  canceled_at: string | null;
  /** A plan change scheduled for later (period-end downgrade), or null. */
  pending_change: { plan_id: string; effective_at: string; proration: ProrationBehavior } | null;
  /** Start of the current pause while `paused`, else null. */
  paused_at: string | null;
  created_at: string;
}

/** The Stripe configuration of an app as the API shows it (no secrets). */
export interface StripeConfigView {
  provider: "stripe";
  livemode: boolean;
  /** Last 4 characters of the secret key, to recognise it. */
  api_key_last4: string;
  /** Path of this app's Stripe webhook endpoint (register it in the Stripe dashboard). */
  webhook_path: string;
  updated_at: string;
}

/** An endpoint as the API shows it (never with its secret, except on creation). */
export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  status: "enabled" | "disabled";
  created_at: string;
  updated_at: string;
}
