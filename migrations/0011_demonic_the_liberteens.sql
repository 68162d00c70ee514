ALTER TABLE `customers` ADD `tax_rate_ids` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `taxes` text;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `tax_rate_ids` text;