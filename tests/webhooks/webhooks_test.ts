/**
 * Webhook deliveries against a real HTTP receiver on loopback (Deno.serve on port 0) that fails,
 * times out and recovers; signatures verified with the official `standardwebhooks` package.
 * Schedule time comes from the TestClock; the HTTP timeout is real (1.5 s here: generous enough that a loaded CI machine never times out a live receiver).
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import {
  backoffDelayMs,
  drainWebhooksOnce,
  startWebhookWorker,
  type WebhookWorkerOptions,
} from "../../src/webhooks/delivery.ts";
import { pruneWebhookHistory } from "../../src/webhooks/retention.ts";
import { apiPlanBody, call, countRows, tenant, TestClock, testEnv } from "../helpers.ts";

const DAY = 24 * 3_600_000;

type Mode = "ok" | "fail" | "hang";

/** A loopback receiver whose answer per request follows `script` (then `fallback`). */
function receiver(fallback: Mode = "ok") {
  const script: Mode[] = [];
  const received: { id: string; timestamp: string; signature: string; body: string; mode: Mode }[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const body = await req.text();
    const mode = script.shift() ?? state.fallback;
    received.push({
      id: req.headers.get("webhook-id") ?? "",
      timestamp: req.headers.get("webhook-timestamp") ?? "",
      signature: req.headers.get("webhook-signature") ?? "",
      body,
      mode,
    });
    if (mode === "fail") return new Response("temporarily broken", { status: 500 });
    if (mode === "hang") {
      await new Promise((resolve) => setTimeout(resolve, 5_000)); // far past the 1.5 s client timeout
      return new Response("too late", { status: 200 });
    }
    return new Response("thanks", { status: 202 });
  });
  const state = {
    url: `http://127.0.0.1:${server.addr.port}/hooks`,
    script,
    received,
    fallback,
    close: () => server.shutdown(),
  };
  return state;
}

const FAST: WebhookWorkerOptions = {
  timeoutMs: 1_500,
  baseDelayMs: 1_000,
  maxDelayMs: 8_000,
  maxAttempts: 5,
  random: () => 0.5,
};

async function endpoint(
  env: Awaited<ReturnType<typeof testEnv>>,
  key: string,
  url: string,
  events: string[],
) {
  const res = await call(env, "POST", "/v1/webhook-endpoints", { key, body: { url, events } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; secret: string };
}

Deno.test("webhooks: a receiver that fails, times out and recovers gets every message once acknowledged, in order, signed", async () => {
  // The receiver checks webhook-timestamp against its wall clock (5 min tolerance), so the test
  // clock starts at the real time and only steps forward by seconds.
  const env = await testEnv({ clock: new TestClock(new Date()) });
  const flaky = receiver();
  const healthy = receiver();
  try {
    const t = await tenant(env);
    const a = await endpoint(env, t.secret_key, flaky.url, ["plan.*", "customer.created"]);
    const b = await endpoint(env, t.secret_key, healthy.url, ["*"]);
    assert.match(a.secret, /^whsec_[A-Za-z0-9+/]+=*$/);

    const plan = await call(env, "POST", "/v1/plans", { key: t.secret_key, body: apiPlanBody() });
    await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: "u1" } });
    await call(env, "POST", `/v1/plans/${plan.body.id}/archive`, { key: t.secret_key });
    flaky.script.push("fail", "fail", "hang");

    // 1st attempt: HTTP 500; the endpoint's later messages wait. The healthy endpoint, created
    // after a, gets the three messages committed after its creation, in order.
    let report = await drainWebhooksOnce(env.services, FAST);
    assert.equal(report.fanned_out, 6); // tenant, 2 endpoint creations, plan, customer, archive
    assert.equal(report.deliveries_created, 6); // a: 3 messages, b: 3 messages
    assert.equal(flaky.received.length, 1);
    assert.deepEqual(healthy.received.map((r) => JSON.parse(r.body).type), [
      "plan.created",
      "customer.created",
      "plan.archived",
    ]);

    // Backoff with random = 0.5: 1000·2^(n−1) capped at 8000, times 0.75.
    env.clock.advance(749);
    report = await drainWebhooksOnce(env.services, FAST);
    assert.equal(report.attempted, 0, "not due before its backoff");
    env.clock.advance(1);
    await drainWebhooksOnce(env.services, FAST); // 2nd attempt: 500
    env.clock.advance(1_500);
    await drainWebhooksOnce(env.services, FAST); // 3rd attempt: hangs → timeout after 1.5 s
    assert.equal(flaky.received.length, 3);
    env.clock.advance(3_000);
    report = await drainWebhooksOnce(env.services, FAST); // 4th attempt ok, then the two queued ones
    assert.equal(report.succeeded, 3);

    const order = flaky.received.map((r) => JSON.parse(r.body).type);
    assert.deepEqual(order, [
      "plan.created",
      "plan.created",
      "plan.created",
      "plan.created",
      "customer.created",
      "plan.archived",
    ]);
    const ids = flaky.received.map((r) => r.id);
    assert.equal(new Set(ids.slice(0, 4)).size, 1, "webhook-id is stable across retries");
    const wh = new Webhook(a.secret);
    for (const r of flaky.received) {
      const payload = wh.verify(r.body, {
        "webhook-id": r.id,
        "webhook-timestamp": r.timestamp,
        "webhook-signature": r.signature,
      }) as Record<string, unknown>;
      assert.equal(payload.id, r.id);
      assert.ok(String(r.signature).startsWith("v1,"));
    }
    assert.throws(() =>
      new Webhook(b.secret).verify(flaky.received[0].body, {
        "webhook-id": flaky.received[0].id,
        "webhook-timestamp": flaky.received[0].timestamp,
        "webhook-signature": flaky.received[0].signature,
      }), "another endpoint's secret does not verify");

    // Delivery log through the API.
    const log = await call(env, "GET", `/v1/webhook-endpoints/${a.id}/deliveries`, { key: t.secret_key });
    assert.equal(log.status, 200);
    assert.deepEqual(log.body.data.map((d: { event_type: string }) => d.event_type), [
      "plan.archived",
      "customer.created",
      "plan.created",
    ]);
    const first = log.body.data[2];
    assert.equal(first.status, "succeeded");
    assert.equal(first.attempts, 4);
    assert.deepEqual(first.attempt_log.map((x: { outcome: string }) => x.outcome), [
      "http_error",
      "http_error",
      "timeout",
      "succeeded",
    ]);
    assert.deepEqual(first.attempt_log.map((x: { status_code: number | null }) => x.status_code), [
      500,
      500,
      null,
      202,
    ]);
    assert.equal(first.attempt_log[0].response_body, "temporarily broken");
    assert.ok(first.attempt_log[2].duration_ms >= 1_400, "the timeout took about timeoutMs");
    const page = await call(env, "GET", `/v1/webhook-endpoints/${a.id}/deliveries?limit=2`, {
      key: t.secret_key,
    });
    const next = await call(
      env,
      "GET",
      `/v1/webhook-endpoints/${a.id}/deliveries?limit=2&cursor=${page.body.next_cursor}`,
      { key: t.secret_key },
    );
    assert.deepEqual(next.body.data.map((d: { id: string }) => d.id), [first.id]);
    assert.equal(next.body.next_cursor, null);
  } finally {
    await flaky.close();
    await healthy.close();
    await env.close();
  }
});

Deno.test("webhooks: a delivery gives up after maxAttempts, the queue moves on, and manual redelivery sends it again", async () => {
  const env = await testEnv();
  const rx = receiver("fail");
  const options = { ...FAST, maxAttempts: 2 };
  try {
    const t = await tenant(env);
    const ep = await endpoint(env, t.secret_key, rx.url, ["customer.created"]);
    await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: "u1" } });
    await drainWebhooksOnce(env.services, options);
    rx.fallback = "ok";
    rx.script.push("fail");
    await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: "u2" } });
    env.clock.advance(1_000);
    const report = await drainWebhooksOnce(env.services, options);
    assert.equal(report.exhausted, 1);
    assert.equal(report.succeeded, 1, "the next message goes out once the head gave up");
    const log = await call(env, "GET", `/v1/webhook-endpoints/${ep.id}/deliveries`, { key: t.secret_key });
    const [second, first] = log.body.data;
    assert.equal(first.status, "failed");
    assert.equal(first.next_attempt_at, null);
    assert.equal(second.status, "succeeded");

    const again = await call(env, "POST", `/v1/webhook-endpoints/${ep.id}/deliveries/${first.id}/redeliver`, {
      key: t.secret_key,
    });
    assert.equal(again.status, 202);
    assert.equal(again.body.status, "pending");
    await drainWebhooksOnce(env.services, options);
    const after = await call(env, "GET", `/v1/webhook-endpoints/${ep.id}/deliveries/${first.id}`, {
      key: t.secret_key,
    });
    assert.equal(after.body.status, "succeeded");
    assert.deepEqual(after.body.attempt_log.map((x: { outcome: string }) => x.outcome), [
      "http_error",
      "http_error",
      "succeeded",
    ]);
    const bodies = rx.received.map((r) => JSON.parse(r.body).data.external_id);
    assert.deepEqual(bodies, ["u1", "u1", "u2", "u1"]);

    const missing = await call(
      env,
      "POST",
      `/v1/webhook-endpoints/${ep.id}/deliveries/wdl_01jd6000000000000000000000/redeliver`,
      { key: t.secret_key },
    );
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, "webhook_delivery_not_found");
  } finally {
    await rx.close();
    await env.close();
  }
});

Deno.test("webhooks: a closed port is a network error; concurrent drains never send one message twice", async () => {
  const env = await testEnv();
  const rx = receiver("ok");
  try {
    const t = await tenant(env);
    const closed = Deno.listen({ port: 0, hostname: "127.0.0.1" });
    const deadUrl = `http://127.0.0.1:${(closed.addr as Deno.NetAddr).port}/`;
    closed.close();
    const dead = await endpoint(env, t.secret_key, deadUrl, ["*"]);
    await endpoint(env, t.secret_key, rx.url, ["customer.created"]);
    for (let i = 0; i < 5; i++) {
      await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: `u${i}` } });
    }
    await Promise.all([
      drainWebhooksOnce(env.services, FAST),
      drainWebhooksOnce(env.services, FAST),
      drainWebhooksOnce(env.services, FAST),
    ]);
    assert.deepEqual(rx.received.map((r) => JSON.parse(r.body).data.external_id), [
      "u0",
      "u1",
      "u2",
      "u3",
      "u4",
    ]);
    const log = await call(env, "GET", `/v1/webhook-endpoints/${dead.id}/deliveries?status=pending`, {
      key: t.secret_key,
    });
    const head = log.body.data.at(-1);
    assert.equal(head.attempt_log[0].outcome, "network_error");
    assert.ok(
      log.body.data.slice(0, -1).every((d: { attempts: number }) => d.attempts === 0),
      "later messages wait behind the head",
    );
  } finally {
    await rx.close();
    await env.close();
  }
});

Deno.test("webhooks: a receiver answering 410 Gone disables its endpoint and is not retried", async () => {
  const env = await testEnv();
  const gone = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    () => new Response("gone", { status: 410 }),
  );
  try {
    const t = await tenant(env);
    const ep = await endpoint(env, t.secret_key, `http://127.0.0.1:${gone.addr.port}/`, ["customer.created"]);
    await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: "u1" } });
    await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: "u2" } });
    const report = await drainWebhooksOnce(env.services, FAST);
    assert.deepEqual(
      [report.attempted, report.exhausted],
      [1, 1],
      "one attempt, then nothing more is sent to it",
    );
    const got = await call(env, "GET", `/v1/webhook-endpoints/${ep.id}`, { key: t.secret_key });
    assert.equal(got.body.status, "disabled");
    const audit = await call(env, "GET", `/v1/audit-events?resource_id=${ep.id}`, { key: t.secret_key });
    assert.deepEqual(audit.body.data.map((a: { action: string; actor: string }) => [a.action, a.actor]), [
      ["webhook_endpoint.disabled", "system"],
      ["webhook_endpoint.created", audit.body.data[1].actor],
    ]);
    assert.equal((await drainWebhooksOnce(env.services, FAST)).attempted, 0);
  } finally {
    await gone.shutdown();
    await env.close();
  }
});

Deno.test("webhooks: the background worker delivers without being asked and stops cleanly", async () => {
  const env = await testEnv();
  const rx = receiver("ok");
  try {
    const t = await tenant(env);
    await endpoint(env, t.secret_key, rx.url, ["customer.created"]);
    const worker = startWebhookWorker(env.services, { ...FAST, intervalMs: 10 });
    await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: "bg" } });
    for (let i = 0; i < 200 && rx.received.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await worker.stop();
    assert.equal(rx.received.length, 1);
    assert.equal((await worker.drainNow()).attempted, 0, "a stopped worker does nothing");
  } finally {
    await rx.close();
    await env.close();
  }
});

Deno.test("webhook endpoints: secret shown once, idempotent creation, validation, tenancy, disable", async () => {
  const env = await testEnv();
  try {
    const t = await tenant(env);
    const other = await tenant(env);
    const body = { url: "https://example.com/hooks", events: ["invoice.*", "payment.succeeded"] };
    const created = await call(env, "POST", "/v1/webhook-endpoints", {
      key: t.secret_key,
      body,
      headers: { "idempotency-key": "ep-1" },
    });
    assert.equal(created.status, 201);
    const replay = await call(env, "POST", "/v1/webhook-endpoints", {
      key: t.secret_key,
      body,
      headers: { "idempotency-key": "ep-1" },
    });
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.body, created.body);
    const reused = await call(env, "POST", "/v1/webhook-endpoints", {
      key: t.secret_key,
      body: { ...body, events: ["*"] },
      headers: { "idempotency-key": "ep-1" },
    });
    assert.equal(reused.status, 409);
    assert.equal(reused.body.code, "idempotency_key_reused");

    const got = await call(env, "GET", `/v1/webhook-endpoints/${created.body.id}`, { key: t.secret_key });
    assert.equal(got.status, 200);
    assert.equal(got.body.secret, undefined);
    const list = await call(env, "GET", "/v1/webhook-endpoints", { key: t.secret_key });
    assert.equal(list.body.data.length, 1);
    assert.equal(list.body.data[0].secret, undefined);

    const bad = await call(env, "POST", "/v1/webhook-endpoints", {
      key: t.secret_key,
      body: { url: "ftp://x", events: ["Invoice Paid", "*"] },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, "validation_failed");
    assert.deepEqual(bad.body.fields.map((f: { path: string }) => f.path), ["url", "events.0"]);
    const creds = await call(env, "POST", "/v1/webhook-endpoints", {
      key: t.secret_key,
      body: { url: "https://u:p@example.com/", events: ["*"] },
    });
    assert.equal(creds.status, 400);

    const foreign = await call(env, "GET", `/v1/webhook-endpoints/${created.body.id}`, {
      key: other.secret_key,
    });
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.code, "webhook_endpoint_not_found");
    const pk = await call(env, "GET", "/v1/webhook-endpoints", { key: t.publishable_key });
    assert.equal(pk.status, 403);

    const disabled = await call(env, "DELETE", `/v1/webhook-endpoints/${created.body.id}`, {
      key: t.secret_key,
    });
    assert.equal(disabled.status, 200);
    assert.equal(disabled.body.status, "disabled");
    const audit = await call(env, "GET", "/v1/audit-events?resource_type=webhook_endpoint", {
      key: t.secret_key,
    });
    assert.deepEqual(audit.body.data.map((e: { action: string }) => e.action), [
      "webhook_endpoint.disabled",
      "webhook_endpoint.created",
    ]);
  } finally {
    await env.close();
  }
});

Deno.test("pruneWebhookHistory() deletes finished deliveries, their attempts and fanned-out messages past retention; pending ones stay", async () => {
  const env = await testEnv();
  const rx = receiver("ok");
  try {
    const t = await tenant(env);
    const ok = await endpoint(env, t.secret_key, rx.url, ["customer.created"]);
    for (const id of ["u1", "u2"]) {
      await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: id } });
    }
    await drainWebhooksOnce(env.services, FAST);
    rx.fallback = "fail";
    await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: "u3" } });
    await drainWebhooksOnce(env.services, FAST); // u3 stays pending (retrying)
    const auditBefore = await countRows(env, "audit_events");

    assert.deepEqual(await pruneWebhookHistory(env.services, { retentionMs: 30 * DAY }), {
      deliveries: 0,
      attempts: 0,
      outbox_messages: 0,
    });
    env.clock.advance(31 * DAY);
    const pruned = await pruneWebhookHistory(env.services, { retentionMs: 30 * DAY });
    assert.deepEqual(pruned, { deliveries: 2, attempts: 2, outbox_messages: 4 }); // tenant, endpoint, u1, u2 (u3 is pending)
    const left = await call(env, "GET", `/v1/webhook-endpoints/${ok.id}/deliveries`, { key: t.secret_key });
    assert.deepEqual(left.body.data.map((d: { status: string }) => d.status), ["pending"]);
    assert.equal(await countRows(env, "outbox_events"), 1, "the pending delivery's message is kept");
    assert.equal(await countRows(env, "audit_events"), auditBefore, "the audit trail is never pruned");
  } finally {
    await rx.close();
    await env.close();
  }
});

Deno.test("backoffDelayMs() doubles from the base, caps, and jitters within [½, 1] of the capped delay", () => {
  const o = { baseDelayMs: 5_000, maxDelayMs: 3_600_000 };
  assert.equal(backoffDelayMs(1, o, 0), 2_500);
  assert.equal(backoffDelayMs(1, o, 0.999999), 4_999);
  assert.equal(backoffDelayMs(2, o, 0), 5_000);
  assert.equal(backoffDelayMs(5, o, 0.5), 60_000);
  assert.equal(backoffDelayMs(30, o, 0), 1_800_000);
  assert.equal(backoffDelayMs(1_000, o, 1 - Number.EPSILON), 3_599_999);
  for (let attempt = 1; attempt <= 12; attempt++) {
    const cap = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1));
    for (const r of [0, 0.25, 0.5, 0.75, 0.9999]) {
      const d = backoffDelayMs(attempt, o, r);
      assert.ok(d >= cap / 2 && d <= cap, `attempt ${attempt} r ${r}: ${d}`);
    }
  }
});
