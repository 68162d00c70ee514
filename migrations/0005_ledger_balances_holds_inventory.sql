CREATE TABLE `inventory_balances` (
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`subject` text NOT NULL,
	`item` text NOT NULL,
	`free` integer NOT NULL,
	`on_hold` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `app_id`, `subject`, `item`)
);
--> statement-breakpoint
CREATE TABLE `inventory_holds` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`subject` text NOT NULL,
	`item` text NOT NULL,
	`quantity` integer NOT NULL,
	`status` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `inventory_holds_scope_due_idx` ON `inventory_holds` (`tenant_id`,`app_id`,`expires_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE TABLE `inventory_operations` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`seq` integer NOT NULL,
	`idempotency_key` text NOT NULL,
	`payload_hash` text NOT NULL,
	`kind` text NOT NULL,
	`subject` text NOT NULL,
	`counterparty` text,
	`item` text NOT NULL,
	`quantity` integer NOT NULL,
	`hold_id` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `inventory_operations_scope_key_uq` ON `inventory_operations` (`tenant_id`,`app_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `inventory_operations_scope_seq_idx` ON `inventory_operations` (`tenant_id`,`app_id`,`seq`);--> statement-breakpoint
CREATE TABLE `ledger_balances` (
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`account_id` text NOT NULL,
	`currency` text NOT NULL,
	`debits_posted` integer NOT NULL,
	`credits_posted` integer NOT NULL,
	`debits_pending` integer NOT NULL,
	`credits_pending` integer NOT NULL,
	`held` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `app_id`, `account_id`, `currency`)
);
--> statement-breakpoint
CREATE TABLE `ledger_commands` (
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`kind` text NOT NULL,
	`payload_hash` text NOT NULL,
	`entry_id` text,
	`hold_id` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `app_id`, `idempotency_key`)
);
--> statement-breakpoint
CREATE TABLE `ledger_holds` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`account_id` text NOT NULL,
	`destination_account_id` text NOT NULL,
	`currency` text NOT NULL,
	`amount` integer NOT NULL,
	`captured_amount` integer,
	`status` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`capture_entry_id` text,
	`metadata` text,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `ledger_holds_scope_due_idx` ON `ledger_holds` (`tenant_id`,`app_id`,`expires_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `ledger_holds_scope_account_idx` ON `ledger_holds` (`tenant_id`,`app_id`,`account_id`);--> statement-breakpoint
ALTER TABLE `ledger_accounts` ADD `debits_must_not_exceed_credits` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `ledger_accounts` ADD `credits_must_not_exceed_debits` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `ledger_entries` ADD `seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `ledger_entries` ADD `payment_intent_id` text;--> statement-breakpoint
ALTER TABLE `ledger_entries` ADD `refund_id` text;--> statement-breakpoint
ALTER TABLE `ledger_entries` ADD `payout_id` text;--> statement-breakpoint
ALTER TABLE `ledger_entries` ADD `dispute_id` text;--> statement-breakpoint
CREATE INDEX `ledger_entries_scope_seq_idx` ON `ledger_entries` (`tenant_id`,`app_id`,`seq`);--> statement-breakpoint
CREATE INDEX `ledger_entries_scope_reverses_idx` ON `ledger_entries` (`tenant_id`,`app_id`,`reverses_entry_id`) WHERE reverses_entry_id is not null;--> statement-breakpoint
CREATE INDEX `ledger_entries_scope_payment_idx` ON `ledger_entries` (`tenant_id`,`app_id`,`payment_intent_id`,`seq`) WHERE payment_intent_id is not null;--> statement-breakpoint
CREATE INDEX `ledger_entries_scope_refund_idx` ON `ledger_entries` (`tenant_id`,`app_id`,`refund_id`,`seq`) WHERE refund_id is not null;--> statement-breakpoint
CREATE INDEX `ledger_entries_scope_payout_idx` ON `ledger_entries` (`tenant_id`,`app_id`,`payout_id`,`seq`) WHERE payout_id is not null;--> statement-breakpoint
CREATE INDEX `ledger_entries_scope_dispute_idx` ON `ledger_entries` (`tenant_id`,`app_id`,`dispute_id`,`seq`) WHERE dispute_id is not null;--> statement-breakpoint
ALTER TABLE `ledger_postings` ADD `entry_seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `ledger_postings_account_seq_idx` ON `ledger_postings` (`tenant_id`,`app_id`,`account_id`,`entry_seq`);