import assert from "node:assert/strict";
import * as esbuild from "esbuild";
import { buildSdk } from "../../scripts/sdk_build.ts";
import { seedTenant, startSdkServer } from "./helpers.ts";

const SDK_DIR = new URL("../../sdk/", import.meta.url);

/** The built package's exports as a Node 20 program sees them through `node_modules`. */
const NODE_PROGRAM = `
import { createServerClient, unwrap, BillingApiError } from "@edge-billing/sdk";
import { createBrowserClient } from "@edge-billing/sdk/browser";
const [base, secretKey, publishableKey] = process.argv.slice(2);
const out = { node: process.version };
const billing = createServerClient({ baseUrl: base, secretKey });
out.customer = (await unwrap(billing.GET("/v1/customers/{id}", { params: { path: { id: "user_42" } } }))).external_id;
const customerSession = () => unwrap(billing.POST("/v1/customer_sessions", { body: { customer_id: "user_42" } }));
const browser = createBrowserClient({ baseUrl: base, publishableKey, customerId: "user_42", customerSession, storage: null });
browser.track("exports", 2, { id: "node-1" });
out.flush = await browser.flush();
out.decision = await browser.check("exports");
browser.close();
try { await unwrap(billing.GET("/v1/plans/{id}", { params: { path: { id: "pln_missing" } } })); } catch (e) { out.error = { isBillingApiError: e instanceof BillingApiError, code: e.code, status: e.status }; }
try { createBrowserClient({ baseUrl: base, publishableKey: secretKey, customerId: "x" }); } catch (e) { out.refused = e.code; }
console.log(JSON.stringify(out));
`;

Deno.test("built package (deno task sdk:build) runs unchanged on Node 20 through its package exports", async () => {
  await buildSdk();
  await esbuild.stop();
  const dist = [...Deno.readDirSync(new URL("dist/", SDK_DIR))].map((e) => e.name).sort();
  assert.deepEqual(dist, [
    "browser.d.ts",
    "browser.js",
    "errors.d.ts",
    "retry.d.ts",
    "schema.gen.d.ts",
    "server.d.ts",
    "server.js",
    "vendor",
    "webhooks.d.ts",
  ]);

  const server = await startSdkServer();
  const dir = await Deno.makeTempDir({ prefix: "billing-sdk-node-" });
  try {
    const t = await seedTenant(server.base, { limit: 5 });
    await Deno.mkdir(`${dir}/node_modules/@edge-billing`, { recursive: true });
    await Deno.symlink(
      new URL(".", SDK_DIR).pathname.replace(/\/$/, ""),
      `${dir}/node_modules/@edge-billing/sdk`,
    );
    await Deno.writeTextFile(`${dir}/main.mjs`, NODE_PROGRAM);
    const run = await new Deno.Command("node", {
      args: ["main.mjs", server.base, t.secretKey, t.publishableKey],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, stderr);
    const out = JSON.parse(new TextDecoder().decode(run.stdout));
    assert.match(out.node, /^v(2\d|[3-9]\d)\./, "Node 20 or later");
    assert.equal(out.customer, "user_42");
    assert.deepEqual(out.flush, { accepted: 1, duplicates: 0, rejected: [], pending: 0 });
    assert.equal(out.decision.used, 2);
    assert.equal(out.decision.allowed, true);
    assert.deepEqual(out.error, { isBillingApiError: true, code: "plan_not_found", status: 404 });
    assert.equal(out.refused, "secret_key_in_browser");
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await server.stop();
  }
});
