/**
 * Reservations tied to idempotency keys (ADR 0009), against the real Redis (through the local
 * Upstash endpoint): a retry with the same key finds its own reservation (no double count, same
 * answer), a reservation whose database write failed is given back at once, and one whose write
 * never happened (the process was killed between Redis and the database) is given back by the
 * reconcile step, which keeps the units of every event that was stored. Two processes share the
 * database file and the Redis: this test process and `reservation_process.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  DEFAULT_RESERVATION_KEEP_MS,
  RedisLiveEntitlements,
} from "../../src/entitlements/live_store_redis.ts";
import { reconcileReservations } from "../../src/entitlements/reservations.ts";
import { existingHashes } from "../../src/usage/service.ts";
import { BillingError } from "../../src/domain/errors.ts";
import { decimalFromInteger } from "../../src/domain/decimal.ts";
import type { Scope } from "../../src/domain/scope.ts";
import { call, tenant, type TestEnv, testEnv } from "../helpers.ts";
import { acquireRedis, type LateProxy, startLateProxy, testPrefix, upstashFor } from "../redis_helpers.ts";
import type { Config } from "./reservation_process.ts";

const redis = await acquireRedis();
const LIMIT = 100;
const PROCESS = new URL("./reservation_process.ts", import.meta.url).pathname;

interface Answer {
  key: string;
  status: number;
  allowed: boolean;
  consumed: number;
}

function consume(env: TestEnv, key: string, idempotencyKey: string, units = 1) {
  return call(env, "POST", "/v1/entitlements/check", {
    key,
    body: { customer_id: "c1", feature: "calls", consume: units, idempotency_key: idempotencyKey },
  });
}

async function consumeAll(env: TestEnv, key: string, keys: string[]): Promise<Answer[]> {
  return await Promise.all(keys.map(async (k) => {
    const r = await consume(env, key, k);
    return { key: k, status: r.status, allowed: r.body.allowed === true, consumed: r.body.consumed ?? 0 };
  }));
}

const keysOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Units of `calls` stored (what invoices bill) and the distinct event ids. */
async function stored(env: TestEnv): Promise<{ units: number; events: number }> {
  const rs = await env.database.client.execute(
    "select coalesce(sum(value), 0) as n, count(distinct event_id) as e from usage_events where feature = 'calls'",
  );
  return { units: Number(rs.rows[0].n), events: Number(rs.rows[0].e) };
}

/** A tenant with plan `calls` (hard limit `limit`, default {@link LIMIT}) and subscribed customer `c1`. */
async function setUp(env: TestEnv, limit = LIMIT): Promise<{ k: string; scope: Scope; customerId: string }> {
  const t = await tenant(env);
  const k = t.secret_key;
  const plan = await call(env, "POST", "/v1/plans", {
    key: k,
    body: {
      key: "res",
      name: "Reservations",
      currency: "USD",
      interval: "month",
      base_amount: 1000,
      features: [{ key: "calls", type: "metered", limit, aggregation: "sum" }],
    },
  });
  assert.equal(plan.status, 201, JSON.stringify(plan.body));
  const customer = await call(env, "POST", "/v1/customers", { key: k, body: { external_id: "c1" } });
  assert.equal(customer.status, 201);
  const sub = await call(env, "POST", "/v1/subscriptions", {
    key: k,
    body: { customer_id: "c1", plan_id: plan.body.id },
  });
  assert.equal(sub.status, 201, JSON.stringify(sub.body));
  // A read builds the counter in Redis.
  const read = await call(env, "POST", "/v1/entitlements/check", {
    key: k,
    body: { customer_id: "c1", feature: "calls" },
  });
  assert.deepEqual([read.status, read.body.used], [200, 0]);
  return { k, scope: { tenantId: t.tenant_id, appId: t.app_id }, customerId: customer.body.id };
}

/** Raw commands to the local endpoint (reads of the counter, never through the store). */
function commander(url: string, token: string) {
  return (args: unknown[]) =>
    fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify(args),
    }).then((r) => r.json()).then((b) => b.result);
}

/** What a test of this file runs against: the real Redis through the local Upstash endpoint. */
interface RedisWorld {
  upstash: Awaited<ReturnType<typeof upstashFor>>;
  /** A proxy in front of the endpoint that can answer late or refuse (`startLateProxy`). */
  proxy: LateProxy;
  env: TestEnv;
  /** This test's Redis key prefix. */
  prefix: string;
  /** Raw commands to the endpoint (never through the store). */
  command: (args: unknown[]) => Promise<unknown>;
  /** The Redis live store the app under test uses (through the proxy with `viaProxy`). */
  live: RedisLiveEntitlements;
}

/** Runs `fn` in a fresh {@link RedisWorld} and tears it down after. */
async function inRedisWorld(
  name: string,
  options: { viaProxy?: boolean; timeoutMs?: number; retryAfterMs?: number },
  fn: (world: RedisWorld) => Promise<void>,
): Promise<void> {
  const upstash = await upstashFor(redis!);
  const proxy = startLateProxy(upstash.url, 1500);
  const env = await testEnv();
  const prefix = testPrefix(name);
  const live = new RedisLiveEntitlements({
    url: options.viaProxy ? proxy.url : upstash.url,
    token: upstash.token,
    prefix,
    timeoutMs: options.timeoutMs,
    retryAfterMs: options.retryAfterMs,
  });
  env.services.live = live;
  try {
    await fn({ upstash, proxy, env, prefix, command: commander(upstash.url, upstash.token), live });
  } finally {
    await proxy.stop();
    await upstash.stop();
    await env.close();
  }
}

/** Starts the second process; `run` resolves with its answers once it printed them. */
function secondProcess(config: Config) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--lock=deno.tools.lock", "--node-modules-dir=auto", "-A", PROCESS, JSON.stringify(config)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const output = (async () => {
    let text = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) text += chunk;
    return text;
  })();
  return {
    child,
    async answers(): Promise<Answer[]> {
      const [text, status] = await Promise.all([output, child.status]);
      assert.ok(status.success, `second process failed: ${text}`);
      const line = text.trim().split("\n").find((l) => l.includes('"answers"'));
      assert.ok(line, `second process printed no answers: ${text}`);
      return (JSON.parse(line) as { answers: Answer[] }).answers;
    },
  };
}

async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never happened: ${what}`);
}

Deno.test({
  name:
    "entitlements (redis): 200 concurrent consumes at a hard limit of 100 across two processes, one killed between Redis and its write → exactly 100; retried keys counted once; the killed process's units given back by the reconcile",
  ignore: redis === null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    inRedisWorld("reservations", {}, async ({ upstash, env, prefix, command, live }) => {
      const { k, scope } = await setUp(env);
      const [entry] = await command(["KEYS", `${prefix}*:e:*:calls`]) as string[];
      const used = async () => Number(await command(["HGET", entry, "used"]));
      const held = async () => Number(await command(["ZCARD", live.reservationSet(scope)]));
      const base: Omit<Config, "keys" | "mode"> = {
        dbUrl: env.url,
        redisUrl: upstash.url,
        token: upstash.token,
        prefix,
        now: env.clock.now().toISOString(),
        key: k,
      };

      // Process 2 reserves 30 units in Redis, then is killed before its database write.
      const doomed = secondProcess({ ...base, keys: keysOf("h", 30), mode: "hang" });
      await until("30 units reserved by the second process", async () => (await used()) === 30);
      doomed.child.kill("SIGKILL");
      await doomed.child.status;
      await doomed.child.stdout.cancel().catch(() => {});
      assert.deepEqual(await stored(env), { units: 0, events: 0 });

      // 200 concurrent consumptions of 1 unit, 100 per process: the 30 held units still count.
      const other = secondProcess({ ...base, keys: keysOf("q", 100), mode: "run" });
      const [mine, theirs] = await Promise.all([consumeAll(env, k, keysOf("p", 100)), other.answers()]);
      const first = [...mine, ...theirs];
      assert.ok(first.every((a) => a.status === 200), JSON.stringify(first.filter((a) => a.status !== 200)));
      assert.equal(first.filter((a) => a.allowed).length, 70);
      assert.deepEqual(await stored(env), { units: 70, events: 70 });
      assert.equal(await used(), 100);

      // The 70 stored reservations were confirmed by the requests that stored them: only the
      // killed process's 30 are still held, and the reconcile gives them back.
      await live.confirmed();
      assert.equal(await held(), 30, "only the killed process's reservations are held");
      const settled = await reconcileReservations(env.services, { graceMs: 0 });
      assert.deepEqual(settled, { kept: 0, released: 30, skipped_apps: 0 });
      assert.equal(await held(), 0);
      assert.equal(await used(), 70, "the counter equals the store again");
      // A second run finds nothing due.
      assert.deepEqual(await reconcileReservations(env.services, { graceMs: 0 }), {
        kept: 0,
        released: 0,
        skipped_apps: 0,
      });

      // 200 more at once: process 2 retries its 100 keys, this process sends 100 new ones.
      const allowedBefore = new Set(first.filter((a) => a.allowed).map((a) => a.key));
      const retry = secondProcess({ ...base, keys: keysOf("q", 100), mode: "run" });
      const [fresh, retried] = await Promise.all([consumeAll(env, k, keysOf("r", 100)), retry.answers()]);
      for (const a of retried.filter((a) => allowedBefore.has(a.key))) {
        assert.deepEqual([a.status, a.allowed, a.consumed], [200, true, 1], `replay of ${a.key}`);
      }
      const second = [...fresh, ...retried.filter((a) => !allowedBefore.has(a.key))];
      assert.equal(second.filter((a) => a.allowed).length, 30, "exactly the 30 units given back");
      const allowed = new Set([...allowedBefore, ...second.filter((a) => a.allowed).map((a) => a.key)]);
      assert.equal(allowed.size, LIMIT);
      assert.deepEqual(await stored(env), { units: LIMIT, events: LIMIT }, "every key stored once");
      assert.equal(await used(), LIMIT);
      await live.confirmed();
      assert.equal(await held(), 0, "every stored reservation confirmed");
      assert.deepEqual(await reconcileReservations(env.services, { graceMs: 0 }), {
        kept: 0,
        released: 0,
        skipped_apps: 0,
      });
      assert.equal(await used(), LIMIT, "the counter equals the store");
    }),
});

Deno.test({
  name:
    "entitlements (redis): a retry after a Redis timeout reuses its reservation (no double count), a failed database write gives its units back at once, 1000 lost reservations settle in bounded runs",
  ignore: redis === null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    inRedisWorld(
      "reservations-late",
      { viaProxy: true, timeoutMs: 1000, retryAfterMs: 20 },
      async ({ upstash, proxy, env, prefix, command, live }) => {
        const { k, scope, customerId } = await setUp(env);
        const [entry] = await command(["KEYS", `${prefix}*:e:*:calls`]) as string[];
        const used = async () => Number(await command(["HGET", entry, "used"]));

        // The database write fails after Redis reserved (a busy database): each of the 20
        // consumptions answers 503 and its reservation is given back before the answer.
        const write = env.database.write.bind(env.database);
        env.database.write = () =>
          Promise.reject(
            new BillingError("database_busy", "unavailable", "The database stayed locked; retry later"),
          );
        const failed = await consumeAll(env, k, keysOf("f", 20));
        env.database.write = write;
        assert.ok(failed.every((a) => a.status === 503), JSON.stringify(failed));
        assert.equal(await used(), 0, "units of failed writes returned");
        assert.deepEqual(await stored(env), { units: 0, events: 0 });

        // 50 consumptions whose Redis answers come too late: Redis reserved, the callers got 503.
        proxy.mode = "late";
        const late = await consumeAll(env, k, keysOf("t", 50));
        assert.ok(late.every((a) => a.status === 503), JSON.stringify(late));
        assert.equal(await used(), 50);
        proxy.mode = "pass";
        await new Promise((r) => setTimeout(r, 50)); // the circuit closes after retryAfterMs

        // Their 50 retries and 100 new keys at once: each retry finds its own reservation.
        const [retried, fresh] = await Promise.all([
          consumeAll(env, k, keysOf("t", 50)),
          consumeAll(env, k, keysOf("n", 100)),
        ]);
        for (const a of retried) assert.deepEqual([a.status, a.allowed, a.consumed], [200, true, 1], a.key);
        assert.equal(fresh.filter((a) => a.allowed).length, 50, "not 0: the retries did not reserve twice");
        assert.deepEqual(await stored(env), { units: LIMIT, events: LIMIT });
        assert.equal(await used(), LIMIT);

        // Another retry is a replay with the same answer; another payload under the key is 409.
        const again = await consume(env, k, "t0");
        assert.deepEqual([again.status, again.body.allowed, again.body.consumed], [200, true, 1]);
        const other = await consume(env, k, "t0", 2);
        assert.deepEqual([other.status, other.body.code], [409, "idempotency_key_reused"]);
        assert.equal(await used(), LIMIT);

        // Every reservation was stored and confirmed by its own request: the reconcile has nothing
        // left to settle and changes nothing.
        await live.confirmed();
        assert.equal(Number(await command(["ZCARD", live.reservationSet(scope)])), 0);
        assert.deepEqual(await reconcileReservations(env.services, { graceMs: 0 }), {
          kept: 0,
          released: 0,
          skipped_apps: 0,
        });
        assert.equal(await used(), LIMIT);
        const replay = await consume(env, k, "n0");
        assert.equal(replay.status, 200);
        assert.equal(await used(), LIMIT, "a retry after the reconcile still counts once");

        // A batch of 1000 reservations never written (unknown keys of a killed process) settles
        // in bounded runs: 500 per app and run.
        const direct = new RedisLiveEntitlements({ url: upstash.url, token: upstash.token, prefix });
        await command(["HSET", entry, "cap", "100000"]);
        for (let i = 0; i < 1000; i++) {
          const r = await direct.check(
            { scope, customerId, feature: "calls" },
            decimalFromInteger(1),
            env.clock.now().getTime(),
            `lost${i}`,
          );
          assert.equal(r.status, "ok");
        }
        assert.equal(await used(), LIMIT + 1000);
        const run1 = await reconcileReservations(env.services, { graceMs: 0 });
        const run2 = await reconcileReservations(env.services, { graceMs: 0 });
        assert.deepEqual([run1.released, run2.released], [500, 500]);
        assert.equal(await used(), LIMIT, "all 1000 given back");
      },
    ),
});

Deno.test({
  name:
    "entitlements (redis): 1000 consumptions leave no reservation held (each confirmed after its commit, no reconcile run) and their records expire within the keep window; a confirmation Redis refuses leaves the reservation to the reconcile",
  ignore: redis === null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    inRedisWorld("reservations-confirm", {}, async ({ upstash, proxy, env, prefix, command, live }) => {
      const { k, scope, customerId } = await setUp(env, 2000);
      const [entry] = await command(["KEYS", `${prefix}*:e:*:calls`]) as string[];
      const used = async () => Number(await command(["HGET", entry, "used"]));
      const held = async () => Number(await command(["ZCARD", live.reservationSet(scope)]));

      // 1000 consumptions, 100 in flight at a time (sustained load, as a busy app sends them).
      for (let round = 0; round < 10; round++) {
        const answers = await consumeAll(env, k, keysOf(`c${round}-`, 100));
        assert.ok(answers.every((a) => a.status === 200 && a.allowed), JSON.stringify(answers.slice(0, 3)));
      }
      assert.deepEqual(await stored(env), { units: 1000, events: 1000 });
      assert.equal(await used(), 1000);
      let scans = 0;
      const scan = live.redis.scan.bind(live.redis);
      live.redis.scan = ((...args: Parameters<typeof scan>) => {
        scans++;
        return scan(...args);
      }) as typeof live.redis.scan;
      await live.confirmed();
      assert.equal(await held(), 0, "no stored consumption is left held for the reconcile");
      for (const key of ["c0-0", "c5-50", "c9-99"]) {
        const record = live.reservationKey(scope, key);
        assert.equal(await command(["HGET", record, "st"]), "done", key);
        const ttl = Number(await command(["PTTL", record]));
        assert.ok(
          ttl > 0 && ttl <= DEFAULT_RESERVATION_KEEP_MS,
          `${key}: record expires within the keep window (${ttl} ms)`,
        );
      }
      assert.deepEqual(await reconcileReservations(env.services, { graceMs: 0 }), {
        kept: 0,
        released: 0,
        skipped_apps: 0,
      });
      assert.equal(scans, 0, "a database with a few apps visits their reservation sets by name, no SCAN");
      const replay = await consume(env, k, "c3-7");
      assert.deepEqual([replay.status, replay.body.allowed, replay.body.consumed], [200, true, 1]);
      assert.equal(await used(), 1000, "a retry of a confirmed consumption counts once");

      // Redis refuses a confirmation: it never throws, and the reservation stays held until the
      // reconcile settles it against the store (this one was never stored: its unit goes back).
      const reserved = await live.check(
        { scope, customerId, feature: "calls" },
        decimalFromInteger(1),
        env.clock.now().getTime(),
        "unconfirmed",
      );
      assert.equal(reserved.status, "ok");
      assert.equal(await used(), 1001);
      proxy.mode = "down";
      const refused = new RedisLiveEntitlements({
        url: proxy.url,
        token: upstash.token,
        prefix,
        retryAfterMs: 20,
      });
      refused.confirm({ scope, customerId, feature: "calls" }, "unconfirmed");
      await refused.confirmed();
      assert.equal(await held(), 1, "a refused confirmation leaves the reservation held");
      // Settled here through the keyspace scan (what a database with many apps does).
      assert.deepEqual(
        await live.reconcile(async (s, ids) => {
          assert.deepEqual([s, ids], [scope, ["unconfirmed"]]);
          return new Set((await existingHashes(s, env.database.db, ids)).keys());
        }, { graceMs: 0 }),
        { kept: 0, released: 1, skipped_apps: 0 },
      );
      assert.ok(scans > 0, "found by SCAN");
      assert.equal(await used(), 1000, "the counter equals the store");
    }),
});
