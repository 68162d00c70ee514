CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"kind" text NOT NULL,
	"hash" text NOT NULL,
	"prefix" text NOT NULL,
	"created_at" bigint NOT NULL,
	"revoked_at" bigint
);
--> statement-breakpoint
CREATE TABLE "app_origins" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"origin" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "app_origins_tenant_id_app_id_origin_pk" PRIMARY KEY("tenant_id","app_id","origin")
);
--> statement-breakpoint
CREATE TABLE "apps" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"name" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"resource_type" text NOT NULL,
	"resource_id" text NOT NULL,
	"before_digest" text,
	"after_digest" text NOT NULL,
	"request_id" text,
	"message_id" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "coupons" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"code" text NOT NULL,
	"name" text,
	"percent_off_bp" bigint,
	"amount_off" bigint,
	"currency" text,
	"duration" text NOT NULL,
	"duration_periods" bigint,
	"max_redemptions" bigint,
	"times_redeemed" bigint NOT NULL,
	"valid_from" bigint,
	"redeem_by" bigint,
	"plan_ids" json,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credit_consumptions" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"grant_id" text NOT NULL,
	"invoice_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credit_grants" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"kind" text NOT NULL,
	"currency" text,
	"feature" text,
	"amount" bigint NOT NULL,
	"priority" bigint NOT NULL,
	"effective_at" bigint NOT NULL,
	"expires_at" bigint,
	"source" text NOT NULL,
	"reference" text NOT NULL,
	"payload_hash" text NOT NULL,
	"entry_id" text,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credit_note_sequences" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"last_number" bigint NOT NULL,
	CONSTRAINT "credit_note_sequences_tenant_id_app_id_pk" PRIMARY KEY("tenant_id","app_id")
);
--> statement-breakpoint
CREATE TABLE "credit_notes" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"invoice_id" text NOT NULL,
	"number" text NOT NULL,
	"amount" bigint NOT NULL,
	"tax" bigint NOT NULL,
	"reason" text,
	"reference" text,
	"entry_id" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customer_tax_rates" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"tax_rate_id" text NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "customer_tax_rates_tenant_id_app_id_customer_id_pk" PRIMARY KEY("tenant_id","app_id","customer_id")
);
--> statement-breakpoint
CREATE TABLE "customers" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"external_id" text NOT NULL,
	"name" text,
	"email" text,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "inventory_balances" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"subject" text NOT NULL,
	"item" text NOT NULL,
	"free" bigint NOT NULL,
	"on_hold" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "inventory_balances_tenant_id_app_id_subject_item_pk" PRIMARY KEY("tenant_id","app_id","subject","item")
);
--> statement-breakpoint
CREATE TABLE "inventory_holds" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"subject" text NOT NULL,
	"item" text NOT NULL,
	"quantity" bigint NOT NULL,
	"status" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"expires_at" bigint NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "inventory_operations" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"idempotency_key" text NOT NULL,
	"payload_hash" text NOT NULL,
	"kind" text NOT NULL,
	"subject" text NOT NULL,
	"counterparty" text,
	"item" text NOT NULL,
	"quantity" bigint NOT NULL,
	"hold_id" text,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "invoice_lines" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"invoice_id" text NOT NULL,
	"position" bigint NOT NULL,
	"kind" text NOT NULL,
	"description" text NOT NULL,
	"feature" text,
	"quantity" bigint NOT NULL,
	"unit_amount" bigint NOT NULL,
	"amount" bigint NOT NULL,
	"tier" bigint,
	"plan_id" text,
	"discount_amount" bigint DEFAULT 0 NOT NULL,
	"tax_amount" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "invoice_payments" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"invoice_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"reference" text,
	"entry_id" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "invoice_sequences" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"last_number" bigint NOT NULL,
	CONSTRAINT "invoice_sequences_tenant_id_app_id_pk" PRIMARY KEY("tenant_id","app_id")
);
--> statement-breakpoint
CREATE TABLE "invoices" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"subscription_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"number" text,
	"status" text NOT NULL,
	"currency" text NOT NULL,
	"period_start" bigint NOT NULL,
	"period_end" bigint NOT NULL,
	"subtotal" bigint NOT NULL,
	"discount" bigint NOT NULL,
	"tax" bigint NOT NULL,
	"total" bigint NOT NULL,
	"amount_paid" bigint NOT NULL,
	"credits_applied" bigint DEFAULT 0 NOT NULL,
	"credited" bigint DEFAULT 0 NOT NULL,
	"coupon_id" text,
	"tax_rate_id" text,
	"tax_percentage_bp" bigint,
	"tax_inclusive" boolean,
	"due_at" bigint,
	"uncollectible_at" bigint,
	"uncollectible_entry_id" text,
	"finalize_entry_id" text,
	"finalized_at" bigint,
	"paid_at" bigint,
	"voided_at" bigint,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"currency" text NOT NULL,
	"normal_balance" text NOT NULL,
	"metadata" json,
	"debits_must_not_exceed_credits" boolean DEFAULT false NOT NULL,
	"credits_must_not_exceed_debits" boolean DEFAULT false NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_balances" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"account_id" text NOT NULL,
	"currency" text NOT NULL,
	"debits_posted" bigint NOT NULL,
	"credits_posted" bigint NOT NULL,
	"debits_pending" bigint NOT NULL,
	"credits_pending" bigint NOT NULL,
	"held" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "ledger_balances_tenant_id_app_id_account_id_currency_pk" PRIMARY KEY("tenant_id","app_id","account_id","currency")
);
--> statement-breakpoint
CREATE TABLE "ledger_commands" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"kind" text NOT NULL,
	"payload_hash" text NOT NULL,
	"entry_id" text,
	"hold_id" text,
	"created_at" bigint NOT NULL,
	CONSTRAINT "ledger_commands_tenant_id_app_id_idempotency_key_pk" PRIMARY KEY("tenant_id","app_id","idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"payload_hash" text NOT NULL,
	"description" text,
	"reverses_entry_id" text,
	"metadata" json,
	"created_at" bigint NOT NULL,
	"seq" bigint DEFAULT 0 NOT NULL,
	"payment_intent_id" text,
	"refund_id" text,
	"payout_id" text,
	"dispute_id" text
);
--> statement-breakpoint
CREATE TABLE "ledger_holds" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"account_id" text NOT NULL,
	"destination_account_id" text NOT NULL,
	"currency" text NOT NULL,
	"amount" bigint NOT NULL,
	"captured_amount" bigint,
	"status" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"capture_entry_id" text,
	"metadata" json,
	"expires_at" bigint NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_postings" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"entry_id" text NOT NULL,
	"account_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"created_at" bigint NOT NULL,
	"entry_seq" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox_events" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"type" text NOT NULL,
	"resource_id" text NOT NULL,
	"data" json NOT NULL,
	"occurred_at" bigint NOT NULL,
	"fanned_out_at" bigint
);
--> statement-breakpoint
CREATE TABLE "payment_provider_configs" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"provider" text NOT NULL,
	"api_key" text NOT NULL,
	"webhook_secret" text NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "payment_provider_configs_tenant_id_app_id_provider_pk" PRIMARY KEY("tenant_id","app_id","provider")
);
--> statement-breakpoint
CREATE TABLE "plans" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"currency" text NOT NULL,
	"interval" text NOT NULL,
	"trial_days" bigint NOT NULL,
	"base_amount" bigint NOT NULL,
	"features" json NOT NULL,
	"invoice_grace_period_hours" bigint DEFAULT 1 NOT NULL,
	"status" text NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "provider_events" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"provider" text NOT NULL,
	"event_id" text NOT NULL,
	"type" text NOT NULL,
	"object_id" text NOT NULL,
	"invoice_id" text,
	"amount" bigint NOT NULL,
	"entry_id" text,
	"processed_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "provider_objects" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"provider" text NOT NULL,
	"kind" text NOT NULL,
	"local_id" text NOT NULL,
	"remote_id" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "provider_objects_tenant_id_app_id_provider_kind_local_id_pk" PRIMARY KEY("tenant_id","app_id","provider","kind","local_id")
);
--> statement-breakpoint
CREATE TABLE "subscription_changes" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"subscription_id" text NOT NULL,
	"from_plan_id" text NOT NULL,
	"to_plan_id" text NOT NULL,
	"effective_at" bigint NOT NULL,
	"proration" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subscription_discounts" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"subscription_id" text NOT NULL,
	"coupon_id" text NOT NULL,
	"redeemed_at" bigint NOT NULL,
	"first_period_index" bigint NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subscription_pauses" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"subscription_id" text NOT NULL,
	"start_at" bigint NOT NULL,
	"end_at" bigint,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subscriptions" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"plan_id" text NOT NULL,
	"start_at" bigint NOT NULL,
	"trial_end" bigint,
	"billing_anchor" bigint NOT NULL,
	"cancel_at" bigint,
	"canceled_at" bigint,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tax_rates" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"display_name" text NOT NULL,
	"jurisdiction" text,
	"percentage_bp" bigint NOT NULL,
	"inclusive" boolean NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_dead_letters" (
	"id" text PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"reason" text NOT NULL,
	"tenant_object" text,
	"tenant_id" text,
	"app_id" text,
	"key_id" text,
	"received_at" text,
	"events" json NOT NULL,
	"error" text NOT NULL,
	"refusals" json,
	"attempts" bigint NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_events" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"event_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"feature" text NOT NULL,
	"value" bigint NOT NULL,
	"timestamp" bigint NOT NULL,
	"properties" json,
	"payload_hash" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_attempts" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"delivery_id" text NOT NULL,
	"endpoint_id" text NOT NULL,
	"attempt" bigint NOT NULL,
	"outcome" text NOT NULL,
	"status_code" bigint,
	"error" text,
	"response_body" text,
	"duration_ms" bigint NOT NULL,
	"started_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"endpoint_id" text NOT NULL,
	"message_id" text NOT NULL,
	"message_seq" bigint NOT NULL,
	"event_type" text NOT NULL,
	"status" text NOT NULL,
	"attempts" bigint NOT NULL,
	"next_attempt_at" bigint NOT NULL,
	"locked_until" bigint,
	"last_status_code" bigint,
	"last_error" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_endpoints" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"url" text NOT NULL,
	"description" text,
	"events" json NOT NULL,
	"secret" text NOT NULL,
	"status" text NOT NULL,
	"idempotency_key" text,
	"payload_hash" text NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_uq" ON "api_keys" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "app_origins_origin_idx" ON "app_origins" USING btree ("origin");--> statement-breakpoint
CREATE UNIQUE INDEX "apps_tenant_name_uq" ON "apps" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE INDEX "audit_events_scope_idx" ON "audit_events" USING btree ("tenant_id","app_id","id");--> statement-breakpoint
CREATE INDEX "audit_events_scope_resource_idx" ON "audit_events" USING btree ("tenant_id","app_id","resource_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "coupons_scope_code_uq" ON "coupons" USING btree ("tenant_id","app_id","code");--> statement-breakpoint
CREATE UNIQUE INDEX "credit_consumptions_grant_invoice_uq" ON "credit_consumptions" USING btree ("tenant_id","app_id","grant_id","invoice_id");--> statement-breakpoint
CREATE UNIQUE INDEX "credit_grants_reference_uq" ON "credit_grants" USING btree ("tenant_id","app_id","reference");--> statement-breakpoint
CREATE INDEX "credit_grants_customer_idx" ON "credit_grants" USING btree ("tenant_id","app_id","customer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "credit_notes_scope_number_uq" ON "credit_notes" USING btree ("tenant_id","app_id","number");--> statement-breakpoint
CREATE UNIQUE INDEX "credit_notes_reference_uq" ON "credit_notes" USING btree ("tenant_id","app_id","invoice_id","reference");--> statement-breakpoint
CREATE UNIQUE INDEX "customers_scope_external_uq" ON "customers" USING btree ("tenant_id","app_id","external_id");--> statement-breakpoint
CREATE INDEX "inventory_holds_scope_due_idx" ON "inventory_holds" USING btree ("tenant_id","app_id","expires_at") WHERE status = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "inventory_operations_scope_key_uq" ON "inventory_operations" USING btree ("tenant_id","app_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "inventory_operations_scope_seq_idx" ON "inventory_operations" USING btree ("tenant_id","app_id","seq");--> statement-breakpoint
CREATE INDEX "invoice_lines_invoice_idx" ON "invoice_lines" USING btree ("tenant_id","app_id","invoice_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "invoice_payments_reference_uq" ON "invoice_payments" USING btree ("tenant_id","app_id","invoice_id","reference");--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_scope_period_uq" ON "invoices" USING btree ("tenant_id","app_id","subscription_id","period_start","period_end") WHERE status <> 'void';--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_scope_number_uq" ON "invoices" USING btree ("tenant_id","app_id","number");--> statement-breakpoint
CREATE INDEX "invoices_scope_customer_idx" ON "invoices" USING btree ("tenant_id","app_id","customer_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_accounts_scope_name_uq" ON "ledger_accounts" USING btree ("tenant_id","app_id","name","currency");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_entries_scope_key_uq" ON "ledger_entries" USING btree ("tenant_id","app_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "ledger_entries_scope_seq_idx" ON "ledger_entries" USING btree ("tenant_id","app_id","seq");--> statement-breakpoint
CREATE INDEX "ledger_entries_scope_reverses_idx" ON "ledger_entries" USING btree ("tenant_id","app_id","reverses_entry_id") WHERE reverses_entry_id is not null;--> statement-breakpoint
CREATE INDEX "ledger_entries_scope_payment_idx" ON "ledger_entries" USING btree ("tenant_id","app_id","payment_intent_id","seq") WHERE payment_intent_id is not null;--> statement-breakpoint
CREATE INDEX "ledger_entries_scope_refund_idx" ON "ledger_entries" USING btree ("tenant_id","app_id","refund_id","seq") WHERE refund_id is not null;--> statement-breakpoint
CREATE INDEX "ledger_entries_scope_payout_idx" ON "ledger_entries" USING btree ("tenant_id","app_id","payout_id","seq") WHERE payout_id is not null;--> statement-breakpoint
CREATE INDEX "ledger_entries_scope_dispute_idx" ON "ledger_entries" USING btree ("tenant_id","app_id","dispute_id","seq") WHERE dispute_id is not null;--> statement-breakpoint
CREATE INDEX "ledger_holds_scope_due_idx" ON "ledger_holds" USING btree ("tenant_id","app_id","expires_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "ledger_holds_scope_account_idx" ON "ledger_holds" USING btree ("tenant_id","app_id","account_id");--> statement-breakpoint
CREATE INDEX "ledger_postings_entry_idx" ON "ledger_postings" USING btree ("tenant_id","app_id","entry_id");--> statement-breakpoint
CREATE INDEX "ledger_postings_account_idx" ON "ledger_postings" USING btree ("tenant_id","app_id","account_id","currency");--> statement-breakpoint
CREATE INDEX "ledger_postings_account_seq_idx" ON "ledger_postings" USING btree ("tenant_id","app_id","account_id","entry_seq");--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_events_scope_id_uq" ON "outbox_events" USING btree ("tenant_id","app_id","id");--> statement-breakpoint
CREATE INDEX "outbox_events_pending_idx" ON "outbox_events" USING btree ("seq") WHERE fanned_out_at is null;--> statement-breakpoint
CREATE INDEX "outbox_events_scope_type_idx" ON "outbox_events" USING btree ("tenant_id","app_id","type","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "plans_scope_key_uq" ON "plans" USING btree ("tenant_id","app_id","key");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_events_scope_event_uq" ON "provider_events" USING btree ("tenant_id","app_id","provider","event_id");--> statement-breakpoint
CREATE INDEX "provider_events_scope_object_idx" ON "provider_events" USING btree ("tenant_id","app_id","provider","object_id");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_objects_remote_uq" ON "provider_objects" USING btree ("tenant_id","app_id","provider","kind","remote_id");--> statement-breakpoint
CREATE INDEX "subscription_changes_sub_idx" ON "subscription_changes" USING btree ("tenant_id","app_id","subscription_id","effective_at");--> statement-breakpoint
CREATE UNIQUE INDEX "subscription_discounts_sub_uq" ON "subscription_discounts" USING btree ("tenant_id","app_id","subscription_id");--> statement-breakpoint
CREATE INDEX "subscription_pauses_sub_idx" ON "subscription_pauses" USING btree ("tenant_id","app_id","subscription_id","start_at");--> statement-breakpoint
CREATE INDEX "subscriptions_scope_customer_idx" ON "subscriptions" USING btree ("tenant_id","app_id","customer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "tenants_name_uq" ON "tenants" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "usage_dead_letters_message_uq" ON "usage_dead_letters" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "usage_dead_letters_created_idx" ON "usage_dead_letters" USING btree ("created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "usage_events_scope_event_uq" ON "usage_events" USING btree ("tenant_id","app_id","event_id");--> statement-breakpoint
CREATE INDEX "usage_events_scope_customer_feature_ts_idx" ON "usage_events" USING btree ("tenant_id","app_id","customer_id","feature","timestamp");--> statement-breakpoint
CREATE INDEX "webhook_attempts_delivery_idx" ON "webhook_attempts" USING btree ("tenant_id","app_id","delivery_id","attempt");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_scope_endpoint_message_uq" ON "webhook_deliveries" USING btree ("tenant_id","app_id","endpoint_id","message_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_scope_pending_idx" ON "webhook_deliveries" USING btree ("tenant_id","app_id","endpoint_id","message_seq") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_scope_endpoint_idx" ON "webhook_deliveries" USING btree ("tenant_id","app_id","endpoint_id","message_seq");--> statement-breakpoint
CREATE INDEX "webhook_endpoints_scope_idx" ON "webhook_endpoints" USING btree ("tenant_id","app_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_endpoints_scope_idem_uq" ON "webhook_endpoints" USING btree ("tenant_id","app_id","idempotency_key");