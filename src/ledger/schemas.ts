/**
 * Request and response schemas of the ledger routes (`/v1/ledger/*`). Amounts are integer minor
 * units (postings signed: debit > 0, credit < 0). Hold and capture amounts accept any number here
 * so the domain answers `invalid_amount` with its own code.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { MAX_ENTRIES_PER_REQUEST, MAX_POSTINGS_PER_ENTRY } from "../domain/ledger.ts";
import { boundedJsonObject, Currency, Key, METADATA_BOUNDS } from "../http/schemas.ts";

const Metadata = boundedJsonObject(METADATA_BOUNDS, "Free-form JSON object", { order_id: "ord_1042" });
/** An external id (processor object, customer, merchant): at most 200 characters so `customer_balance:{id}` fits an account name. */
const ExternalId = z.string().min(1).max(200);
const Name = z.string().min(1).max(255).openapi({ example: "customer_balance:cus_123" });
/** Any number: the domain checks it is a positive integer (`invalid_amount`). */
const PositiveAmount = z.number().openapi({ description: "Positive integer of minor units", example: 2500 });
/** Seconds until a hold expires; the domain checks the range (ledger and inventory holds). */
export const Ttl: z.ZodInt = z.int().openapi({
  description: "Seconds until the hold expires (1 to 2592000)",
  example: 900,
});

/** Marker present on every reply of an idempotent write. */
export const Replayed: z.ZodBoolean = z.boolean().openapi({
  description: "True when this is the stored result of an earlier request with the same key",
  example: false,
});

/** Class of a ledger account. */
export const AccountTypeSchema: z.ZodEnum<
  { asset: "asset"; liability: "liability"; equity: "equity"; revenue: "revenue"; expense: "expense" }
> = z.enum(["asset", "liability", "equity", "revenue", "expense"]);

/** Body of `POST /v1/ledger/accounts` (find or create by name and currency). */
export const CreateAccountBody: z.ZodObject<
  {
    name: z.ZodString;
    type: typeof AccountTypeSchema;
    currency: z.ZodString;
    metadata: z.ZodOptional<z.ZodRecord<z.ZodString, z.ZodUnknown>>;
    debits_must_not_exceed_credits: z.ZodOptional<z.ZodBoolean>;
    credits_must_not_exceed_debits: z.ZodOptional<z.ZodBoolean>;
  },
  z.core.$strict
> = z.object({
  name: Name.openapi({ description: "Unique account name per app", example: "customer_balance:cus_123" }),
  type: AccountTypeSchema.openapi({
    description: "Account type; decides its normal balance",
    example: "liability",
  }),
  currency: Currency.openapi({ description: "ISO 4217 currency of every posting", example: "USD" }),
  metadata: Metadata.optional().openapi({
    example: { "owner": "billing" },
  }),
  debits_must_not_exceed_credits: z.boolean().optional().openapi({
    description:
      "Refuse entries that would make debits exceed credits (no overdraft of a credit-normal account)",
    example: true,
  }),
  credits_must_not_exceed_debits: z.boolean().optional().openapi({
    description: "Refuse entries that would make credits exceed debits",
    example: false,
  }),
}).strict().openapi("CreateLedgerAccount");

/** A ledger account. */
export const LedgerAccountSchema: z.ZodObject<
  {
    id: z.ZodString;
    name: z.ZodString;
    type: typeof AccountTypeSchema;
    currency: z.ZodString;
    normal_balance: z.ZodEnum<{ debit: "debit"; credit: "credit" }>;
    metadata: z.ZodNullable<z.ZodRecord<z.ZodString, z.ZodUnknown>>;
    debits_must_not_exceed_credits: z.ZodBoolean;
    credits_must_not_exceed_debits: z.ZodBoolean;
    created_at: z.ZodString;
  },
  z.core.$strip
> = z.object({
  id: z.string().openapi({ description: "TypeID of the account", example: "acc_01jd0000000000000000000000" }),
  name: z.string().openapi({ description: "Account name", example: "customer_balance:cus_123" }),
  type: AccountTypeSchema.openapi({ description: "Account type", example: "liability" }),
  currency: z.string().openapi({ description: "ISO 4217 currency", example: "USD" }),
  normal_balance: z.enum(["debit", "credit"]).openapi({
    description: "Side that increases the account",
    example: "credit",
  }),
  metadata: z.record(z.string(), z.unknown()).nullable().openapi({
    description: "Free-form JSON object",
    example: null,
  }),
  debits_must_not_exceed_credits: z.boolean().openapi({ description: "Overdraft guard", example: true }),
  credits_must_not_exceed_debits: z.boolean().openapi({
    description: "Reverse overdraft guard",
    example: false,
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("LedgerAccount");

/** Balance of an account in its currency (`GET /v1/ledger/accounts/{id}/balance`). */
export const LedgerBalanceSchema: z.ZodObject<
  {
    account_id: z.ZodString;
    currency: z.ZodString;
    normal_balance: z.ZodEnum<{ debit: "debit"; credit: "credit" }>;
    posted: z.ZodInt;
    pending: z.ZodInt;
    held: z.ZodInt;
    available: z.ZodInt;
    debits_posted: z.ZodInt;
    credits_posted: z.ZodInt;
    debits_pending: z.ZodInt;
    credits_pending: z.ZodInt;
  },
  z.core.$strip
> = z.object({
  account_id: z.string().openapi({ description: "Account", example: "acc_01jd0000000000000000000000" }),
  currency: z.string().openapi({ description: "ISO 4217 currency", example: "USD" }),
  normal_balance: z.enum(["debit", "credit"]).openapi({
    description: "Side that increases the account",
    example: "credit",
  }),
  posted: z.int().openapi({ description: "Posted balance on the normal side", example: 10000 }),
  pending: z.int().openapi({
    description: "What pending holds into this account add on capture",
    example: 0,
  }),
  held: z.int().openapi({ description: "Σ pending holds authorized against this account", example: 2500 }),
  available: z.int().openapi({ description: "posted − held", example: 7500 }),
  debits_posted: z.int().openapi({ description: "Σ posted debits, minor units", example: 0 }),
  credits_posted: z.int().openapi({ description: "Σ posted credits, minor units", example: 10000 }),
  debits_pending: z.int().openapi({ description: "Σ debits of pending holds", example: 2500 }),
  credits_pending: z.int().openapi({ description: "Σ credits of pending holds", example: 0 }),
}).openapi("LedgerBalance");

const Posting = z.object({
  account_id: z.string().min(1).max(128).openapi({
    description: "The account: its acc_ id, or its name (resolved within your tenant and app together with " +
      "this posting's currency; an unknown name is 404 account_not_found)",
    example: "acc_01jd0000000000000000000000",
  }),
  amount: z.int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).openapi({
    description: "Debit > 0, credit < 0, minor units",
    example: -2500,
  }),
  currency: Currency.openapi({ description: "ISO 4217 currency (the account's)", example: "USD" }),
}).strict();

const ExternalIds = {
  payment_intent_id: ExternalId.optional().openapi({
    description: "Payment provider's payment id",
    example: "pi_3Q2w3e4r5t6y7u8i",
  }),
  refund_id: ExternalId.optional().openapi({
    description: "Payment provider's refund id",
    example: "re_3Q2w3e4r5t6y7u8i",
  }),
  payout_id: ExternalId.optional().openapi({
    description: "Payment provider's payout id",
    example: "po_1Q2w3e4r5t6y7u8i",
  }),
  dispute_id: ExternalId.optional().openapi({
    description: "Payment provider's dispute id",
    example: "dp_1Q2w3e4r5t6y7u8i",
  }),
};

/** Body of `POST /v1/ledger/entries`. */
export const CreateEntryBody: z.ZodObject<
  {
    payment_intent_id: z.ZodOptional<z.ZodString>;
    refund_id: z.ZodOptional<z.ZodString>;
    payout_id: z.ZodOptional<z.ZodString>;
    dispute_id: z.ZodOptional<z.ZodString>;
    idempotency_key: z.ZodString;
    description: z.ZodOptional<z.ZodString>;
    postings: z.ZodArray<
      z.ZodObject<{ account_id: z.ZodString; amount: z.ZodInt; currency: z.ZodString }, z.core.$strict>
    >;
    metadata: z.ZodOptional<z.ZodRecord<z.ZodString, z.ZodUnknown>>;
  },
  z.core.$strict
> = z.object({
  idempotency_key: Key.openapi({
    description: "A retry with the same key returns the first result",
    example: "order_1042_paid",
  }),
  description: z.string().max(500).optional().openapi({
    description: "Free text",
    example: "Order 1042 paid",
  }),
  postings: z.array(Posting).min(2).max(MAX_POSTINGS_PER_ENTRY).openapi({
    description: `2 to ${MAX_POSTINGS_PER_ENTRY} postings summing to zero per currency`,
    example: [{ "account_id": "cash", "amount": 2500, "currency": "USD" }, {
      "account_id": "revenue",
      "amount": -2500,
      "currency": "USD",
    }],
  }),
  metadata: Metadata.optional().openapi({
    example: { "order_id": "ord_1042" },
  }),
  ...ExternalIds,
}).strict().openapi("CreateLedgerEntry");

/** Body of `POST /v1/ledger/entries/{id}/reverse`. */
export const ReverseEntryBody: z.ZodObject<
  { idempotency_key: z.ZodString; description: z.ZodOptional<z.ZodString> },
  z.core.$strict
> = z.object({
  idempotency_key: Key.openapi({
    description: "A retry with the same key returns the first reversal",
    example: "order_1042_refund",
  }),
  description: z.string().max(500).optional().openapi({
    description: "Free text",
    example: "Order 1042 canceled",
  }),
}).strict().openapi("ReverseLedgerEntry");

/** A journal entry with its postings. */
export const LedgerEntrySchema: z.ZodObject<
  {
    id: z.ZodString;
    seq: z.ZodInt;
    idempotency_key: z.ZodString;
    description: z.ZodNullable<z.ZodString>;
    reverses_entry_id: z.ZodNullable<z.ZodString>;
    metadata: z.ZodNullable<z.ZodRecord<z.ZodString, z.ZodUnknown>>;
    payment_intent_id: z.ZodNullable<z.ZodString>;
    refund_id: z.ZodNullable<z.ZodString>;
    payout_id: z.ZodNullable<z.ZodString>;
    dispute_id: z.ZodNullable<z.ZodString>;
    postings: z.ZodArray<
      z.ZodObject<{ account_id: z.ZodString; amount: z.ZodInt; currency: z.ZodString }, z.core.$strip>
    >;
    created_at: z.ZodString;
  },
  z.core.$strip
> = z.object({
  id: z.string().openapi({ description: "TypeID of the entry", example: "ent_01jd0000000000000000000000" }),
  seq: z.int().openapi({ description: "Position in the app's journal (gapless, increasing)", example: 42 }),
  idempotency_key: z.string().openapi({ description: "Key it was written with", example: "order_1042_paid" }),
  description: z.string().nullable().openapi({ description: "Free text", example: "Order 1042 paid" }),
  reverses_entry_id: z.string().nullable().openapi({ description: "Entry this one reverses", example: null }),
  metadata: z.record(z.string(), z.unknown()).nullable().openapi({
    description: "Free-form JSON object",
    example: null,
  }),
  payment_intent_id: z.string().nullable().openapi({ description: "Provider payment id", example: null }),
  refund_id: z.string().nullable().openapi({ description: "Provider refund id", example: null }),
  payout_id: z.string().nullable().openapi({ description: "Provider payout id", example: null }),
  dispute_id: z.string().nullable().openapi({ description: "Provider dispute id", example: null }),
  postings: z.array(z.object({
    account_id: z.string().openapi({
      description: "Account posted to",
      example: "acc_01jd0000000000000000000000",
    }),
    amount: z.int().openapi({ description: "Debit > 0, credit < 0, minor units", example: 2500 }),
    currency: z.string().openapi({ description: "ISO 4217 currency", example: "USD" }),
  })).openapi({
    description: "Postings; they sum to zero per currency",
    example: [
      { account_id: "acc_01jd0000000000000000000000", amount: 2500, currency: "USD" },
      { account_id: "acc_01jd0000000000000000000001", amount: -2500, currency: "USD" },
    ],
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("LedgerEntry", {
  description: "A journal entry: balanced postings written once, never changed (reversals are new entries)",
});

/** An entry as a write returns it, with the replay marker. */
export const LedgerEntryReply: z.ZodObject<
  {
    id: z.ZodString;
    seq: z.ZodInt;
    idempotency_key: z.ZodString;
    description: z.ZodNullable<z.ZodString>;
    reverses_entry_id: z.ZodNullable<z.ZodString>;
    metadata: z.ZodNullable<z.ZodRecord<z.ZodString, z.ZodUnknown>>;
    payment_intent_id: z.ZodNullable<z.ZodString>;
    refund_id: z.ZodNullable<z.ZodString>;
    payout_id: z.ZodNullable<z.ZodString>;
    dispute_id: z.ZodNullable<z.ZodString>;
    postings: z.ZodArray<
      z.ZodObject<{ account_id: z.ZodString; amount: z.ZodInt; currency: z.ZodString }, z.core.$strip>
    >;
    created_at: z.ZodString;
    replayed: z.ZodBoolean;
  },
  z.core.$strip
> = LedgerEntrySchema.extend({ replayed: Replayed }).openapi("LedgerEntryReply");

/** Body of `POST /v1/ledger/entries/batch`: 1 to {@link MAX_ENTRIES_PER_REQUEST} entries, each as `POST /v1/ledger/entries` takes it. */
export const CreateEntriesBody: z.ZodObject<{ entries: z.ZodArray<typeof CreateEntryBody> }, z.core.$strict> =
  z
    .object({
      entries: z.array(CreateEntryBody).min(1).max(MAX_ENTRIES_PER_REQUEST).openapi({
        description:
          `1 to ${MAX_ENTRIES_PER_REQUEST} entries, each judged on its own (one refusal does not stop ` +
          "the others); an entry is atomic over all of its postings",
        example: [{
          idempotency_key: "order_1042_paid",
          postings: [{ account_id: "cash", amount: 2500, currency: "USD" }, {
            account_id: "revenue",
            amount: -2500,
            currency: "USD",
          }],
        }],
      }),
    }).strict().openapi("CreateLedgerEntries");

/** Why one entry of a batch was refused: the problem it would have had alone. */
export const LedgerEntryRefusal: z.ZodObject<{ code: z.ZodString; message: z.ZodString }, z.core.$strip> = z
  .object({
    code: z.string().openapi({ description: "Problem code of the refusal", example: "insufficient_balance" }),
    message: z.string().openapi({
      description: "Why it was refused",
      example:
        'The entry would break the balance constraint of account "wallet:alice" (acc_01jd0000000000000000000000)',
    }),
  }).openapi("LedgerEntryRefusal");

/** What `POST /v1/ledger/entries/batch` did with one entry, in request order. */
export const LedgerEntryBatchResult: z.ZodObject<
  {
    idempotency_key: z.ZodString;
    outcome: z.ZodEnum<{ posted: "posted"; replayed: "replayed"; rejected: "rejected" }>;
    status: z.ZodInt;
    entry: z.ZodUnion<readonly [typeof LedgerEntryReply, z.ZodNull]>;
    error: z.ZodUnion<readonly [typeof LedgerEntryRefusal, z.ZodNull]>;
  },
  z.core.$strip
> = z.object({
  idempotency_key: z.string().openapi({
    description: "The entry's idempotency_key",
    example: "order_1042_paid",
  }),
  outcome: z.enum(["posted", "replayed", "rejected"]).openapi({
    description:
      "posted: written by this request; replayed: written earlier with the same key and payload; " +
      "rejected: refused, nothing written for it",
    example: "posted",
  }),
  status: z.int().openapi({
    description:
      "HTTP status the entry would have had alone: 201 posted, 200 replayed, the problem's otherwise",
    example: 201,
  }),
  // Unions with null, not `.nullable()`: a nullable reference lost its `null` in the document.
  entry: z.union([LedgerEntryReply, z.null()]).openapi({ description: "The entry (null when rejected)" }),
  error: z.union([LedgerEntryRefusal, z.null()]).openapi({
    description: "The refusal (null unless rejected)",
  }),
}).openapi("LedgerEntryBatchResult");

/** What `POST /v1/ledger/entries/batch` did with each entry, and how many of each outcome. */
export const LedgerEntryBatchReport: z.ZodObject<
  {
    posted: z.ZodInt;
    replayed: z.ZodInt;
    rejected: z.ZodInt;
    results: z.ZodArray<typeof LedgerEntryBatchResult>;
  },
  z.core.$strip
> = z.object({
  posted: z.int().openapi({ description: "Entries written by this request", example: 1 }),
  replayed: z.int().openapi({
    description:
      "Entries whose key was already written with the same payload (retries, or a repeat in this batch)",
    example: 0,
  }),
  rejected: z.int().openapi({ description: "Entries refused, each with its problem in results", example: 0 }),
  results: z.array(LedgerEntryBatchResult).openapi({
    description: "One result per entry, in request order",
    example: [{
      idempotency_key: "order_1042_paid",
      outcome: "rejected",
      status: 404,
      entry: null,
      error: {
        code: "account_not_found",
        message: 'No account named "revenue" in USD; create it with POST /v1/ledger/accounts',
      },
    }],
  }),
}).openapi("LedgerEntryBatchReport");

/** A page of entries (`GET /v1/ledger/entries`). */
export const LedgerEntryList: z.ZodObject<
  { data: z.ZodArray<typeof LedgerEntrySchema>; next_cursor: z.ZodNullable<z.ZodString> },
  z.core.$strip
> = z.object({
  data: z.array(LedgerEntrySchema).openapi({
    description: "A page of entries in journal order",
    example: [],
  }),
  next_cursor: z.string().nullable().openapi({
    description: "Pass as cursor for the next page; null on the last page",
    example: null,
  }),
}).openapi("LedgerEntryList");

/** Query of `GET /v1/ledger/entries`. */
export const ListEntriesQuery: z.ZodObject<
  {
    created_after: z.ZodOptional<z.ZodISODateTime>;
    created_before: z.ZodOptional<z.ZodISODateTime>;
    cursor: z.ZodOptional<z.ZodString>;
    limit: z.ZodOptional<z.ZodCoercedNumber<unknown>>;
    order: z.ZodOptional<z.ZodEnum<{ asc: "asc"; desc: "desc" }>>;
    payment_intent_id: z.ZodOptional<z.ZodString>;
    refund_id: z.ZodOptional<z.ZodString>;
    payout_id: z.ZodOptional<z.ZodString>;
    dispute_id: z.ZodOptional<z.ZodString>;
    account_id: z.ZodOptional<z.ZodString>;
  },
  z.core.$strict
> = z.object({
  account_id: z.string().min(1).max(128).optional().openapi({
    description: "Only entries posting to this account",
    example: "acc_01jd0000000000000000000000",
  }),
  ...ExternalIds,
  created_after: z.iso.datetime({ offset: true }).optional().openapi({
    description: "Inclusive",
    example: "2026-11-01T00:00:00Z",
  }),
  created_before: z.iso.datetime({ offset: true }).optional().openapi({
    description: "Exclusive",
    example: "2026-12-01T00:00:00Z",
  }),
  cursor: z.string().min(1).max(32).optional().openapi({
    description: "next_cursor of the previous page",
    example: "42",
  }),
  limit: z.coerce.number().int().min(1).max(100).optional().openapi({
    description: "Page size, 1–100 (default 50)",
    example: 50,
  }),
  order: z.enum(["asc", "desc"]).optional().openapi({
    description: "Journal order (default asc: oldest first)",
    example: "asc",
  }),
}).strict();

/** Body of `POST /v1/ledger/holds`. */
export const CreateHoldBody: z.ZodObject<
  {
    idempotency_key: z.ZodString;
    account_id: z.ZodString;
    destination_account_id: z.ZodOptional<z.ZodString>;
    amount: z.ZodNumber;
    currency: z.ZodString;
    ttl_seconds: z.ZodInt;
    metadata: z.ZodOptional<z.ZodRecord<z.ZodString, z.ZodUnknown>>;
  },
  z.core.$strict
> = z.object({
  idempotency_key: Key.openapi({
    description: "A retry with the same key returns the same hold",
    example: "order_1042_auth",
  }),
  account_id: z.string().min(1).max(128).openapi({
    description: "Account the money is reserved on: acc_ id or name (resolved with the hold's currency; an " +
      "unknown name is 404 account_not_found)",
    example: "acc_01jd0000000000000000000000",
  }),
  destination_account_id: z.string().min(1).max(128).optional()
    .openapi({
      description:
        "Account the capture moves the money to, acc_ id or name (default: the app's hold_captures " +
        "liability)",
      example: "acc_01jd0000000000000000000001",
    }),
  amount: PositiveAmount.openapi({ description: "Positive integer of minor units", example: 2500 }),
  currency: Currency.openapi({ description: "ISO 4217 currency", example: "USD" }),
  ttl_seconds: Ttl.openapi({ description: "Seconds until the hold expires (1 to 2592000)", example: 900 }),
  metadata: Metadata.optional().openapi({
    example: { "order_id": "ord_1042" },
  }),
}).strict().openapi("CreateLedgerHold");

/** An authorization hold. */
export const LedgerHoldSchema: z.ZodObject<
  {
    id: z.ZodString;
    account_id: z.ZodString;
    destination_account_id: z.ZodString;
    amount: z.ZodInt;
    currency: z.ZodString;
    status: z.ZodEnum<{ pending: "pending"; captured: "captured"; voided: "voided"; expired: "expired" }>;
    captured_amount: z.ZodNullable<z.ZodInt>;
    capture_entry_id: z.ZodNullable<z.ZodString>;
    idempotency_key: z.ZodString;
    metadata: z.ZodNullable<z.ZodRecord<z.ZodString, z.ZodUnknown>>;
    expires_at: z.ZodString;
    created_at: z.ZodString;
    updated_at: z.ZodString;
  },
  z.core.$strip
> = z.object({
  id: z.string().openapi({ description: "TypeID of the hold", example: "hld_01jd0000000000000000000000" }),
  account_id: z.string().openapi({
    description: "Account the money is reserved on",
    example: "acc_01jd0000000000000000000000",
  }),
  destination_account_id: z.string().openapi({
    description: "Account a capture pays into",
    example: "acc_01jd0000000000000000000001",
  }),
  amount: z.int().openapi({ description: "Held minor units", example: 2500 }),
  currency: z.string().openapi({ description: "ISO 4217 currency", example: "USD" }),
  status: z.enum(["pending", "captured", "voided", "expired"]).openapi({
    description: "pending until captured, voided or expired",
    example: "pending",
  }),
  captured_amount: z.int().nullable().openapi({ description: "Minor units captured", example: null }),
  capture_entry_id: z.string().nullable().openapi({ description: "Entry of the capture", example: null }),
  idempotency_key: z.string().openapi({ description: "Key it was created with", example: "order_1042_auth" }),
  metadata: z.record(z.string(), z.unknown()).nullable().openapi({
    description: "Free-form JSON object",
    example: null,
  }),
  expires_at: z.string().openapi({
    description: "When a pending hold expires",
    example: "2026-11-01T00:15:00.000Z",
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
  updated_at: z.string().openapi({
    description: "ISO 8601 UTC instant of the last change",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("LedgerHold", {
  description: "An authorization hold: money reserved on an account until captured, voided or expired",
});

/** A hold as a write returns it, with the replay marker. */
export const LedgerHoldReply: z.ZodObject<
  {
    id: z.ZodString;
    account_id: z.ZodString;
    destination_account_id: z.ZodString;
    amount: z.ZodInt;
    currency: z.ZodString;
    status: z.ZodEnum<{ pending: "pending"; captured: "captured"; voided: "voided"; expired: "expired" }>;
    captured_amount: z.ZodNullable<z.ZodInt>;
    capture_entry_id: z.ZodNullable<z.ZodString>;
    idempotency_key: z.ZodString;
    metadata: z.ZodNullable<z.ZodRecord<z.ZodString, z.ZodUnknown>>;
    expires_at: z.ZodString;
    created_at: z.ZodString;
    updated_at: z.ZodString;
    replayed: z.ZodBoolean;
  },
  z.core.$strip
> = LedgerHoldSchema.extend({ replayed: Replayed }).openapi("LedgerHoldReply");

/** Body of `POST /v1/ledger/holds/{id}/capture` (optional). */
export const CaptureHoldBody: z.ZodObject<
  { amount: z.ZodOptional<z.ZodNumber>; idempotency_key: z.ZodOptional<z.ZodString> },
  z.core.$strict
> = z.object({
  amount: PositiveAmount.optional().openapi({
    description: "At most the held amount; default: all of it. The rest is released",
    example: 2000,
  }),
  idempotency_key: Key.optional().openapi({
    description: "Default: {hold_id}:capture",
    example: "order_1042_capture",
  }),
}).strict().openapi("CaptureLedgerHold");

/** Body of `POST /v1/ledger/holds/{id}/void` (optional). */
export const VoidHoldBody: z.ZodObject<{ idempotency_key: z.ZodOptional<z.ZodString> }, z.core.$strict> = z
  .object({
    idempotency_key: Key.optional().openapi({
      description: "Default: {hold_id}:void",
      example: "order_1042_void",
    }),
  }).strict().openapi("VoidLedgerHold");

/** Reply of a capture: the hold, the capture entry, the replay marker. */
export const CaptureReply: z.ZodObject<
  { hold: typeof LedgerHoldSchema; entry: typeof LedgerEntrySchema; replayed: z.ZodBoolean },
  z.core.$strip
> = z.object({ hold: LedgerHoldSchema, entry: LedgerEntrySchema, replayed: Replayed })
  .openapi("LedgerCaptureReply", {
    description: "The captured hold and the entry that moved the money",
  });

/** Body of `POST /v1/ledger/payments`. */
export const PaymentBody: z.ZodObject<
  {
    payment_intent_id: z.ZodString;
    amount: z.ZodNumber;
    currency: z.ZodString;
    customer_id: z.ZodString;
    fees: z.ZodOptional<z.ZodNumber>;
  },
  z.core.$strict
> = z.object({
  payment_intent_id: ExternalId.openapi({
    description: "Provider payment id (idempotency key of the recording)",
    example: "pi_3Q2w3e4r5t6y7u8i",
  }),
  amount: PositiveAmount.openapi({ description: "Positive integer of minor units", example: 2500 }),
  currency: Currency.openapi({ description: "ISO 4217 currency", example: "USD" }),
  customer_id: ExternalId.openapi({ description: "Who paid", example: "cus_01jd0000000000000000000000" }),
  fees: z.number().optional().openapi({
    description: "Platform fee kept from the payment, 0…amount (default 0)",
    example: 100,
  }),
}).strict().openapi("RecordPayment");

/** Body of `POST /v1/ledger/refunds`. */
export const RefundBody: z.ZodObject<
  {
    refund_id: z.ZodString;
    amount: z.ZodNumber;
    currency: z.ZodString;
    customer_id: z.ZodString;
    payment_intent_id: z.ZodOptional<z.ZodString>;
  },
  z.core.$strict
> = z.object({
  refund_id: ExternalId.openapi({
    description: "Provider refund id (idempotency key)",
    example: "re_3Q2w3e4r5t6y7u8i",
  }),
  amount: PositiveAmount.openapi({ description: "Positive integer of minor units", example: 1000 }),
  currency: Currency.openapi({ description: "ISO 4217 currency", example: "USD" }),
  customer_id: ExternalId.openapi({
    description: "Who is refunded",
    example: "cus_01jd0000000000000000000000",
  }),
  payment_intent_id: ExternalId.optional().openapi({
    description: "Payment refunded",
    example: "pi_3Q2w3e4r5t6y7u8i",
  }),
}).strict().openapi("RecordRefund");

/** Body of `POST /v1/ledger/payouts`. */
export const PayoutBody: z.ZodObject<
  { payout_id: z.ZodString; amount: z.ZodNumber; currency: z.ZodString; merchant_id: z.ZodString },
  z.core.$strict
> = z.object({
  payout_id: ExternalId.openapi({
    description: "Provider payout id (idempotency key)",
    example: "po_1Q2w3e4r5t6y7u8i",
  }),
  amount: PositiveAmount.openapi({ description: "Positive integer of minor units", example: 50000 }),
  currency: Currency.openapi({ description: "ISO 4217 currency", example: "USD" }),
  merchant_id: ExternalId.openapi({ description: "Who is paid out", example: "merchant_7" }),
}).strict().openapi("RecordPayout");

/** Body of `POST /v1/ledger/disputes`. */
export const DisputeBody: z.ZodObject<
  {
    dispute_id: z.ZodString;
    amount: z.ZodNumber;
    currency: z.ZodString;
    customer_id: z.ZodString;
    payment_intent_id: z.ZodOptional<z.ZodString>;
  },
  z.core.$strict
> = z.object({
  dispute_id: ExternalId.openapi({
    description: "Provider dispute id (idempotency key)",
    example: "dp_1Q2w3e4r5t6y7u8i",
  }),
  amount: PositiveAmount.openapi({ description: "Positive integer of minor units", example: 2500 }),
  currency: Currency.openapi({ description: "ISO 4217 currency", example: "USD" }),
  customer_id: ExternalId.openapi({ description: "Who disputed", example: "cus_01jd0000000000000000000000" }),
  payment_intent_id: ExternalId.optional().openapi({
    description: "Payment disputed",
    example: "pi_3Q2w3e4r5t6y7u8i",
  }),
}).strict().openapi("RecordDispute");

/** One ledger account with its posted balance (`GET /v1/ledger/balances`). */
export const AccountBalanceSchema: z.ZodObject<
  {
    id: z.ZodString;
    name: z.ZodString;
    type: typeof AccountTypeSchema;
    currency: z.ZodString;
    normal_balance: z.ZodEnum<{ debit: "debit"; credit: "credit" }>;
    metadata: z.ZodNullable<z.ZodRecord<z.ZodString, z.ZodUnknown>>;
    created_at: z.ZodString;
    debits_minus_credits: z.ZodInt;
    balance: z.ZodInt;
  },
  z.core.$strip
> = z.object({
  id: z.string().openapi({ description: "Ledger account id", example: "acc_01jd0000000000000000000000" }),
  name: z.string().openapi({
    description: "Account name (`kind:customer` or `kind`)",
    example: "accounts_receivable:cus_01jd0000000000000000000000",
  }),
  type: z.enum(["asset", "liability", "equity", "revenue", "expense"]).openapi({
    description: "Account type",
    example: "asset",
  }),
  currency: z.string().openapi({ description: "ISO 4217 currency", example: "USD" }),
  normal_balance: z.enum(["debit", "credit"]).openapi({
    description: "Side that increases the account",
    example: "debit",
  }),
  metadata: z.record(z.string(), z.unknown()).nullable().openapi({
    description: "Free-form metadata",
    example: null,
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
  debits_minus_credits: z.int().openapi({
    description: "Sum of debits minus sum of credits, minor units",
    example: 7400,
  }),
  balance: z.int().openapi({ description: "Balance on the account's normal side", example: 7400 }),
}).openapi("AccountBalance");
/** Every ledger account of the app with its balance (`GET /v1/ledger/balances`). */
export const AccountBalanceList: z.ZodObject<
  { data: z.ZodArray<typeof AccountBalanceSchema> },
  z.core.$strip
> = z.object({
  data: z.array(AccountBalanceSchema).openapi({
    description: "A page of the app's accounts with their balances, by name and currency",
    example: [],
  }),
  next_cursor: z.string().nullable().openapi({
    description: "Pass as cursor for the next page; null on the last page",
    example: null,
  }),
}).openapi("AccountBalanceList");

/** Query of `GET /v1/ledger/balances`. */
export const BalancesQuery: z.ZodObject<
  { cursor: z.ZodOptional<z.ZodString>; limit: z.ZodOptional<z.ZodCoercedNumber<unknown>> },
  z.core.$strict
> = z.object({
  cursor: z.string().min(1).max(1024).optional().openapi({
    description: "next_cursor of the previous page",
    example: "WyJjYXNoIiwiVVNEIl0",
  }),
  limit: z.coerce.number().int().min(1).max(500).optional().openapi({
    description: "Page size, 1–500 (default 100)",
    example: 100,
  }),
}).strict();
