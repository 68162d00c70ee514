/**
 * Manual redelivery is audited like every other change: one `webhook_delivery.redelivered` row
 * (actor = the API key id, the request id, digests chained per delivery) committed in the same
 * transaction as the reset, so a failed audit write leaves the delivery untouched.
 */
import assert from "node:assert/strict";
import { payloadHash } from "../../src/domain/hash.ts";
import { drainWebhooksOnce, type WebhookWorkerOptions } from "../../src/webhooks/delivery.ts";
import { call, tenant, testEnv } from "../helpers.ts";

const answers: number[] = [];
const stub = (() => Promise.resolve(new Response("x", { status: answers.shift() ?? 500 }))) as typeof fetch;
const ONE_SHOT: WebhookWorkerOptions = { maxAttempts: 1, timeoutMs: 1_000, fetch: stub, random: () => 0.5 };

async function failedDelivery(env: Awaited<ReturnType<typeof testEnv>>, key: string) {
  const ep = await call(env, "POST", "/v1/webhook-endpoints", {
    key,
    body: { url: "https://hooks.example.com/in", events: ["customer.created"] },
  });
  assert.equal(ep.status, 201);
  await call(env, "POST", "/v1/customers", { key, body: { external_id: "c1" } });
  answers.push(500);
  const report = await drainWebhooksOnce(env.services, ONE_SHOT);
  assert.equal(report.exhausted, 1);
  const list = await call(env, "GET", `/v1/webhook-endpoints/${ep.body.id}/deliveries`, { key });
  const [delivery] = list.body.data;
  assert.equal(delivery.status, "failed");
  return { endpointId: ep.body.id as string, delivery };
}

Deno.test("redeliver writes one audit row with the key id and request id, chained per delivery", async () => {
  const env = await testEnv();
  try {
    const t = await tenant(env);
    const keyRow = await env.database.client.execute({
      sql: "select id from api_keys where app_id = ? and kind = 'secret'",
      args: [t.app_id],
    });
    const keyId = String(keyRow.rows[0].id);
    const { endpointId, delivery } = await failedDelivery(env, t.secret_key);
    const path = `/v1/webhook-endpoints/${endpointId}/deliveries/${delivery.id}/redeliver`;

    const first = await env.app.request(path, {
      method: "POST",
      headers: { authorization: `Bearer ${t.secret_key}`, "x-request-id": "req-redeliver-1" },
    });
    assert.equal(first.status, 202);
    assert.equal((await first.json()).status, "pending");
    const second = await env.app.request(path, {
      method: "POST",
      headers: { authorization: `Bearer ${t.secret_key}`, "x-request-id": "req-redeliver-2" },
    });
    assert.equal(second.status, 202);

    const res = await call(env, "GET", `/v1/audit-events?resource_id=${delivery.id}`, { key: t.secret_key });
    assert.equal(res.status, 200);
    const rows = res.body.data as {
      action: string;
      actor: string;
      request_id: string;
      resource_type: string;
      before_digest: string | null;
      after_digest: string;
      message_id: string;
    }[];
    assert.deepEqual(rows.map((r) => r.action), [
      "webhook_delivery.redelivered",
      "webhook_delivery.redelivered",
    ]);
    assert.deepEqual(rows.map((r) => r.request_id), [
      second.headers.get("x-request-id"),
      first.headers.get("x-request-id"),
    ]);
    assert.ok(rows.every((r) => !r.request_id.startsWith("req-redeliver")), "client ids are not trusted");
    assert.ok(rows.every((r) => r.actor === keyId && r.resource_type === "webhook_delivery"));
    const [later, earlier] = rows;
    assert.equal(earlier.before_digest, null);
    assert.equal(later.before_digest, earlier.after_digest);
    assert.equal(
      earlier.after_digest,
      await payloadHash({
        id: delivery.id,
        endpoint_id: endpointId,
        message_id: delivery.message_id,
        event_type: "customer.created",
        status: "pending",
        previous_status: "failed",
        previous_attempts: 1,
        next_attempt_at: env.clock.now().toISOString(),
      }),
    );
    // The row names its outbox message, written by the same transaction.
    const outbox = await env.database.client.execute({
      sql: "select type, resource_id from outbox_events where id = ?",
      args: [earlier.message_id],
    });
    assert.deepEqual([outbox.rows[0].type, outbox.rows[0].resource_id], [
      "webhook_delivery.redelivered",
      delivery.id,
    ]);
    // Filterable by action like any other change.
    const byAction = await call(env, "GET", "/v1/audit-events?action=webhook_delivery.redelivered", {
      key: t.secret_key,
    });
    assert.equal(byAction.body.data.length, 2);

    // A refused redelivery (unknown delivery) writes nothing.
    const missing = await call(
      env,
      "POST",
      `/v1/webhook-endpoints/${endpointId}/deliveries/wdl_01jd6000000000000000000000/redeliver`,
      { key: t.secret_key },
    );
    assert.equal(missing.status, 404);
    assert.equal(
      (await call(env, "GET", "/v1/audit-events?action=webhook_delivery.redelivered", { key: t.secret_key }))
        .body.data.length,
      2,
    );
  } finally {
    await env.close();
  }
});

Deno.test("redeliver: the reset and its audit row commit together (a failing audit insert leaves the delivery failed)", async () => {
  const env = await testEnv();
  try {
    const t = await tenant(env);
    const { endpointId, delivery } = await failedDelivery(env, t.secret_key);
    await env.database.client.execute(
      `create trigger refuse_redeliver_audit before insert on audit_events when new.action = 'webhook_delivery.redelivered'
       begin select raise(abort, 'audit unavailable'); end`,
    );
    const res = await call(
      env,
      "POST",
      `/v1/webhook-endpoints/${endpointId}/deliveries/${delivery.id}/redeliver`,
      { key: t.secret_key },
    );
    assert.equal(res.status, 500);
    const after = await call(env, "GET", `/v1/webhook-endpoints/${endpointId}/deliveries/${delivery.id}`, {
      key: t.secret_key,
    });
    assert.equal(after.body.status, "failed", "the reset rolled back with the audit row");
    assert.equal(after.body.attempts, 1);
    const outbox = await env.database.client.execute(
      "select count(*) as n from outbox_events where type = 'webhook_delivery.redelivered'",
    );
    assert.equal(Number(outbox.rows[0].n), 0);
  } finally {
    await env.close();
  }
});
