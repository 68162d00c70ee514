/**
 * Dead letters of queued usage on libSQL: recorded once per queue message, counted in metrics,
 * listed newest first by `GET /v1/admin/dead_letters` with a cursor, admin token only.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Metrics } from "../../src/metrics/service.ts";
import { recordDeadLetter } from "../../src/usage/dead_letters.ts";
import { ADMIN_TOKEN, call, testEnv } from "../helpers.ts";

Deno.test("recordDeadLetter() keeps one row per message; the admin route pages through them newest first", async () => {
  const metrics = new Metrics();
  const env = await testEnv({ services: { metrics } });
  try {
    const letter = (i: number) => ({
      message_id: `msg-${i}`,
      reason: "rejected" as const,
      tenant_object: "tenant:acme",
      tenant_id: "ten_1",
      app_id: "app_1",
      key_id: "key_1",
      received_at: "2026-11-01T12:00:00.000Z",
      events: [{ id: `e-${i}`, customer_id: "nobody", feature: "api_calls" }],
      error: "1 events refused: customer_not_found ×1",
      refusals: [{ id: `e-${i}`, code: "customer_not_found", message: 'Customer "nobody" was not found' }],
      attempts: 1,
    });
    for (let i = 0; i < 5; i++) {
      env.clock.advance(1000);
      assert.equal(await recordDeadLetter(env.services, letter(i)), true);
    }
    assert.equal(await recordDeadLetter(env.services, letter(3)), false, "a redelivered message adds no row");
    assert.match(await metrics.render(), /billing_usage_dead_letters_total\{reason="rejected"\} 5/);

    const first = await call(env, "GET", "/v1/admin/dead_letters?limit=3", { key: ADMIN_TOKEN });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body.data.map((l: { message_id: string }) => l.message_id), [
      "msg-4",
      "msg-3",
      "msg-2",
    ]);
    assert.deepEqual(first.body.data[0].refusals, letter(4).refusals);
    assert.deepEqual(first.body.data[0].events, letter(4).events);
    const rest = await call(env, "GET", `/v1/admin/dead_letters?limit=3&cursor=${first.body.next_cursor}`, {
      key: ADMIN_TOKEN,
    });
    assert.deepEqual(rest.body.data.map((l: { message_id: string }) => l.message_id), ["msg-1", "msg-0"]);
    assert.equal(rest.body.next_cursor, null);
    const refused = await call(env, "GET", "/v1/admin/dead_letters", { key: "sk_not_admin" });
    assert.deepEqual([refused.status, refused.body.code], [401, "unauthorized"]);
    const bad = await call(env, "GET", "/v1/admin/dead_letters?limit=0", { key: ADMIN_TOKEN });
    assert.deepEqual([bad.status, bad.body.code], [400, "validation_failed"]);
  } finally {
    await env.close();
  }
});
