DROP INDEX `outbox_events_id_uq`;--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_events_scope_id_uq` ON `outbox_events` (`tenant_id`,`app_id`,`id`);--> statement-breakpoint
DROP INDEX `webhook_deliveries_endpoint_message_uq`;--> statement-breakpoint
DROP INDEX `webhook_deliveries_pending_idx`;--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_scope_endpoint_message_uq` ON `webhook_deliveries` (`tenant_id`,`app_id`,`endpoint_id`,`message_id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_scope_pending_idx` ON `webhook_deliveries` (`tenant_id`,`app_id`,`endpoint_id`,`message_seq`) WHERE status = 'pending';