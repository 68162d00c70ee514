/**
 * `GET /docs`: the interactive API reference of `/openapi.json`, rendered by Scalar through its
 * Hono middleware (`@scalar/hono-api-reference`).
 *
 * The middleware would load the renderer from a public CDN; this page must work offline and
 * behind firewalls, so it points the page at `GET /docs/scalar.js`, the single-file standalone
 * bundle shipped inside the `@scalar/api-reference` npm package, served by this app. Scalar's
 * default web fonts (also CDN-hosted) are turned off; the page uses system fonts.
 *
 * @module
 */
import { Scalar } from "@scalar/hono-api-reference";
import type { Context } from "hono";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { type AppEnv, router } from "./env.ts";
import { problem } from "./problem.ts";

/** Loads the renderer's standalone JS; `null` when this runtime cannot reach the npm package. */
export type DocsScriptLoader = () => Promise<Uint8Array | string | null>;

/**
 * The renderer's npm package, kept out of a literal `import()` on purpose: Deno fetches every
 * package a literal import names before the first line runs, and the renderer (with its
 * dependencies, ~200 MB) is only needed when someone opens `/docs`.
 */
const RENDERER_PACKAGE = "@scalar/api-reference";

/**
 * Default loader: resolves `@scalar/api-reference` through the module graph and reads
 * `dist/browser/standalone.js` beside it (works where `import.meta.resolve` yields a `file:` URL and
 * `fetch` reads files, as in Deno). Other runtimes pass their own loader in `AppOptions.docsScript`
 * (e.g. a Worker imports the file as a text module).
 */
export const defaultDocsScript: DocsScriptLoader = async (): Promise<Uint8Array | null> => {
  try {
    let entry = import.meta.resolve(RENDERER_PACKAGE);
    if (!entry.startsWith("file:")) {
      // Deno on its global npm cache resolves to an `npm:` URL until the package is loaded:
      // importing it downloads it (its code may not run outside a browser; only its files matter).
      await import(RENDERER_PACKAGE).catch(() => undefined);
      entry = import.meta.resolve(RENDERER_PACKAGE);
    }
    if (!entry.startsWith("file:")) return null;
    const res = await fetch(new URL("./browser/standalone.js", entry));
    return res.ok ? new Uint8Array(await res.arrayBuffer()) : null;
  } catch {
    return null;
  }
};

/**
 * Routes `GET /docs` (HTML) and `GET /docs/scalar.js` (the renderer, cached in memory after the
 * first load, `Cache-Control: public, max-age=86400`).
 */
export function docsRoutes(load: DocsScriptLoader = defaultDocsScript): OpenAPIHono<AppEnv> {
  const app = router();
  let script: Promise<Uint8Array | string | null> | undefined;
  app.get(
    "/docs",
    Scalar<AppEnv>({
      url: "/openapi.json",
      cdn: "/docs/scalar.js",
      pageTitle: "Edge billing worker API reference",
      withDefaultFonts: false,
      telemetry: false,
      // hosted features that would call out to Scalar's cloud
      agent: { disabled: true },
      mcp: { disabled: true },
      showDeveloperTools: "never",
    }),
  );
  app.get("/docs/scalar.js", async (c: Context<AppEnv>) => {
    script ??= load().catch(() => null);
    const body = await script;
    if (body === null) {
      script = undefined;
      return problem(
        c,
        503,
        "docs_unavailable",
        "The API reference renderer is not available in this runtime",
      );
    }
    return c.body(body as Uint8Array<ArrayBuffer> | string, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=86400",
    });
  });
  return app;
}
