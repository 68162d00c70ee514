CREATE TABLE "test_clocks" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"name" text,
	"frozen_time" bigint NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "test_clock_id" text;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "tax_rate_ids" json;--> statement-breakpoint
ALTER TABLE "invoices" ADD COLUMN "taxes" json;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "tax_rate_ids" json;--> statement-breakpoint
CREATE INDEX "test_clocks_scope_id_idx" ON "test_clocks" USING btree ("tenant_id","app_id","id");--> statement-breakpoint
CREATE INDEX "customers_scope_test_clock_idx" ON "customers" USING btree ("tenant_id","app_id","test_clock_id");--> statement-breakpoint
CREATE INDEX "customers_scope_id_idx" ON "customers" USING btree ("tenant_id","app_id","id");--> statement-breakpoint
CREATE INDEX "invoices_scope_id_idx" ON "invoices" USING btree ("tenant_id","app_id","id");--> statement-breakpoint
CREATE INDEX "plans_scope_id_idx" ON "plans" USING btree ("tenant_id","app_id","id");--> statement-breakpoint
CREATE INDEX "subscriptions_scope_id_idx" ON "subscriptions" USING btree ("tenant_id","app_id","id");