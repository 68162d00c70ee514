CREATE TABLE `audit_events` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`resource_type` text NOT NULL,
	`resource_id` text NOT NULL,
	`before_digest` text,
	`after_digest` text NOT NULL,
	`request_id` text,
	`message_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_events_scope_idx` ON `audit_events` (`tenant_id`,`app_id`,`id`);--> statement-breakpoint
CREATE INDEX `audit_events_scope_resource_idx` ON `audit_events` (`tenant_id`,`app_id`,`resource_id`,`id`);--> statement-breakpoint
CREATE TABLE `outbox_events` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`type` text NOT NULL,
	`resource_id` text NOT NULL,
	`data` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`fanned_out_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_events_id_uq` ON `outbox_events` (`id`);--> statement-breakpoint
CREATE INDEX `outbox_events_pending_idx` ON `outbox_events` (`seq`) WHERE fanned_out_at is null;--> statement-breakpoint
CREATE INDEX `outbox_events_scope_type_idx` ON `outbox_events` (`tenant_id`,`app_id`,`type`,`seq`);--> statement-breakpoint
CREATE TABLE `payment_provider_configs` (
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`provider` text NOT NULL,
	`api_key` text NOT NULL,
	`webhook_secret` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `app_id`, `provider`)
);
--> statement-breakpoint
CREATE TABLE `provider_events` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`provider` text NOT NULL,
	`event_id` text NOT NULL,
	`type` text NOT NULL,
	`object_id` text NOT NULL,
	`invoice_id` text,
	`amount` integer NOT NULL,
	`entry_id` text,
	`processed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `provider_events_scope_event_uq` ON `provider_events` (`tenant_id`,`app_id`,`provider`,`event_id`);--> statement-breakpoint
CREATE INDEX `provider_events_scope_object_idx` ON `provider_events` (`tenant_id`,`app_id`,`provider`,`object_id`);--> statement-breakpoint
CREATE TABLE `provider_objects` (
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`provider` text NOT NULL,
	`kind` text NOT NULL,
	`local_id` text NOT NULL,
	`remote_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `app_id`, `provider`, `kind`, `local_id`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `provider_objects_remote_uq` ON `provider_objects` (`tenant_id`,`app_id`,`provider`,`kind`,`remote_id`);--> statement-breakpoint
CREATE TABLE `webhook_attempts` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`delivery_id` text NOT NULL,
	`endpoint_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`outcome` text NOT NULL,
	`status_code` integer,
	`error` text,
	`response_body` text,
	`duration_ms` integer NOT NULL,
	`started_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_attempts_delivery_idx` ON `webhook_attempts` (`tenant_id`,`app_id`,`delivery_id`,`attempt`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`endpoint_id` text NOT NULL,
	`message_id` text NOT NULL,
	`message_seq` integer NOT NULL,
	`event_type` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`locked_until` integer,
	`last_status_code` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_endpoint_message_uq` ON `webhook_deliveries` (`endpoint_id`,`message_id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_pending_idx` ON `webhook_deliveries` (`endpoint_id`,`message_seq`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `webhook_deliveries_scope_endpoint_idx` ON `webhook_deliveries` (`tenant_id`,`app_id`,`endpoint_id`,`message_seq`);--> statement-breakpoint
CREATE TABLE `webhook_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`app_id` text NOT NULL,
	`url` text NOT NULL,
	`description` text,
	`events` text NOT NULL,
	`secret` text NOT NULL,
	`status` text NOT NULL,
	`idempotency_key` text,
	`payload_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_endpoints_scope_idx` ON `webhook_endpoints` (`tenant_id`,`app_id`,`status`);--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_endpoints_scope_idem_uq` ON `webhook_endpoints` (`tenant_id`,`app_id`,`idempotency_key`);