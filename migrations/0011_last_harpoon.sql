CREATE TABLE `test_clocks` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`name` text,
	`frozen_time` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `test_clocks_scope_id_idx` ON `test_clocks` (`tenant_id`,`app_id`,`id`);--> statement-breakpoint
ALTER TABLE `customers` ADD `test_clock_id` text;--> statement-breakpoint
ALTER TABLE `customers` ADD `tax_rate_ids` text;--> statement-breakpoint
CREATE INDEX `customers_scope_test_clock_idx` ON `customers` (`tenant_id`,`app_id`,`test_clock_id`);--> statement-breakpoint
CREATE INDEX `customers_scope_id_idx` ON `customers` (`tenant_id`,`app_id`,`id`);--> statement-breakpoint
ALTER TABLE `invoices` ADD `taxes` text;--> statement-breakpoint
CREATE INDEX `invoices_scope_id_idx` ON `invoices` (`tenant_id`,`app_id`,`id`);--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `tax_rate_ids` text;--> statement-breakpoint
CREATE INDEX `subscriptions_scope_id_idx` ON `subscriptions` (`tenant_id`,`app_id`,`id`);--> statement-breakpoint
CREATE INDEX `plans_scope_id_idx` ON `plans` (`tenant_id`,`app_id`,`id`);