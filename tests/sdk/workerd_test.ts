/**
 * The SDK inside a real workerd (Cloudflare Workers runtime, through Miniflare): a module Worker
 * bundled with esbuild from the SDK's sources calls the Deno server on loopback with both clients.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as esbuild from "esbuild";
import { Miniflare } from "miniflare";
import { seedTenant, startSdkServer } from "./helpers.ts";

const WORKER_SOURCE = `
import { createServerClient, unwrap, BillingApiError } from "./sdk/src/server.ts";
import { createBrowserClient } from "./sdk/src/browser.ts";
export default {
  async fetch(request, env) {
    const out = {};
    const billing = createServerClient({ baseUrl: env.API, secretKey: env.SECRET_KEY });
    out.customer = (await unwrap(billing.GET("/v1/customers/{id}", { params: { path: { id: "user_42" } } }))).external_id;
    // the backend step: the secret key mints a session for the one customer the edge client acts for
    const customerSession = () => unwrap(billing.POST("/v1/customer_sessions", { body: { customer_id: "user_42" } }));
    const edge = createBrowserClient({ baseUrl: env.API, publishableKey: env.PUBLISHABLE_KEY, customerId: "user_42", customerSession, storage: null });
    edge.track("exports", 3, { id: "workerd-1" });
    out.flush = await edge.flush();
    out.decision = await edge.check("exports");
    edge.close();
    try { await unwrap(billing.GET("/v1/customers/{id}", { params: { path: { id: "nobody" } } })); }
    catch (e) { out.error = { isBillingApiError: e instanceof BillingApiError, code: e.code, status: e.status }; }
    out.runtime = typeof navigator === "object" ? navigator.userAgent : "unknown";
    return Response.json(out);
  },
};
`;

Deno.test({
  name: "SDK runs unchanged in workerd (Cloudflare Workers runtime): server and edge clients against the API",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const built = await esbuild.build({
      stdin: {
        contents: WORKER_SOURCE,
        resolveDir: new URL("../..", import.meta.url).pathname,
        loader: "js",
      },
      bundle: true,
      format: "esm",
      platform: "neutral",
      mainFields: ["module", "main"], // standardwebhooks (verifyWebhook) is CommonJS
      target: "es2022",
      write: false,
      logLevel: "silent",
    });
    await esbuild.stop();
    const server = await startSdkServer();
    let mf: Miniflare | undefined;
    try {
      const t = await seedTenant(server.base, { limit: 5 });
      mf = new Miniflare({
        modules: true,
        script: built.outputFiles[0].text,
        compatibilityDate: "2026-04-20",
        bindings: { API: server.base, SECRET_KEY: t.secretKey, PUBLISHABLE_KEY: t.publishableKey },
      });
      const res = await mf.dispatchFetch("http://worker.test/");
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const out = JSON.parse(text);
      assert.equal(out.runtime, "Cloudflare-Workers");
      assert.equal(out.customer, "user_42");
      assert.deepEqual(out.flush, { accepted: 1, duplicates: 0, rejected: [], pending: 0 });
      assert.equal(out.decision.used, 3);
      assert.deepEqual(out.error, { isBillingApiError: true, code: "customer_not_found", status: 404 });
    } finally {
      await mf?.dispose();
      await server.stop();
    }
  },
});
