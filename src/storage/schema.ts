/**
 * drizzle schema (sqlite-core) of the libSQL database. Every table carries `tenant_id` and
 * `app_id` (tenancy tables excepted) and every index starts with them, so each query of a tenant
 * stays inside its own key range. Three indexes are global on purpose, each marked `Global:`
 * where it is declared: the API key hash (the lookup that finds the scope), the allowed browser
 * origins (a CORS preflight carries no key) and the outbox's pending queue (one worker drains every
 * tenant). Repositories reach tenant rows only through `scoped.ts`. Instants are integer milliseconds since the Unix epoch (UTC);
 * amounts are integer minor units. `deno task db:generate` turns changes into `migrations/`.
 *
 * The tables are documented here and in `migrations/`, and left out of generated API docs
 * (`@ignore`) because their drizzle types are inferred: spelling out a `SQLiteTableWithColumns<…>`
 * per table would repeat every column's type by hand.
 *
 * @module
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const ms = (name: string) => integer(name, { mode: "timestamp_ms" });
const scope = () => ({
  tenant_id: text("tenant_id").notNull(),
  app_id: text("app_id").notNull(),
});

/**
 * Tenants: one per customer company of the platform.
 *
 * @ignore
 */
export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [uniqueIndex("tenants_name_uq").on(t.name)]);

/**
 * Apps of a tenant (`production`, `staging`): the second half of every scope.
 *
 * @ignore
 */
export const apps = sqliteTable("apps", {
  id: text("id").primaryKey(),
  tenant_id: text("tenant_id").notNull(),
  name: text("name").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [uniqueIndex("apps_tenant_name_uq").on(t.tenant_id, t.name)]);

/**
 * API keys, stored as SHA-256 hashes of the full key; `prefix` is shown for identification.
 *
 * @ignore
 */
export const apiKeys = sqliteTable("api_keys", {
  id: text("id").primaryKey(),
  ...scope(),
  kind: text("kind", { enum: ["secret", "publishable"] }).notNull(),
  hash: text("hash").notNull(),
  prefix: text("prefix").notNull(),
  /** Last four characters of the key, shown in listings next to `prefix`. */
  last4: text("last4").notNull().default(""),
  /** Name given by the owner (`default` for the keys created with the app). */
  name: text("name").notNull().default("default"),
  /** What a secret key may reach (ADR 0013): `full`, `read_only`, `usage_only`, `ledger_only`. */
  scope: text("scope", { enum: ["full", "read_only", "usage_only", "ledger_only"] }).notNull().default(
    "full",
  ),
  created_at: ms("created_at").notNull(),
  /** After this instant the key no longer authenticates (set by the owner, or by a roll's grace period). */
  expires_at: ms("expires_at"),
  revoked_at: ms("revoked_at"),
}, (t) => [
  // Global: authentication looks a key up by its hash before any scope is known.
  uniqueIndex("api_keys_hash_uq").on(t.hash),
  index("api_keys_scope_idx").on(t.tenant_id, t.app_id, t.id),
]);

/**
 * Admin tokens issued by rolling (`POST /v1/admin/admin_tokens/roll`), stored as SHA-256 hashes,
 * and the retirement of the configured token (`source` `config`: its hash with the instant a roll
 * ended it). Global: admin authentication precedes any tenant.
 *
 * @ignore
 */
export const adminTokens = sqliteTable("admin_tokens", {
  id: text("id").primaryKey(),
  source: text("source", { enum: ["config", "rolled"] }).notNull(),
  hash: text("hash").notNull(),
  prefix: text("prefix").notNull(),
  created_at: ms("created_at").notNull(),
  expires_at: ms("expires_at"),
  revoked_at: ms("revoked_at"),
}, (t) => [
  // Global: admin authentication looks a token up by its hash.
  uniqueIndex("admin_tokens_hash_uq").on(t.hash),
]);

/**
 * Browser origins (`https://app.example.com`, scheme + host + port, no path) allowed to call the
 * publishable-key routes of an app (CORS). Indexed by origin too, because a preflight carries no
 * key: it is answered for an origin that some app allows; the real request is then checked against
 * the key's own app.
 *
 * @ignore
 */
export const appOrigins = sqliteTable("app_origins", {
  ...scope(),
  origin: text("origin").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [
  primaryKey({ columns: [t.tenant_id, t.app_id, t.origin] }),
  // Global: a CORS preflight carries no key, so it is answered for an origin that some app allows.
  index("app_origins_origin_idx").on(t.origin),
]);

/**
 * Plans; `features` is the checked feature list as JSON (see `domain/plan.ts`).
 *
 * @ignore
 */
export const plans = sqliteTable("plans", {
  id: text("id").primaryKey(),
  ...scope(),
  key: text("key").notNull(),
  name: text("name").notNull(),
  description: text("description"),
  currency: text("currency").notNull(),
  interval: text("interval", { enum: ["month", "year"] }).notNull(),
  trial_days: integer("trial_days").notNull(),
  base_amount: integer("base_amount").notNull(),
  features: text("features", { mode: "json" }).notNull(),
  /** Hours a period's draft invoice stays open to late usage before the billing job finalizes it. */
  invoice_grace_period_hours: integer("invoice_grace_period_hours").notNull().default(1),
  status: text("status", { enum: ["active", "archived"] }).notNull(),
  created_at: ms("created_at").notNull(),
  updated_at: ms("updated_at").notNull(),
}, (t) => [
  uniqueIndex("plans_scope_key_uq").on(t.tenant_id, t.app_id, t.key),
  // the list order (`domain/paging.ts`): a page reads `limit + 1` index entries, not every row
  index("plans_scope_id_idx").on(t.tenant_id, t.app_id, t.id),
]);

/**
 * Customers; `external_id` is the client's own id, unique per app.
 *
 * @ignore
 */
export const customers = sqliteTable("customers", {
  id: text("id").primaryKey(),
  ...scope(),
  external_id: text("external_id").notNull(),
  name: text("name"),
  email: text("email"),
  /** `clock_…` of the test clock the customer lives on (its time moves only by advance), or null. */
  test_clock_id: text("test_clock_id"),
  /** The customer's tax rates (`txr_` ids, at most 5, in order); null = none set this way. */
  tax_rate_ids: text("tax_rate_ids", { mode: "json" }).$type<string[]>(),
  created_at: ms("created_at").notNull(),
}, (t) => [
  uniqueIndex("customers_scope_external_uq").on(t.tenant_id, t.app_id, t.external_id),
  index("customers_scope_test_clock_idx").on(t.tenant_id, t.app_id, t.test_clock_id),
  // the list order (`domain/paging.ts`): a page reads `limit + 1` index entries, not every row
  index("customers_scope_id_idx").on(t.tenant_id, t.app_id, t.id),
]);

/**
 * Test clocks (Stripe's): a frozen instant that the customers bound to it live on; it moves only
 * forward, by `POST /v1/test_clocks/{id}/advance` (see `test_clocks/service.ts`).
 *
 * @ignore
 */
export const testClocks = sqliteTable("test_clocks", {
  id: text("id").primaryKey(),
  ...scope(),
  name: text("name"),
  frozen_time: ms("frozen_time").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [index("test_clocks_scope_id_idx").on(t.tenant_id, t.app_id, t.id)]);

/**
 * Subscriptions; status is derived from the instants (see `domain/subscription.ts`).
 *
 * @ignore
 */
export const subscriptions = sqliteTable("subscriptions", {
  id: text("id").primaryKey(),
  ...scope(),
  customer_id: text("customer_id").notNull(),
  plan_id: text("plan_id").notNull(),
  start_at: ms("start_at").notNull(),
  trial_end: ms("trial_end"),
  billing_anchor: ms("billing_anchor").notNull(),
  cancel_at: ms("cancel_at"),
  canceled_at: ms("canceled_at"),
  /** Tax rates of this subscription (`txr_` ids, at most 5): when set, they replace the customer's. */
  tax_rate_ids: text("tax_rate_ids", { mode: "json" }).$type<string[]>(),
  created_at: ms("created_at").notNull(),
}, (t) => [
  index("subscriptions_scope_customer_idx").on(t.tenant_id, t.app_id, t.customer_id),
  // the list order (`domain/paging.ts`): a page reads `limit + 1` index entries, not every row
  index("subscriptions_scope_id_idx").on(t.tenant_id, t.app_id, t.id),
]);

/**
 * Ingested usage events. `event_id` is the client's idempotency key (unique per app);
 * `payload_hash` tells a retry (same hash) from a conflicting reuse (different hash).
 *
 * @ignore
 */
export const usageEvents = sqliteTable("usage_events", {
  id: text("id").primaryKey(),
  ...scope(),
  event_id: text("event_id").notNull(),
  customer_id: text("customer_id").notNull(),
  feature: text("feature").notNull(),
  /** Whole units of the event's value (the integer part; the whole value for integer events). */
  value: integer("value").notNull(),
  /**
   * Fractional part of the value in 10^-12 units, 0 … 10^12 − 1 (issue 19: decimal quantities);
   * 0 for integer events, so they stay one INTEGER and sums of them stay exact and fast.
   */
  value_frac: integer("value_frac").notNull().default(0),
  timestamp: ms("timestamp").notNull(),
  properties: text("properties", { mode: "json" }),
  payload_hash: text("payload_hash").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [
  uniqueIndex("usage_events_scope_event_uq").on(t.tenant_id, t.app_id, t.event_id),
  index("usage_events_scope_customer_feature_ts_idx").on(
    t.tenant_id,
    t.app_id,
    t.customer_id,
    t.feature,
    t.timestamp,
  ),
]);

/**
 * Invoices. One non-void invoice per subscription and period (partial unique index), numbers
 * unique per app once finalized.
 *
 * @ignore
 */
export const invoices = sqliteTable("invoices", {
  id: text("id").primaryKey(),
  ...scope(),
  subscription_id: text("subscription_id").notNull(),
  customer_id: text("customer_id").notNull(),
  number: text("number"),
  status: text("status", { enum: ["draft", "open", "paid", "void", "uncollectible"] }).notNull(),
  currency: text("currency").notNull(),
  period_start: ms("period_start").notNull(),
  period_end: ms("period_end").notNull(),
  subtotal: integer("subtotal").notNull(),
  discount: integer("discount").notNull(),
  tax: integer("tax").notNull(),
  total: integer("total").notNull(),
  amount_paid: integer("amount_paid").notNull(),
  /** Prepaid monetary credits applied at finalization (minor units). */
  credits_applied: integer("credits_applied").notNull().default(0),
  /** Sum of credit notes issued against the invoice (minor units, tax included). */
  credited: integer("credited").notNull().default(0),
  /** Coupon whose discount this invoice carries, or null. */
  coupon_id: text("coupon_id"),
  /** Tax rate applied (snapshot of rate, basis points and inclusiveness), or null. */
  tax_rate_id: text("tax_rate_id"),
  tax_percentage_bp: integer("tax_percentage_bp"),
  tax_inclusive: integer("tax_inclusive", { mode: "boolean" }),
  /** Tax of each rate applied (`[{tax_rate_id, percentage_bp, inclusive, amount}]`); null on invoices rated before several rates. */
  taxes: text("taxes", { mode: "json" }).$type<
    { tax_rate_id: string | null; percentage_bp: number; inclusive: boolean; amount: number }[]
  >(),
  due_at: ms("due_at"),
  uncollectible_at: ms("uncollectible_at"),
  uncollectible_entry_id: text("uncollectible_entry_id"),
  finalize_entry_id: text("finalize_entry_id"),
  finalized_at: ms("finalized_at"),
  paid_at: ms("paid_at"),
  voided_at: ms("voided_at"),
  created_at: ms("created_at").notNull(),
  updated_at: ms("updated_at").notNull(),
}, (t) => [
  uniqueIndex("invoices_scope_period_uq").on(
    t.tenant_id,
    t.app_id,
    t.subscription_id,
    t.period_start,
    t.period_end,
  )
    .where(sql`status <> 'void'`),
  uniqueIndex("invoices_scope_number_uq").on(t.tenant_id, t.app_id, t.number),
  index("invoices_scope_customer_idx").on(t.tenant_id, t.app_id, t.customer_id, t.status),
  // the list order (`domain/paging.ts`): a page reads `limit + 1` index entries, not every row
  index("invoices_scope_id_idx").on(t.tenant_id, t.app_id, t.id),
]);

/**
 * Lines of an invoice, in `position` order.
 *
 * @ignore
 */
export const invoiceLines = sqliteTable("invoice_lines", {
  id: text("id").primaryKey(),
  ...scope(),
  invoice_id: text("invoice_id").notNull(),
  position: integer("position").notNull(),
  kind: text("kind", { enum: ["base", "usage", "proration"] }).notNull(),
  description: text("description").notNull(),
  feature: text("feature"),
  quantity: integer("quantity").notNull(),
  unit_amount: integer("unit_amount").notNull(),
  amount: integer("amount").notNull(),
  tier: integer("tier"),
  /** Plan whose prices produced the line (plan changes split a period). */
  plan_id: text("plan_id"),
  /** Share of the invoice discount allocated to this line (≥ 0, ≤ amount). */
  discount_amount: integer("discount_amount").notNull().default(0),
  /** Tax of this line, rounded per line (see domain/tax.ts). */
  tax_amount: integer("tax_amount").notNull().default(0),
  /** Exact quantity (canonical decimal) when fractional; `quantity` then holds it rounded half-up. */
  quantity_decimal: text("quantity_decimal"),
  /** Exact unit price (canonical decimal) when fractional; `unit_amount` then holds it rounded half-up. */
  unit_amount_decimal: text("unit_amount_decimal"),
  /** Dimension values of a usage line's combination (JSON object), or null. */
  dimensions: text("dimensions", { mode: "json" }),
}, (t) => [index("invoice_lines_invoice_idx").on(t.tenant_id, t.app_id, t.invoice_id, t.position)]);

/**
 * Payments recorded against invoices; `reference` (client's) makes a retry return the same payment.
 *
 * @ignore
 */
export const invoicePayments = sqliteTable(
  "invoice_payments",
  {
    id: text("id").primaryKey(),
    ...scope(),
    invoice_id: text("invoice_id").notNull(),
    amount: integer("amount").notNull(),
    reference: text("reference"),
    entry_id: text("entry_id").notNull(),
    created_at: ms("created_at").notNull(),
  },
  (t) => [uniqueIndex("invoice_payments_reference_uq").on(t.tenant_id, t.app_id, t.invoice_id, t.reference)],
);

/**
 * Gapless invoice number sequence per tenant+app, advanced in the finalizing transaction.
 *
 * @ignore
 */
export const invoiceSequences = sqliteTable("invoice_sequences", {
  ...scope(),
  last_number: integer("last_number").notNull(),
}, (t) => [primaryKey({ columns: [t.tenant_id, t.app_id] })]);

/**
 * Plan changes of subscriptions (docs/adr/0004-billing-rules.md): from `effective_at` on, the subscription is billed at
 * `to_plan_id`. A change in the future (period-end downgrade) is pending until then.
 *
 * @ignore
 */
export const subscriptionChanges = sqliteTable(
  "subscription_changes",
  {
    id: text("id").primaryKey(),
    ...scope(),
    subscription_id: text("subscription_id").notNull(),
    from_plan_id: text("from_plan_id").notNull(),
    to_plan_id: text("to_plan_id").notNull(),
    effective_at: ms("effective_at").notNull(),
    proration: text("proration", { enum: ["prorate", "none"] }).notNull(),
    created_at: ms("created_at").notNull(),
  },
  (t) => [index("subscription_changes_sub_idx").on(t.tenant_id, t.app_id, t.subscription_id, t.effective_at)],
);

/**
 * Pauses of subscriptions: `[start_at, end_at)`, `end_at` null while paused. No base fee and no
 * usage for paused time; entitlement checks deny (see domain/subscription.ts).
 *
 * @ignore
 */
export const subscriptionPauses = sqliteTable("subscription_pauses", {
  id: text("id").primaryKey(),
  ...scope(),
  subscription_id: text("subscription_id").notNull(),
  start_at: ms("start_at").notNull(),
  end_at: ms("end_at"),
  created_at: ms("created_at").notNull(),
}, (t) => [index("subscription_pauses_sub_idx").on(t.tenant_id, t.app_id, t.subscription_id, t.start_at)]);

/**
 * Coupons (see domain/coupons.ts); `code` unique per app.
 *
 * @ignore
 */
export const coupons = sqliteTable("coupons", {
  id: text("id").primaryKey(),
  ...scope(),
  code: text("code").notNull(),
  name: text("name"),
  percent_off_bp: integer("percent_off_bp"),
  amount_off: integer("amount_off"),
  currency: text("currency"),
  duration: text("duration", { enum: ["once", "repeating", "forever"] }).notNull(),
  duration_periods: integer("duration_periods"),
  max_redemptions: integer("max_redemptions"),
  times_redeemed: integer("times_redeemed").notNull(),
  valid_from: ms("valid_from"),
  redeem_by: ms("redeem_by"),
  plan_ids: text("plan_ids", { mode: "json" }),
  created_at: ms("created_at").notNull(),
}, (t) => [uniqueIndex("coupons_scope_code_uq").on(t.tenant_id, t.app_id, t.code)]);

/**
 * A coupon redeemed on a subscription; at most one per subscription.
 *
 * @ignore
 */
export const subscriptionDiscounts = sqliteTable("subscription_discounts", {
  id: text("id").primaryKey(),
  ...scope(),
  subscription_id: text("subscription_id").notNull(),
  coupon_id: text("coupon_id").notNull(),
  redeemed_at: ms("redeemed_at").notNull(),
  /** Index of the first recurring period the discount applies to. */
  first_period_index: integer("first_period_index").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [uniqueIndex("subscription_discounts_sub_uq").on(t.tenant_id, t.app_id, t.subscription_id)]);

/**
 * Tax rates in basis points, inclusive or exclusive, per jurisdiction.
 *
 * @ignore
 */
export const taxRates = sqliteTable("tax_rates", {
  id: text("id").primaryKey(),
  ...scope(),
  display_name: text("display_name").notNull(),
  jurisdiction: text("jurisdiction"),
  percentage_bp: integer("percentage_bp").notNull(),
  inclusive: integer("inclusive", { mode: "boolean" }).notNull(),
  created_at: ms("created_at").notNull(),
});

/**
 * The tax rate a customer is billed with (one per customer).
 *
 * @ignore
 */
export const customerTaxRates = sqliteTable("customer_tax_rates", {
  ...scope(),
  customer_id: text("customer_id").notNull(),
  tax_rate_id: text("tax_rate_id").notNull(),
  updated_at: ms("updated_at").notNull(),
}, (t) => [primaryKey({ columns: [t.tenant_id, t.app_id, t.customer_id] })]);

/**
 * Credit notes against open or paid invoices; numbered gaplessly per app (`CN-000001`).
 *
 * @ignore
 */
export const creditNotes = sqliteTable("credit_notes", {
  id: text("id").primaryKey(),
  ...scope(),
  invoice_id: text("invoice_id").notNull(),
  number: text("number").notNull(),
  amount: integer("amount").notNull(),
  tax: integer("tax").notNull(),
  reason: text("reason"),
  reference: text("reference"),
  entry_id: text("entry_id").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [
  uniqueIndex("credit_notes_scope_number_uq").on(t.tenant_id, t.app_id, t.number),
  uniqueIndex("credit_notes_reference_uq").on(t.tenant_id, t.app_id, t.invoice_id, t.reference),
]);

/**
 * Gapless credit note number sequence per tenant+app.
 *
 * @ignore
 */
export const creditNoteSequences = sqliteTable("credit_note_sequences", {
  ...scope(),
  last_number: integer("last_number").notNull(),
}, (t) => [primaryKey({ columns: [t.tenant_id, t.app_id] })]);

/**
 * Prepaid credit grants: monetary (currency) or in units of a feature.
 *
 * @ignore
 */
export const creditGrants = sqliteTable("credit_grants", {
  id: text("id").primaryKey(),
  ...scope(),
  customer_id: text("customer_id").notNull(),
  kind: text("kind", { enum: ["monetary", "units"] }).notNull(),
  currency: text("currency"),
  feature: text("feature"),
  amount: integer("amount").notNull(),
  priority: integer("priority").notNull(),
  effective_at: ms("effective_at").notNull(),
  expires_at: ms("expires_at"),
  source: text("source", { enum: ["purchased", "promotional"] }).notNull(),
  reference: text("reference").notNull(),
  payload_hash: text("payload_hash").notNull(),
  entry_id: text("entry_id"),
  created_at: ms("created_at").notNull(),
}, (t) => [
  uniqueIndex("credit_grants_reference_uq").on(t.tenant_id, t.app_id, t.reference),
  index("credit_grants_customer_idx").on(t.tenant_id, t.app_id, t.customer_id),
]);

/**
 * What a finalized invoice consumed of a grant; one row per grant and invoice.
 *
 * @ignore
 */
export const creditConsumptions = sqliteTable(
  "credit_consumptions",
  {
    id: text("id").primaryKey(),
    ...scope(),
    grant_id: text("grant_id").notNull(),
    invoice_id: text("invoice_id").notNull(),
    amount: integer("amount").notNull(),
    created_at: ms("created_at").notNull(),
  },
  (
    t,
  ) => [
    uniqueIndex("credit_consumptions_grant_invoice_uq").on(t.tenant_id, t.app_id, t.grant_id, t.invoice_id),
  ],
);

/**
 * Ledger accounts (chart of accounts), unique by name and currency per app.
 *
 * @ignore
 */
export const ledgerAccounts = sqliteTable("ledger_accounts", {
  id: text("id").primaryKey(),
  ...scope(),
  name: text("name").notNull(),
  type: text("type", { enum: ["asset", "liability", "equity", "revenue", "expense"] }).notNull(),
  currency: text("currency").notNull(),
  normal_balance: text("normal_balance", { enum: ["debit", "credit"] }).notNull(),
  metadata: text("metadata", { mode: "json" }),
  /** TigerBeetle flag: debits_pending + debits_posted must stay ≤ credits_posted. */
  debits_must_not_exceed_credits: integer("debits_must_not_exceed_credits", { mode: "boolean" }).notNull()
    .default(false),
  /** TigerBeetle flag: credits_pending + credits_posted must stay ≤ debits_posted. */
  credits_must_not_exceed_debits: integer("credits_must_not_exceed_debits", { mode: "boolean" }).notNull()
    .default(false),
  created_at: ms("created_at").notNull(),
}, (t) => [uniqueIndex("ledger_accounts_scope_name_uq").on(t.tenant_id, t.app_id, t.name, t.currency)]);

/**
 * Journal entries; immutable. `idempotency_key` is unique per app; `seq` is the entry's position
 * in the app's journal (1, 2, 3… assigned under the write lock; the listing order and cursor).
 * External ids (seed `Entry.PaymentIntentID` …) are filterable.
 *
 * @ignore
 */
export const ledgerEntries = sqliteTable("ledger_entries", {
  id: text("id").primaryKey(),
  ...scope(),
  idempotency_key: text("idempotency_key").notNull(),
  payload_hash: text("payload_hash").notNull(),
  description: text("description"),
  reverses_entry_id: text("reverses_entry_id"),
  metadata: text("metadata", { mode: "json" }),
  created_at: ms("created_at").notNull(),
  seq: integer("seq").notNull().default(0),
  payment_intent_id: text("payment_intent_id"),
  refund_id: text("refund_id"),
  payout_id: text("payout_id"),
  dispute_id: text("dispute_id"),
}, (t) => [
  uniqueIndex("ledger_entries_scope_key_uq").on(t.tenant_id, t.app_id, t.idempotency_key),
  index("ledger_entries_scope_seq_idx").on(t.tenant_id, t.app_id, t.seq),
  index("ledger_entries_scope_reverses_idx").on(t.tenant_id, t.app_id, t.reverses_entry_id).where(
    sql`reverses_entry_id is not null`,
  ),
  index("ledger_entries_scope_payment_idx").on(t.tenant_id, t.app_id, t.payment_intent_id, t.seq).where(
    sql`payment_intent_id is not null`,
  ),
  index("ledger_entries_scope_refund_idx").on(t.tenant_id, t.app_id, t.refund_id, t.seq).where(
    sql`refund_id is not null`,
  ),
  index("ledger_entries_scope_payout_idx").on(t.tenant_id, t.app_id, t.payout_id, t.seq).where(
    sql`payout_id is not null`,
  ),
  index("ledger_entries_scope_dispute_idx").on(t.tenant_id, t.app_id, t.dispute_id, t.seq).where(
    sql`dispute_id is not null`,
  ),
]);

/**
 * Postings of entries: positive = debit, negative = credit, minor units.
 *
 * @ignore
 */
export const ledgerPostings = sqliteTable("ledger_postings", {
  id: text("id").primaryKey(),
  ...scope(),
  entry_id: text("entry_id").notNull(),
  account_id: text("account_id").notNull(),
  amount: integer("amount").notNull(),
  currency: text("currency").notNull(),
  created_at: ms("created_at").notNull(),
  /** `seq` of the entry (listing entries of one account in journal order). */
  entry_seq: integer("entry_seq").notNull().default(0),
}, (t) => [
  index("ledger_postings_entry_idx").on(t.tenant_id, t.app_id, t.entry_id),
  index("ledger_postings_account_seq_idx").on(t.tenant_id, t.app_id, t.account_id, t.entry_seq),
]);

// ---- materialized balances, holds, command log, inventory ledger ----

/**
 * Materialized balance of an account in a currency (TigerBeetle's four fields plus `held`),
 * updated in the same transaction as the postings and holds that change it; rebuilding it from
 * `ledger_postings` and pending `ledger_holds` gives the same numbers (the simulation checks it).
 * All fields are non-negative minor units.
 *
 * @ignore
 */
export const ledgerBalances = sqliteTable("ledger_balances", {
  ...scope(),
  account_id: text("account_id").notNull(),
  currency: text("currency").notNull(),
  debits_posted: integer("debits_posted").notNull(),
  credits_posted: integer("credits_posted").notNull(),
  debits_pending: integer("debits_pending").notNull(),
  credits_pending: integer("credits_pending").notNull(),
  /** Σ amounts of pending holds on this account (the authorizing side). */
  held: integer("held").notNull(),
  updated_at: ms("updated_at").notNull(),
}, (t) => [primaryKey({ columns: [t.tenant_id, t.app_id, t.account_id, t.currency] })]);

/**
 * Authorization holds on an account: pending → captured | voided | expired.
 *
 * @ignore
 */
export const ledgerHolds = sqliteTable("ledger_holds", {
  id: text("id").primaryKey(),
  ...scope(),
  account_id: text("account_id").notNull(),
  destination_account_id: text("destination_account_id").notNull(),
  currency: text("currency").notNull(),
  amount: integer("amount").notNull(),
  captured_amount: integer("captured_amount"),
  status: text("status", { enum: ["pending", "captured", "voided", "expired"] }).notNull(),
  idempotency_key: text("idempotency_key").notNull(),
  capture_entry_id: text("capture_entry_id"),
  metadata: text("metadata", { mode: "json" }),
  expires_at: ms("expires_at").notNull(),
  created_at: ms("created_at").notNull(),
  updated_at: ms("updated_at").notNull(),
}, (t) => [
  index("ledger_holds_scope_due_idx").on(t.tenant_id, t.app_id, t.expires_at).where(sql`status = 'pending'`),
  index("ledger_holds_scope_account_idx").on(t.tenant_id, t.app_id, t.account_id),
]);

/**
 * Every accepted ledger command by idempotency key (one namespace per app): its kind, the hash
 * of its payload (retry vs conflicting reuse) and what it produced. Rejected commands are not
 * recorded, so a rejected command leaves the database byte-identical. A `post_entry` is not
 * stored here: its entry row already holds the key and the payload hash, and the ledger batch
 * rebuilds its record from it (ADR 0015, the writer); every other kind is.
 *
 * @ignore
 */
export const ledgerCommands = sqliteTable("ledger_commands", {
  ...scope(),
  idempotency_key: text("idempotency_key").notNull(),
  kind: text("kind").notNull(),
  payload_hash: text("payload_hash").notNull(),
  entry_id: text("entry_id"),
  hold_id: text("hold_id"),
  created_at: ms("created_at").notNull(),
}, (t) => [primaryKey({ columns: [t.tenant_id, t.app_id, t.idempotency_key] })]);

/**
 * Inventory: `subject` owns `free` + `on_hold` units of `item`.
 *
 * @ignore
 */
export const inventoryBalances = sqliteTable("inventory_balances", {
  ...scope(),
  subject: text("subject").notNull(),
  item: text("item").notNull(),
  free: integer("free").notNull(),
  on_hold: integer("on_hold").notNull(),
  updated_at: ms("updated_at").notNull(),
}, (t) => [primaryKey({ columns: [t.tenant_id, t.app_id, t.subject, t.item] })]);

/**
 * Inventory reservations: pending → committed | released | expired.
 *
 * @ignore
 */
export const inventoryHolds = sqliteTable(
  "inventory_holds",
  {
    id: text("id").primaryKey(),
    ...scope(),
    subject: text("subject").notNull(),
    item: text("item").notNull(),
    quantity: integer("quantity").notNull(),
    status: text("status", { enum: ["pending", "committed", "released", "expired"] }).notNull(),
    idempotency_key: text("idempotency_key").notNull(),
    expires_at: ms("expires_at").notNull(),
    created_at: ms("created_at").notNull(),
    updated_at: ms("updated_at").notNull(),
  },
  (
    t,
  ) => [
    index("inventory_holds_scope_due_idx").on(t.tenant_id, t.app_id, t.expires_at).where(
      sql`status = 'pending'`,
    ),
  ],
);

/**
 * The inventory journal: one row per accepted mutation (and per expiry), in `seq` order.
 * Folding it rebuilds `inventory_balances`. `idempotency_key` is unique per app.
 *
 * @ignore
 */
export const inventoryOperations = sqliteTable("inventory_operations", {
  id: text("id").primaryKey(),
  ...scope(),
  seq: integer("seq").notNull(),
  idempotency_key: text("idempotency_key").notNull(),
  payload_hash: text("payload_hash").notNull(),
  kind: text("kind", { enum: ["acquire", "consume", "transfer", "hold", "commit", "release", "expire"] })
    .notNull(),
  subject: text("subject").notNull(),
  counterparty: text("counterparty"),
  item: text("item").notNull(),
  quantity: integer("quantity").notNull(),
  hold_id: text("hold_id"),
  created_at: ms("created_at").notNull(),
}, (t) => [
  uniqueIndex("inventory_operations_scope_key_uq").on(t.tenant_id, t.app_id, t.idempotency_key),
  index("inventory_operations_scope_seq_idx").on(t.tenant_id, t.app_id, t.seq),
]);

// ---- outbox, webhooks, audit, payment providers ----

/**
 * Transactional outbox: every lifecycle event, written in the same transaction as the change it
 * reports. `seq` (autoincrement) is the global order; the webhook worker fans rows out to
 * endpoint deliveries and stamps `fanned_out_at`. The pending index is global (not per tenant)
 * because one worker drains every tenant.
 *
 * @ignore
 */
export const outboxEvents = sqliteTable("outbox_events", {
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  id: text("id").notNull(),
  ...scope(),
  type: text("type").notNull(),
  resource_id: text("resource_id").notNull(),
  data: text("data", { mode: "json" }).notNull(),
  occurred_at: ms("occurred_at").notNull(),
  fanned_out_at: ms("fanned_out_at"),
}, (t) => [
  uniqueIndex("outbox_events_scope_id_uq").on(t.tenant_id, t.app_id, t.id),
  // Global: one fan-out worker drains the pending events of every tenant in `seq` order.
  index("outbox_events_pending_idx").on(t.seq).where(sql`fanned_out_at is null`),
  index("outbox_events_scope_type_idx").on(t.tenant_id, t.app_id, t.type, t.seq),
]);

/**
 * Webhook endpoints. `secret` is the Standard Webhooks signing secret (`whsec_…`), kept
 * recoverable because signing needs it (see `webhooks/endpoints.ts`); `events` is a JSON array of
 * event types (`["*"]` = all).
 *
 * @ignore
 */
export const webhookEndpoints = sqliteTable("webhook_endpoints", {
  id: text("id").primaryKey(),
  ...scope(),
  url: text("url").notNull(),
  description: text("description"),
  events: text("events", { mode: "json" }).notNull(),
  secret: text("secret").notNull(),
  status: text("status", { enum: ["enabled", "disabled"] }).notNull(),
  idempotency_key: text("idempotency_key"),
  payload_hash: text("payload_hash").notNull(),
  created_at: ms("created_at").notNull(),
  updated_at: ms("updated_at").notNull(),
}, (t) => [
  index("webhook_endpoints_scope_idx").on(t.tenant_id, t.app_id, t.status),
  uniqueIndex("webhook_endpoints_scope_idem_uq").on(t.tenant_id, t.app_id, t.idempotency_key),
]);

/**
 * One message for one endpoint. Per endpoint, only the pending delivery with the lowest
 * `message_seq` is attempted (in-order delivery); `locked_until` is the lease of a worker that
 * is sending it.
 *
 * @ignore
 */
export const webhookDeliveries = sqliteTable("webhook_deliveries", {
  id: text("id").primaryKey(),
  ...scope(),
  endpoint_id: text("endpoint_id").notNull(),
  message_id: text("message_id").notNull(),
  message_seq: integer("message_seq").notNull(),
  event_type: text("event_type").notNull(),
  status: text("status", { enum: ["pending", "succeeded", "failed"] }).notNull(),
  attempts: integer("attempts").notNull(),
  next_attempt_at: ms("next_attempt_at").notNull(),
  locked_until: ms("locked_until"),
  last_status_code: integer("last_status_code"),
  last_error: text("last_error"),
  created_at: ms("created_at").notNull(),
  updated_at: ms("updated_at").notNull(),
}, (t) => [
  uniqueIndex("webhook_deliveries_scope_endpoint_message_uq").on(
    t.tenant_id,
    t.app_id,
    t.endpoint_id,
    t.message_id,
  ),
  index("webhook_deliveries_scope_pending_idx").on(t.tenant_id, t.app_id, t.endpoint_id, t.message_seq).where(
    sql`status = 'pending'`,
  ),
  index("webhook_deliveries_scope_endpoint_idx").on(t.tenant_id, t.app_id, t.endpoint_id, t.message_seq),
]);

/**
 * Log of every HTTP attempt of a delivery (append-only).
 *
 * @ignore
 */
export const webhookAttempts = sqliteTable("webhook_attempts", {
  id: text("id").primaryKey(),
  ...scope(),
  delivery_id: text("delivery_id").notNull(),
  endpoint_id: text("endpoint_id").notNull(),
  attempt: integer("attempt").notNull(),
  outcome: text("outcome", { enum: ["succeeded", "http_error", "timeout", "network_error"] }).notNull(),
  status_code: integer("status_code"),
  error: text("error"),
  response_body: text("response_body"),
  duration_ms: integer("duration_ms").notNull(),
  started_at: ms("started_at").notNull(),
}, (t) => [index("webhook_attempts_delivery_idx").on(t.tenant_id, t.app_id, t.delivery_id, t.attempt)]);

/**
 * Append-only audit trail (UPDATE and DELETE are refused by triggers): who (`actor` = API key
 * id, `admin`, `stripe`, `system`) did what (`action` = lifecycle event type) to which resource,
 * with SHA-256 digests of the resource before and after, and the request id.
 *
 * @ignore
 */
export const auditEvents = sqliteTable("audit_events", {
  id: text("id").primaryKey(),
  ...scope(),
  actor: text("actor").notNull(),
  action: text("action").notNull(),
  resource_type: text("resource_type").notNull(),
  resource_id: text("resource_id").notNull(),
  before_digest: text("before_digest"),
  after_digest: text("after_digest").notNull(),
  request_id: text("request_id"),
  message_id: text("message_id").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [
  index("audit_events_scope_idx").on(t.tenant_id, t.app_id, t.id),
  index("audit_events_scope_resource_idx").on(t.tenant_id, t.app_id, t.resource_id, t.id),
]);

/**
 * Per-app payment-provider credentials (`stripe`: secret API key and webhook signing secret).
 *
 * @ignore
 */
export const paymentProviderConfigs = sqliteTable("payment_provider_configs", {
  ...scope(),
  provider: text("provider", { enum: ["stripe"] }).notNull(),
  api_key: text("api_key").notNull(),
  webhook_secret: text("webhook_secret").notNull(),
  created_at: ms("created_at").notNull(),
  updated_at: ms("updated_at").notNull(),
}, (t) => [primaryKey({ columns: [t.tenant_id, t.app_id, t.provider] })]);

/**
 * Our object ↔ the provider's object (`customer`, `invoice`, `payment_intent`).
 *
 * @ignore
 */
export const providerObjects = sqliteTable("provider_objects", {
  ...scope(),
  provider: text("provider").notNull(),
  kind: text("kind").notNull(),
  local_id: text("local_id").notNull(),
  remote_id: text("remote_id").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [
  primaryKey({ columns: [t.tenant_id, t.app_id, t.provider, t.kind, t.local_id] }),
  uniqueIndex("provider_objects_remote_uq").on(t.tenant_id, t.app_id, t.provider, t.kind, t.remote_id),
]);

/**
 * Provider webhook events already processed, unique on the provider's event id: a redelivered
 * event is acknowledged without a second effect.
 *
 * @ignore
 */
export const providerEvents = sqliteTable("provider_events", {
  id: text("id").primaryKey(),
  ...scope(),
  provider: text("provider").notNull(),
  event_id: text("event_id").notNull(),
  type: text("type").notNull(),
  object_id: text("object_id").notNull(),
  invoice_id: text("invoice_id"),
  amount: integer("amount").notNull(),
  entry_id: text("entry_id"),
  processed_at: ms("processed_at").notNull(),
}, (t) => [
  uniqueIndex("provider_events_scope_event_uq").on(t.tenant_id, t.app_id, t.provider, t.event_id),
  index("provider_events_scope_object_idx").on(t.tenant_id, t.app_id, t.provider, t.object_id),
]);

/**
 * Responses stored for the `Idempotency-Key` header (`http/idempotency.ts`), one per key and app:
 * the hash of the request (method, path, body) tells a retry from a conflicting reuse; a retry
 * gets `status` and `body` back. Kept at least 24 hours (`created_at`); older rows are replaced
 * by a new request with the same key and pruned by the maintenance loop.
 *
 * @ignore
 */
export const idempotentRequests = sqliteTable("idempotent_requests", {
  ...scope(),
  idempotency_key: text("idempotency_key").notNull(),
  /** `POST /v1/plans`: the route the key was first used on. */
  request: text("request").notNull(),
  payload_hash: text("payload_hash").notNull(),
  status: integer("status").notNull(),
  content_type: text("content_type"),
  body: text("body").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [
  primaryKey({ columns: [t.tenant_id, t.app_id, t.idempotency_key] }),
  index("idempotent_requests_created_idx").on(t.tenant_id, t.app_id, t.created_at),
]);

/**
 * Queued usage that could not be appended (an operator table, like `tenants`: a dead letter may
 * carry no valid scope). One row per queue message (`message_id` unique): the whole message when
 * it kept failing or was malformed (`reason` `failed` / `malformed`), or only the events its
 * tenant refused (`reason` `rejected`: unknown customer, late event…). Listed by
 * `GET /v1/admin/dead_letters`; event ids stay idempotency keys, so re-sending the events counts
 * each at most once.
 *
 * @ignore
 */
export const usageDeadLetters = sqliteTable("usage_dead_letters", {
  id: text("id").primaryKey(),
  message_id: text("message_id").notNull(),
  reason: text("reason", { enum: ["failed", "malformed", "rejected"] }).notNull(),
  tenant_object: text("tenant_object"),
  tenant_id: text("tenant_id"),
  app_id: text("app_id"),
  key_id: text("key_id"),
  received_at: text("received_at"),
  /** The events as queued (`failed`, `malformed`) or the refused ones (`rejected`). */
  events: text("events", { mode: "json" }).notNull(),
  /** Why, in one line: the last error, or the count of refused events by code. */
  error: text("error").notNull(),
  /** `rejected` only: why each event was refused (`[{ id, code, message }]`). */
  refusals: text("refusals", { mode: "json" }),
  attempts: integer("attempts").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [
  uniqueIndex("usage_dead_letters_message_uq").on(t.message_id),
  index("usage_dead_letters_created_idx").on(t.created_at, t.id),
]);
