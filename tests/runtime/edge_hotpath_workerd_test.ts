/**
 * The Worker's edge hot path in real workerd (ADR 0009): entitlement checks and consumptions
 * answered by the stateless Worker against Upstash Redis (the local REST endpoint over the real
 * redis-server), usage reaching the tenant's store through the real queue, the object's answers
 * when Redis goes away, webhook deliveries started by the tenant object's alarm, and a reservation the
 * tenant object never stored given back by the cron's maintenance.
 *
 * @module
 */
import assert from "node:assert/strict";
import { apiPlanBody } from "../helpers.ts";
import { assertProblem, http, provision, type Target } from "../contract/contract.ts";
import { acquireRedis, type LateProxy, startLateProxy, testPrefix, upstashFor } from "../redis_helpers.ts";
import { startUpstashLocal, type UpstashLocal } from "../../src/dev/upstash_local.ts";
import { buildWorker, type RunningWorker, startWorker } from "../workerd.ts";
import { RedisLiveEntitlements } from "../../src/entitlements/live_store_redis.ts";
import { decimalFromInteger } from "../../src/domain/decimal.ts";

const ADMIN_TOKEN = "edge-admin-token-0123456789-abcdef";
/** Events per `POST /v1/events` batch (the API's largest). */
const EVENT_BATCH = 1000;

Deno.test({
  name: "Worker edge hot path (Redis) in workerd",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const redis = await acquireRedis();
    if (!redis) return;
    const upstash = await upstashFor(redis);
    const restarted: { current: UpstashLocal | null } = { current: null };
    const dir = await Deno.makeTempDir({ prefix: "worker-edge-" });
    try {
      const build = await buildWorker(`${dir}/dist`);
      const edgePrefix = testPrefix("edge");
      const worker = await startWorker(build, dir, {
        BILLING_ADMIN_TOKEN: ADMIN_TOKEN,
        LOG_LEVEL: "error",
        UPSTASH_REDIS_REST_URL: upstash.url,
        UPSTASH_REDIS_REST_TOKEN: upstash.token,
        REDIS_KEY_PREFIX: edgePrefix,
        WEBHOOK_ALLOW_PRIVATE_URLS: "true",
      });
      const target: Target = { url: worker.url, adminToken: ADMIN_TOKEN };
      try {
        await t.step(
          "200 parallel consume: 1 against a limit of 100: never past it (exactly 100 unless timed-out calls hold units), each allowed one stored once, no object call per warm check",
          () => parallelConsumption(target, worker),
        );
        await t.step(
          "a plan change followed at once by a check sees the new limit",
          () => planChange(target, worker),
        );
        await t.step(
          "a webhook delivery starts right after the commit, on the tenant object's alarm (no cron)",
          () => webhookOnAlarm(target),
        );
        await t.step(
          "a reservation tied to a key whose event the tenant object never stored is given back by the cron's maintenance (the object visits its own apps' reservations)",
          () => lostReservation(target, worker, upstash, edgePrefix),
        );
        await t.step(
          "Redis stopped mid-test: the tenant object answers, and never allows past the limit",
          () => redisStopped(target, upstash.stop),
        );
        await t.step(
          "Redis back: the refused consumptions retried with their keys take exactly what is left; the Worker answers again and denies past the limit",
          () =>
            redisBack(target, worker, async () => {
              restarted.current = await startUpstashLocal({
                port: upstash.port,
                token: upstash.token,
                redisUrl: redis.url,
              });
            }),
        );
      } finally {
        await worker.dispose();
      }
      // A second Worker whose Redis calls (the Worker's and the object's) pass through a proxy
      // that answers too late on demand: timeouts injected, not left to a loaded machine.
      const proxy = startLateProxy(upstash.url, 1500);
      const prefix = testPrefix("edge-late");
      const late = await startWorker(build, `${dir}/late`, {
        BILLING_ADMIN_TOKEN: ADMIN_TOKEN,
        LOG_LEVEL: "error",
        UPSTASH_REDIS_REST_URL: proxy.url,
        UPSTASH_REDIS_REST_TOKEN: upstash.token,
        REDIS_KEY_PREFIX: prefix,
      });
      try {
        await t.step(
          "Redis answering too late: consumptions fail closed (503), never allowed by the object's store past the consumptions still in the queue; retries with the same keys count once",
          () => lateRedis({ url: late.url, adminToken: ADMIN_TOKEN }, proxy, upstash, prefix),
        );
      } finally {
        await late.dispose();
        await proxy.stop();
      }
    } finally {
      await upstash.stop().catch(() => {});
      await restarted.current?.stop().catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

/** A tenant with one customer subscribed to a plan whose `calls` feature counts up to `limit`. */
async function meteredCustomer(target: Target, limit: number, external = "cara") {
  const name = `e${crypto.randomUUID().slice(0, 12)}`;
  const keys = await provision(target, name);
  const key = keys.secret_key;
  const plan = await http(target, "POST", "/v1/plans", {
    key,
    body: apiPlanBody({
      key: `calls-${limit}`,
      features: [{ key: "calls", type: "metered", limit, aggregation: "count" }],
    }),
  });
  assert.equal(plan.status, 201, JSON.stringify(plan.body));
  const customer = await http(target, "POST", "/v1/customers", { key, body: { external_id: external } });
  assert.equal(customer.status, 201, JSON.stringify(customer.body));
  const sub = await http(target, "POST", "/v1/subscriptions", {
    key,
    body: { customer_id: external, plan_id: plan.body.id },
  });
  assert.equal(sub.status, 201, JSON.stringify(sub.body));
  return {
    name,
    keys,
    key,
    plan: plan.body,
    subscription: sub.body,
    external,
    customerId: customer.body.id as string,
  };
}

/** Requests the tenant object served so far (its own counter, read directly). */
async function objectCalls(worker: RunningWorker, name: string): Promise<number> {
  const res = await worker.objectFetch("TENANTS", `tenant:${name}`, "/__internal/stats");
  return (await res.json()).calls;
}

async function check(target: Target, key: string, customer: string, body: Record<string, unknown> = {}) {
  const res = await http(target, "POST", "/v1/entitlements/check", {
    key,
    body: { customer_id: customer, feature: "calls", ...body },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** Stored usage of `calls` this month (the store behind the object, not Redis). */
async function stored(target: Target, key: string, customer: string): Promise<number> {
  const now = new Date();
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString();
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 1)).toISOString();
  const res = await http(
    target,
    "GET",
    `/v1/usage?customer_id=${customer}&feature=calls&from=${from}&to=${to}`,
    { key },
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.value;
}

async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function parallelConsumption(target: Target, worker: RunningWorker) {
  const { name, key, external } = await meteredCustomer(target, 100);
  // The first check loads the snapshot and builds the counter in the object; later ones are the Worker's.
  assert.equal((await check(target, key, external)).used, 0);
  const before = await objectCalls(worker, name);
  for (let i = 0; i < 20; i++) assert.equal((await check(target, key, external)).limit, 100);
  assert.equal(await objectCalls(worker, name), before, "warm checks never call the tenant object");

  // A client retries a 503 (Redis did not answer in time: consumptions fail closed) with its key.
  const consume = async (idempotencyKey: string) => {
    for (let attempt = 0;; attempt++) {
      const res = await http(target, "POST", "/v1/entitlements/check", {
        key,
        body: { customer_id: external, feature: "calls", consume: 1, idempotency_key: idempotencyKey },
      });
      if (res.status === 503 && res.body.code === "upstream_unavailable" && attempt < 100) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    }
  };
  const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => consume(`p-${i}`)));
  const allowed = answers.filter((a) => a.allowed);
  assert.ok(allowed.length <= 100, `never past the hard limit (${allowed.length} allowed)`);
  // The counter reached the limit. A Redis call that timed out after Redis ran it (on a loaded
  // machine) keeps its unit reserved: too high, never too low (ADR 0009, rule 3). On a quiet
  // machine nothing leaks and exactly 100 are allowed.
  assert.equal((await check(target, key, external)).used, 100);
  const leaked = 100 - allowed.length;
  console.log(
    `200 parallel consumptions: ${allowed.length} allowed, ${leaked} units held by timed-out calls`,
  );
  assert.ok(allowed.every((a) => a.consumed === 1));
  assert.ok(answers.filter((a) => !a.allowed).every((a) => a.consumed === 0 && a.reason === "limit_reached"));
  const duringConsumption = (await objectCalls(worker, name)) - before;
  console.log(
    `200 parallel consumptions: ${duringConsumption} tenant object calls (queue deliveries included)`,
  );

  await until(
    "the queue delivered every consumption",
    async () => (await stored(target, key, external)) === allowed.length,
  );
  assert.equal(
    (await check(target, key, external)).used,
    100,
    "the Redis counter holds the store and the leak",
  );

  // A retry of an allowed consumption is a replay: allowed, consumed again, nothing added.
  const retry = await check(target, key, external, { consume: 1, idempotency_key: allowedKey(answers) });
  assert.deepEqual([retry.allowed, retry.consumed, retry.used], [true, 1, 100]);
  const reused = await http(target, "POST", "/v1/entitlements/check", {
    key,
    body: { customer_id: external, feature: "calls", consume: 2, idempotency_key: allowedKey(answers) },
  });
  assert.deepEqual([reused.status, reused.body.code], [409, "idempotency_key_reused"]);

  // Events through the Worker are queued, stored once (redelivery-safe ids) and counted after the drain.
  const extra = await meteredCustomer(target, 10_000, "evan");
  const events = Array.from(
    { length: EVENT_BATCH },
    (_, i) => ({ id: `ev-${i}`, customer_id: "evan", feature: "calls" }),
  );
  const sent = await http(target, "POST", "/v1/events", { key: extra.key, body: { events } });
  assert.deepEqual([sent.status, sent.body.queued_events], [202, EVENT_BATCH], JSON.stringify(sent.body));
  const again = await http(target, "POST", "/v1/events", { key: extra.key, body: { events } });
  assert.equal(again.status, 202);
  await until(
    "the queue stored the batch",
    async () => (await stored(target, extra.key, "evan")) === EVENT_BATCH,
  );
  await until(
    "the counter caught up",
    async () => (await check(target, extra.key, "evan")).used === EVENT_BATCH,
  );
  assert.equal(await stored(target, extra.key, "evan"), EVENT_BATCH, "the batch sent twice is stored once");
}

function allowedKey(answers: { allowed: boolean }[]): string {
  return `p-${answers.findIndex((a) => a.allowed)}`;
}

async function planChange(target: Target, worker: RunningWorker) {
  const { name, key, external, subscription } = await meteredCustomer(target, 3, "pat");
  const bigger = await http(target, "POST", "/v1/plans", {
    key,
    body: apiPlanBody({
      key: "calls-50",
      base_amount: 9900,
      features: [{ key: "calls", type: "metered", limit: 50, aggregation: "count" }],
    }),
  });
  assert.equal(bigger.status, 201, JSON.stringify(bigger.body));
  assert.equal((await check(target, key, external)).limit, 3);
  assert.equal((await check(target, key, external)).limit, 3, "served from Redis");
  const changed = await http(target, "POST", `/v1/subscriptions/${subscription.id}/change`, {
    key,
    body: { plan_id: bigger.body.id, effective: "now", proration: "none" },
  });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  const callsBefore = await objectCalls(worker, name);
  assert.equal(
    (await check(target, key, external)).limit,
    50,
    "the first check after the 200 sees the new plan",
  );
  assert.equal(
    await objectCalls(worker, name),
    callsBefore,
    "published by the object: the Worker answered it",
  );

  // Consumptions in between run on the Worker; a downgrade below them denies at once.
  for (let i = 0; i < 5; i++) {
    assert.equal(
      (await check(target, key, external, { consume: 1, idempotency_key: `pc-${i}` })).allowed,
      true,
    );
  }
  const back = await http(target, "POST", `/v1/subscriptions/${subscription.id}/change`, {
    key,
    body: { plan_id: subscription.plan_id, effective: "now", proration: "none" },
  });
  assert.equal(back.status, 200, JSON.stringify(back.body));
  const denied = await check(target, key, external, { consume: 1, idempotency_key: "pc-after-downgrade" });
  assert.deepEqual([denied.allowed, denied.limit, denied.reason], [false, 3, "limit_reached"]);

  // Cancellation: the first check after the 200 finds no subscription.
  const canceled = await http(target, "POST", `/v1/subscriptions/${subscription.id}/cancel`, {
    key,
    body: { at_period_end: false },
  });
  assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
  const after = await check(target, key, external);
  assert.deepEqual([after.allowed, after.reason], [false, "no_active_subscription"]);
}

async function webhookOnAlarm(target: Target) {
  const arrivals: { at: number; type: string }[] = [];
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const body = await request.json();
    arrivals.push({ at: Date.now(), type: body.type });
    return new Response("ok");
  });
  try {
    const { secret_key: key } = await provision(target);
    const endpoint = await http(target, "POST", "/v1/webhook-endpoints", {
      key,
      body: { url: `http://127.0.0.1:${receiver.addr.port}/hook`, events: ["customer.*"] },
    });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    const created = await http(target, "POST", "/v1/customers", { key, body: { external_id: "wendy" } });
    assert.equal(created.status, 201);
    const committedAt = Date.now();
    // No cron fires in this workerd: only the object's alarm can deliver.
    await until("the delivery arrived", () => Promise.resolve(arrivals.length > 0));
    assert.equal(arrivals[0].type, "customer.created");
    console.log(`webhook delivered ${arrivals[0].at - committedAt} ms after the commit's answer (alarm)`);
  } finally {
    await receiver.shutdown();
  }
}

/** The tenant of the Redis outage steps (created while Redis is up). */
let outage: { name: string; key: string; external: string } | null = null;

async function redisStopped(target: Target, stopRedis: () => Promise<void>) {
  const { name, key, external } = await meteredCustomer(target, 5, "rhea");
  outage = { name, key, external };
  for (let i = 0; i < 2; i++) {
    assert.equal(
      (await check(target, key, external, { consume: 1, idempotency_key: `r-${i}` })).allowed,
      true,
    );
  }
  await until("the queue stored both", async () => (await stored(target, key, external)) === 2);
  await stopRedis();
  // Consumptions fail closed: the object's store does not hold what Redis reserved (ADR 0009).
  for (let i = 2; i < 8; i++) {
    const refused = await http(target, "POST", "/v1/entitlements/check", {
      key,
      body: { customer_id: external, feature: "calls", consume: 1, idempotency_key: `r-${i}` },
    });
    assertProblem(refused, 503, "upstream_unavailable");
  }
  const plain = await check(target, key, external);
  assert.deepEqual([plain.used, plain.remaining, plain.allowed], [2, 3, true], "reads answer from the store");
  assert.equal(await stored(target, key, external), 2);
  const retried = await check(target, key, external, { consume: 1, idempotency_key: "r-1" });
  assert.deepEqual(
    [retried.allowed, retried.consumed],
    [true, 1],
    "a retry of a stored one is still a replay",
  );
}

async function redisBack(target: Target, worker: RunningWorker, startRedis: () => Promise<void>) {
  assert.ok(outage, "runs after the outage step");
  const { name, key, external } = outage;
  await startRedis();
  // Nothing was consumed during the outage: Redis's counter (2) still equals the store. The refused
  // consumptions are retried with their keys: exactly the 3 units left are allowed.
  await until("consumptions are answered again", async () => {
    const res = await http(target, "POST", "/v1/entitlements/check", {
      key,
      body: { customer_id: external, feature: "calls", consume: 1, idempotency_key: "r-2" },
    });
    return res.status === 200;
  });
  const retries = [];
  for (let i = 3; i < 8; i++) {
    retries.push(await check(target, key, external, { consume: 1, idempotency_key: `r-${i}` }));
  }
  assert.deepEqual(retries.map((a) => a.allowed), [true, true, false, false, false]);
  await until("the queue stored them", async () => (await stored(target, key, external)) === 5);
  const denied = await check(target, key, external, { consume: 1, idempotency_key: "back-1" });
  assert.deepEqual([denied.allowed, denied.used], [false, 5]);
  // The Worker's circuit stays open for a moment after its last failure; then warm checks are its own again.
  await until("warm checks are the Worker's again", async () => {
    const before = await objectCalls(worker, name);
    assert.equal((await check(target, key, external)).used, 5);
    return (await objectCalls(worker, name)) === before;
  });
  const again = await check(target, key, external, { consume: 1, idempotency_key: "back-2" });
  assert.deepEqual([again.allowed, again.used], [false, 5], "denied by the Worker itself");
}

/** Runs one Redis command on the endpoint directly (not through the proxy). */
async function redisCommand(upstash: { url: string; token: string }, args: unknown[]): Promise<unknown> {
  const res = await fetch(upstash.url, {
    method: "POST",
    headers: { authorization: `Bearer ${upstash.token}` },
    body: JSON.stringify(args),
  });
  return (await res.json()).result;
}

async function lostReservation(
  target: Target,
  worker: RunningWorker,
  upstash: { url: string; token: string },
  prefix: string,
) {
  const { keys, key, external, customerId } = await meteredCustomer(target, 100, "lou");
  assert.equal((await check(target, key, external)).used, 0);
  for (let i = 0; i < 5; i++) {
    assert.equal(
      (await check(target, key, external, { consume: 1, idempotency_key: `kept-${i}` })).allowed,
      true,
    );
  }
  await until("the queue stored the 5", async () => (await stored(target, key, external)) === 5);

  // The tenant object reserved 1 unit under its key, then was evicted before its write: a
  // reservation held in Redis whose event no store has, made longer ago than the grace period.
  const scope = { tenantId: keys.tenant_id, appId: keys.app_id };
  const live = new RedisLiveEntitlements({ url: upstash.url, token: upstash.token, prefix });
  const reserved = await live.check(
    { scope, customerId, feature: "calls" },
    decimalFromInteger(1),
    Date.now(),
    "lost-in-object",
  );
  assert.deepEqual([reserved.status, reserved.status === "ok" && reserved.held], ["ok", "new"]);
  const [seconds] = await redisCommand(upstash, ["TIME"]) as string[];
  const longAgo = String(Number(seconds) * 1000 - 120_000);
  await redisCommand(upstash, ["ZADD", live.reservationSet(scope), longAgo, "lost-in-object"]);
  await redisCommand(upstash, ["HSET", live.reservationKey(scope, "lost-in-object"), "at", longAgo]);
  const entry = live.entryKey({ scope, customerId, feature: "calls" });
  assert.equal(Number(await redisCommand(upstash, ["HGET", entry, "used"])), 6);

  const run = await (await worker.handlers()).scheduled({ scheduledTime: new Date(), cron: "*/5 * * * *" });
  assert.equal(run.outcome, "ok", "every tenant object's maintenance succeeded");
  assert.equal(
    Number(await redisCommand(upstash, ["HGET", entry, "used"])),
    5,
    "the lost unit is given back",
  );
  assert.equal(Number(await redisCommand(upstash, ["ZCARD", live.reservationSet(scope)])), 0);
  assert.equal(
    Number(await redisCommand(upstash, ["EXISTS", live.reservationKey(scope, "lost-in-object")])),
    0,
  );
  assert.equal((await check(target, key, external)).used, 5, "the counter equals the store");
}

async function lateRedis(
  target: Target,
  proxy: LateProxy,
  upstash: { url: string; token: string },
  prefix: string,
) {
  const { key, external } = await meteredCustomer(target, 100, "lena");
  assert.equal((await check(target, key, external)).used, 0);
  const first = await Promise.all(
    Array.from(
      { length: 60 },
      (_, i) => check(target, key, external, { consume: 1, idempotency_key: `l-${i}` }),
    ),
  );
  assert.ok(first.every((a) => a.allowed));
  await until("the queue stored the 60", async () => (await stored(target, key, external)) === 60);
  // 40 more allowed at the edge and still in the usage queue: reserved in Redis, not in the store.
  const [entry] = await redisCommand(upstash, ["KEYS", `${prefix}*:e:*:calls`]) as string[];
  assert.ok(entry, "the counter lives in Redis");
  assert.equal(await redisCommand(upstash, ["HINCRBY", entry, "used", "40"]), 100);

  proxy.mode = "late";
  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      http(target, "POST", "/v1/entitlements/check", {
        key,
        body: { customer_id: external, feature: "calls", consume: 1, idempotency_key: `m-${i}` },
      })),
  );
  assert.equal(
    answers.filter((a) => a.status === 200 && a.body.allowed).length,
    0,
    "the store alone (60 of 100) would allow the 40 queued units a second time",
  );
  for (const a of answers) assertProblem(a, 503, "upstream_unavailable");
  assert.ok(proxy.lateCalls > 0, "Redis received calls whose answers came too late");
  const read = await check(target, key, external);
  assert.deepEqual([read.used, read.allowed], [60, true], "reads answer from the store");

  proxy.mode = "pass";
  // The same keys once Redis answers again (records left pending by the timeouts go to the object).
  let retried: { status: number; body: { allowed: boolean } }[] = [];
  await until("consumptions are answered again", async () => {
    retried = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        http(target, "POST", "/v1/entitlements/check", {
          key,
          body: { customer_id: external, feature: "calls", consume: 1, idempotency_key: `m-${i}` },
        })),
    );
    return retried.every((a) => a.status === 200);
  });
  assert.equal(retried.filter((a) => a.body.allowed).length, 0, "the hard limit is never overshot");
  assert.equal(await stored(target, key, external), 60, "nothing stored past the limit");
}
