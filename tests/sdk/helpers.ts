/**
 * Helpers of the SDK suites: a real server on loopback (port 0, temp database) and a tenant with a
 * metered, hard-limited feature, set up through the server SDK itself.
 *
 * @module
 */
import { loadConfig } from "../../src/config.ts";
import { startServer } from "../../src/runtime/deno/server.ts";
import { createServerClient, unwrap } from "../../sdk/src/server.ts";

/** Admin token of the SDK test servers. */
export const SDK_ADMIN_TOKEN = "sdk-test-admin-token-0123456789-abcdef";

/** A running server for SDK tests. */
export interface SdkServer {
  base: string;
  stop(): Promise<void>;
}

/**
 * Starts the Deno server on 127.0.0.1, any free port, with a fresh database file.
 *
 * @param env further configuration variables (e.g. `PUBLISHABLE_RATE_LIMIT`)
 */
export async function startSdkServer(env: Record<string, string> = {}): Promise<SdkServer> {
  const dir = await Deno.makeTempDir({ prefix: "billing-sdk-" });
  const server = await startServer(loadConfig({
    PORT: "0",
    DATABASE_URL: `file:${dir}/billing.db`,
    BILLING_ADMIN_TOKEN: SDK_ADMIN_TOKEN,
    LOG_LEVEL: "silent",
    ...env,
  }));
  return {
    base: `http://127.0.0.1:${server.port}`,
    async stop() {
      await server.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** What {@link seedTenant} created. */
export interface SeededTenant {
  secretKey: string;
  publishableKey: string;
  customerId: string;
  feature: string;
  limit: number;
  /** What a page's backend endpoint does: mints a session for `customerId` with the secret key. */
  session: () => Promise<{ token: string; expires_at: string }>;
}

/**
 * Mints a customer session the way a customer's backend does (server SDK, secret key).
 *
 * @param expiresInSeconds life of the token (default: the API's 900 s)
 */
export async function mintSession(
  base: string,
  secretKey: string,
  customerId: string,
  expiresInSeconds?: number,
): Promise<{ token: string; expires_at: string }> {
  const billing = createServerClient({ baseUrl: base, secretKey });
  return await unwrap(billing.POST("/v1/customer_sessions", {
    body: { customer_id: customerId, ...(expiresInSeconds ? { expires_in_seconds: expiresInSeconds } : {}) },
  }));
}

/**
 * Creates a tenant app, a plan whose metered feature `exports` has a hard limit, a customer and a
 * subscription, all through the server SDK.
 */
export async function seedTenant(
  base: string,
  options: { limit?: number; allowedOrigins?: string[] } = {},
): Promise<SeededTenant> {
  const limit = options.limit ?? 5;
  const admin = createServerClient({ baseUrl: base, adminToken: SDK_ADMIN_TOKEN });
  const keys = await unwrap(admin.POST("/v1/admin/tenants", {
    body: { name: `sdk${crypto.randomUUID().slice(0, 8)}`, app: "production" },
  }));
  const billing = createServerClient({ baseUrl: base, secretKey: keys.secret_key });
  const plan = await unwrap(billing.POST("/v1/plans", {
    body: {
      key: "starter",
      name: "Starter",
      currency: "USD",
      interval: "month",
      base_amount: 900,
      features: [{ key: "exports", name: "Exports", type: "metered", limit, aggregation: "sum" }],
    },
  }));
  const customer = await unwrap(
    billing.POST("/v1/customers", { body: { external_id: "user_42", email: "ada@example.com" } }),
  );
  await unwrap(billing.POST("/v1/subscriptions", { body: { customer_id: customer.id, plan_id: plan.id } }));
  if (options.allowedOrigins) {
    await unwrap(billing.PATCH("/v1/apps/current", { body: { allowed_origins: options.allowedOrigins } }));
  }
  return {
    secretKey: keys.secret_key,
    publishableKey: keys.publishable_key,
    customerId: "user_42",
    feature: "exports",
    limit,
    session: () => mintSession(base, keys.secret_key, "user_42"),
  };
}
