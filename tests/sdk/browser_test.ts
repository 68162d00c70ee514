/**
 * The browser SDK in a real browser: Debian's Chromium, headless, driven by playwright-core.
 * Pages are served from loopback origins other than the API's, so every call is a real CORS
 * request. Nothing here needs the internet; requests leaving 127.0.0.1 are blocked and recorded.
 *
 * Needs `/usr/bin/chromium` (`.ci/run` installs Debian's `chromium` when missing).
 *
 * @module
 */
import assert from "node:assert/strict";
import * as esbuild from "esbuild";
import type { BrowserContext, Page } from "playwright-core";
import { bundleBrowserStandalone } from "../../scripts/sdk_build.ts";
import { createServerClient, unwrap } from "../../sdk/src/server.ts";
import type { BillingApiError, BrowserBillingClient, createBrowserClient } from "../../sdk/src/browser.ts";
import { seedTenant, startSdkServer } from "./helpers.ts";

const CHROMIUM = "/usr/bin/chromium";

/** What the test page puts on `window`. */
interface PageGlobals {
  billing: BrowserBillingClient;
  errors: string[];
  restored: number;
  ready?: boolean;
  createBrowserClient: typeof createBrowserClient;
  BillingApiError: typeof BillingApiError;
  /** Asks the page's backend for a customer session (`{ token, expires_at }`). */
  fetchSession: () => Promise<{ token: string; expires_at: string }>;
}

/**
 * What the pages' backend knows: the secret key of each app whose page it serves, by publishable
 * key. The secret key never reaches the browser; `GET /session` mints with it, as a customer's
 * backend does after its user signed in.
 */
const backends = new Map<string, { api: string; secretKey: string }>();
const ARTIFACTS = new URL("../../artifacts/", import.meta.url);

/** The page: builds a client from its query string and exposes it as `window.billing`. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>SDK test page</title></head>
<body><h1>SDK test page</h1>
<script type="module">
  import { createBrowserClient, BillingApiError } from "/sdk.js";
  const q = new URLSearchParams(location.search);
  window.fetchSession = async () => {
    const res = await fetch("/session?" + new URLSearchParams({ pk: q.get("pk"), customer: q.get("customer") }));
    if (!res.ok) throw new Error("session endpoint answered " + res.status);
    return await res.json();
  };
  let first = await window.fetchSession();
  window.errors = [];
  window.billing = createBrowserClient({
    baseUrl: q.get("api"),
    publishableKey: q.get("pk"),
    customerId: q.get("customer"),
    // the page's own backend mints the session (GET /session below stands for it); the page got
    // its first one with the HTML, as server-rendered pages do
    customerSession: async () => {
      if (first) { const grant = first; first = null; return grant; }
      return await window.fetchSession();
    },
    flushIntervalMs: 60000,
    retryBaseMs: 50,
    onError: (e) => window.errors.push(e.code),
  });
  window.BillingApiError = BillingApiError;
  window.createBrowserClient = createBrowserClient;
  window.restored = window.billing.pendingEvents;
  window.ready = true;
</script></body></html>`;

/** Serves the page and the bundled SDK on 127.0.0.1 (any free port). */
function servePages(bundle: string) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const path = url.pathname;
    if (path === "/session") {
      const backend = backends.get(url.searchParams.get("pk") ?? "");
      if (!backend) return new Response("unknown app", { status: 404 });
      const billing = createServerClient({ baseUrl: backend.api, secretKey: backend.secretKey });
      const minted = await billing.POST("/v1/customer_sessions", {
        body: { customer_id: url.searchParams.get("customer") ?? "" },
      });
      return Response.json(minted.data ?? minted.error, { status: minted.response.status });
    }
    if (path === "/sdk.js") return new Response(bundle, { headers: { "content-type": "text/javascript" } });
    if (path === "/app.html") return new Response(PAGE, { headers: { "content-type": "text/html" } });
    return new Response("not found", { status: 404 });
  });
  return { origin: `http://127.0.0.1:${server.addr.port}`, stop: () => server.shutdown() };
}

/**
 * playwright-core, loaded after telling its bundled `is-wsl` check not to run at import: that
 * check calls `existsSync` on `/proc/sys/…`, which Deno only allows under `--allow-all`, and
 * `deno task test` grants narrower permissions. The WSL answer only matters to playwright's
 * "open in the desktop browser" helper, which these tests never use.
 */
async function loadPlaywright() {
  Deno.env.set("__IS_WSL_TEST__", "1");
  return await import("playwright-core");
}

async function launch(): Promise<{ context: BrowserContext; blocked: string[]; close(): Promise<void> }> {
  const { chromium } = await loadPlaywright();
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does it)`,
    );
  }
  const profile = await Deno.makeTempDir({ prefix: "billing-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...(Deno.uid?.() === 0 ? ["--no-sandbox"] : []),
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  const blocked: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.protocol === "data:" || url.protocol === "blob:") {
      return route.continue();
    }
    blocked.push(url.href);
    return route.abort();
  });
  return {
    context,
    blocked,
    async close() {
      await context.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

async function openApp(
  page: Page,
  pageOrigin: string,
  api: string,
  pk: string,
  customer: string,
  secretKey: string,
) {
  backends.set(pk, { api, secretKey });
  const query = new URLSearchParams({ api, pk, customer });
  await page.goto(`${pageOrigin}/app.html?${query}`);
  await page.waitForFunction(() => (globalThis as unknown as PageGlobals).ready === true);
}

async function usedOf(
  api: string,
  secretKey: string,
  customer: string,
  feature: string,
): Promise<number | string> {
  const billing = createServerClient({ baseUrl: api, secretKey });
  return (await unwrap(billing.POST("/v1/entitlements/check", { body: { customer_id: customer, feature } })))
    .used;
}

Deno.test({
  name:
    "browser SDK in headless Chromium: flips at the limit, pagehide flush counted once, disallowed origin refused; docs page renders offline",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const bundle = await bundleBrowserStandalone();
    await esbuild.stop();
    const api = await startSdkServer();
    const pages = servePages(bundle);
    const foreign = servePages(bundle); // another origin, allowed by no app
    const browser = await launch();
    try {
      const page = await browser.context.newPage();

      await t.step(
        "the page reads RateLimit-* (and Retry-After on the 429) on cross-origin answers",
        async () => {
          const limited = await startSdkServer({ PUBLISHABLE_RATE_LIMIT: "3/60" });
          try {
            const tenant = await seedTenant(limited.base, { allowedOrigins: [pages.origin] });
            await openApp(
              page,
              pages.origin,
              limited.base,
              tenant.publishableKey,
              tenant.customerId,
              tenant.secretKey,
            );
            const seen = await page.evaluate(async ({ api, pk, customer, feature }) => {
              const out = [];
              const { token } = await (globalThis as unknown as PageGlobals).fetchSession();
              for (let i = 0; i < 4; i++) {
                const res = await fetch(`${api}/v1/entitlements/check`, {
                  method: "POST",
                  headers: {
                    authorization: `Bearer ${pk}`,
                    "content-type": "application/json",
                    "customer-session": token,
                  },
                  body: JSON.stringify({ customer_id: customer, feature }),
                });
                out.push({
                  status: res.status,
                  limit: res.headers.get("ratelimit-limit"),
                  remaining: res.headers.get("ratelimit-remaining"),
                  reset: res.headers.get("ratelimit-reset"),
                  retryAfter: res.headers.get("retry-after"),
                });
              }
              return out;
            }, {
              api: limited.base,
              pk: tenant.publishableKey,
              customer: tenant.customerId,
              feature: tenant.feature,
            });
            assert.deepEqual(seen.map((s) => s.status), [200, 200, 200, 429]);
            assert.deepEqual(seen.map((s) => s.limit), ["3", "3", "3", "3"]);
            assert.deepEqual(seen.map((s) => s.remaining), ["2", "1", "0", "0"]);
            for (const s of seen) {
              assert.ok(Number(s.reset) >= 1 && Number(s.reset) <= 60, `reset ${s.reset}`);
            }
            assert.equal(seen[3].retryAfter, seen[3].reset, "the page can read when to retry");
            assert.equal(seen[0].retryAfter, null);
          } finally {
            await limited.stop();
          }
        },
      );

      await t.step(
        "check() flips from allowed to denied at the hard limit; a secret key is refused",
        async () => {
          const tenant = await seedTenant(api.base, { limit: 3, allowedOrigins: [pages.origin] });
          await openApp(
            page,
            pages.origin,
            api.base,
            tenant.publishableKey,
            tenant.customerId,
            tenant.secretKey,
          );
          const allowed = await page.evaluate(async (feature) => {
            const billing = (globalThis as unknown as PageGlobals).billing;
            const seen: boolean[] = [];
            for (let i = 0; i < 5; i++) {
              const decision = await billing.check(feature);
              seen.push(decision.allowed);
              if (decision.allowed) {
                billing.track(feature, 1);
              }
            }
            return seen;
          }, tenant.feature);
          assert.deepEqual(allowed, [true, true, true, false, false]);
          const refusal = await page.evaluate((secretKey) => {
            try {
              (globalThis as unknown as PageGlobals).createBrowserClient({
                baseUrl: location.origin,
                publishableKey: secretKey,
                customerId: "x",
                customerSession: "cs_unused",
              });
              return "accepted";
            } catch (e) {
              return (e as { code?: string }).code;
            }
          }, tenant.secretKey);
          assert.equal(refusal, "secret_key_in_browser");
          const problem = await page.evaluate(async ({ api, pk, feature }) => {
            const g = globalThis as unknown as PageGlobals;
            // a page that names another customer than the one its session was minted for
            const stranger = g.createBrowserClient({
              baseUrl: api,
              publishableKey: pk,
              customerId: "nobody",
              customerSession: g.fetchSession,
              storage: null,
            });
            try {
              await stranger.check(feature);
              return null;
            } catch (e) {
              const error = e as BillingApiError;
              return {
                code: error.code,
                status: error.status,
                typed: e instanceof g.BillingApiError,
                requestId: error.requestId,
              };
            } finally {
              stranger.close();
            }
          }, { api: api.base, pk: tenant.publishableKey, feature: tenant.feature });
          assert.equal(problem?.code, "customer_not_allowed", "the problem code crosses CORS");
          assert.equal(problem?.status, 403);
          assert.equal(problem?.typed, true);
          assert.match(problem?.requestId ?? "", /.+/, "x-request-id is exposed to the page");
          assert.equal(await usedOf(api.base, tenant.secretKey, tenant.customerId, tenant.feature), 3);
        },
      );

      await t.step(
        "events tracked before visibilitychange + pagehide are delivered by keepalive and counted once",
        async () => {
          const tenant = await seedTenant(api.base, { limit: 1000, allowedOrigins: [pages.origin] });
          await openApp(
            page,
            pages.origin,
            api.base,
            tenant.publishableKey,
            tenant.customerId,
            tenant.secretKey,
          );
          const values = [1, 2, 3, 4, 5, 6, 7];
          await page.evaluate(({ feature, values }) => {
            for (const v of values) (globalThis as unknown as PageGlobals).billing.track(feature, v);
            const document = (globalThis as unknown as { document: EventTarget }).document;
            Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
            document.dispatchEvent(new Event("visibilitychange"));
          }, { feature: tenant.feature, values });
          await page.goto("about:blank"); // pagehide: the page is gone, only keepalive requests survive
          const total = values.reduce((a, b) => a + b, 0);
          let used: number | string = 0;
          for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
            used = await usedOf(api.base, tenant.secretKey, tenant.customerId, tenant.feature);
            if (Number(used) >= total) break; // whole counts answer as numbers
            await new Promise((r) => setTimeout(r, 100));
          }
          assert.equal(used, total, "every event tracked before pagehide arrived, each once");

          // the next page of the same origin resends whatever the last one could not confirm, same ids
          await openApp(
            page,
            pages.origin,
            api.base,
            tenant.publishableKey,
            tenant.customerId,
            tenant.secretKey,
          );
          const restored = await page.evaluate(async () => {
            const billing = (globalThis as unknown as PageGlobals).billing;
            await billing.flush();
            return (globalThis as unknown as PageGlobals).restored as number;
          });
          assert.equal(
            await page.evaluate(() => (globalThis as unknown as PageGlobals).billing.pendingEvents),
            0,
          );
          assert.deepEqual(await page.evaluate(() => (globalThis as unknown as PageGlobals).errors), []);
          assert.ok(restored >= 0 && restored <= values.length);
          assert.equal(
            await usedOf(api.base, tenant.secretKey, tenant.customerId, tenant.feature),
            total,
            "resent ids are not counted again",
          );
        },
      );

      await t.step("a page on an origin the app does not allow is refused", async () => {
        const tenant = await seedTenant(api.base, { limit: 10, allowedOrigins: [pages.origin] });
        await openApp(
          page,
          foreign.origin,
          api.base,
          tenant.publishableKey,
          tenant.customerId,
          tenant.secretKey,
        );
        const outcome = await page.evaluate(async (feature) => {
          const billing = (globalThis as unknown as PageGlobals).billing;
          let check: unknown;
          try {
            await billing.check(feature);
            check = "allowed";
          } catch (e) {
            check = {
              code: (e as { code?: string }).code,
              isBillingApiError: e instanceof (globalThis as unknown as PageGlobals).BillingApiError,
            };
          }
          billing.track(feature, 4);
          const flush = await billing.flush();
          return { check, flush, errors: (globalThis as unknown as PageGlobals).errors };
        }, tenant.feature);
        assert.deepEqual(
          outcome.check,
          { code: "network_error", isBillingApiError: true },
          "the browser hides the refused answer",
        );
        assert.equal(outcome.flush.accepted, 0);
        assert.equal(outcome.flush.pending, 1);
        assert.ok(outcome.errors.includes("network_error"));
        assert.equal(
          await usedOf(api.base, tenant.secretKey, tenant.customerId, tenant.feature),
          0,
          "nothing was counted",
        );

        // another app allows the foreign origin: the keyless preflight passes, the key's own app still refuses
        await seedTenant(api.base, { allowedOrigins: [foreign.origin] });
        // the raw answers as Chromium's network layer saw them, before CORS hides them from the page
        const cdp = await browser.context.newCDPSession(page);
        await cdp.send("Network.enable");
        const urls = new Map<string, string>();
        const seenByApi: string[] = [];
        cdp.on(
          "Network.requestWillBeSent",
          (e) => urls.set(e.requestId, `${e.request.method} ${new URL(e.request.url).pathname}`),
        );
        cdp.on(
          "Network.responseReceivedExtraInfo",
          (e) => seenByApi.push(`${urls.get(e.requestId) ?? "?"} ${e.statusCode}`),
        );
        cdp.on(
          "Network.loadingFailed",
          (e) =>
            seenByApi.push(
              `${urls.get(e.requestId) ?? "?"} failed ${e.corsErrorStatus?.corsError ?? e.errorText}`,
            ),
        );
        await openApp(
          page,
          foreign.origin,
          api.base,
          tenant.publishableKey,
          tenant.customerId,
          tenant.secretKey,
        );
        const second = await page.evaluate(async (feature) => {
          const billing = (globalThis as unknown as PageGlobals).billing;
          billing.track(feature, 4);
          const flush = await billing.flush();
          return { flush, errors: (globalThis as unknown as PageGlobals).errors };
        }, tenant.feature);
        assert.equal(second.flush.accepted, 0);
        assert.ok(
          second.errors.includes("network_error"),
          "the 403 carries no CORS header, so the page cannot read it",
        );
        assert.ok(
          seenByApi.includes("POST /v1/events 403"),
          `the API answered the real request 403 (saw ${JSON.stringify(seenByApi)})`,
        );
        assert.ok(
          seenByApi.includes("POST /v1/events failed MissingAllowOriginHeader"),
          `blocked by CORS (saw ${JSON.stringify(seenByApi)})`,
        );
        await cdp.detach();
        assert.equal(
          await usedOf(api.base, tenant.secretKey, tenant.customerId, tenant.feature),
          0,
          "still nothing counted",
        );
      });

      await t.step("GET /docs renders the API reference without the internet; screenshot saved", async () => {
        await page.goto(`${api.base}/docs`);
        await page.getByText("Edge billing worker API").first().waitFor({ timeout: 30_000 });
        await Deno.mkdir(ARTIFACTS, { recursive: true });
        const path = new URL("docs.png", ARTIFACTS).pathname;
        await page.getByText("entitlements", { exact: true }).first().click();
        await page.getByText("May this customer use this feature now?").first().waitFor({ timeout: 30_000 });
        await page.getByText("/v1/entitlements/check").first().waitFor({ timeout: 30_000 });
        await page.waitForTimeout(500); // let the section finish painting
        await page.screenshot({ path, fullPage: false });
        assert.ok((await Deno.stat(path)).size > 10_000);
      });

      assert.deepEqual(browser.blocked, [], "no request left loopback");
    } finally {
      await browser.close();
      await pages.stop();
      await foreign.stop();
      await api.stop();
    }
  },
});
