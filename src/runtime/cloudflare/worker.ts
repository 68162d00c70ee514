/**
 * Cloudflare Workers entry (`wrangler.toml` `main`). workerd accepts only handlers and Durable
 * Object classes as exports of the entry module, so this file exports exactly those; the logic is
 * in `handlers.ts`, `tenant_object.ts` and `directory_object.ts`.
 *
 * @module
 */
import { setStripeLoader } from "../../payments/stripe.ts";
import { createWorker } from "./handlers.ts";

export { DirectoryObject } from "./directory_object.ts";
export { TenantObject } from "./tenant_object.ts";

// A literal import, so the bundle includes the Stripe SDK (the default loader hides its name).
setStripeLoader(() => import("stripe"));

/** `fetch`, `queue` and `scheduled` handlers. */
export default createWorker();
