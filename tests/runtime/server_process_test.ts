// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
import assert from "node:assert/strict";
import { apiPlanBody } from "../helpers.ts";
import { loadConfig } from "../../src/config.ts";
import { DENO_MAIN, spawnServer, START_PERMISSIONS, TEST_ENCRYPTION_KEY } from "../process.ts";

/** The server as `deno task start` runs it, with errors-only logs. */
function startProcess(env: Record<string, string>) {
  return spawnServer({ ...env, LOG_LEVEL: "error" });
}

async function http(base: string, method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json(), type: res.headers.get("content-type") };
}

Deno.test("server process: starts on an embedded file with a generated admin token and bills end to end over TCP", async () => {
  const dir = await Deno.makeTempDir({ prefix: "billing-proc-" });
  const server = await startProcess({ DATABASE_URL: `file:${dir}/db/billing.db` });
  try {
    const token = (await Deno.readTextFile(`${dir}/db/admin-token`)).trim();
    assert.ok(!server.output.includes(token), "the generated admin token itself is never printed");
    assert.match(server.output, new RegExp(`Admin token: generated into ${dir}/db/admin-token`));
    const created = await http(server.base, "POST", "/v1/admin/tenants", token, {
      name: "proc",
      app: "production",
    });
    assert.equal(created.status, 201);
    const key = created.body.secret_key;
    const plan = await http(server.base, "POST", "/v1/plans", key, apiPlanBody());
    assert.equal(plan.status, 201);
    await http(server.base, "POST", "/v1/customers", key, { external_id: "p1" });
    const sub = await http(server.base, "POST", "/v1/subscriptions", key, {
      customer_id: "p1",
      plan_id: plan.body.id,
    });
    const ingest = await http(server.base, "POST", "/v1/events", key, {
      events: [{ id: "p-1", customer_id: "p1", feature: "api_calls", value: 1500 }],
    });
    assert.equal(ingest.body.accepted, 1);
    const inv = await http(server.base, "POST", "/v1/invoices", key, { subscription_id: sub.body.id });
    assert.equal(inv.body.total, 4900 + 500 * 2);
    const fin = await http(server.base, "POST", `/v1/invoices/${inv.body.id}/finalize`, key);
    assert.equal(fin.body.status, "open");
    const paid = await http(server.base, "POST", `/v1/invoices/${inv.body.id}/pay`, key, {});
    assert.equal(paid.body.status, "paid");
    const doc = await fetch(server.base + "/openapi.json").then((r) => r.json());
    assert.equal(doc.openapi, "3.1.0");
    assert.ok(doc.paths["/v1/invoices/{id}/finalize"]);
    const bad = await http(server.base, "POST", "/v1/plans", key, { key: 1 });
    assert.equal(bad.status, 400);
    assert.equal(bad.type, "application/problem+json");
  } finally {
    await server.stop();
  }
  // a restart keeps the data and the token
  const again = await startProcess({ DATABASE_URL: `file:${dir}/db/billing.db` });
  try {
    const token = (await Deno.readTextFile(`${dir}/db/admin-token`)).trim();
    assert.ok(!again.output.includes(token), "an existing token is not printed");
    assert.match(again.output, new RegExp(`Admin token: in ${dir}/db/admin-token`));
    const dup = await http(again.base, "POST", "/v1/admin/tenants", token, {
      name: "proc",
      app: "production",
    });
    assert.equal(dup.status, 409, "the tenant survived the restart");
  } finally {
    await again.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("server process: invalid configuration exits 2 with a message naming the variable", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...START_PERMISSIONS, DENO_MAIN],
    env: { PORT: "not-a-port", DATABASE_URL: "mysql://x" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.match(stderr, /PORT/);
  assert.match(stderr, /DATABASE_URL/);
});

Deno.test("loadConfig() defaults to the embedded file and requires an admin token for remote databases", () => {
  const c = loadConfig({});
  assert.equal(c.port, 8787);
  assert.equal(c.databaseUrl, "file:./data/billing.db");
  assert.equal(c.embedded, true);
  assert.equal(c.adminToken, undefined);
  assert.throws(() => loadConfig({ DATABASE_URL: "libsql://db.example.turso.io" }), /BILLING_ADMIN_TOKEN/);
  const remote = loadConfig({
    DATABASE_URL: "libsql://db.example.turso.io",
    DATABASE_AUTH_TOKEN: "t",
    BILLING_ADMIN_TOKEN: "x".repeat(32),
    BILLING_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
  });
  assert.equal(remote.embedded, false);
  assert.throws(() => loadConfig({ BILLING_ADMIN_TOKEN: "short" }), /at least 32/);
});

Deno.test("startServer(): the billing cycle runs in the background and plugins receive committed events", async () => {
  const { startServer } = await import("../../src/runtime/deno/server.ts");
  const dir = await Deno.makeTempDir({ prefix: "billing-bg-" });
  const seen: string[] = [];
  const server = await startServer(
    loadConfig({
      PORT: "0",
      DATABASE_URL: `file:${dir}/b.db`,
      BILLING_ADMIN_TOKEN: "admin-token-0123456789-0123456789",
      LOG_LEVEL: "silent",
      BILLING_CYCLE_INTERVAL_MS: "100",
    }),
    {
      plugins: [{
        name: "recorder",
        events: ["plan.created", "invoice.generated"],
        handle: (e) => void seen.push(e.type),
      }],
    },
  );
  try {
    assert.deepEqual(server.plugins.names(), ["recorder"]);
    const base = `http://127.0.0.1:${server.port}`;
    const keys = await http(base, "POST", "/v1/admin/tenants", "admin-token-0123456789-0123456789", {
      name: "bg",
      app: "production",
    });
    const key = keys.body.secret_key;
    const plan = await http(base, "POST", "/v1/plans", key, apiPlanBody());
    await http(base, "POST", "/v1/customers", key, { external_id: "bg1" });
    const start = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const sub = await http(base, "POST", "/v1/subscriptions", key, {
      customer_id: "bg1",
      plan_id: plan.body.id,
      start_at: start,
    });
    assert.equal(sub.status, 201);
    // the period that ended ~10 days ago is invoiced by the background job, nobody asked
    let invoices: any[] = [];
    for (let i = 0; i < 100 && invoices.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      invoices = (await http(base, "GET", "/v1/invoices", key)).body.data;
    }
    assert.equal(invoices.length, 1);
    assert.equal(invoices[0].period_start, sub.body.billing_anchor);
    assert.ok(seen.includes("plan.created"));
    assert.ok(seen.includes("invoice.generated"));
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("loadConfig(): HOST and BILLING_CYCLE_INTERVAL_MS", () => {
  assert.equal(loadConfig({}).host, "127.0.0.1");
  assert.equal(loadConfig({ HOST: "0.0.0.0" }).host, "0.0.0.0");
  assert.throws(() => loadConfig({ HOST: "example.com" }), /HOST/);
  assert.equal(loadConfig({}).billingCycleIntervalMs, 60_000);
  assert.equal(loadConfig({ BILLING_CYCLE_INTERVAL_MS: "0" }).billingCycleIntervalMs, 0);
});
