/**
 * Request and response schemas of the ledger (`/v1/ledger/*`) and inventory (`/v1/inventory/*`)
 * routes. Amounts are integer minor units (postings signed: debit > 0, credit < 0); quantities
 * are integers. Quantities and hold/capture amounts accept any number here so the domain answers
 * `invalid_quantity` / `invalid_amount` with its own codes (issue 3).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { MAX_POSTINGS_PER_ENTRY } from "../domain/ledger.ts";
import { Currency, Key } from "./schemas.ts";

const Metadata = z.record(z.string().max(64), z.unknown()).openapi({ description: "Free-form JSON object" });
const ExternalId = z.string().min(1).max(255);
const Name = z.string().min(1).max(255).openapi({ example: "customer_balance:cus_123" });
/** Subject or item of the inventory ledger: 1–128 characters of letters, digits, `_ . : -`. */
export const InventoryName = Key;
/** Any number: the domain checks it is a positive integer (`invalid_quantity` / `invalid_amount`). */
const Quantity = z.number().openapi({ description: "Positive integer", example: 5 });
const PositiveAmount = z.number().openapi({ description: "Positive integer of minor units", example: 2500 });
const Ttl = z.int().openapi({ description: "Seconds until the hold expires (1 to 2592000)", example: 900 });

/** Marker present on every reply of an idempotent write. */
const Replayed = z.boolean().openapi({ description: "True when this is the stored result of an earlier request with the same key" });

export const AccountTypeSchema = z.enum(["asset", "liability", "equity", "revenue", "expense"]);

export const CreateAccountBody = z.object({
  name: Name,
  type: AccountTypeSchema,
  currency: Currency,
  metadata: Metadata.optional(),
  debits_must_not_exceed_credits: z.boolean().optional(),
  credits_must_not_exceed_debits: z.boolean().optional(),
}).strict().openapi("CreateLedgerAccount");

export const LedgerAccountSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: AccountTypeSchema,
  currency: z.string(),
  normal_balance: z.enum(["debit", "credit"]),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  debits_must_not_exceed_credits: z.boolean(),
  credits_must_not_exceed_debits: z.boolean(),
  created_at: z.string(),
}).openapi("LedgerAccount");

export const LedgerBalanceSchema = z.object({
  account_id: z.string(),
  currency: z.string(),
  normal_balance: z.enum(["debit", "credit"]),
  posted: z.int().openapi({ description: "Posted balance on the normal side" }),
  pending: z.int().openapi({ description: "What pending holds into this account add on capture" }),
  held: z.int().openapi({ description: "Σ pending holds authorized against this account" }),
  available: z.int().openapi({ description: "posted − held" }),
  debits_posted: z.int(),
  credits_posted: z.int(),
  debits_pending: z.int(),
  credits_pending: z.int(),
}).openapi("LedgerBalance");

const Posting = z.object({
  account_id: z.string().min(1).max(128),
  amount: z.int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).openapi({ description: "Debit > 0, credit < 0, minor units" }),
  currency: Currency,
}).strict();

const ExternalIds = {
  payment_intent_id: ExternalId.optional(),
  refund_id: ExternalId.optional(),
  payout_id: ExternalId.optional(),
  dispute_id: ExternalId.optional(),
};

export const CreateEntryBody = z.object({
  idempotency_key: Key,
  description: z.string().max(500).optional(),
  postings: z.array(Posting).min(2).max(MAX_POSTINGS_PER_ENTRY),
  metadata: Metadata.optional(),
  ...ExternalIds,
}).strict().openapi("CreateLedgerEntry");

export const ReverseEntryBody = z.object({
  idempotency_key: Key,
  description: z.string().max(500).optional(),
}).strict().openapi("ReverseLedgerEntry");

export const LedgerEntrySchema = z.object({
  id: z.string(),
  seq: z.int(),
  idempotency_key: z.string(),
  description: z.string().nullable(),
  reverses_entry_id: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  payment_intent_id: z.string().nullable(),
  refund_id: z.string().nullable(),
  payout_id: z.string().nullable(),
  dispute_id: z.string().nullable(),
  postings: z.array(z.object({ account_id: z.string(), amount: z.int(), currency: z.string() })),
  created_at: z.string(),
}).openapi("LedgerEntry");

export const LedgerEntryReply = LedgerEntrySchema.extend({ replayed: Replayed }).openapi("LedgerEntryReply");

export const LedgerEntryList = z.object({ data: z.array(LedgerEntrySchema), next_cursor: z.string().nullable() }).openapi("LedgerEntryList");

export const ListEntriesQuery = z.object({
  account_id: z.string().min(1).max(128).optional(),
  ...ExternalIds,
  created_after: z.iso.datetime({ offset: true }).optional().openapi({ description: "Inclusive" }),
  created_before: z.iso.datetime({ offset: true }).optional().openapi({ description: "Exclusive" }),
  cursor: z.string().min(1).max(32).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
  order: z.enum(["asc", "desc"]).optional().openapi({ description: "Journal order (default asc: oldest first)" }),
});

export const CreateHoldBody = z.object({
  idempotency_key: Key,
  account_id: z.string().min(1).max(128),
  destination_account_id: z.string().min(1).max(128).optional()
    .openapi({ description: "Account the capture moves the money to (default: the app's hold_captures liability)" }),
  amount: PositiveAmount,
  currency: Currency,
  ttl_seconds: Ttl,
  metadata: Metadata.optional(),
}).strict().openapi("CreateLedgerHold");

export const LedgerHoldSchema = z.object({
  id: z.string(),
  account_id: z.string(),
  destination_account_id: z.string(),
  amount: z.int(),
  currency: z.string(),
  status: z.enum(["pending", "captured", "voided", "expired"]),
  captured_amount: z.int().nullable(),
  capture_entry_id: z.string().nullable(),
  idempotency_key: z.string(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  expires_at: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("LedgerHold");

export const LedgerHoldReply = LedgerHoldSchema.extend({ replayed: Replayed }).openapi("LedgerHoldReply");

export const CaptureHoldBody = z.object({
  amount: PositiveAmount.optional().openapi({ description: "At most the held amount; default: all of it. The rest is released" }),
  idempotency_key: Key.optional().openapi({ description: "Default: {hold_id}:capture" }),
}).strict().openapi("CaptureLedgerHold");

export const VoidHoldBody = z.object({
  idempotency_key: Key.optional().openapi({ description: "Default: {hold_id}:void" }),
}).strict().openapi("VoidLedgerHold");

export const CaptureReply = z.object({ hold: LedgerHoldSchema, entry: LedgerEntrySchema, replayed: Replayed }).openapi("LedgerCaptureReply");

export const PaymentBody = z.object({
  payment_intent_id: ExternalId,
  amount: PositiveAmount,
  currency: Currency,
  customer_id: ExternalId,
  fees: z.number().optional().openapi({ description: "Platform fee kept from the payment, 0…amount (default 0)" }),
}).strict().openapi("RecordPayment");

export const RefundBody = z.object({
  refund_id: ExternalId,
  amount: PositiveAmount,
  currency: Currency,
  customer_id: ExternalId,
  payment_intent_id: ExternalId.optional(),
}).strict().openapi("RecordRefund");

export const PayoutBody = z.object({
  payout_id: ExternalId,
  amount: PositiveAmount,
  currency: Currency,
  merchant_id: ExternalId,
}).strict().openapi("RecordPayout");

export const DisputeBody = z.object({
  dispute_id: ExternalId,
  amount: PositiveAmount,
  currency: Currency,
  customer_id: ExternalId,
  payment_intent_id: ExternalId.optional(),
}).strict().openapi("RecordDispute");

// ---- inventory ----

export const InventoryMoveBody = z.object({
  idempotency_key: Key,
  subject: InventoryName,
  item: InventoryName,
  quantity: Quantity,
}).strict().openapi("InventoryMove");

export const InventoryTransferBody = z.object({
  idempotency_key: Key,
  from: InventoryName,
  to: InventoryName,
  item: InventoryName,
  quantity: Quantity,
}).strict().openapi("InventoryTransfer");

export const InventoryHoldBody = z.object({
  idempotency_key: Key,
  subject: InventoryName,
  item: InventoryName,
  quantity: Quantity,
  ttl_seconds: Ttl,
}).strict().openapi("CreateInventoryHold");

export const InventoryHoldActionBody = z.object({
  idempotency_key: Key.optional().openapi({ description: "Default: {hold_id}:commit or {hold_id}:release" }),
}).strict().openapi("InventoryHoldAction");

export const InventoryBalanceSchema = z.object({
  subject: z.string(),
  item: z.string(),
  free: z.int(),
  on_hold: z.int(),
  total: z.int(),
}).openapi("InventoryBalance");

export const InventoryHoldSchema = z.object({
  id: z.string(),
  subject: z.string(),
  item: z.string(),
  quantity: z.int(),
  status: z.enum(["pending", "committed", "released", "expired"]),
  idempotency_key: z.string(),
  expires_at: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("InventoryHold");

export const InventoryOperationSchema = z.object({
  id: z.string(),
  seq: z.int(),
  kind: z.enum(["acquire", "consume", "transfer", "hold", "commit", "release", "expire"]),
  idempotency_key: z.string(),
  subject: z.string(),
  counterparty: z.string().nullable(),
  item: z.string(),
  quantity: z.int(),
  hold_id: z.string().nullable(),
  created_at: z.string(),
}).openapi("InventoryOperation");

export const InventoryReplySchema = z.object({
  operation: InventoryOperationSchema.nullable(),
  balances: z.array(InventoryBalanceSchema),
  hold: InventoryHoldSchema.optional(),
  replayed: Replayed,
}).openapi("InventoryReply");

export const InventoryBalanceList = z.object({ data: z.array(InventoryBalanceSchema) }).openapi("InventoryBalanceList");
