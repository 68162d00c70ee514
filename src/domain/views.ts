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
import type { DimensionPrice, Feature, Plan } from "./plan.ts";
import { type PricingView, pricingView } from "./pricing.ts";
import type { ProrationBehavior, SubscriptionStatus } from "./subscription.ts";

/** An invoice line as the API shows it: exactly the computed line (`invoice.ts`). */
export type InvoiceLineView = InvoiceLineDraft;

/** A dimension price as the API shows it: its pricing with both fields of each pair. */
export interface DimensionPriceView extends Omit<DimensionPrice, "pricing"> {
  /** Price of the matching combinations (see {@link PricingView}), or `null`. */
  pricing: PricingView | null;
}

/** A feature as the API shows it: prices with both fields of each pair (`pricing.ts`). */
export interface FeatureView extends Omit<Feature, "pricing" | "dimensions" | "dimension_prices"> {
  /** Price of usage beyond `included`, or `null`. */
  pricing: PricingView | null;
  /** Event property names whose values split usage (`[]`: none). */
  dimensions: string[];
  /** Prices per dimension match, first match wins. */
  dimension_prices: DimensionPriceView[];
}

/** The API view of a stored feature. */
export function featureView(feature: Feature): FeatureView {
  return {
    ...feature,
    pricing: feature.pricing ? pricingView(feature.pricing) : null,
    dimensions: feature.dimensions ?? [],
    dimension_prices: (feature.dimension_prices ?? []).map((e) => ({
      ...e,
      pricing: e.pricing ? pricingView(e.pricing) : null,
    })),
  };
}

/** A plan as the API shows it. */
export interface PlanView extends Omit<Plan, "created_at" | "updated_at" | "features"> {
  /** Features with their limits and prices, in the order the client sent them. */
  features: FeatureView[];
  /** ISO 8601 creation time. */
  created_at: string;
  /** ISO 8601 time of the last change. */
  updated_at: string;
}

/** An invoice as the API shows it; amounts in minor units of `currency`. */
export interface InvoiceView {
  /** TypeID of the invoice (`inv_…`). */
  id: string;
  /** Gapless number per app (`INV-000001`), assigned at finalization; `null` while a draft. */
  number: string | null;
  /** Lifecycle status (`domain/invoice_state.ts`). */
  status: InvoiceStatus;
  /** The billed customer (`cus_…`). */
  customer_id: string;
  /** The subscription whose period it bills (`sub_…`). */
  subscription_id: string;
  /** ISO 4217 code of every amount of the invoice. */
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
  /** The first tax rate applied (basis points), if any: the single-rate field, kept beside `taxes`. */
  tax_rate: { id: string; percentage_bp: number; inclusive: boolean } | null;
  /** Tax of each rate applied, in the order of the rates (empty without tax rates). */
  taxes: { tax_rate_id: string | null; percentage_bp: number; inclusive: boolean; amount: number }[];
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
  /** TypeID of the credit note (`cn_…`). */
  id: string;
  /** Gapless number per app (`CN-000001`), assigned at creation. */
  number: string;
  /** The invoice credited (`inv_…`). */
  invoice_id: string;
  /** Amount credited in minor units of the invoice's currency, tax included. */
  amount: number;
  /** The tax part of `amount`, minor units. */
  tax: number;
  /** Free-text reason. */
  reason: string | null;
  /** The client's idempotency key of the credit note, or `null`. */
  reference: string | null;
  /** Ledger entry TypeID of its posting. */
  entry_id: string;
  /** ISO 8601 creation time. */
  created_at: string;
}

/** A customer as the API shows it. */
export interface CustomerView {
  /** TypeID of the customer (`cus_…`). */
  id: string;
  /** The client's own id of the customer, unique per app; `customer_id` fields accept it. */
  external_id: string;
  /** Display name, or `null`. */
  name: string | null;
  /** Billing email, or `null`. */
  email: string | null;
  /** `clock_…` id of the test clock the customer lives on, or `null` (the wall clock). */
  test_clock: string | null;
  /** The customer's tax rates (`txr_…`, at most 5, in order); empty when none. */
  tax_rate_ids: string[];
  /** ISO 8601 creation time. */
  created_at: string;
}

/** A tax rate as the API shows it (`percentage` as a decimal, `percentage_bp` exact). */
export interface TaxRateView {
  /** TypeID of the tax rate (`txr_…`). */
  id: string;
  /** Name shown on invoices. */
  display_name: string;
  /** Where the rate applies (free text). */
  jurisdiction: string | null;
  /** Rate in percent, decimal (`percentage_bp / 100`), for display. */
  percentage: number;
  /** Rate in basis points (2050 = 20.5 %), the exact value invoices compute with. */
  percentage_bp: number;
  /** Whether prices already include the tax (it is carved out, not added). */
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
  /** TypeID of the coupon (`cpn_…`). */
  id: string;
  /** The code customers type, unique per app. */
  code: string;
  /** Display name, or `null`. */
  name: string | null;
  /**
   * Percentage off as a decimal with at most 2 decimals (stored as basis points: 12.5 → 1250); `null` for
   * an amount-off coupon.
   */
  percent_off: number | null;
  /** Minor units of `currency` off per discounted period; `null` for a percent-off coupon. */
  amount_off: number | null;
  /** ISO 4217 code of `amount_off`; `null` for a percent-off coupon. */
  currency: string | null;
  /** How long a redemption discounts, as Stripe's coupon `duration`: `once`, `repeating` or `forever`. */
  duration: Coupon["duration"];
  /** Recurring periods discounted by a `repeating` coupon; `null` otherwise. */
  duration_periods: number | null;
  /** Most redemptions in the app; `null` = unlimited. */
  max_redemptions: number | null;
  /** Redemptions so far. */
  times_redeemed: number;
  /** First instant it may be redeemed (inclusive, ISO 8601 UTC); `null` = always. */
  valid_from: string | null;
  /** Instant from which it can no longer be redeemed (exclusive, ISO 8601 UTC); `null` = never. */
  redeem_by: string | null;
  /** Plans (`pln_…`) it may be redeemed for; `null` = any plan. */
  plan_ids: string[] | null;
  /** ISO 8601 creation time. */
  created_at: string;
}

/** A discount on a subscription. */
export interface DiscountView {
  /** TypeID of the discount (`sdi_…`). */
  id: string;
  /** The discounted subscription (`sub_…`); at most one discount per subscription. */
  subscription_id: string;
  /** The coupon redeemed, as it is now. */
  coupon: CouponView;
  /** ISO 8601 time of redemption. */
  redeemed_at: string;
  /** First recurring period index discounted (0 = the first paid period). */
  first_period_index: number;
}

/** A grant as the API shows it, with what is left. */
export interface CreditGrantView {
  /** TypeID of the grant (`cgr_…`). */
  id: string;
  /** The customer it belongs to (`cus_…`). */
  customer_id: string;
  /**
   * `monetary` (minor units of `currency`, spent against invoice totals after tax) or `units` (units of
   * `feature`, spent before pricing).
   */
  kind: "monetary" | "units";
  /** ISO 4217 code of a monetary grant; `null` for a units grant. */
  currency: string | null;
  /** Feature key of a units grant; `null` for a monetary grant. */
  feature: string | null;
  /** Amount granted: minor units of `currency` (monetary) or units of `feature`. */
  amount: number;
  /** `amount` minus what finalized invoices consumed; drafts only preview consumption. */
  remaining: number;
  /** Spending order: higher first, then earliest expiry, then oldest (as Stripe's credit grants). */
  priority: number;
  /** When it starts covering periods (ISO 8601 UTC). */
  effective_at: string;
  /** When it stops covering periods (ISO 8601 UTC); `null` = never. */
  expires_at: string | null;
  /** `purchased` (booked against cash) or `promotional` (booked against promotional expense). */
  source: "purchased" | "promotional";
  /** The client's idempotency key the grant was created with (unique per app). */
  reference: string;
  /** Ledger entry that booked a monetary grant; `null` for a units grant. */
  entry_id: string | null;
  /** ISO 8601 creation time. */
  created_at: string;
}

/** A subscription as the API shows it (instants in ISO 8601 UTC). */
export interface SubscriptionView {
  /** TypeID of the subscription (`sub_…`). */
  id: string;
  /** The subscribed customer (`cus_…`). */
  customer_id: string;
  /** The current plan (`pln_…`). */
  plan_id: string;
  /** Derived from the instants at request time (`domain/subscription.ts`). */
  status: SubscriptionStatus;
  /** ISO 8601 start of the subscription. */
  start_at: string;
  /** ISO 8601 end of the trial, if any. */
  trial_end: string | null;
  /** ISO 8601 instant periods are counted from (month-end days clamp, `domain/period.ts`). */
  billing_anchor: string;
  /** ISO 8601 start of the current period (inclusive). */
  current_period_start: string;
  /** ISO 8601 end of the current period (exclusive). */
  current_period_end: string;
  /** Whether the cancellation takes effect at the end of the current period. */
  cancel_at_period_end: boolean;
  /** ISO 8601 instant the subscription ends (a cancellation or a fixed end); `null` when none. */
  cancel_at: string | null;
  /** ISO 8601 time the cancellation was requested. */
  canceled_at: string | null;
  /** A plan change scheduled for later (period-end downgrade), or null. */
  pending_change: { plan_id: string; effective_at: string; proration: ProrationBehavior } | null;
  /** Start of the current pause while `paused`, else null. */
  paused_at: string | null;
  /** The subscription's own tax rates (replacing the customer's), or `null` to bill with the customer's. */
  tax_rate_ids: string[] | null;
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

/** Scope of a secret API key: which routes it reaches (ADR 0013, `tenants/scopes.ts`). */
export type ApiKeyScope = "full" | "read_only" | "usage_only" | "ledger_only";

/** An API key as the API shows it: never the key itself, only enough to recognise it. */
export interface ApiKeyView {
  /** `key_…` id. */
  id: string;
  /** Name given by the owner (`default` for the keys created with the app). */
  name: string;
  /** `secret` (`sk_…`, server side) or `publishable` (`pk_…`, browsers with a customer session). */
  kind: "secret" | "publishable";
  /** What a secret key reaches; `null` for publishable keys (always the publishable routes only). */
  scope: ApiKeyScope | null;
  /** First 10 characters of the key (`sk_4f3c2b1`). */
  prefix: string;
  /** Last 4 characters of the key (empty for keys created before they were recorded). */
  last4: string;
  /** ISO 8601 creation time. */
  created_at: string;
  /** ISO 8601 instant after which the key no longer authenticates; `null` = never. */
  expires_at: string | null;
  /** ISO 8601 revocation time; `null` while not revoked. */
  revoked_at: string | null;
  /** `active`, `expired` (past `expires_at`) or `revoked`. */
  status: "active" | "expired" | "revoked";
}
