/**
 * `GET /metrics`: Prometheus text with request counts and latency per route pattern, entitlement
 * decisions, usage ingested, ledger entries, writer batch sizes and webhook delivery outcomes;
 * protected by the admin token. Structured request logs carry the request id.
 */
import assert from "node:assert/strict";
import { Metrics } from "../../src/metrics/service.ts";
import { drainWebhooksOnce } from "../../src/webhooks/delivery.ts";
import { ADMIN_TOKEN, apiPlanBody, call, tenant, testEnv } from "../helpers.ts";

/** Value of one sample line (`name{labels} value`), 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = line.match(/^([a-z_:]+)(?:\{(.*)\})? (\S+)$/);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return 0;
}

Deno.test("metrics: a billing month shows up per route pattern and per outcome in /metrics", async () => {
  const metrics = new Metrics();
  const logs: Record<string, unknown>[] = [];
  const env = await testEnv({ services: { metrics, log: (r) => void logs.push(r) } });
  env.services.lifecycle.subscribe(metrics.subscriber());
  const receiver = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    () => new Response("ok"),
  );
  try {
    const { secret_key: key } = await tenant(env);
    await call(env, "POST", "/v1/webhook-endpoints", {
      key,
      body: { url: `http://127.0.0.1:${receiver.addr.port}/`, events: ["invoice.*"] },
    });
    const plan = await call(env, "POST", "/v1/plans", { key, body: apiPlanBody() });
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "u1" } });
    const sub = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "u1", plan_id: plan.body.id },
    });
    const ev = await call(env, "POST", "/v1/events", {
      key,
      body: {
        events: [1, 2, 3].map((i) => ({ id: `e${i}`, customer_id: "u1", feature: "api_calls", value: 100 })),
      },
    });
    assert.equal(ev.body.accepted, 3);
    await call(env, "POST", "/v1/events", {
      key,
      body: { events: [{ id: "e1", customer_id: "u1", feature: "api_calls", value: 100 }] },
    });
    assert.equal(
      (await call(env, "POST", "/v1/entitlements/check", {
        key,
        body: { customer_id: "u1", feature: "api_calls" },
      })).body.allowed,
      true,
    );
    assert.equal(
      (await call(env, "POST", "/v1/entitlements/check", {
        key,
        body: { customer_id: "u1", feature: "nope" },
      })).body.allowed,
      false,
    );
    const inv = await call(env, "POST", "/v1/invoices", { key, body: { subscription_id: sub.body.id } });
    await call(env, "GET", `/v1/invoices/${inv.body.id}`, { key });
    await call(env, "GET", "/v1/invoices/inv_01jd6000000000000000000000", { key });
    await call(env, "POST", `/v1/invoices/${inv.body.id}/finalize`, { key });
    await call(env, "POST", `/v1/invoices/${inv.body.id}/pay`, { key, body: {} });
    metrics.observeWriterBatch(3);
    metrics.observeWriterBatch(250);
    await drainWebhooksOnce(env.services, { timeoutMs: 1_000 });

    assert.equal((await call(env, "GET", "/metrics")).status, 401);
    assert.equal(
      (await call(env, "GET", "/metrics", { key })).status,
      401,
      "an API key is not the admin token",
    );
    const res = await env.app.request("/metrics", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await res.text();

    assert.equal(
      sample(text, "billing_http_requests_total", {
        method: "GET",
        route: "/v1/invoices/:id",
        status: "200",
      }),
      1,
    );
    assert.equal(
      sample(text, "billing_http_requests_total", {
        method: "GET",
        route: "/v1/invoices/:id",
        status: "404",
      }),
      1,
    );
    assert.equal(
      sample(text, "billing_http_requests_total", { method: "POST", route: "/v1/events", status: "200" }),
      2,
    );
    assert.equal(
      sample(text, "billing_http_requests_total", { method: "GET", route: "/metrics", status: "401" }),
      2,
    );
    assert.equal(
      sample(text, "billing_http_request_duration_seconds_count", {
        method: "POST",
        route: "/v1/entitlements/check",
      }),
      2,
    );
    assert.ok(
      sample(text, "billing_http_request_duration_seconds_sum", { method: "POST", route: "/v1/plans" }) > 0,
    );
    assert.equal(sample(text, "billing_entitlement_checks_total", { result: "allowed" }), 1);
    assert.equal(sample(text, "billing_entitlement_checks_total", { result: "denied" }), 1);
    assert.equal(sample(text, "billing_usage_events_ingested_total"), 3, "the duplicate is not counted");
    assert.equal(sample(text, "billing_ledger_entries_committed_total"), 2, "finalization + payment");
    assert.equal(sample(text, "billing_writer_batch_size_count"), 2);
    assert.equal(sample(text, "billing_writer_batch_size_bucket", { le: "5" }), 1);
    assert.equal(
      sample(text, "billing_webhook_deliveries_total", { outcome: "succeeded" }),
      4,
      "generated, finalized, payment recorded, paid",
    );
    assert.equal(sample(text, "billing_lifecycle_events_total", { type: "invoice.paid" }), 1);

    // Structured JSON logs: every request line carries its request id.
    const requests = logs.filter((l) => l.msg === "request");
    assert.ok(requests.length >= 15);
    assert.ok(requests.every((l) => typeof l.request_id === "string" && (l.request_id as string).length > 0));
    assert.ok(logs.some((l) => l.msg === "webhook attempt" && l.outcome === "succeeded"));
  } finally {
    await receiver.shutdown();
    await env.close();
  }
});
