// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * Stopping the service the way a process manager does: SIGTERM to the PID it started. For the
 * README's command that PID is `npx` (npm), not Deno.
 */
import assert from "node:assert/strict";
import { createClient } from "@libsql/client";
import { apiPlanBody } from "../helpers.ts";
import { spawnServer } from "../process.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const ADMIN = "admin-token-shutdown-0123456789-abcdef";

/** `npx -y deno@2.9.6 task start`, exactly as the README says, with its stdout read as it comes. */
async function startWithNpx(env: Record<string, string>) {
  const child = new Deno.Command("npx", {
    args: ["-y", "deno@2.9.6", "task", "start"],
    cwd: ROOT,
    env: { ...Deno.env.toObject(), PORT: "0", LOG_LEVEL: "error", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let output = "";
  const stdout = (async () => {
    for await (const chunk of child.stdout) output += decoder.decode(chunk);
  })();
  const stderr = (async () => {
    for await (const chunk of child.stderr) output += decoder.decode(chunk);
  })();
  for (let i = 0; i < 1200 && !/listening on http:\/\/\S+:\d+/.test(output); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const match = output.match(/listening on (http:\/\/\S+:(\d+))/);
  if (!match) {
    child.kill("SIGKILL");
    throw new Error(`npx deno task start did not start:\n${output}`);
  }
  return {
    child,
    base: match[1],
    port: Number(match[2]),
    output: () => output,
    /** Resolves when every process holding the pipes (npm, sh, deno task, the server) is gone. */
    closed: Promise.all([stdout, stderr]),
  };
}

async function call(base: string, method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

/** Whether nothing listens on 127.0.0.1:`port` any more. */
async function portIsFree(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return false;
  } catch {
    return true;
  }
}

Deno.test("SIGTERM to the npx PID of `npx -y deno@2.9.6 task start` stops the server gracefully: port freed, no acknowledged event lost", async () => {
  const dir = await Deno.makeTempDir({ prefix: "billing-shutdown-" });
  const url = `file:${dir}/billing.db`;
  const server = await startWithNpx({ DATABASE_URL: url, BILLING_ADMIN_TOKEN: ADMIN });
  try {
    const keys = await call(server.base, "POST", "/v1/admin/tenants", ADMIN, {
      name: "stop",
      app: "production",
    });
    assert.equal(keys.status, 201);
    const plan = await call(server.base, "POST", "/v1/plans", keys.body.secret_key, apiPlanBody());
    await call(server.base, "POST", "/v1/customers", keys.body.secret_key, { external_id: "s1" });
    const sub = await call(server.base, "POST", "/v1/subscriptions", keys.body.secret_key, {
      customer_id: "s1",
      plan_id: plan.body.id,
    });
    assert.equal(sub.status, 201);

    // 20 requests of 100 events each; the signal goes out when the first one is acknowledged,
    // while the others are in flight or not yet sent.
    const acknowledged: string[] = [];
    let signalled!: () => void;
    const firstAck = new Promise<void>((resolve) => signalled = resolve);
    const batches = Array.from({ length: 20 }, (_, b) =>
      Array.from({ length: 100 }, (_, i) => ({
        id: `stop-${b}-${i}`,
        customer_id: "s1",
        feature: "api_calls",
        value: 1,
      })));
    const sends = batches.map(async (events, b) => {
      await new Promise((r) => setTimeout(r, b * 5));
      try {
        const res = await call(server.base, "POST", "/v1/events", keys.body.secret_key, { events });
        if (res.status === 200 && res.body.accepted === events.length) {
          acknowledged.push(...events.map((e) => e.id));
          signalled();
        }
      } catch {
        // refused or cut off by the stop: not acknowledged, so it may or may not be stored
      }
    });
    await firstAck;
    server.child.kill("SIGTERM");
    await Promise.all(sends);
    // Bounded wait, so the leak this guards against fails the test instead of hanging it.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gone = await Promise.race([
      server.closed.then(() => true),
      new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), 60_000)),
    ]);
    clearTimeout(timer);
    assert.ok(gone, `the server still runs 60 s after SIGTERM to npx:\n${server.output()}`);
    await server.child.status;

    assert.ok(await portIsFree(server.port), "nothing listens on the port after the stop");
    assert.match(server.output(), /Stopping \(launcher exited\): finishing in-flight requests/);
    assert.match(server.output(), /Stopped in \d+ ms\n/);
    assert.ok(acknowledged.length >= 100);

    const db = createClient({ url });
    try {
      const stored = new Set<string>();
      const rows = await db.execute("select event_id from usage_events");
      for (const row of rows.rows) stored.add(String(row.event_id));
      const lost = acknowledged.filter((id) => !stored.has(id));
      assert.deepEqual(lost, [], "every acknowledged event is in the database");
    } finally {
      db.close();
    }
  } finally {
    try {
      server.child.kill("SIGKILL");
    } catch { /* already gone */ }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal} to the Deno server process stops it gracefully with exit code 0`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "billing-signal-" });
    const server = await spawnServer({
      DATABASE_URL: `file:${dir}/b.db`,
      BILLING_ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: "error",
    });
    try {
      const ready = await fetch(`${server.base}/readyz`);
      assert.equal(ready.status, 200);
      const body = await ready.json() as any;
      assert.deepEqual(body.checks.map((c: any) => c.name), ["database", "migrations"]);
      const status = await server.stop(signal);
      assert.equal(status.code, 0);
      assert.ok(await portIsFree(server.port));
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  });
}
