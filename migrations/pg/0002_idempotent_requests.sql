CREATE TABLE "idempotent_requests" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"request" text NOT NULL,
	"payload_hash" text NOT NULL,
	"status" bigint NOT NULL,
	"content_type" text,
	"body" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "idempotent_requests_tenant_id_app_id_idempotency_key_pk" PRIMARY KEY("tenant_id","app_id","idempotency_key")
);
--> statement-breakpoint
CREATE INDEX "idempotent_requests_created_idx" ON "idempotent_requests" USING btree ("tenant_id","app_id","created_at");