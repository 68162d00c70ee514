import type { webhooks } from "./schema.gen.js";
/** Every event type the API delivers (`invoice.paid`, `plan.created`, …). */
export type WebhookEventType = keyof webhooks & string;
/** The delivered body of event type `T`: `{ id, type: T, timestamp, app_id, resource_id, data }`. */
export type WebhookEventOf<T extends WebhookEventType> = NonNullable<webhooks[T]["post"]>["requestBody"] extends {
    content: {
        "application/json": infer Body;
    };
} ? Body : never;
/** Any delivered event; narrow it with `event.type`. */
export type WebhookEvent = {
    [T in WebhookEventType]: WebhookEventOf<T>;
}[WebhookEventType];
/** The three Standard Webhooks headers, as a `Headers` or a plain object (Node's `req.headers`). */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;
/**
 * Verifies a delivery and returns its typed event.
 *
 * @param payload the raw request body, exactly as received (a re-serialized JSON fails)
 * @param headers the request headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`)
 * @param secret the endpoint's signing secret (`whsec_…`, returned when it was created)
 * @throws {BillingApiError} `webhook_signature_invalid` when the signature, the headers or the
 *   timestamp (more than 5 minutes off) do not verify
 */
export declare function verifyWebhook(payload: string, headers: WebhookHeaders, secret: string): WebhookEvent;
