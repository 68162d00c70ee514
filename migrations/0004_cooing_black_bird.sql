CREATE TABLE `coupons` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`code` text NOT NULL,
	`name` text,
	`percent_off_bp` integer,
	`amount_off` integer,
	`currency` text,
	`duration` text NOT NULL,
	`duration_periods` integer,
	`max_redemptions` integer,
	`times_redeemed` integer NOT NULL,
	`valid_from` integer,
	`redeem_by` integer,
	`plan_ids` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `coupons_scope_code_uq` ON `coupons` (`tenant_id`,`app_id`,`code`);--> statement-breakpoint
CREATE TABLE `credit_consumptions` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`grant_id` text NOT NULL,
	`invoice_id` text NOT NULL,
	`amount` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `credit_consumptions_grant_invoice_uq` ON `credit_consumptions` (`tenant_id`,`app_id`,`grant_id`,`invoice_id`);--> statement-breakpoint
CREATE TABLE `credit_grants` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`kind` text NOT NULL,
	`currency` text,
	`feature` text,
	`amount` integer NOT NULL,
	`priority` integer NOT NULL,
	`effective_at` integer NOT NULL,
	`expires_at` integer,
	`source` text NOT NULL,
	`reference` text NOT NULL,
	`payload_hash` text NOT NULL,
	`entry_id` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `credit_grants_reference_uq` ON `credit_grants` (`tenant_id`,`app_id`,`reference`);--> statement-breakpoint
CREATE INDEX `credit_grants_customer_idx` ON `credit_grants` (`tenant_id`,`app_id`,`customer_id`);--> statement-breakpoint
CREATE TABLE `credit_note_sequences` (
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`last_number` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `app_id`)
);
--> statement-breakpoint
CREATE TABLE `credit_notes` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`invoice_id` text NOT NULL,
	`number` text NOT NULL,
	`amount` integer NOT NULL,
	`tax` integer NOT NULL,
	`reason` text,
	`reference` text,
	`entry_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `credit_notes_scope_number_uq` ON `credit_notes` (`tenant_id`,`app_id`,`number`);--> statement-breakpoint
CREATE UNIQUE INDEX `credit_notes_reference_uq` ON `credit_notes` (`tenant_id`,`app_id`,`invoice_id`,`reference`);--> statement-breakpoint
CREATE TABLE `customer_tax_rates` (
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`tax_rate_id` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `app_id`, `customer_id`)
);
--> statement-breakpoint
CREATE TABLE `subscription_changes` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`subscription_id` text NOT NULL,
	`from_plan_id` text NOT NULL,
	`to_plan_id` text NOT NULL,
	`effective_at` integer NOT NULL,
	`proration` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `subscription_changes_sub_idx` ON `subscription_changes` (`tenant_id`,`app_id`,`subscription_id`,`effective_at`);--> statement-breakpoint
CREATE TABLE `subscription_discounts` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`subscription_id` text NOT NULL,
	`coupon_id` text NOT NULL,
	`redeemed_at` integer NOT NULL,
	`first_period_index` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `subscription_discounts_sub_uq` ON `subscription_discounts` (`tenant_id`,`app_id`,`subscription_id`);--> statement-breakpoint
CREATE TABLE `tax_rates` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`display_name` text NOT NULL,
	`jurisdiction` text,
	`percentage_bp` integer NOT NULL,
	`inclusive` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `invoice_lines` ADD `plan_id` text;--> statement-breakpoint
ALTER TABLE `invoice_lines` ADD `discount_amount` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `invoice_lines` ADD `tax_amount` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `invoices` ADD `credits_applied` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `invoices` ADD `credited` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `invoices` ADD `coupon_id` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `tax_rate_id` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `tax_percentage_bp` integer;--> statement-breakpoint
ALTER TABLE `invoices` ADD `tax_inclusive` integer;--> statement-breakpoint
ALTER TABLE `invoices` ADD `due_at` integer;--> statement-breakpoint
ALTER TABLE `invoices` ADD `uncollectible_at` integer;--> statement-breakpoint
ALTER TABLE `invoices` ADD `uncollectible_entry_id` text;--> statement-breakpoint
ALTER TABLE `plans` ADD `invoice_grace_period_hours` integer DEFAULT 1 NOT NULL;