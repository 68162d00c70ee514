// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * Shared test harness: a fresh libSQL file per test, services with a controllable clock, the app,
 * and small HTTP helpers. No mocks of our own storage.
 *
 * @module
 */
import { type AppOptions, createApp } from "../src/http/app.ts";
import type { Clock } from "../src/domain/scope.ts";
import { LifecycleDispatcher } from "../src/lifecycle/dispatcher.ts";
import type { Services } from "../src/context.ts";
import { MemoryEntitlementCache } from "../src/entitlements/cache.ts";
import { type Database, openDatabase } from "../src/storage/db.ts";
import type { LifecycleEvent } from "../src/domain/events.ts";
import { generateEncryptionKey, SecretBox } from "../src/storage/secret_box.ts";

/** A clock tests can set and advance. */
export class TestClock implements Clock {
  #now: number;
  constructor(start: string | Date = "2026-01-15T12:00:00Z") {
    this.#now = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.#now);
  }
  set(at: string | Date): void {
    this.#now = new Date(at).getTime();
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** Admin token used by every test app. */
export const ADMIN_TOKEN = "test-admin-token-0123456789-abcdef";

/** A test environment: database file, services, app, and the events emitted. */
export interface TestEnv {
  dir: string;
  url: string;
  database: Database;
  clock: TestClock;
  services: Services;
  app: ReturnType<typeof createApp>;
  events: LifecycleEvent[];
  close(): Promise<void>;
}

/** Opens a fresh database file in a temp dir and builds the app on it. */
export async function testEnv(
  options: { clock?: TestClock; services?: Partial<Services>; app?: Partial<AppOptions> } = {},
): Promise<TestEnv> {
  const dir = await Deno.makeTempDir({ prefix: "billing-test-" });
  const url = `file:${dir}/billing.db`;
  const database = await openDatabase({ url });
  const clock = options.clock ?? new TestClock();
  const lifecycle = new LifecycleDispatcher();
  const events: LifecycleEvent[] = [];
  lifecycle.subscribe({ name: "test-recorder", handle: (e) => void events.push(e) });
  const services: Services = {
    database,
    clock,
    lifecycle,
    entitlementCache: new MemoryEntitlementCache(),
    log: () => {},
    // The suites deliver to receivers on 127.0.0.1; the SSRF guard's own tests pass false.
    webhookAllowPrivateUrls: true,
    secrets: await SecretBox.create(generateEncryptionKey()),
    ...options.services,
  };
  const app = createApp(services, { adminToken: ADMIN_TOKEN, ...options.app });
  return {
    dir,
    url,
    database,
    clock,
    services,
    app,
    events,
    async close() {
      database.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Response of {@link call}: status, parsed body, content type. */
export interface CallResult<T = any> {
  status: number;
  body: T;
  contentType: string;
  /** Response headers. */
  headers: Headers;
}

/** Calls the app in-process (`app.request`). `body` is JSON-encoded unless it is a string. */
export async function call<T = any>(
  env: Pick<TestEnv, "app">,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<CallResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let payload: string | undefined;
  if (options.body !== undefined) {
    payload = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await env.app.request(path, { method, headers, body: payload });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch { /* keep text */ }
  return {
    status: res.status,
    body: body as T,
    contentType: res.headers.get("content-type") ?? "",
    headers: res.headers,
  };
}

/** Creates a tenant app through the admin route; returns its keys. */
export async function tenant(
  env: Pick<TestEnv, "app">,
  name = `t${crypto.randomUUID().slice(0, 8)}`,
  app = "production",
) {
  const res = await call(env, "POST", "/v1/admin/tenants", { key: ADMIN_TOKEN, body: { name, app } });
  if (res.status !== 201) throw new Error(`tenant(): ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { tenant_id: string; app_id: string; secret_key: string; publishable_key: string };
}

/** Counts rows of a table (for "nothing was written" assertions). */
export async function countRows(env: Pick<TestEnv, "database">, table: string): Promise<number> {
  const rs = await env.database.client.execute(`select count(*) as n from ${table}`);
  return Number(rs.rows[0].n);
}

/** Row counts of every application table (to prove a rejected request wrote nothing). */
export async function snapshotCounts(env: Pick<TestEnv, "database">): Promise<Record<string, number>> {
  const rs = await env.database.client.execute(
    "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '__drizzle%' order by name",
  );
  const out: Record<string, number> = {};
  for (const row of rs.rows) out[String(row.name)] = await countRows(env, String(row.name));
  return out;
}

/** A realistic plan body used across tests: base fee, graduated API calls, volume storage, seats, SSO. */
export function apiPlanBody(overrides: Record<string, unknown> = {}) {
  return {
    key: "api-pro",
    name: "API Pro",
    currency: "USD",
    interval: "month",
    trial_days: 0,
    base_amount: 4900,
    features: [
      {
        key: "api_calls",
        name: "API calls",
        type: "metered",
        limit: 100_000,
        aggregation: "sum",
        included: 1000,
        pricing: {
          model: "graduated",
          tiers: [
            { up_to: 1000, unit_amount: 2, flat_amount: 0 },
            { up_to: 5000, unit_amount: 1, flat_amount: 0 },
            { up_to: null, unit_amount: 1, flat_amount: 500 },
          ],
        },
      },
      {
        key: "storage_gb",
        name: "Storage (GB)",
        type: "metered",
        limit: null,
        aggregation: "max",
        pricing: {
          model: "volume",
          tiers: [
            { up_to: 10, unit_amount: 100, flat_amount: 0 },
            { up_to: 100, unit_amount: 80, flat_amount: 0 },
            { up_to: null, unit_amount: 50, flat_amount: 0 },
          ],
        },
      },
      {
        key: "seats",
        name: "Seats",
        type: "seat",
        limit: 5,
        included: 2,
        pricing: { model: "per_unit", unit_amount: 1000 },
      },
      { key: "sso", name: "Single sign-on", type: "boolean" },
    ],
    ...overrides,
  };
}

/**
 * Mints a customer session with the secret key (`POST /v1/customer_sessions`) and returns the
 * headers a browser sends with the publishable key: `Customer-Session: cs_…`.
 */
export async function sessionHeaders(
  env: Pick<TestEnv, "app">,
  secretKey: string,
  customerId: string,
  options: { expires_in_seconds?: number; features?: string[] } = {},
): Promise<Record<string, string>> {
  const res = await call(env, "POST", "/v1/customer_sessions", {
    key: secretKey,
    body: { customer_id: customerId, ...options },
  });
  if (res.status !== 201) throw new Error(`sessionHeaders(): ${res.status} ${JSON.stringify(res.body)}`);
  return { "customer-session": res.body.token };
}
