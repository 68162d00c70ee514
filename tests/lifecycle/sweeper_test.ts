/**
 * Time-based lifecycle events: `subscription.trial_ending` 3 days before a trial ends and
 * `subscription.expired` when a fixed end passes, each exactly once, through the outbox.
 */
import assert from "node:assert/strict";
import { sweepTimedEvents } from "../../src/lifecycle/sweeper.ts";
import { readOutbox } from "../../src/lifecycle/outbox.ts";
import { apiPlanBody, call, tenant, testEnv } from "../helpers.ts";

const DAY = 24 * 3_600_000;

Deno.test("sweepTimedEvents() emits trial_ending once, 3 days before the trial ends, and expired once after a fixed end", async () => {
  const env = await testEnv();
  try {
    const t = await tenant(env);
    const key = t.secret_key;
    const plan = await call(env, "POST", "/v1/plans", { key, body: apiPlanBody({ trial_days: 14 }) });
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "trial" } });
    await call(env, "POST", "/v1/customers", { key, body: { external_id: "fixed" } });
    const trial = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "trial", plan_id: plan.body.id },
    });
    const fixed = await call(env, "POST", "/v1/subscriptions", {
      key,
      body: { customer_id: "fixed", plan_id: plan.body.id },
    });
    assert.equal(trial.status, 201);
    // A fixed end (cancel_at without a client cancellation) 20 days out.
    await env.database.client.execute({
      sql: "update subscriptions set cancel_at = ? where id = ?",
      args: [env.clock.now().getTime() + 20 * DAY, fixed.body.id],
    });

    assert.deepEqual(await sweepTimedEvents(env.services), { trial_ending: 0, expired: 0 });
    env.clock.advance(11 * DAY - 1);
    assert.deepEqual(
      await sweepTimedEvents(env.services),
      { trial_ending: 0, expired: 0 },
      "not yet within 3 days",
    );
    env.clock.advance(1);
    assert.deepEqual(await sweepTimedEvents(env.services), { trial_ending: 2, expired: 0 });
    assert.deepEqual(await sweepTimedEvents(env.services), { trial_ending: 0, expired: 0 }, "once only");
    env.clock.advance(9 * DAY);
    assert.deepEqual(await sweepTimedEvents(env.services), { trial_ending: 0, expired: 1 });
    assert.deepEqual(await sweepTimedEvents(env.services), { trial_ending: 0, expired: 0 });

    const outbox = await readOutbox(env.database.db, { tenantId: t.tenant_id, appId: t.app_id });
    const timed = outbox.filter((m) =>
      m.type === "subscription.trial_ending" || m.type === "subscription.expired"
    );
    assert.deepEqual(timed.map((m) => [m.type, m.resource_id]), [
      ["subscription.trial_ending", trial.body.id],
      ["subscription.trial_ending", fixed.body.id],
      ["subscription.expired", fixed.body.id],
    ]);
    assert.equal(timed[0].data.trial_end, trial.body.trial_end);
    const status = await call(env, "GET", `/v1/subscriptions/${fixed.body.id}`, { key });
    assert.equal(status.body.status, "expired");
    const audit = await call(env, "GET", `/v1/audit-events?resource_id=${fixed.body.id}&actor=system`, {
      key,
    });
    assert.deepEqual(audit.body.data.map((a: { action: string }) => a.action), [
      "subscription.expired",
      "subscription.trial_ending",
    ]);
    assert.ok(
      env.events.some((e) => e.type === "subscription.expired"),
      "dispatched in-process after commit",
    );
  } finally {
    await env.close();
  }
});
