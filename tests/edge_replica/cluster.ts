/**
 * Real processes for the edge replica suites (ADR 0014): `tursodb --sync-server` (from the npm
 * package `turso`, installed by `scripts/edge_deps.ts`), Deno servers with `BILLING_ROLE=edge`
 * or `billing` on one primary database file, and the HTTP calls the suites make.
 *
 * @module
 */
import { type ChildServer, ROOT, spawnServer } from "../process.ts";

/** Admin token of every process of a cluster. */
export const ADMIN = "edge-replica-admin-token-0123456789";

/** Path of the `tursodb` binary npm installed for this platform. */
export function tursodbPath(): string {
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
  const pkg = Deno.build.os === "linux" ? `cli-linux-${arch}-gnu` : `cli-${Deno.build.os}-${arch}`;
  return `${ROOT}tools/edge_replica/node_modules/@tursodatabase/${pkg}/tursodb`;
}

/** A running sync server. */
export interface SyncServer {
  /** `http://127.0.0.1:port`. */
  url: string;
  /** Stops it (SIGKILL: an outage, not a goodbye) and waits for the exit. */
  stop(): Promise<void>;
}

async function accepts(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * A port on 127.0.0.1 free to bind, as the kernel hands one out for port 0. (A random port that
 * refused a connection could still be some socket's bound local port, e.g. an outgoing
 * connection's, and tursodb then failed with "Address already in use".)
 */
export function freePort(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return Promise.resolve(port);
}

/**
 * Starts `tursodb --sync-server 127.0.0.1:<port> <file>` and waits (up to 30 s) until it accepts
 * connections. A server that exits before listening is started again, up to three attempts in
 * all, on another free port when its port was taken meanwhile ("Address already in use", seen in
 * CI); the error names its exit code and stderr.
 */
export async function startSyncServer(file: string, port: number): Promise<SyncServer> {
  let failure = "";
  for (let attempt = 1; attempt <= 3; attempt++) {
    const child = new Deno.Command(tursodbPath(), {
      args: ["--sync-server", `127.0.0.1:${port}`, file],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    let exited: Deno.CommandStatus | null = null;
    const status = child.status.then((s) => exited = s);
    let listening = false;
    for (let i = 0; i <= 300 && exited === null; i++) {
      if ((listening = await accepts(port))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (listening) {
      return {
        url: `http://127.0.0.1:${port}`,
        async stop() {
          child.kill("SIGKILL");
          await status;
          await stderr;
        },
      };
    }
    if (exited === null) child.kill("SIGKILL");
    const code = (await status).code;
    const said = (await stderr).trim();
    failure = `tursodb did not listen on ${port} (attempt ${attempt}, exit ${code}): ${said}`;
    // Taken since it was chosen: another free port (callers address the server by `url`).
    if (/address already in use/i.test(said)) port = await freePort();
    await new Promise((r) => setTimeout(r, 200 * attempt));
  }
  throw new Error(failure);
}

/** Starts a server process of `role` on the primary database `primary` with a replica at `replica`. */
export function startNode(
  role: "edge" | "billing",
  primary: string,
  replica: string,
  syncUrl: string,
  extra: Record<string, string> = {},
): Promise<ChildServer> {
  return spawnServer({
    DATABASE_URL: primary,
    BILLING_ADMIN_TOKEN: ADMIN,
    LOG_LEVEL: "error",
    BILLING_ROLE: role,
    EDGE_REPLICA_PATH: replica,
    EDGE_SYNC_URL: syncUrl,
    EDGE_PUSH_INTERVAL_MS: "100",
    EDGE_PUSH_BACKOFF_MAX_MS: "500",
    EDGE_PULL_INTERVAL_MS: "100",
    WEBHOOK_WORKER_INTERVAL_MS: "0",
    BILLING_CYCLE_INTERVAL_MS: "0",
    ...extra,
  });
}

/** One JSON call. */
export async function http(
  base: string,
  method: string,
  path: string,
  key: string,
  body?: unknown,
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith("{") ? JSON.parse(text) : text };
}

/**
 * A tenant with a metered plan (`api_calls`, hard limit `limit`, none by default) and subscribed
 * customers `c1` and `c2`; returns its secret key.
 */
export async function provision(base: string, limit: number | null = null): Promise<string> {
  return (await provisionScoped(base, limit)).key;
}

/** {@link provision}, also returning the tenant and app ids. */
export async function provisionScoped(
  base: string,
  limit: number | null = null,
): Promise<{ key: string; tenantId: string; appId: string }> {
  const created = await http(base, "POST", "/v1/admin/tenants", ADMIN, { name: "edge", app: "production" });
  if (created.status !== 201) throw new Error(`tenant: ${JSON.stringify(created.body)}`);
  const key = created.body.secret_key as string;
  const plan = await http(base, "POST", "/v1/plans", key, {
    key: "metered",
    name: "Metered",
    currency: "USD",
    interval: "month",
    base_amount: 0,
    features: [{
      key: "api_calls",
      name: "API calls",
      type: "metered",
      limit,
      aggregation: "sum",
      pricing: { model: "per_unit", unit_amount: 1 },
    }],
  });
  if (plan.status !== 201) throw new Error(`plan: ${JSON.stringify(plan.body)}`);
  for (const external_id of ["c1", "c2"]) {
    await http(base, "POST", "/v1/customers", key, { external_id });
    const sub = await http(base, "POST", "/v1/subscriptions", key, {
      customer_id: external_id,
      plan_id: plan.body.id,
    });
    if (sub.status !== 201) throw new Error(`subscription: ${JSON.stringify(sub.body)}`);
  }
  return { key, tenantId: created.body.tenant_id, appId: created.body.app_id };
}

/** `count` usage events of value 1 for `customer`, ids `prefix<from>` … (no timestamp: the edge stamps it). */
export function batch(prefix: string, from: number, count: number, customer = "c1") {
  return {
    events: Array.from({ length: count }, (_, i) => ({
      id: `${prefix}${from + i}`,
      customer_id: customer,
      feature: "api_calls",
      value: 1,
    })),
  };
}

/** The customer's `api_calls` usage this month, as the billing process's primary has it. */
export async function usage(base: string, key: string, customer = "c1"): Promise<number> {
  const now = new Date();
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString();
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 1)).toISOString();
  const res = await http(
    base,
    "GET",
    `/v1/usage?customer_id=${customer}&feature=api_calls&from=${from}&to=${to}`,
    key,
  );
  if (res.status !== 200) throw new Error(`usage: ${JSON.stringify(res.body)}`);
  return res.body.value as number;
}

/**
 * Polls `read` until it returns `want` (the pipeline is asynchronous by design) or 90 s pass;
 * returns the last value read, for the caller's assertion.
 */
export async function eventually<T>(read: () => Promise<T>, want: T): Promise<T> {
  let last = await read();
  for (const deadline = Date.now() + 90_000; last !== want && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 200));
    last = await read();
  }
  return last;
}

/** One gauge or counter sample of `/metrics` (0 when absent). */
export async function metric(base: string, name: string): Promise<number> {
  const text = (await http(base, "GET", "/metrics", ADMIN)).body as string;
  const line = text.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + "{"));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
}
