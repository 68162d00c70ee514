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
CREATE INDEX `customers_scope_test_clock_idx` ON `customers` (`tenant_id`,`app_id`,`test_clock_id`);