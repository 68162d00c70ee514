/**
 * Verifying the API's webhooks: Standard Webhooks signatures (checked by the official
 * `standardwebhooks` package) and event types generated from the `webhooks` section of the API's
 * OpenAPI document, so `event.data` is typed by `event.type`.
 *
 * @example
 * import { verifyWebhook } from "@edge-billing/sdk";
 * const event = verifyWebhook(await request.text(), request.headers, env.BILLING_WEBHOOK_SECRET);
 * if (event.type === "invoice.paid") console.log(event.data.total); // data is an Invoice here
 *
 * @module
 */
import { Webhook } from "standardwebhooks";
import { BillingApiError } from "./errors.ts";
import type { webhooks } from "./schema.gen.ts";

/** Every event type the API delivers (`invoice.paid`, `plan.created`, …). */
export type WebhookEventType = keyof webhooks & string;

/** The delivered body of event type `T`: `{ id, type: T, timestamp, app_id, resource_id, data }`. */
export type WebhookEventOf<T extends WebhookEventType> = NonNullable<
  webhooks[T]["post"]
>["requestBody"] extends { content: { "application/json": infer Body } } ? Body
  : never;

/** Any delivered event; narrow it with `event.type`. */
export type WebhookEvent = {
  [T in WebhookEventType]: WebhookEventOf<T>;
}[WebhookEventType];

/** The three Standard Webhooks headers, as a `Headers` or a plain object (Node's `req.headers`). */
export type WebhookHeaders =
  | Headers
  | Record<string, string | string[] | undefined>;

function header(headers: WebhookHeaders, name: string): string {
  const value = headers instanceof Headers ? headers.get(name) : headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? "";
}

/**
 * Verifies a delivery and returns its typed event.
 *
 * @param payload the raw request body, exactly as received (a re-serialized JSON fails)
 * @param headers the request headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`)
 * @param secret the endpoint's signing secret (`whsec_…`, returned when it was created)
 * @throws {BillingApiError} `webhook_signature_invalid` when the signature, the headers or the
 *   timestamp (more than 5 minutes off) do not verify
 */
export function verifyWebhook(
  payload: string,
  headers: WebhookHeaders,
  secret: string,
): WebhookEvent {
  const names = [
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
  ] as const;
  const values = Object.fromEntries(names.map((n) => [n, header(headers, n)]));
  try {
    return new Webhook(secret).verify(payload, values) as WebhookEvent;
  } catch (error) {
    throw new BillingApiError(
      "webhook_signature_invalid",
      `The webhook did not verify: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}
