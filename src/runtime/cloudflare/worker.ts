/**
 * Cloudflare Workers entry (`wrangler.toml` `main`). workerd accepts only handlers and Durable
 * Object classes as exports of the entry module, so this file exports exactly those; the logic is
 * in `handlers.ts`, `tenant_object.ts` and `directory_object.ts`.
 *
 * @module
 */
import { createWorker, type WorkerHandlers } from "./handlers.ts";

export { DirectoryObject } from "./directory_object.ts";
export { TenantObject } from "./tenant_object.ts";

/** `fetch`, `queue` and `scheduled` handlers. */
const handlers: WorkerHandlers = createWorker();
export default handlers;
