/** Invoice routes (`/v1/invoices`): generate, list, get, finalize, void, pay, write off, credit notes. @module */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { createCreditNote, listCreditNotes } from "./credit_notes.ts";
import {
  finalizeInvoice,
  generateInvoice,
  markUncollectible,
  payInvoice,
  upcomingInvoice,
  voidInvoice,
} from "./service.ts";
import { getInvoice, listInvoices } from "./view.ts";
import { type AppEnv, body, errors, json, router, secured } from "../http/env.ts";
import { idParam, listQuery, ResourceIdParam } from "../http/schemas.ts";
import {
  CreateCreditNoteBody,
  CreditNoteIssued,
  CreditNoteList,
  CreditNoteSchema,
  GenerateInvoiceBody,
  InvoiceList,
  InvoiceSchema,
  PayInvoiceBody,
  UpcomingInvoiceQuery,
  UpcomingInvoiceSchema,
} from "./schemas.ts";

const IdParam = idParam("inv_ id", "inv_01jd0000000000000000000000");

/** `/v1/invoices` routes. */
export function invoiceRoutes(): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/invoices",
      tags: ["invoices"],
      summary: "Generate the invoice of a subscription period (idempotent per subscription and period)",
      security: secured,
      request: { body: body(GenerateInvoiceBody) },
      responses: {
        201: json(InvoiceSchema, "Created"),
        200: json(InvoiceSchema, "Existing invoice (a draft is refreshed)"),
        ...errors,
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { invoice, created } = await generateInvoice(c.var.ctx, {
        subscription_id: input.subscription_id,
        period_start: input.period_start ? new Date(input.period_start) : undefined,
        period_end: input.period_end ? new Date(input.period_end) : undefined,
      });
      return created ? c.json(invoice, 201) : c.json(invoice, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/invoices",
      tags: ["invoices"],
      summary: "List invoices, newest first, one page at a time",
      security: secured,
      request: {
        query: listQuery("inv", {
          customer_id: z.string().min(1).max(128).optional().openapi({
            description: "Only this customer's invoices (cus_ or external id)",
            example: "user_42",
          }),
          subscription_id: z.string().min(1).max(128).optional().openapi({
            description: "Only this subscription's invoices (sub_ id)",
            example: "sub_01jd0000000000000000000000",
          }),
          status: z.enum(["draft", "open", "paid", "void", "uncollectible"]).optional().openapi({
            description: "Only invoices in this status",
            example: "open",
          }),
        }),
      },
      responses: { 200: json(InvoiceList), ...errors },
    }),
    async (c) => c.json(await listInvoices(c.var.ctx, c.req.valid("query")), 200),
  );
  // Registered before /v1/invoices/{id}, which would otherwise take "upcoming" for an id.
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/invoices/upcoming",
      tags: ["invoices"],
      summary: "Preview the invoice the subscription's current period would produce now (nothing is stored)",
      security: secured,
      request: { query: UpcomingInvoiceQuery },
      responses: { 200: json(UpcomingInvoiceSchema), ...errors },
    }),
    async (c) => c.json(await upcomingInvoice(c.var.ctx, c.req.valid("query").subscription_id), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/invoices/{id}",
      tags: ["invoices"],
      summary: "Get an invoice",
      security: secured,
      request: { params: IdParam },
      responses: { 200: json(InvoiceSchema), ...errors },
    }),
    async (c) => c.json(await getInvoice(c.var.ctx, c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/invoices/{id}/finalize",
      tags: ["invoices"],
      summary:
        "Finalize a draft: number it, post it to the ledger, open it (due in days_until_due, default 30)",
      security: secured,
      request: {
        params: IdParam,
        body: {
          required: false,
          content: {
            "application/json": {
              schema: z.object({
                days_until_due: z.int().min(0).max(365).optional()
                  .openapi({
                    description: "Days from finalization to the due date (default 30)",
                    example: 14,
                  }),
              }).strict().openapi("FinalizeInvoice"),
            },
          },
        },
      },
      responses: { 200: json(InvoiceSchema), ...errors },
    }),
    async (c) =>
      c.json(await finalizeInvoice(c.var.ctx, c.req.valid("param").id, c.req.valid("json") ?? {}), 200),
  );
  for (
    const [verb, summary, run] of [
      ["void", "Void a draft or an unpaid open invoice", voidInvoice],
    ] as const
  ) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/v1/invoices/{id}/${verb}`,
        tags: ["invoices"],
        summary,
        security: secured,
        request: { params: IdParam },
        responses: { 200: json(InvoiceSchema), ...errors },
      }),
      async (c) => c.json(await run(c.var.ctx, c.req.valid("param").id), 200),
    );
  }
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/invoices/{id}/pay",
      tags: ["invoices"],
      summary: "Record a (partial) payment on an open invoice",
      security: secured,
      request: {
        params: IdParam,
        body: { required: false, content: { "application/json": { schema: PayInvoiceBody } } },
      },
      responses: { 200: json(InvoiceSchema), ...errors },
    }),
    async (c) => c.json(await payInvoice(c.var.ctx, c.req.valid("param").id, c.req.valid("json") ?? {}), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/invoices/{id}/mark_uncollectible",
      tags: ["invoices"],
      summary: "Write an open invoice off as uncollectible",
      security: secured,
      request: { params: ResourceIdParam },
      responses: { 200: json(InvoiceSchema), ...errors },
    }),
    async (c) => c.json(await markUncollectible(c.var.ctx, c.req.valid("param").id), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/invoices/{id}/credit_notes",
      tags: ["invoices"],
      summary: "Issue a credit note against an open or paid invoice",
      security: secured,
      request: { params: ResourceIdParam, body: body(CreateCreditNoteBody) },
      responses: {
        201: json(CreditNoteIssued, "Issued"),
        200: json(z.object({ credit_note: CreditNoteSchema, invoice: InvoiceSchema }), "Already issued"),
        ...errors,
      },
    }),
    async (c) => {
      const { credit_note, invoice, replayed } = await createCreditNote(
        c.var.ctx,
        c.req.valid("param").id,
        c.req.valid("json"),
      );
      return replayed ? c.json({ credit_note, invoice }, 200) : c.json({ credit_note, invoice }, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/invoices/{id}/credit_notes",
      tags: ["invoices"],
      summary: "Credit notes of an invoice, newest first, one page at a time",
      security: secured,
      request: { params: ResourceIdParam, query: listQuery("cn", {}) },
      responses: { 200: json(CreditNoteList), ...errors },
    }),
    async (c) => c.json(await listCreditNotes(c.var.ctx, c.req.valid("param").id, c.req.valid("query")), 200),
  );
  return app;
}
