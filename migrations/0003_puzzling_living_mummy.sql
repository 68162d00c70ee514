CREATE TABLE `app_origins` (
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`origin` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `app_id`, `origin`)
);
--> statement-breakpoint
CREATE INDEX `app_origins_origin_idx` ON `app_origins` (`origin`);