/**
 * The Hono application: middleware (request id, logging, body limit, authentication), the route
 * modules, the OpenAPI document and the error mapping. Runtime-free: the Deno server, tests
 * (`app.request`) and later the Worker all serve this same app.
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import type { Context } from "hono";
import { DEFAULT_FAILED_AUTH_LIMITS, type FailedAuthLimits, FailedAuthThrottle } from "./auth_throttle.ts";
import { requestId } from "hono/request-id";
import type { Services } from "../context.ts";
import { KeyResolver } from "../tenants/service.ts";
import { AdminTokens } from "../tenants/admin_tokens.ts";
import { scopeAllows } from "../tenants/scopes.ts";
import { OriginPolicy } from "../apps/service.ts";
import { browserCors } from "./cors.ts";
import { CUSTOMER_SESSION_HEADER } from "./publishable.ts";
import { SessionSigner } from "../sessions/token.ts";
import { sessionRoutes } from "../sessions/routes.ts";
import { databaseReadiness, healthRoutes, type Readiness } from "./health.ts";
import { docsRoutes, type DocsScriptLoader } from "./docs.ts";
import { type AppEnv, router } from "./env.ts";
import { errorToResponse, problem } from "./problem.ts";
import { finishDocument, webhookConfigs } from "./openapi.ts";
import { problemIndexResponse, problemTypeResponse } from "./problem_types.ts";
import { nulFields } from "./text_guard.ts";
import { documentIdempotency, idempotencyMiddleware } from "./idempotency.ts";
import { fastLane, type FetchHandler, rememberLane } from "./fast_lane.ts";
import { LANE_ROUTES } from "./lane_routes.ts";
import { adminTokenRoutes, apiKeyRoutes, tenantRoutes } from "../tenants/routes.ts";
import { auditRoutes } from "../audit/routes.ts";
import { metricsMiddleware, metricsRoutes } from "../metrics/routes.ts";
import { STRIPE_WEBHOOK_PREFIX, stripeRoutes } from "../payments/routes.ts";
import { webhookRoutes } from "../webhooks/routes.ts";
import { appRoutes } from "../apps/routes.ts";
import { couponRoutes } from "../coupons/routes.ts";
import { testClockRoutes } from "../test_clocks/routes.ts";
import { creditRoutes } from "../credits/routes.ts";
import { customerRoutes } from "../customers/routes.ts";
import { entitlementRoutes } from "../entitlements/routes.ts";
import { invoiceRoutes } from "../invoices/routes.ts";
import { inventoryRoutes } from "../inventory/routes.ts";
import { ledgerRoutes } from "../ledger/routes.ts";
import { planRoutes } from "../plans/routes.ts";
import { subscriptionRoutes } from "../subscriptions/routes.ts";
import { taxRoutes } from "../tax/routes.ts";
import { deadLetterRoutes, usageRoutes } from "../usage/routes.ts";

/** Largest request body `/v1/*` accepts by default (bytes); larger bodies answer 413 `payload_too_large`. */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;

/** Options of {@link createApp}. */
export interface AppOptions {
  /** Token for `/v1/admin/*` (`Authorization: Bearer …`), until a roll retires it (`tenants/admin_tokens.ts`). */
  adminToken: string;
  /**
   * Whether admin tokens can be rolled and revoked through the database (default true). Workers
   * pass false: each Durable Object has its own SQLite, so the token is the secret binding there.
   */
  adminTokenRotation?: boolean;
  /** Largest request body in bytes (default 2 MiB: 1000 events with properties fit). */
  maxBodyBytes?: number;
  /** Loads the `/docs` renderer bundle (default: from the `@scalar/api-reference` package; see `docs.ts`). */
  docsScript?: DocsScriptLoader;
  /**
   * Secret that customer session tokens are signed with (HMAC keys per app are derived from it).
   * The runtimes pass `BILLING_ENCRYPTION_KEY`, which every process and Durable Object of one
   * deployment shares and which, unlike the admin token, is never sent over the wire (ADR 0013).
   * Default: the configured admin token.
   */
  sessionSecret?: string;
  /**
   * The client's network address, for throttling failed authentication (`auth_throttle.ts`): the
   * Deno server passes the connection's remote address, the Worker `CF-Connecting-IP`. Absent or
   * answering `undefined`: failures are not throttled.
   */
  clientAddress?: (c: Context<AppEnv>) => string | undefined;
  /** Failed authentications allowed per address and window (default 20 per 60 s). */
  failedAuthLimits?: FailedAuthLimits;
  /** Base URL of the Stripe API (`STRIPE_API_BASE`; tests point it at a local server). */
  stripeApiBase?: string;
  /** Checks behind `GET /readyz` (default: the database answers; see `health.ts`). */
  readiness?: Readiness;
  /**
   * Whether the fast lane (`fast_lane.ts`, ADR 0015) answers the common case of the check, ledger
   * entry and event routes before the middleware chain (default true). False: every request takes
   * the chain (the differential test's reference).
   */
  fastLane?: boolean;
}

/** Routes a publishable key (`pk_…`) may call: checks and usage, nothing else. */
export const PUBLISHABLE_ROUTES: ReadonlySet<string> = new Set([
  "POST /v1/events",
  "POST /v1/entitlements/check",
]);

/** A client's correlation id worth keeping: 1–200 visible ASCII characters. */
const CORRELATION_ID = /^[\x21-\x7e]{1,200}$/;

function bearer(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match ? match[1] : null;
}

/**
 * Builds the API.
 *
 * @example
 * const app = createApp(services, { adminToken });
 * Deno.serve({ port: 8787 }, app.fetch);
 */
export function createApp(services: Services, options: AppOptions): OpenAPIHono<AppEnv> {
  const app = router();
  const keys = new KeyResolver(services);
  const admin = new AdminTokens(services, options.adminToken, { rotation: options.adminTokenRotation });
  const origins = new OriginPolicy(services);
  const signer = new SessionSigner(options.sessionSecret ?? options.adminToken);
  const throttle = new FailedAuthThrottle(options.failedAuthLimits ?? DEFAULT_FAILED_AUTH_LIMITS);
  const addressOf = (c: Context<AppEnv>) => options.clientAddress?.(c);
  /** 429 while the caller's address is over its failed-authentication budget. */
  const throttled = (c: Context<AppEnv>): Response | null => {
    const address = addressOf(c);
    const wait = address ? throttle.retryAfterSeconds(address) : 0;
    if (wait === 0) return null;
    const res = problem(
      c,
      429,
      "too_many_failed_attempts",
      `Too many failed authentication attempts from this address; retry after ${wait} s`,
    );
    res.headers.set("retry-after", String(wait));
    return res;
  };
  /** The 401 of a failed authentication, counted against the caller's address. */
  const refuse = (c: Context<AppEnv>, code: string, detail: string): Response => {
    const address = addressOf(c);
    if (address) throttle.recordFailure(address);
    return problem(c, 401, code, detail);
  };

  // Request ids are the server's own (audit rows and logs carry them); a client's X-Request-Id is
  // kept apart as a correlation id: logged and echoed as X-Correlation-Id, never trusted as ours.
  app.use("*", requestId({ headerName: "" }));
  app.use("*", async (c, next) => {
    c.header("x-request-id", c.get("requestId"));
    const client = c.req.header("x-request-id");
    if (client && CORRELATION_ID.test(client)) {
      c.set("correlationId", client);
      c.header("x-correlation-id", client);
    }
    await next();
  });
  if (services.metrics) app.use("*", metricsMiddleware(services.metrics));
  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    services.log({
      level: "info",
      msg: "request",
      request_id: c.get("requestId"),
      ...(c.get("correlationId") ? { correlation_id: c.get("correlationId") } : {}),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
    });
  });
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      onError: (c) => problem(c, 413, "payload_too_large", "The request body is too large"),
    }),
  );

  // CORS before authentication: preflights carry no key (see cors.ts)
  const publishablePaths = new Set([...PUBLISHABLE_ROUTES].map((r) => r.split(" ")[1]));
  app.use("/v1/*", browserCors(keys, origins, publishablePaths));

  app.use(
    "/v1/admin/*",
    createMiddleware<AppEnv>(async (c, next) => {
      const limited = throttled(c);
      if (limited) return limited;
      const token = bearer(c.req.header("authorization"));
      if (!token || !(await admin.verify(token))) {
        return refuse(
          c,
          "unauthorized",
          "A valid admin token is required (Authorization: Bearer <BILLING_ADMIN_TOKEN>)",
        );
      }
      await next();
    }),
  );

  app.use(
    "/v1/*",
    createMiddleware<AppEnv>(async (c, next) => {
      if (c.req.path.startsWith("/v1/admin/")) return await next();
      if (c.req.path.startsWith(STRIPE_WEBHOOK_PREFIX)) return await next(); // authenticated by Stripe-Signature
      const limited = throttled(c);
      if (limited) return limited;
      const token = bearer(c.req.header("authorization"));
      if (!token) {
        return problem(c, 401, "unauthorized", "An API key is required (Authorization: Bearer sk_… or pk_…)");
      }
      const principal = await keys.resolve(token);
      if (!principal) return refuse(c, "unauthorized", "The API key is not valid");
      // The one scope check of secret keys (ADR 0013; the Worker's edge path asks the same function).
      if (principal.kind === "secret" && !scopeAllows(principal.scope, c.req.method, c.req.path)) {
        return problem(
          c,
          403,
          "key_scope_not_allowed",
          `This key's scope (${principal.scope}) does not reach ${c.req.method} ${c.req.path}`,
        );
      }
      if (principal.kind === "publishable" && !PUBLISHABLE_ROUTES.has(`${c.req.method} ${c.req.path}`)) {
        return problem(
          c,
          403,
          "publishable_key_not_allowed",
          "Publishable keys may only check entitlements and send usage",
        );
      }
      if (principal.kind === "publishable") {
        const token = c.req.header(CUSTOMER_SESSION_HEADER);
        if (!token) {
          return problem(
            c,
            401,
            "customer_session_required",
            "Publishable keys need a Customer-Session token minted by your backend (POST /v1/customer_sessions)",
          );
        }
        const verified = await signer.verify(token, services.clock.now().getTime());
        if (!verified.ok && verified.reason === "expired") {
          return problem(
            c,
            401,
            "customer_session_expired",
            "The customer session has expired; mint a new one",
          );
        }
        if (
          !verified.ok || verified.claims.ten !== principal.tenantId ||
          verified.claims.app !== principal.appId ||
          !(await keys.isActive(principal.appId, verified.claims.kid))
        ) {
          return refuse(c, "customer_session_invalid", "The customer session token is not valid");
        }
        c.set("session", verified.claims);
      }
      c.set("principal", principal);
      c.set("ctx", {
        ...services,
        scope: { tenantId: principal.tenantId, appId: principal.appId },
        actor: principal.keyId,
        requestId: c.get("requestId"),
      });
      await next();
    }),
  );

  // One route module per capability folder; no two modules serve the same path.
  // U+0000 in any text is refused before validation and before any write (text_guard.ts).
  app.use("/v1/*", async (c, next) => {
    const fields = await nulFields(c.req);
    if (fields.length > 0) {
      return problem(c, 400, "validation_failed", "The request has invalid fields", fields);
    }
    await next();
  });
  app.use("/v1/*", idempotencyMiddleware());

  app.route("/", tenantRoutes(services));
  app.route("/", adminTokenRoutes(admin));
  app.route("/", apiKeyRoutes(keys));
  app.route("/", appRoutes(origins));
  app.route("/", planRoutes());
  app.route("/", customerRoutes());
  app.route("/", sessionRoutes(signer));
  app.route("/", subscriptionRoutes(services));
  app.route("/", usageRoutes());
  app.route("/", deadLetterRoutes(services));
  app.route("/", entitlementRoutes());
  app.route("/", invoiceRoutes());
  app.route("/", ledgerRoutes());
  app.route("/", inventoryRoutes());
  app.route("/", couponRoutes());
  app.route("/", taxRoutes());
  app.route("/", creditRoutes());
  app.route("/", testClockRoutes());
  app.route("/", webhookRoutes());
  app.route("/", auditRoutes());
  app.route("/", stripeRoutes(services, { apiBase: options.stripeApiBase }));
  if (services.metrics) app.route("/", metricsRoutes(services.metrics, (token) => admin.verify(token)));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "Secret key sk_…",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "publishableKey", {
    type: "http",
    scheme: "bearer",
    description:
      "Publishable key pk_… (entitlement checks and usage only), always with a `Customer-Session` header " +
      "holding a token from POST /v1/customer_sessions; the request may act only on that token's customer",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "adminAuth", {
    type: "http",
    scheme: "bearer",
    description: "BILLING_ADMIN_TOKEN",
  });
  for (const webhook of webhookConfigs()) {
    app.openAPIRegistry.registerWebhook(webhook as Parameters<typeof app.openAPIRegistry.registerWebhook>[0]);
  }
  const documentConfig = {
    openapi: "3.1.0",
    info: {
      title: "Edge billing worker API",
      version: "0.1.0",
      description:
        "Plans, customers, subscriptions, usage, entitlements, invoices and a double-entry ledger. " +
        "Amounts are integer minor units; errors are application/problem+json (RFC 9457) whose `type` " +
        "URI (`/problems/{code}`) explains the code. Every POST that creates or changes something takes an " +
        "`Idempotency-Key` header (Stripe semantics).",
    },
  };
  // Built once per origin it is served on (servers[0] is the caller's origin, so samples paste).
  const documents = new Map<string, string>();
  app.get("/openapi.json", (c) => {
    const origin = new URL(c.req.url).origin;
    let text = documents.get(origin);
    if (!text) {
      const document = app.getOpenAPI31Document(documentConfig) as unknown as Record<string, unknown>;
      text = JSON.stringify(
        finishDocument(documentIdempotency(document), {
          serverUrl: origin,
          publishableRoutes: PUBLISHABLE_ROUTES,
        }),
      );
      if (documents.size < 16) documents.set(origin, text);
    }
    return c.body(text, 200, { "content-type": "application/json; charset=utf-8" });
  });
  app.get("/problems", (c) => problemIndexResponse(c.req.header("accept")));
  app.get(
    "/problems/:code",
    (c) => problemTypeResponse(c.req.param("code"), c.req.header("accept")) ?? c.notFound(),
  );
  app.route("/", healthRoutes(options.readiness ?? databaseReadiness(services)));
  app.route("/", docsRoutes(options.docsScript));

  app.notFound((c) => problem(c, 404, "route_not_found", `No route ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => errorToResponse(error, c, services.log));

  if (options.fastLane !== false) {
    // In front of the chain for every runtime that calls `app.fetch` (and `app.request`, which does).
    const lane = fastLane(
      {
        services,
        resolveKey: (token) => keys.resolve(token),
        cachedKey: (token) => keys.cached(token),
        throttled: (request, env) => {
          // Nobody throttled: no need to find out the client's address (issue 14).
          if (!throttle.anyThrottled()) return false;
          const source = { env, req: { header: (name: string) => request.headers.get(name) ?? undefined } };
          const address = options.clientAddress?.(source as unknown as Context<AppEnv>);
          return address !== undefined && throttle.retryAfterSeconds(address) > 0;
        },
        maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        corsPaths: publishablePaths,
      },
      LANE_ROUTES,
      app.fetch as FetchHandler,
    );
    app.fetch = lane.fetch as typeof app.fetch;
    rememberLane(app, lane.stats);
  }
  return app;
}
