/**
 * `GET /metrics` (Prometheus text format, admin token) and the middleware that records request
 * counts and latency per route pattern.
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import type { Metrics } from "./service.ts";
import { type AppEnv, router } from "../http/env.ts";
import { problem } from "../http/problem.ts";

/** The matched route pattern (`/v1/invoices/:id`), or `unmatched` (bounded label values). */
function routeLabel(c: Parameters<Parameters<typeof createMiddleware<AppEnv>>[0]>[0]): string {
  const path = routePath(c, -1);
  return !path || path.endsWith("*") ? "unmatched" : path;
}

/**
 * Records every request (method, route pattern, status, seconds) and, for entitlement checks,
 * whether the answer allowed or denied (the check route sets `checkAllowed`; the answer is not
 * cloned and parsed again, which cost a second JSON parse on the hottest route).
 */
export function metricsMiddleware(metrics: Metrics): MiddlewareHandler<AppEnv> {
  return createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    await next();
    const route = routeLabel(c);
    metrics.observeRequest(c.req.method, route, c.res.status, (performance.now() - started) / 1000);
    const allowed = c.get("checkAllowed");
    if (allowed !== undefined && c.res.status === 200) metrics.recordEntitlementCheck(allowed);
  });
}

/**
 * `GET /metrics`, protected by the admin token (`Authorization: Bearer <BILLING_ADMIN_TOKEN>`, or a
 * rolled admin token: `isAdmin` is the app's admin token check).
 */
export function metricsRoutes(
  metrics: Metrics,
  isAdmin: (token: string) => Promise<boolean>,
): OpenAPIHono<AppEnv> {
  const app = router();
  app.get("/metrics", async (c) => {
    const match = c.req.header("authorization")?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match || !(await isAdmin(match[1]))) {
      return problem(
        c,
        401,
        "unauthorized",
        "A valid admin token is required (Authorization: Bearer <BILLING_ADMIN_TOKEN>)",
      );
    }
    return c.body(await metrics.render(), 200, { "content-type": metrics.contentType });
  });
  return app;
}
