CREATE TABLE `usage_dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`message_id` text NOT NULL,
	`reason` text NOT NULL,
	`tenant_object` text,
	`tenant_id` text,
	`app_id` text,
	`key_id` text,
	`received_at` text,
	`events` text NOT NULL,
	`error` text NOT NULL,
	`refusals` text,
	`attempts` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `usage_dead_letters_message_uq` ON `usage_dead_letters` (`message_id`);--> statement-breakpoint
CREATE INDEX `usage_dead_letters_created_idx` ON `usage_dead_letters` (`created_at`,`id`);