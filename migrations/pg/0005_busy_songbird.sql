ALTER TABLE "invoice_lines" ADD COLUMN "quantity_decimal" text;--> statement-breakpoint
ALTER TABLE "invoice_lines" ADD COLUMN "unit_amount_decimal" text;--> statement-breakpoint
ALTER TABLE "invoice_lines" ADD COLUMN "dimensions" json;