/**
 * A local stand-in for Stripe's API, used because Stripe cannot be reached from here. It is
 * strict rather than permissive: every request must carry a secret key, `Stripe-Version`, and
 * (for POSTs) an `Idempotency-Key` and a form-encoded body; each body is checked against the
 * parameters Stripe documents for that endpoint (the API reference, mirrored in the `stripe`
 * package's `*CreateParams` types) — an unknown parameter, a missing required one or a badly
 * typed value is answered the way Stripe answers it (400 `invalid_request_error` with
 * `parameter_unknown` / `parameter_missing` / `parameter_invalid_integer` …). Idempotency keys
 * replay the first response and reject reuse with other parameters, as Stripe does.
 *
 * Not a test file (no `_test` suffix): imported by `tests/stripe_test.ts`.
 *
 * @module
 */

/** Top-level parameters Stripe documents for each create endpoint (API version of `stripe@23`). */
export const DOCUMENTED_PARAMS: Record<string, { allowed: string[]; required: string[] }> = {
  "POST /v1/customers": {
    allowed: [
      "address",
      "balance",
      "business_name",
      "cash_balance",
      "description",
      "email",
      "expand",
      "individual_name",
      "invoice_prefix",
      "invoice_settings",
      "metadata",
      "name",
      "next_invoice_sequence",
      "payment_method",
      "phone",
      "preferred_locales",
      "shipping",
      "source",
      "tax",
      "tax_exempt",
      "tax_id_data",
      "test_clock",
      "validate",
    ],
    required: [],
  },
  "POST /v1/invoices": {
    allowed: [
      "account_tax_ids",
      "application_fee_amount",
      "auto_advance",
      "automatic_tax",
      "automatically_finalizes_at",
      "collection_method",
      "currency",
      "custom_fields",
      "customer",
      "customer_account",
      "days_until_due",
      "default_payment_method",
      "default_source",
      "default_tax_rates",
      "description",
      "discounts",
      "due_date",
      "effective_at",
      "expand",
      "footer",
      "from_invoice",
      "issuer",
      "metadata",
      "number",
      "on_behalf_of",
      "payment_settings",
      "pending_invoice_items_behavior",
      "rendering",
      "shipping_cost",
      "shipping_details",
      "statement_descriptor",
      "subscription",
      "transfer_data",
    ],
    required: ["customer"],
  },
  "POST /v1/invoiceitems": {
    allowed: [
      "amount",
      "currency",
      "customer",
      "customer_account",
      "description",
      "discountable",
      "discounts",
      "expand",
      "invoice",
      "metadata",
      "period",
      "price_data",
      "pricing",
      "quantity",
      "quantity_decimal",
      "subscription",
      "tax_behavior",
      "tax_code",
      "tax_rates",
      "unit_amount_decimal",
    ],
    required: ["customer"],
  },
  "POST /v1/payment_intents": {
    allowed: [
      "amount",
      "currency",
      "allowed_payment_method_types",
      "amount_details",
      "application_fee_amount",
      "automatic_payment_methods",
      "capture_method",
      "confirm",
      "confirmation_method",
      "confirmation_token",
      "customer",
      "customer_account",
      "description",
      "error_on_requires_action",
      "excluded_payment_method_types",
      "expand",
      "hooks",
      "mandate",
      "mandate_data",
      "metadata",
      "off_session",
      "on_behalf_of",
      "payment_details",
      "payment_method",
      "payment_method_configuration",
      "payment_method_data",
      "payment_method_options",
      "radar_options",
      "receipt_email",
      "return_url",
      "setup_future_usage",
      "shipping",
      "statement_descriptor",
      "statement_descriptor_suffix",
      "transfer_data",
      "transfer_group",
      "use_stripe_sdk",
    ],
    required: ["amount", "currency"],
  },
};

/** One request the server accepted or refused. */
export interface RecordedRequest {
  method: string;
  path: string;
  params: Record<string, unknown>;
  idempotencyKey: string | null;
  status: number;
}

class StripeApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly param?: string) {
    super(message);
  }
}

/** Parses `a[b][c]=v` form keys into nested objects (`a[0]` → arrays). */
export function parseForm(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const parts = key.replace(/\]/g, "").split("[");
    let node = out as Record<string, unknown>;
    for (let i = 0; i < parts.length - 1; i++) {
      node[parts[i]] ??= {};
      node = node[parts[i]] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

function integer(
  params: Record<string, unknown>,
  name: string,
  options: { min?: number } = {},
): number | undefined {
  const raw = params[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !/^-?\d+$/.test(raw)) {
    throw new StripeApiError(400, "parameter_invalid_integer", `Invalid integer: ${String(raw)}`, name);
  }
  const value = Number(raw);
  if (options.min !== undefined && value < options.min) {
    throw new StripeApiError(
      400,
      "parameter_invalid_integer",
      `This value must be greater than or equal to ${options.min}.`,
      name,
    );
  }
  return value;
}

function boolean(params: Record<string, unknown>, name: string): boolean | undefined {
  const raw = params[name];
  if (raw === undefined) return undefined;
  if (raw !== "true" && raw !== "false") {
    throw new StripeApiError(400, "parameter_invalid_boolean", `Invalid boolean: ${String(raw)}`, name);
  }
  return raw === "true";
}

function currency(params: Record<string, unknown>): string | undefined {
  const raw = params.currency;
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !/^[a-z]{3}$/.test(raw)) {
    throw new StripeApiError(
      400,
      "parameter_invalid_string",
      `Invalid currency: ${String(raw)}. Stripe currently supports these currencies: usd, eur, …`,
      "currency",
    );
  }
  return raw;
}

function oneOf(params: Record<string, unknown>, name: string, values: string[]): void {
  const raw = params[name];
  if (raw !== undefined && !values.includes(String(raw))) {
    throw new StripeApiError(
      400,
      "parameter_invalid_string",
      `Invalid ${name}: must be one of ${values.join(", ")}`,
      name,
    );
  }
}

/** Metadata rules from Stripe's docs: ≤ 50 keys, key ≤ 40 characters, value ≤ 500 characters, strings. */
function metadata(params: Record<string, unknown>): void {
  const m = params.metadata;
  if (m === undefined) return;
  if (typeof m !== "object" || m === null) {
    throw new StripeApiError(400, "parameter_invalid_string", "Invalid metadata", "metadata");
  }
  const entries = Object.entries(m);
  if (entries.length > 50) {
    throw new StripeApiError(
      400,
      "parameter_invalid_string",
      "Metadata can have at most 50 keys",
      "metadata",
    );
  }
  for (const [k, v] of entries) {
    if (k.length > 40) {
      throw new StripeApiError(
        400,
        "parameter_invalid_string",
        `Metadata key ${k} is longer than 40 characters`,
        `metadata[${k}]`,
      );
    }
    if (typeof v !== "string" || v.length > 500) {
      throw new StripeApiError(
        400,
        "parameter_invalid_string",
        `Metadata value for ${k} must be a string of at most 500 characters`,
        `metadata[${k}]`,
      );
    }
  }
}

/** The server, its state and its request log. */
export interface StripeApiServer {
  url: string;
  requests: RecordedRequest[];
  /** Charges `GET /v1/charges/{id}` can return, with their balance transaction's fee. */
  charges: Map<string, { amount: number; currency: string; fee: number; payment_intent: string }>;
  /** When set, every POST answers with this Stripe error (to test failure handling). */
  failWith: { status: number; type: string; message: string } | null;
  close(): Promise<void>;
}

/** Starts the server on a free loopback port. */
export function startStripeApiServer(): StripeApiServer {
  const requests: RecordedRequest[] = [];
  const idempotent = new Map<string, { fingerprint: string; status: number; body: unknown }>();
  const customers = new Map<string, Record<string, unknown>>();
  const invoices = new Map<string, Record<string, unknown>>();
  const charges = new Map<
    string,
    { amount: number; currency: string; fee: number; payment_intent: string }
  >();
  let counter = 0;
  const nextId = (prefix: string) => `${prefix}_test${String(++counter).padStart(6, "0")}`;
  const created = () => Math.floor(Date.now() / 1000);

  function handle(method: string, path: string, params: Record<string, unknown>): unknown {
    const route = `${method} ${path.replace(/\/(cus|in|ii|pi|ch)_[A-Za-z0-9]+$/, "/{id}")}`;
    const documented = DOCUMENTED_PARAMS[route];
    if (documented) {
      for (const name of Object.keys(params)) {
        if (!documented.allowed.includes(name)) {
          throw new StripeApiError(400, "parameter_unknown", `Received unknown parameter: ${name}`, name);
        }
      }
      for (const name of documented.required) {
        if (params[name] === undefined) {
          throw new StripeApiError(400, "parameter_missing", `Missing required param: ${name}.`, name);
        }
      }
      metadata(params);
    }
    switch (route) {
      case "POST /v1/customers": {
        for (const name of ["name", "email", "description"]) {
          if (params[name] !== undefined && typeof params[name] !== "string") {
            throw new StripeApiError(400, "parameter_invalid_string", `Invalid ${name}`, name);
          }
        }
        const customer = {
          id: nextId("cus"),
          object: "customer",
          created: created(),
          livemode: false,
          name: params.name ?? null,
          email: params.email ?? null,
          metadata: params.metadata ?? {},
        };
        customers.set(customer.id, customer);
        return customer;
      }
      case "POST /v1/invoices": {
        if (!customers.has(String(params.customer))) {
          throw new StripeApiError(
            400,
            "resource_missing",
            `No such customer: '${params.customer}'`,
            "customer",
          );
        }
        boolean(params, "auto_advance");
        oneOf(params, "collection_method", ["charge_automatically", "send_invoice"]);
        oneOf(params, "pending_invoice_items_behavior", ["exclude", "include"]);
        const days = integer(params, "days_until_due", { min: 0 });
        if (
          params.collection_method === "send_invoice" && days === undefined && params.due_date === undefined
        ) {
          throw new StripeApiError(
            400,
            "invoice_no_due_date",
            "Invoices with collection_method send_invoice need days_until_due or due_date",
            "days_until_due",
          );
        }
        const invoice = {
          id: nextId("in"),
          object: "invoice",
          created: created(),
          customer: params.customer,
          currency: currency(params) ?? "usd",
          status: "draft",
          auto_advance: params.auto_advance === "true",
          collection_method: params.collection_method ?? "charge_automatically",
          metadata: params.metadata ?? {},
          total: 0,
          lines: { object: "list", data: [] as unknown[] },
        };
        invoices.set(invoice.id, invoice);
        return invoice;
      }
      case "POST /v1/invoiceitems": {
        if (!customers.has(String(params.customer))) {
          throw new StripeApiError(
            400,
            "resource_missing",
            `No such customer: '${params.customer}'`,
            "customer",
          );
        }
        const amount = integer(params, "amount");
        const cur = currency(params);
        if (amount !== undefined && cur === undefined) {
          throw new StripeApiError(400, "parameter_missing", "Missing required param: currency.", "currency");
        }
        const invoice = params.invoice === undefined ? undefined : invoices.get(String(params.invoice));
        if (params.invoice !== undefined && !invoice) {
          throw new StripeApiError(
            400,
            "resource_missing",
            `No such invoice: '${params.invoice}'`,
            "invoice",
          );
        }
        if (invoice && invoice.customer !== params.customer) {
          throw new StripeApiError(
            400,
            "parameter_invalid_string",
            "The invoice belongs to another customer",
            "invoice",
          );
        }
        if (invoice && cur !== invoice.currency) {
          throw new StripeApiError(
            400,
            "parameter_invalid_string",
            "Currency must match the invoice's",
            "currency",
          );
        }
        const item = {
          id: nextId("ii"),
          object: "invoiceitem",
          amount: amount ?? 0,
          currency: cur,
          customer: params.customer,
          invoice: params.invoice ?? null,
          description: params.description ?? null,
        };
        if (invoice) {
          (invoice.lines as { data: unknown[] }).data.push(item);
          invoice.total = (invoice.total as number) + (amount ?? 0);
        }
        return item;
      }
      case "POST /v1/payment_intents": {
        const amount = integer(params, "amount", { min: 1 })!;
        const cur = currency(params)!;
        if (params.customer !== undefined && !customers.has(String(params.customer))) {
          throw new StripeApiError(
            400,
            "resource_missing",
            `No such customer: '${params.customer}'`,
            "customer",
          );
        }
        const apm = params.automatic_payment_methods as Record<string, unknown> | undefined;
        if (apm !== undefined) {
          for (const k of Object.keys(apm)) {
            if (!["enabled", "allow_redirects"].includes(k)) {
              throw new StripeApiError(
                400,
                "parameter_unknown",
                `Received unknown parameter: automatic_payment_methods[${k}]`,
                `automatic_payment_methods[${k}]`,
              );
            }
          }
          boolean(apm, "enabled");
        }
        const id = nextId("pi");
        return {
          id,
          object: "payment_intent",
          amount,
          amount_received: 0,
          currency: cur,
          customer: params.customer ?? null,
          description: params.description ?? null,
          metadata: params.metadata ?? {},
          status: "requires_payment_method",
          client_secret: `${id}_secret_${crypto.randomUUID().replaceAll("-", "")}`,
          latest_charge: null,
          created: created(),
          livemode: false,
        };
      }
      case "GET /v1/charges/{id}": {
        const id = path.split("/").at(-1)!;
        const charge = charges.get(id);
        if (!charge) throw new StripeApiError(404, "resource_missing", `No such charge: '${id}'`, "id");
        const expand = Object.values((params.expand as Record<string, string> | undefined) ?? {});
        for (const e of expand) {
          if (e !== "balance_transaction") {
            throw new StripeApiError(
              400,
              "parameter_invalid_string",
              `This property cannot be expanded (${e}).`,
              "expand",
            );
          }
        }
        const bt = {
          id: `txn_${id}`,
          object: "balance_transaction",
          amount: charge.amount,
          currency: charge.currency,
          fee: charge.fee,
          net: charge.amount - charge.fee,
        };
        return {
          id,
          object: "charge",
          amount: charge.amount,
          currency: charge.currency,
          payment_intent: charge.payment_intent,
          balance_transaction: expand.includes("balance_transaction") ? bt : bt.id,
        };
      }
      default:
        throw new StripeApiError(404, "resource_missing", `Unrecognized request URL (${method}: ${path})`);
    }
  }

  const state: StripeApiServer = {
    url: "",
    requests,
    charges,
    failWith: null,
    close: () => server.shutdown(),
  };

  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const method = req.method;
    const text = method === "GET" ? url.search.slice(1) : await req.text();
    const params = parseForm(text);
    const idempotencyKey = req.headers.get("idempotency-key");
    const respond = (status: number, body: unknown) => {
      requests.push({ method, path: url.pathname, params, idempotencyKey, status });
      return Response.json(body, {
        status,
        headers: {
          "request-id": `req_${counter}`,
          "stripe-version": req.headers.get("stripe-version") ?? "",
        },
      });
    };
    const error = (e: StripeApiError) =>
      respond(e.status, {
        error: { type: "invalid_request_error", code: e.code, message: e.message, param: e.param },
      });
    if (!/^Bearer (sk|rk)_test_[A-Za-z0-9]+$/.test(req.headers.get("authorization") ?? "")) {
      return respond(401, { error: { type: "invalid_request_error", message: "Invalid API Key provided" } });
    }
    if (!req.headers.get("stripe-version")) {
      return error(new StripeApiError(400, "missing_stripe_version", "Stripe-Version header is required"));
    }
    if (method === "POST") {
      if (!(req.headers.get("content-type") ?? "").startsWith("application/x-www-form-urlencoded")) {
        return error(new StripeApiError(400, "invalid_content_type", "Request bodies must be form-encoded"));
      }
      if (!idempotencyKey) {
        return error(
          new StripeApiError(
            400,
            "idempotency_key_missing",
            "This test server requires an Idempotency-Key on every POST",
          ),
        );
      }
      if (state.failWith) {
        return respond(state.failWith.status, {
          error: { type: state.failWith.type, message: state.failWith.message },
        });
      }
      const fingerprint = `${url.pathname}?${new URLSearchParams(text).toString()}`;
      const prior = idempotent.get(idempotencyKey);
      if (prior) {
        if (prior.fingerprint !== fingerprint) {
          return respond(400, {
            error: {
              type: "idempotency_error",
              message:
                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
            },
          });
        }
        return respond(prior.status, prior.body);
      }
      try {
        const body = handle(method, url.pathname, params);
        idempotent.set(idempotencyKey, { fingerprint, status: 200, body });
        return respond(200, body);
      } catch (e) {
        if (e instanceof StripeApiError) return error(e);
        throw e;
      }
    }
    try {
      return respond(200, handle(method, url.pathname, params));
    } catch (e) {
      if (e instanceof StripeApiError) return error(e);
      throw e;
    }
  });
  state.url = `http://127.0.0.1:${server.addr.port}`;
  return state;
}
