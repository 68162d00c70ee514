CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`kind` text NOT NULL,
	`hash` text NOT NULL,
	`prefix` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash_uq` ON `api_keys` (`hash`);--> statement-breakpoint
CREATE TABLE `apps` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `apps_tenant_name_uq` ON `apps` (`tenant_id`,`name`);--> statement-breakpoint
CREATE TABLE `customers` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`external_id` text NOT NULL,
	`name` text,
	`email` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `customers_scope_external_uq` ON `customers` (`tenant_id`,`app_id`,`external_id`);--> statement-breakpoint
CREATE TABLE `invoice_lines` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`invoice_id` text NOT NULL,
	`position` integer NOT NULL,
	`kind` text NOT NULL,
	`description` text NOT NULL,
	`feature` text,
	`quantity` integer NOT NULL,
	`unit_amount` integer NOT NULL,
	`amount` integer NOT NULL,
	`tier` integer
);
--> statement-breakpoint
CREATE INDEX `invoice_lines_invoice_idx` ON `invoice_lines` (`tenant_id`,`app_id`,`invoice_id`,`position`);--> statement-breakpoint
CREATE TABLE `invoice_payments` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`invoice_id` text NOT NULL,
	`amount` integer NOT NULL,
	`reference` text,
	`entry_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invoice_payments_reference_uq` ON `invoice_payments` (`tenant_id`,`app_id`,`invoice_id`,`reference`);--> statement-breakpoint
CREATE TABLE `invoice_sequences` (
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`last_number` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `app_id`)
);
--> statement-breakpoint
CREATE TABLE `invoices` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`subscription_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`number` text,
	`status` text NOT NULL,
	`currency` text NOT NULL,
	`period_start` integer NOT NULL,
	`period_end` integer NOT NULL,
	`subtotal` integer NOT NULL,
	`discount` integer NOT NULL,
	`tax` integer NOT NULL,
	`total` integer NOT NULL,
	`amount_paid` integer NOT NULL,
	`finalize_entry_id` text,
	`finalized_at` integer,
	`paid_at` integer,
	`voided_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invoices_scope_period_uq` ON `invoices` (`tenant_id`,`app_id`,`subscription_id`,`period_start`,`period_end`) WHERE status <> 'void';--> statement-breakpoint
CREATE UNIQUE INDEX `invoices_scope_number_uq` ON `invoices` (`tenant_id`,`app_id`,`number`);--> statement-breakpoint
CREATE INDEX `invoices_scope_customer_idx` ON `invoices` (`tenant_id`,`app_id`,`customer_id`,`status`);--> statement-breakpoint
CREATE TABLE `ledger_accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`currency` text NOT NULL,
	`normal_balance` text NOT NULL,
	`metadata` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_accounts_scope_name_uq` ON `ledger_accounts` (`tenant_id`,`app_id`,`name`,`currency`);--> statement-breakpoint
CREATE TABLE `ledger_entries` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`payload_hash` text NOT NULL,
	`description` text,
	`reverses_entry_id` text,
	`metadata` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_entries_scope_key_uq` ON `ledger_entries` (`tenant_id`,`app_id`,`idempotency_key`);--> statement-breakpoint
CREATE TABLE `ledger_postings` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`entry_id` text NOT NULL,
	`account_id` text NOT NULL,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `ledger_postings_entry_idx` ON `ledger_postings` (`tenant_id`,`app_id`,`entry_id`);--> statement-breakpoint
CREATE INDEX `ledger_postings_account_idx` ON `ledger_postings` (`tenant_id`,`app_id`,`account_id`,`currency`);--> statement-breakpoint
CREATE TABLE `plans` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`key` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`currency` text NOT NULL,
	`interval` text NOT NULL,
	`trial_days` integer NOT NULL,
	`base_amount` integer NOT NULL,
	`features` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `plans_scope_key_uq` ON `plans` (`tenant_id`,`app_id`,`key`);--> statement-breakpoint
CREATE TABLE `subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`plan_id` text NOT NULL,
	`start_at` integer NOT NULL,
	`trial_end` integer,
	`billing_anchor` integer NOT NULL,
	`cancel_at` integer,
	`canceled_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `subscriptions_scope_customer_idx` ON `subscriptions` (`tenant_id`,`app_id`,`customer_id`);--> statement-breakpoint
CREATE TABLE `tenants` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tenants_name_uq` ON `tenants` (`name`);--> statement-breakpoint
CREATE TABLE `usage_events` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`event_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`feature` text NOT NULL,
	`value` integer NOT NULL,
	`timestamp` integer NOT NULL,
	`properties` text,
	`payload_hash` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `usage_events_scope_event_uq` ON `usage_events` (`tenant_id`,`app_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `usage_events_scope_customer_feature_ts_idx` ON `usage_events` (`tenant_id`,`app_id`,`customer_id`,`feature`,`timestamp`);