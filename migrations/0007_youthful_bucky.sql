CREATE TABLE `subscription_pauses` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`subscription_id` text NOT NULL,
	`start_at` integer NOT NULL,
	`end_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `subscription_pauses_sub_idx` ON `subscription_pauses` (`tenant_id`,`app_id`,`subscription_id`,`start_at`);