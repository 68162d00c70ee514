/**
 * `/v1/ledger/*` routes: every account's balance, accounts, entries, holds and the high-level operations.
 * Every write is idempotent: a new result answers 201, a replay of the same key and payload
 * answers 200 with `replayed: true` and the header `Idempotent-Replayed: true`.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  captureHold,
  createAccount,
  createEntries,
  createEntry,
  createHold,
  type EntryInput,
  type EntryView,
  getAccount,
  getBalance,
  getEntry,
  getHold,
  listAccountBalances,
  listEntries,
  type OperationCommand,
  recordOperation,
  reverseEntry,
  voidHold,
} from "./service.ts";
import { type AppEnv, body, errors, json, router, secured } from "../http/env.ts";
import {
  AccountBalanceList,
  BalancesQuery,
  CaptureHoldBody,
  CaptureReply,
  CreateAccountBody,
  CreateEntriesBody,
  CreateEntryBody,
  CreateHoldBody,
  DisputeBody,
  LedgerAccountSchema,
  LedgerBalanceSchema,
  LedgerEntryBatchReport,
  LedgerEntryList,
  LedgerEntryReply,
  LedgerEntrySchema,
  LedgerHoldReply,
  LedgerHoldSchema,
  ListEntriesQuery,
  PaymentBody,
  PayoutBody,
  RefundBody,
  ReverseEntryBody,
  VoidHoldBody,
} from "./schemas.ts";
import { Currency, idParam } from "../http/schemas.ts";
import type { Ctx } from "../context.ts";
import type { Outcome } from "../domain/idempotency.ts";
import type { ExternalIds } from "../domain/ledger_book.ts";
import { statusOf } from "../http/problem.ts";

const IdParam = idParam(
  "Id of the account (acc_ or its name), entry (ent_) or hold (hld_)",
  "acc_01jd0000000000000000000000",
);

/**
 * The {@link EntryInput} a validated `POST /v1/ledger/entries` body describes: the external ids
 * present (`payment_intent_id`, `refund_id`, `payout_id`, `dispute_id`) are grouped under
 * `external`. The single route, the batch route and the fast lane (`http/lane_routes.ts`) all
 * build their commands with it, so one entry sent either way is the same entry (same payload hash).
 */
export function entryInputOf(body: z.infer<typeof CreateEntryBody>): EntryInput {
  const {
    idempotency_key,
    description,
    postings,
    metadata,
    payment_intent_id,
    refund_id,
    payout_id,
    dispute_id,
  } = body;
  // The ids present, in this order (a batch builds a thousand of these: no entry arrays).
  let external: ExternalIds | undefined;
  if (payment_intent_id !== undefined) (external ??= {}).payment_intent_id = payment_intent_id;
  if (refund_id !== undefined) (external ??= {}).refund_id = refund_id;
  if (payout_id !== undefined) (external ??= {}).payout_id = payout_id;
  if (dispute_id !== undefined) (external ??= {}).dispute_id = dispute_id;
  const input: EntryInput = { idempotency_key, description, postings, metadata };
  if (external !== undefined) input.external = external;
  return input;
}

/**
 * Posts the entry a validated `POST /v1/ledger/entries` body describes ({@link entryInputOf}).
 * The chain's route and the fast lane (`http/lane_routes.ts`) both call it, so they build the same
 * command.
 *
 * @throws what {@link createEntry} throws
 */
export function postEntryBody(
  ctx: Ctx,
  body: z.infer<typeof CreateEntryBody>,
): ReturnType<typeof createEntry> {
  return createEntry(ctx, entryInputOf(body));
}

/**
 * Posts the entries a validated `POST /v1/ledger/entries/batch` body describes (each as
 * {@link entryInputOf} builds it) and answers the batch's report ({@link batchReport}). The
 * chain's route and the fast lane (`http/lane_routes.ts`) both call it, so they answer alike.
 *
 * @throws what {@link createEntries} throws (a store failure: the whole request fails)
 */
export async function postEntriesBody(
  ctx: Ctx,
  body: z.infer<typeof CreateEntriesBody>,
): Promise<z.infer<typeof LedgerEntryBatchReport>> {
  const { entries } = body;
  const inputs = new Array<EntryInput>(entries.length);
  for (let i = 0; i < entries.length; i++) inputs[i] = entryInputOf(entries[i]);
  return batchReport(entries, await createEntries(ctx, inputs));
}

/**
 * The answer of `POST /v1/ledger/entries/batch`: one result per entry in request order (the entry
 * as the single route answers it, or the problem it would have had alone) and the counts.
 */
export function batchReport(
  entries: readonly { idempotency_key: string }[],
  outcomes: readonly Outcome<EntryView>[],
): z.infer<typeof LedgerEntryBatchReport> {
  const report: z.infer<typeof LedgerEntryBatchReport> = { posted: 0, replayed: 0, rejected: 0, results: [] };
  outcomes.forEach((outcome, i) => {
    const idempotency_key = entries[i].idempotency_key;
    if (outcome.ok) {
      const replayed = outcome.replayed;
      if (replayed) report.replayed++;
      else report.posted++;
      report.results.push({
        idempotency_key,
        outcome: replayed ? "replayed" : "posted",
        status: replayed ? 200 : 201,
        entry: { ...outcome.value, replayed },
        error: null,
      });
    } else {
      report.rejected++;
      report.results.push({
        idempotency_key,
        outcome: "rejected",
        status: statusOf(outcome.error),
        entry: null,
        error: { code: outcome.error.code, message: outcome.error.message },
      });
    }
  });
  return report;
}

/** Marks an idempotent replay on the response. */
export function markReplay(c: Context, replayed: boolean): void {
  if (replayed) c.header("Idempotent-Replayed", "true");
}

const optionalBody = <T extends z.ZodType>(schema: T) => ({
  required: false,
  content: { "application/json": { schema } },
});

/** The ledger routes. */
export function ledgerRoutes(): OpenAPIHono<AppEnv> {
  const app = router();

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/ledger/balances",
      tags: ["ledger"],
      summary: "Posted balances of the app's ledger accounts, by name and currency; cursor pagination",
      security: secured,
      request: { query: BalancesQuery },
      responses: { 200: json(AccountBalanceList), ...errors },
    }),
    async (c) => c.json(await listAccountBalances(c.var.ctx, c.req.valid("query")), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/ledger/accounts",
      tags: ["ledger"],
      summary: "Find or create an account by name and currency (EnsureAccount)",
      security: secured,
      request: { body: body(CreateAccountBody) },
      responses: {
        201: json(LedgerAccountSchema, "Created"),
        200: json(LedgerAccountSchema, "Already existed with this type and constraints"),
        ...errors,
      },
    }),
    async (c) => {
      const { account, created } = await createAccount(c.var.ctx, c.req.valid("json"));
      return created ? c.json(account, 201) : c.json(account, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/ledger/accounts/{id}",
      tags: ["ledger"],
      summary: "Get an account",
      security: secured,
      request: { params: IdParam },
      responses: { 200: json(LedgerAccountSchema), ...errors },
    }),
    async (c) => c.json(await getAccount(c.var.ctx, c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/ledger/accounts/{id}/balance",
      tags: ["ledger"],
      summary:
        "Posted, pending, held and available balance of an account (available = posted − held on the normal side)",
      security: secured,
      request: {
        params: IdParam,
        query: z.object({
          currency: Currency.optional().openapi({
            description: "Currency of the balance (default: the account's)",
            example: "USD",
          }),
        }),
      },
      responses: { 200: json(LedgerBalanceSchema), ...errors },
    }),
    async (c) =>
      c.json(await getBalance(c.var.ctx, c.req.valid("param").id, c.req.valid("query").currency), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/ledger/entries",
      tags: ["ledger"],
      summary: "Post a balanced entry (postings sum to zero per currency; idempotent on idempotency_key)",
      security: secured,
      request: { body: body(CreateEntryBody) },
      responses: {
        201: json(LedgerEntryReply, "Posted"),
        200: json(LedgerEntryReply, "Idempotent replay"),
        ...errors,
      },
    }),
    async (c) => {
      const { entry, replayed } = await postEntryBody(c.var.ctx, c.req.valid("json"));
      markReplay(c, replayed);
      return replayed ? c.json({ ...entry, replayed }, 200) : c.json({ ...entry, replayed }, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/ledger/entries/batch",
      tags: ["ledger"],
      summary: "Post up to 1000 entries in one request, each judged on its own (as POST /v1/ledger/entries)",
      description:
        "Every entry is posted, replayed or refused on its own, exactly as `POST /v1/ledger/entries` " +
        "would answer it alone; one refusal (`insufficient_balance`, `account_not_found`, " +
        "`idempotency_key_reused`, …) does not stop the others. The answer is 200 with one result per entry " +
        "in request order and the counts. An entry is atomic over all of its postings: legs that must " +
        "succeed or fail together belong in one entry, not in several entries of a batch. A key repeated in " +
        "the batch is decided in order: same payload replays the first, another payload is refused " +
        "`idempotency_key_reused`. A retry of the whole batch answers every posted entry as replayed with " +
        "the same ids. A malformed body (any entry, an empty list, more than 1000 entries) is 400 " +
        "`validation_failed` and nothing is written; a store failure is 503 and the batch may be retried " +
        "as it is. Requires a secret key (`full` or `ledger_only` scope).",
      security: secured,
      request: { body: body(CreateEntriesBody) },
      responses: {
        200: json(LedgerEntryBatchReport, "One result per entry, in request order"),
        ...errors,
      },
    }),
    async (c) => c.json(await postEntriesBody(c.var.ctx, c.req.valid("json")), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/ledger/entries",
      tags: ["ledger"],
      summary: "List entries in journal order, filtered by account, external ids and time; cursor pagination",
      security: secured,
      request: { query: ListEntriesQuery },
      responses: { 200: json(LedgerEntryList), ...errors },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(
        await listEntries(c.var.ctx, {
          ...q,
          created_after: q.created_after ? new Date(q.created_after) : undefined,
          created_before: q.created_before ? new Date(q.created_before) : undefined,
        }),
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/ledger/entries/{id}",
      tags: ["ledger"],
      summary: "Get an entry with its postings",
      security: secured,
      request: { params: IdParam },
      responses: { 200: json(LedgerEntrySchema), ...errors },
    }),
    async (c) => c.json(await getEntry(c.var.ctx, c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/ledger/entries/{id}/reverse",
      tags: ["ledger"],
      summary: "Post the reversal of an entry (its postings negated, referencing it); at most once",
      security: secured,
      request: { params: IdParam, body: body(ReverseEntryBody) },
      responses: {
        201: json(LedgerEntryReply, "Posted"),
        200: json(LedgerEntryReply, "Idempotent replay"),
        ...errors,
      },
    }),
    async (c) => {
      const { entry, replayed } = await reverseEntry(c.var.ctx, c.req.valid("param").id, c.req.valid("json"));
      markReplay(c, replayed);
      return replayed ? c.json({ ...entry, replayed }, 200) : c.json({ ...entry, replayed }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/ledger/holds",
      tags: ["ledger"],
      summary: "Authorize a hold against the account's available balance for ttl_seconds",
      security: secured,
      request: { body: body(CreateHoldBody) },
      responses: {
        201: json(LedgerHoldReply, "Authorized"),
        200: json(LedgerHoldReply, "Idempotent replay (current state)"),
        ...errors,
      },
    }),
    async (c) => {
      const { hold, replayed } = await createHold(c.var.ctx, c.req.valid("json"));
      markReplay(c, replayed);
      return replayed ? c.json({ ...hold, replayed }, 200) : c.json({ ...hold, replayed }, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/ledger/holds/{id}",
      tags: ["ledger"],
      summary: "Get a hold (a hold past its expiry is expired and released first)",
      security: secured,
      request: { params: IdParam },
      responses: { 200: json(LedgerHoldSchema), ...errors },
    }),
    async (c) => c.json(await getHold(c.var.ctx, c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/ledger/holds/{id}/capture",
      tags: ["ledger"],
      summary:
        "Capture a pending hold (all, or amount ≤ held; the rest is released) and post the capture entry",
      security: secured,
      request: { params: IdParam, body: optionalBody(CaptureHoldBody) },
      responses: { 200: json(CaptureReply, "Captured (or idempotent replay)"), ...errors },
    }),
    async (c) => {
      const result = await captureHold(c.var.ctx, c.req.valid("param").id, c.req.valid("json") ?? {});
      markReplay(c, result.replayed);
      return c.json(result, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/ledger/holds/{id}/void",
      tags: ["ledger"],
      summary: "Void a pending hold (release all of it)",
      security: secured,
      request: { params: IdParam, body: optionalBody(VoidHoldBody) },
      responses: { 200: json(LedgerHoldReply, "Voided (or idempotent replay)"), ...errors },
    }),
    async (c) => {
      const { hold, replayed } = await voidHold(
        c.var.ctx,
        c.req.valid("param").id,
        c.req.valid("json") ?? {},
      );
      markReplay(c, replayed);
      return c.json({ ...hold, replayed }, 200);
    },
  );

  const operations = [
    [
      "payments",
      "record_payment",
      PaymentBody,
      "Record a payment: debit cash, credit the customer's balance (amount − fees) and platform_fees (fees); idempotent on payment_intent_id",
    ],
    [
      "refunds",
      "record_refund",
      RefundBody,
      "Record a refund: debit the customer's balance (never below zero), credit cash; idempotent on refund_id",
    ],
    [
      "payouts",
      "record_payout",
      PayoutBody,
      "Record a payout: debit merchant_settlement:{merchant_id}, credit cash; idempotent on payout_id",
    ],
    [
      "disputes",
      "record_dispute",
      DisputeBody,
      "Record a dispute: debit disputes_held, credit cash; idempotent on dispute_id",
    ],
  ] as const;
  for (const [path, kind, schema, summary] of operations) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/v1/ledger/${path}`,
        tags: ["ledger"],
        summary,
        security: secured,
        request: { body: body(schema) },
        responses: {
          201: json(LedgerEntryReply, "Posted"),
          200: json(LedgerEntryReply, "Idempotent replay"),
          ...errors,
        },
      }),
      async (c) => {
        const input = c.req.valid("json") as Record<string, unknown>;
        const { entry, replayed } = await recordOperation(c.var.ctx, { kind, ...input } as OperationCommand);
        markReplay(c, replayed);
        return replayed ? c.json({ ...entry, replayed }, 200) : c.json({ ...entry, replayed }, 201);
      },
    );
  }
  return app;
}
