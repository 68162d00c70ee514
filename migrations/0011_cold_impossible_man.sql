ALTER TABLE `customers` ADD `tax_rate_ids` text;--> statement-breakpoint
CREATE INDEX `customers_scope_id_idx` ON `customers` (`tenant_id`,`app_id`,`id`);--> statement-breakpoint
ALTER TABLE `invoices` ADD `taxes` text;--> statement-breakpoint
CREATE INDEX `invoices_scope_id_idx` ON `invoices` (`tenant_id`,`app_id`,`id`);--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `tax_rate_ids` text;--> statement-breakpoint
CREATE INDEX `subscriptions_scope_id_idx` ON `subscriptions` (`tenant_id`,`app_id`,`id`);--> statement-breakpoint
CREATE INDEX `plans_scope_id_idx` ON `plans` (`tenant_id`,`app_id`,`id`);