// deno-lint-ignore-file no-explicit-any -- JSON bodies and outbox rows are read untyped in this test code
/**
 * Advancing a test clock emits the time-based lifecycle events the wall-clock sweeper emits for
 * other customers (`subscription.trial_ending` 3 days before a trial ends, `subscription.expired`
 * at a fixed end), with the clock's simulated instant where the sweeper uses now, through the same
 * outbox, audit trail and webhooks, exactly once per due instant even when the advance is
 * retried (Stripe's test clocks fire the webhooks real time would).
 *
 * @module
 */
import assert from "node:assert/strict";
import { sweepTimedEvents } from "../../src/lifecycle/sweeper.ts";
import { call, tenant, TestClock, type TestEnv, testEnv } from "../helpers.ts";

const START = "2026-01-01T00:00:00Z";

async function setup(env: TestEnv) {
  const { secret_key: key } = await tenant(env);
  const api = async (method: string, path: string, body?: unknown, expected?: number) => {
    const res = await call(env, method, path, { key, body });
    if (expected !== undefined) {
      assert.equal(res.status, expected, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res;
  };
  for (const [planKey, trial] of [["trial", 14], ["plain", 0]] as const) {
    await api("POST", "/v1/plans", {
      key: planKey,
      name: planKey,
      currency: "USD",
      interval: "month",
      ...(trial ? { trial_days: trial } : {}),
      base_amount: 3000,
      features: [],
    }, 201);
  }
  return api;
}

/** Outbox rows of `types`, oldest first, as (type, occurred_at, data). */
async function outbox(env: TestEnv, types: string[]) {
  const rs = await env.database.client.execute({
    sql: `select type, resource_id, occurred_at, data from outbox_events where type in (${
      types.map(() => "?").join(", ")
    }) order by seq`,
    args: types,
  });
  return rs.rows.map((r) => ({
    type: String(r.type),
    resource_id: String(r.resource_id),
    occurred_at: new Date(Number(r.occurred_at)).toISOString(),
    data: JSON.parse(String(r.data)),
  }));
}

/** The event as the other customer would get it: ids of the subscription and customer left out. */
function shape(e: { type: string; occurred_at: string; data: any }) {
  const { id: _id, customer_id: _customer, ...data } = e.data;
  return { type: e.type, occurred_at: e.occurred_at, data };
}

const TIMED = ["subscription.trial_ending", "subscription.expired"];

Deno.test("test clock: an advance emits trial_ending and expired at the simulated instants, the same events the wall-clock sweeper emits, once each even when retried", async () => {
  const env = await testEnv({ clock: new TestClock(START) });
  try {
    const api = await setup(env);
    const clockId = (await api("POST", "/v1/test_clocks", { frozen_time: START }, 201)).body.id;
    // The same two subscriptions on the test clock and on the wall clock (both start at START).
    const subs: Record<string, string> = {};
    for (const [who, clock] of [["clock", clockId], ["wall", null]] as const) {
      await api("POST", "/v1/customers", {
        external_id: `${who}-ada`,
        ...(clock ? { test_clock: clock } : {}),
      }, 201);
      await api("POST", "/v1/customers", {
        external_id: `${who}-bob`,
        ...(clock ? { test_clock: clock } : {}),
      }, 201);
      subs[`${who}-ada`] = (await api("POST", "/v1/subscriptions", {
        customer_id: `${who}-ada`,
        plan_id: "trial",
      }, 201)).body.id;
      subs[`${who}-bob`] = (await api("POST", "/v1/subscriptions", {
        customer_id: `${who}-bob`,
        plan_id: "plain",
        end_at: "2026-02-10T00:00:00Z",
      }, 201)).body.id;
    }

    // The wall clock's sweeper at the instants it is due: 3 days before the trial end (01-15),
    // and at the fixed end; it never emits for the clock's customers.
    env.clock.set("2026-01-12T00:00:00Z");
    assert.deepEqual(await sweepTimedEvents(env.services), { trial_ending: 1, expired: 0 });
    env.clock.set("2026-02-10T00:00:00Z");
    assert.deepEqual(await sweepTimedEvents(env.services), { trial_ending: 0, expired: 1 });
    const wall = await outbox(env, TIMED);
    assert.deepEqual(wall.map((e) => e.resource_id), [subs["wall-ada"], subs["wall-bob"]]);

    // One advance over both instants: the clock stops at each and emits the same events there.
    const seen = env.events.length;
    await api("POST", `/v1/test_clocks/${clockId}/advance`, { frozen_time: "2026-03-01T00:00:00Z" }, 200);
    const clocked = (await outbox(env, TIMED)).slice(2);
    assert.deepEqual(clocked.map((e) => e.resource_id), [subs["clock-ada"], subs["clock-bob"]]);
    assert.deepEqual(clocked.map(shape), wall.map(shape), "same types, instants and data");
    assert.deepEqual(clocked.map((e) => e.occurred_at), [
      "2026-01-12T00:00:00.000Z",
      "2026-02-10T00:00:00.000Z",
    ]);
    assert.equal(clocked[0].data.trial_end, "2026-01-15T00:00:00.000Z");
    assert.equal(clocked[1].data.ended_at, "2026-02-10T00:00:00.000Z");
    // Dispatched after the commit (webhooks fan out from the outbox like every event).
    const dispatched = env.events.slice(seen).filter((e) => TIMED.includes(e.type));
    assert.deepEqual(dispatched.map((e) => e.resource_id), [subs["clock-ada"], subs["clock-bob"]]);
    // Audited, by the advance.
    const audit = await env.database.client.execute({
      sql:
        "select action, actor from audit_events where resource_id in (?, ?) and action like 'subscription.%' and action in ('subscription.trial_ending', 'subscription.expired') order by action",
      args: [subs["clock-ada"], subs["clock-bob"]],
    });
    assert.deepEqual(audit.rows.map((r) => [r.action, r.actor]), [
      ["subscription.expired", "test_clock"],
      ["subscription.trial_ending", "test_clock"],
    ]);
    // The invoices of the periods that ended on the way were generated at those instants too.
    const generated = (await outbox(env, ["invoice.generated"])).filter((e) =>
      e.data.subscription_id === subs["clock-ada"]
    );
    assert.deepEqual(generated.map((e) => e.occurred_at), [
      "2026-01-15T00:00:00.000Z",
      "2026-02-15T00:00:00.000Z",
    ]);

    // Retried (same instant), two concurrent retries, then further on: nothing emitted twice.
    await api("POST", `/v1/test_clocks/${clockId}/advance`, { frozen_time: "2026-03-01T00:00:00Z" }, 200);
    const both = await Promise.all(
      [1, 2].map(() =>
        call(env, "POST", `/v1/test_clocks/${clockId}/advance`, {
          body: { frozen_time: "2026-03-01T00:00:00Z" },
        })
      ),
    );
    assert.ok(both.every((r) => r.status !== 500));
    await api("POST", `/v1/test_clocks/${clockId}/advance`, { frozen_time: "2026-06-01T00:00:00Z" }, 200);
    env.clock.set("2026-06-01T00:00:00Z");
    await sweepTimedEvents(env.services);
    assert.equal((await outbox(env, TIMED)).length, 4, "each event once");
  } finally {
    await env.close();
  }
});

Deno.test("test clock: a trial ending within 3 days of the clock's start is announced at the first stop; 1000 subscriptions of one clock each get theirs once", async () => {
  const env = await testEnv({ clock: new TestClock("2031-07-04T09:00:00Z") });
  try {
    const api = await setup(env);
    const clockId = (await api("POST", "/v1/test_clocks", { frozen_time: START }, 201)).body.id;
    await api("POST", "/v1/plans", {
      key: "short",
      name: "Short trial",
      currency: "USD",
      interval: "month",
      trial_days: 2,
      base_amount: 3000,
      features: [],
    }, 201);
    const N = 1000;
    for (let i = 0; i < N; i++) {
      await api("POST", "/v1/customers", { external_id: `c${i}`, test_clock: clockId }, 201);
      await api("POST", "/v1/subscriptions", {
        customer_id: `c${i}`,
        plan_id: "short",
        end_at: "2026-01-20T00:00:00Z",
      }, 201);
    }
    await api("POST", `/v1/test_clocks/${clockId}/advance`, { frozen_time: "2026-01-02T00:00:00Z" }, 200);
    const first = await outbox(env, TIMED);
    assert.equal(first.length, N, "more than one sweep batch (500): every one emitted at the first stop");
    // The first stop after the clock's time (the plan's first grace instant or the target).
    const at = first[0].occurred_at;
    assert.ok(at > "2026-01-01T00:00:00.000Z" && at <= "2026-01-02T00:00:00.000Z", at);
    assert.ok(first.every((e) => e.type === "subscription.trial_ending" && e.occurred_at === at));
    await api("POST", `/v1/test_clocks/${clockId}/advance`, { frozen_time: "2026-02-01T00:00:00Z" }, 200);
    const all = await outbox(env, TIMED);
    assert.equal(all.length, 2 * N);
    assert.ok(
      all.slice(N).every((e) =>
        e.type === "subscription.expired" && e.occurred_at === "2026-01-20T00:00:00.000Z"
      ),
    );
    assert.equal(
      new Set(all.map((e) => `${e.type}:${e.resource_id}`)).size,
      2 * N,
      "once per subscription and kind",
    );
  } finally {
    await env.close();
  }
});
