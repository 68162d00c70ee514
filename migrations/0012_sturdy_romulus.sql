CREATE TABLE `admin_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`hash` text NOT NULL,
	`prefix` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `admin_tokens_hash_uq` ON `admin_tokens` (`hash`);--> statement-breakpoint
ALTER TABLE `api_keys` ADD `last4` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `name` text DEFAULT 'default' NOT NULL;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `scope` text DEFAULT 'full' NOT NULL;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `expires_at` integer;--> statement-breakpoint
CREATE INDEX `api_keys_scope_idx` ON `api_keys` (`tenant_id`,`app_id`,`id`);