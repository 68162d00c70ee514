ALTER TABLE `invoice_lines` ADD `quantity_decimal` text;--> statement-breakpoint
ALTER TABLE `invoice_lines` ADD `unit_amount_decimal` text;--> statement-breakpoint
ALTER TABLE `invoice_lines` ADD `dimensions` text;