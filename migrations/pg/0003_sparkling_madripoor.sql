ALTER TABLE "customers" ADD COLUMN "tax_rate_ids" json;--> statement-breakpoint
ALTER TABLE "invoices" ADD COLUMN "taxes" json;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "tax_rate_ids" json;