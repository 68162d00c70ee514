// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
import assert from "node:assert/strict";
import { healthRoutes } from "../../src/http/health.ts";
import { loadConfig } from "../../src/config.ts";
import { startServer } from "../../src/runtime/deno/server.ts";

Deno.test("healthRoutes(): /readyz answers 503 not_ready naming each failed check; /healthz checks nothing", async () => {
  const app = healthRoutes(() =>
    Promise.resolve([
      { name: "database", ok: true, detail: "answers" },
      { name: "redis", ok: false, detail: "connection refused" },
    ])
  );
  const res = await app.request("/readyz");
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const body = await res.json() as any;
  assert.equal(body.code, "not_ready");
  assert.match(body.detail, /redis \(connection refused\)/);
  assert.doesNotMatch(body.detail, /database/);
  const query = await app.request("/readyz?verbose=1");
  assert.equal(query.status, 400);
  assert.equal((await query.json() as any).code, "validation_failed");
  const live = await app.request("/healthz");
  assert.equal(live.status, 200);
  assert.deepEqual(await live.json(), { ok: true });
});

Deno.test("startServer(): /healthz and /readyz are in the OpenAPI document; /readyz checks Redis when configured", async () => {
  const dir = await Deno.makeTempDir({ prefix: "billing-ready-" });
  const server = await startServer(loadConfig({
    PORT: "0",
    DATABASE_URL: `file:${dir}/b.db`,
    BILLING_ADMIN_TOKEN: "admin-token-0123456789-0123456789",
    LOG_LEVEL: "silent",
    // nothing listens on port 9: the Redis check must fail, bounded, without a 500
    UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
    UPSTASH_REDIS_REST_TOKEN: "t",
  }));
  const base = `http://127.0.0.1:${server.port}`;
  try {
    const doc = await fetch(`${base}/openapi.json`).then((r) => r.json()) as any;
    assert.ok(doc.paths["/healthz"].get);
    assert.ok(doc.paths["/readyz"].get.responses["503"]);
    const res = await fetch(`${base}/readyz`);
    assert.equal(res.status, 503);
    const body = await res.json() as any;
    assert.equal(body.code, "not_ready");
    assert.match(body.detail, /^Not ready: redis \(/);
  } finally {
    const report = await server.stop();
    assert.equal(report.drained, true);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
