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
  /** ISO 8601 creation time. */
  created_at: string;
  /** ISO 8601 time of the last change. */
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
  /** TypeID of the resource. */
  id: string;
  /** The caller's own id of the customer. */
  external_id: string;
  /** Display name. */
  name: string | null;
  /** Email address. */
  email: string | null;
  /** ISO 8601 creation time. */
  created_at: string;
}

/** A tax rate as the API shows it (`percentage` as a decimal, `percentage_bp` exact). */
export interface TaxRateView {
  /** TypeID of the resource. */
  id: string;
  /** Name shown on invoices. */
  display_name: string;
  /** Where the rate applies (free text). */
  jurisdiction: string | null;
  /** Rate in percent (e.g. 20.5). */
  percentage: number;
  /** Rate in basis points (2050 = 20.5 %). */
  percentage_bp: number;
  /** Whether prices already include the tax. */
  inclusive: boolean;
  /** ISO 8601 creation time. */
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
  /** TypeID of the resource. */
  id: string;
  /** Code customers redeem. */
  code: string;
  /** Display name. */
  name: string | null;
  /** Percentage off (null: amount_off). */
  percent_off: number | null;
  /** Fixed amount off, minor units (null: percent_off). */
  amount_off: number | null;
  /** ISO 4217 code (null: any). */
  currency: string | null;
  /** `once`, `repeating` or `forever`. */
  duration: Coupon["duration"];
  /** Periods a repeating coupon applies. */
  duration_periods: number | null;
  /** Most redemptions (null: unlimited). */
  max_redemptions: number | null;
  /** Redemptions so far. */
  times_redeemed: number;
  /** ISO 8601 start of redeemability. */
  valid_from: string | null;
  /** ISO 8601 end of redeemability. */
  redeem_by: string | null;
  /** Plans the coupon applies to (null: all). */
  plan_ids: string[] | null;
  /** ISO 8601 creation time. */
  created_at: string;
}

/** A discount on a subscription. */
export interface DiscountView {
  /** TypeID of the resource. */
  id: string;
  /** Subscription TypeID. */
  subscription_id: string;
  /** The coupon applied. */
  coupon: CouponView;
  /** ISO 8601 time of redemption. */
  redeemed_at: string;
  /** First recurring period index discounted (0 = the first paid period). */
  first_period_index: number;
}

/** A grant as the API shows it, with what is left. */
export interface CreditGrantView {
  /** TypeID of the resource. */
  id: string;
  /** Customer TypeID. */
  customer_id: string;
  /** `monetary` (money) or `units` (of a feature). */
  kind: "monetary" | "units";
  /** ISO 4217 code (null: any). */
  currency: string | null;
  /** Feature key of a unit grant. */
  feature: string | null;
  /** Amount, integer minor units (or units for unit grants). */
  amount: number;
  /** What is left to spend. */
  remaining: number;
  /** Lower is spent first. */
  priority: number;
  /** ISO 8601 time the grant starts. */
  effective_at: string;
  /** ISO 8601 expiry, if any. */
  expires_at: string | null;
  /** `purchased` or `promotional`. */
  source: "purchased" | "promotional";
  /** The caller's reference; makes the creation retry-safe. */
  reference: string;
  /** Ledger entry TypeID of its posting, if any. */
  entry_id: string | null;
  /** ISO 8601 creation time. */
  created_at: string;
}

/** A subscription as the API shows it (instants in ISO 8601 UTC). */
export interface SubscriptionView {
  /** TypeID of the resource. */
  id: string;
  /** Customer TypeID. */
  customer_id: string;
  /** Plan TypeID. */
  plan_id: string;
  /** Lifecycle status. */
  status: SubscriptionStatus;
  /** ISO 8601 start of the subscription. */
  start_at: string;
  /** ISO 8601 end of the trial, if any. */
  trial_end: string | null;
  /** ISO 8601 anchor of the billing periods. */
  billing_anchor: string;
  /** ISO 8601 start of the current period. */
  current_period_start: string;
  /** ISO 8601 end of the current period. */
  current_period_end: string;
  /** Whether it ends at the end of the current period. */
  cancel_at_period_end: boolean;
  /** ISO 8601 time it ends, if scheduled. */
  cancel_at: string | null;
  /** ISO 8601 time the cancellation was requested. */
  canceled_at: string | null;
  /** A plan change scheduled for later (period-end downgrade), or null. */
  pending_change: { plan_id: string; effective_at: string; proration: ProrationBehavior } | null;
  /** Start of the current pause while `paused`, else null. */
  paused_at: string | null;
  /** ISO 8601 creation time. */
  created_at: string;
}

/** The Stripe configuration of an app as the API shows it (no secrets). */
export interface StripeConfigView {
  /** Payment provider. */
  provider: "stripe";
  /** Whether the key is a live-mode key. */
  livemode: boolean;
  /** Last 4 characters of the secret key, to recognise it. */
  api_key_last4: string;
  /** Path of this app's Stripe webhook endpoint (register it in the Stripe dashboard). */
  webhook_path: string;
  /** ISO 8601 time of the last change. */
  updated_at: string;
}

/** An endpoint as the API shows it (never with its secret, except on creation). */
export interface WebhookEndpointView {
  /** TypeID of the resource. */
  id: string;
  /** Where deliveries are POSTed. */
  url: string;
  /** Free-text description. */
  description: string | null;
  /** Event types delivered (`*`, `invoice.*`, exact types). */
  events: string[];
  /** Lifecycle status. */
  status: "enabled" | "disabled";
  /** ISO 8601 creation time. */
  created_at: string;
  /** ISO 8601 time of the last change. */
  updated_at: string;
}
