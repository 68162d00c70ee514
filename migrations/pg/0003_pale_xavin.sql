ALTER TABLE "customers" ADD COLUMN "tax_rate_ids" json;--> statement-breakpoint
ALTER TABLE "invoices" ADD COLUMN "taxes" json;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "tax_rate_ids" json;--> statement-breakpoint
CREATE INDEX "customers_scope_id_idx" ON "customers" USING btree ("tenant_id","app_id","id");--> statement-breakpoint
CREATE INDEX "invoices_scope_id_idx" ON "invoices" USING btree ("tenant_id","app_id","id");--> statement-breakpoint
CREATE INDEX "plans_scope_id_idx" ON "plans" USING btree ("tenant_id","app_id","id");--> statement-breakpoint
CREATE INDEX "subscriptions_scope_id_idx" ON "subscriptions" USING btree ("tenant_id","app_id","id");