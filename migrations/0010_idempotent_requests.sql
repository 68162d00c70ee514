CREATE TABLE `idempotent_requests` (
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`request` text NOT NULL,
	`payload_hash` text NOT NULL,
	`status` integer NOT NULL,
	`content_type` text,
	`body` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `app_id`, `idempotency_key`)
);
--> statement-breakpoint
CREATE INDEX `idempotent_requests_created_idx` ON `idempotent_requests` (`tenant_id`,`app_id`,`created_at`);