/**
 * drizzle schema (sqlite-core) of the libSQL database. Every table carries `tenant_id` and
 * `app_id` (tenancy tables excepted) and every index starts with them, so each query of a tenant
 * stays inside its own key range. Instants are integer milliseconds since the Unix epoch (UTC);
 * amounts are integer minor units. `deno task db:generate` turns changes into `migrations/`.
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

/** Tenants: one per customer company of the platform. */
export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [uniqueIndex("tenants_name_uq").on(t.name)]);

/** Apps of a tenant (`production`, `staging`): the second half of every scope. */
export const apps = sqliteTable("apps", {
  id: text("id").primaryKey(),
  tenant_id: text("tenant_id").notNull(),
  name: text("name").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [uniqueIndex("apps_tenant_name_uq").on(t.tenant_id, t.name)]);

/** API keys, stored as SHA-256 hashes of the full key; `prefix` is shown for identification. */
export const apiKeys = sqliteTable("api_keys", {
  id: text("id").primaryKey(),
  ...scope(),
  kind: text("kind", { enum: ["secret", "publishable"] }).notNull(),
  hash: text("hash").notNull(),
  prefix: text("prefix").notNull(),
  created_at: ms("created_at").notNull(),
  revoked_at: ms("revoked_at"),
}, (t) => [uniqueIndex("api_keys_hash_uq").on(t.hash)]);

/** Plans; `features` is the checked feature list as JSON (see `domain/plan.ts`). */
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
  status: text("status", { enum: ["active", "archived"] }).notNull(),
  created_at: ms("created_at").notNull(),
  updated_at: ms("updated_at").notNull(),
}, (t) => [uniqueIndex("plans_scope_key_uq").on(t.tenant_id, t.app_id, t.key)]);

/** Customers; `external_id` is the client's own id, unique per app. */
export const customers = sqliteTable("customers", {
  id: text("id").primaryKey(),
  ...scope(),
  external_id: text("external_id").notNull(),
  name: text("name"),
  email: text("email"),
  created_at: ms("created_at").notNull(),
}, (t) => [uniqueIndex("customers_scope_external_uq").on(t.tenant_id, t.app_id, t.external_id)]);

/** Subscriptions; status is derived from the instants (see `domain/subscription.ts`). */
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
  created_at: ms("created_at").notNull(),
}, (t) => [index("subscriptions_scope_customer_idx").on(t.tenant_id, t.app_id, t.customer_id)]);

/**
 * Ingested usage events. `event_id` is the client's idempotency key (unique per app);
 * `payload_hash` tells a retry (same hash) from a conflicting reuse (different hash).
 */
export const usageEvents = sqliteTable("usage_events", {
  id: text("id").primaryKey(),
  ...scope(),
  event_id: text("event_id").notNull(),
  customer_id: text("customer_id").notNull(),
  feature: text("feature").notNull(),
  value: integer("value").notNull(),
  timestamp: ms("timestamp").notNull(),
  properties: text("properties", { mode: "json" }),
  payload_hash: text("payload_hash").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [
  uniqueIndex("usage_events_scope_event_uq").on(t.tenant_id, t.app_id, t.event_id),
  index("usage_events_scope_customer_feature_ts_idx").on(t.tenant_id, t.app_id, t.customer_id, t.feature, t.timestamp),
]);

/**
 * Invoices. One non-void invoice per subscription and period (partial unique index), numbers
 * unique per app once finalized.
 */
export const invoices = sqliteTable("invoices", {
  id: text("id").primaryKey(),
  ...scope(),
  subscription_id: text("subscription_id").notNull(),
  customer_id: text("customer_id").notNull(),
  number: text("number"),
  status: text("status", { enum: ["draft", "open", "paid", "void"] }).notNull(),
  currency: text("currency").notNull(),
  period_start: ms("period_start").notNull(),
  period_end: ms("period_end").notNull(),
  subtotal: integer("subtotal").notNull(),
  discount: integer("discount").notNull(),
  tax: integer("tax").notNull(),
  total: integer("total").notNull(),
  amount_paid: integer("amount_paid").notNull(),
  finalize_entry_id: text("finalize_entry_id"),
  finalized_at: ms("finalized_at"),
  paid_at: ms("paid_at"),
  voided_at: ms("voided_at"),
  created_at: ms("created_at").notNull(),
  updated_at: ms("updated_at").notNull(),
}, (t) => [
  uniqueIndex("invoices_scope_period_uq").on(t.tenant_id, t.app_id, t.subscription_id, t.period_start, t.period_end)
    .where(sql`status <> 'void'`),
  uniqueIndex("invoices_scope_number_uq").on(t.tenant_id, t.app_id, t.number),
  index("invoices_scope_customer_idx").on(t.tenant_id, t.app_id, t.customer_id, t.status),
]);

/** Lines of an invoice, in `position` order. */
export const invoiceLines = sqliteTable("invoice_lines", {
  id: text("id").primaryKey(),
  ...scope(),
  invoice_id: text("invoice_id").notNull(),
  position: integer("position").notNull(),
  kind: text("kind", { enum: ["base", "usage"] }).notNull(),
  description: text("description").notNull(),
  feature: text("feature"),
  quantity: integer("quantity").notNull(),
  unit_amount: integer("unit_amount").notNull(),
  amount: integer("amount").notNull(),
  tier: integer("tier"),
}, (t) => [index("invoice_lines_invoice_idx").on(t.tenant_id, t.app_id, t.invoice_id, t.position)]);

/** Payments recorded against invoices; `reference` (client's) makes a retry return the same payment. */
export const invoicePayments = sqliteTable("invoice_payments", {
  id: text("id").primaryKey(),
  ...scope(),
  invoice_id: text("invoice_id").notNull(),
  amount: integer("amount").notNull(),
  reference: text("reference"),
  entry_id: text("entry_id").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [uniqueIndex("invoice_payments_reference_uq").on(t.tenant_id, t.app_id, t.invoice_id, t.reference)]);

/** Gapless invoice number sequence per tenant+app, advanced in the finalizing transaction. */
export const invoiceSequences = sqliteTable("invoice_sequences", {
  ...scope(),
  last_number: integer("last_number").notNull(),
}, (t) => [primaryKey({ columns: [t.tenant_id, t.app_id] })]);

/** Ledger accounts (chart of accounts), unique by name and currency per app. */
export const ledgerAccounts = sqliteTable("ledger_accounts", {
  id: text("id").primaryKey(),
  ...scope(),
  name: text("name").notNull(),
  type: text("type", { enum: ["asset", "liability", "equity", "revenue", "expense"] }).notNull(),
  currency: text("currency").notNull(),
  normal_balance: text("normal_balance", { enum: ["debit", "credit"] }).notNull(),
  metadata: text("metadata", { mode: "json" }),
  created_at: ms("created_at").notNull(),
}, (t) => [uniqueIndex("ledger_accounts_scope_name_uq").on(t.tenant_id, t.app_id, t.name, t.currency)]);

/** Journal entries; immutable. `idempotency_key` is unique per app. */
export const ledgerEntries = sqliteTable("ledger_entries", {
  id: text("id").primaryKey(),
  ...scope(),
  idempotency_key: text("idempotency_key").notNull(),
  payload_hash: text("payload_hash").notNull(),
  description: text("description"),
  reverses_entry_id: text("reverses_entry_id"),
  metadata: text("metadata", { mode: "json" }),
  created_at: ms("created_at").notNull(),
}, (t) => [uniqueIndex("ledger_entries_scope_key_uq").on(t.tenant_id, t.app_id, t.idempotency_key)]);

/** Postings of entries: positive = debit, negative = credit, minor units. */
export const ledgerPostings = sqliteTable("ledger_postings", {
  id: text("id").primaryKey(),
  ...scope(),
  entry_id: text("entry_id").notNull(),
  account_id: text("account_id").notNull(),
  amount: integer("amount").notNull(),
  currency: text("currency").notNull(),
  created_at: ms("created_at").notNull(),
}, (t) => [
  index("ledger_postings_entry_idx").on(t.tenant_id, t.app_id, t.entry_id),
  index("ledger_postings_account_idx").on(t.tenant_id, t.app_id, t.account_id, t.currency),
]);
