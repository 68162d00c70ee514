/**
 * Real Redis for tests: the shared `127.0.0.1:6379` when it answers, else a `redis-server` this
 * test process starts on a free port. When neither is possible the suites that need Redis say so
 * loudly and are ignored — except under `CI`, where that is a failure (CI installs redis-server).
 *
 * Each suite uses its own key prefix, so parallel runs on the shared server never collide.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startUpstashLocal, type UpstashLocal } from "../src/dev/upstash_local.ts";
import { DatabaseOnlyEntitlements, MemoryLiveEntitlements } from "../src/entitlements/live_store.ts";
import { RedisLiveEntitlements } from "../src/entitlements/live_store_redis.ts";
import type { TestEnv } from "./helpers.ts";

/** A Redis server reachable over TCP. */
export interface TestRedis {
  url: string;
  port: number;
  /** Whether this process started it (only those may be stopped). */
  owned: boolean;
  /** Stops an owned server (no-op for the shared one). */
  stop(): Promise<void>;
}

/** Whether a Redis answers PING on `port` of 127.0.0.1. */
export async function redisAnswers(port: number): Promise<boolean> {
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buf = new Uint8Array(64);
    const timer = setTimeout(() => conn?.close(), 1000);
    const n = await conn.read(buf);
    clearTimeout(timer);
    return n !== null && new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG");
  } catch {
    return false;
  } finally {
    try {
      conn?.close();
    } catch { /* already closed */ }
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Whether a `redis-server` binary is installed. */
export async function redisServerInstalled(): Promise<boolean> {
  try {
    const out = await new Deno.Command("redis-server", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * Starts a private, non-persistent `redis-server` on `port` (a free one by default).
 *
 * @throws when the binary is missing or the server does not answer within 5 s
 */
export async function startRedisServer(port = freePort()): Promise<TestRedis> {
  const child = new Deno.Command("redis-server", {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--protected-mode",
      "no",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 100; i++) {
    if (await redisAnswers(port)) break;
    await new Promise((r) => setTimeout(r, 50));
    if (i === 99) {
      child.kill("SIGKILL");
      await child.status;
      throw new Error(`redis-server on port ${port} did not answer within 5 s`);
    }
  }
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    owned: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/** Why Redis is unavailable, or `null` when it is. */
let unavailable: string | null = null;
let shared: TestRedis | null = null;

/**
 * The Redis the suites use: the shared one on 6379, else one started here.
 * Returns `null` (after a loud warning) when none can be had outside CI.
 *
 * @throws under `CI` when no Redis can be had
 */
export async function acquireRedis(): Promise<TestRedis | null> {
  if (shared) return shared;
  if (await redisAnswers(6379)) {
    shared = { url: "redis://127.0.0.1:6379", port: 6379, owned: false, stop: () => Promise.resolve() };
    return shared;
  }
  if (await redisServerInstalled()) {
    shared = await startRedisServer();
    globalThis.addEventListener("unload", () => void shared?.stop());
    return shared;
  }
  unavailable = "no Redis answers on 127.0.0.1:6379 and redis-server is not installed";
  if (Deno.env.get("CI")) throw new Error(`Redis tests cannot run under CI: ${unavailable}`);
  console.warn(
    `\n!!! SKIPPING REDIS TESTS: ${unavailable}. Install redis-server (apt-get install -y redis-server). !!!\n`,
  );
  return null;
}

/** A unique key prefix per suite/test so parallel runs never collide. */
export function testPrefix(name: string): string {
  return `test:${name}:${crypto.randomUUID().slice(0, 8)}:`;
}

/** Starts the local Upstash endpoint in front of `redis` with a random token. */
export async function upstashFor(redis: TestRedis): Promise<UpstashLocal & { token: string }> {
  const token = `tok_${crypto.randomUUID()}`;
  const local = await startUpstashLocal({ port: 0, token, redisUrl: redis.url });
  return { ...local, token };
}

/** A fault-injecting proxy in front of an Upstash-compatible endpoint (see {@link startLateProxy}). */
export interface LateProxy {
  /** `http://127.0.0.1:<port>`: give it to the clients instead of the endpoint's URL. */
  url: string;
  /**
   * `pass`: forward and answer at once. `late`: forward (Redis runs the command) and answer only
   * after `lateMs`, after the client gave up: every call has an unknown outcome, as a timeout
   * under load has. `down`: answer 503 without forwarding.
   */
  mode: "pass" | "late" | "down";
  /** Calls forwarded in `late` mode so far (commands Redis ran whose answer came too late). */
  lateCalls: number;
  /** Stops serving (answers still held are released first). */
  stop(): Promise<void>;
}

/**
 * Starts a proxy that injects Redis timeouts deterministically (instead of relying on a loaded
 * machine): in `late` mode each request still reaches Redis, but its answer is held `lateMs`.
 *
 * @param upstream URL of the endpoint (e.g. from {@link upstashFor})
 * @param lateMs how long a `late` answer is held; make it longer than the client's timeout
 */
export function startLateProxy(upstream: string, lateMs: number): LateProxy {
  const held = new Set<Promise<void>>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    if (proxy.mode === "down") return new Response("down", { status: 503 });
    const url = new URL(request.url);
    const late = proxy.mode === "late";
    const answer = await fetch(upstream + url.pathname + url.search, {
      method: request.method,
      headers: request.headers,
      body: request.method === "GET" ? undefined : await request.arrayBuffer(),
    });
    const body = await answer.arrayBuffer();
    if (late) {
      proxy.lateCalls++;
      const wait = new Promise<void>((r) => setTimeout(r, lateMs));
      held.add(wait);
      await wait;
      held.delete(wait);
    }
    return new Response(body, { status: answer.status, headers: answer.headers });
  });
  const proxy: LateProxy = {
    url: `http://127.0.0.1:${server.addr.port}`,
    mode: "pass",
    lateCalls: 0,
    async stop() {
      await Promise.all(held);
      await server.shutdown();
    },
  };
  return proxy;
}

/** One live-entitlements store a test runs against: `attach` installs it and returns its teardown. */
export interface LiveStoreCase {
  /** Shown in the test name: `in-process`, `libSQL only` or `redis`. */
  name: string;
  /** True for `redis` when no Redis could be had. */
  ignore: boolean;
  /** Installs the store on `env.services.live`; the teardown stops what it started and checks it. */
  attach(env: TestEnv): Promise<() => Promise<void>>;
}

/**
 * The three live-entitlements stores (in-process, database only, Redis through a local Upstash
 * endpoint under a fresh `prefix`), for tests that must give the same answers on each. The Redis
 * case's teardown asserts `failures === 0` with `failureMessage`: every answer came from Redis.
 */
export function liveStoreCases(
  redis: TestRedis | null,
  prefix: string,
  failureMessage = "every answer came from Redis",
): LiveStoreCase[] {
  return [
    {
      name: "in-process",
      ignore: false,
      attach(env) {
        env.services.live = new MemoryLiveEntitlements();
        return Promise.resolve(() => Promise.resolve());
      },
    },
    {
      name: "libSQL only",
      ignore: false,
      attach(env) {
        env.services.live = new DatabaseOnlyEntitlements();
        return Promise.resolve(() => Promise.resolve());
      },
    },
    {
      name: "redis",
      ignore: redis === null,
      async attach(env) {
        const local = await upstashFor(redis!);
        const live = new RedisLiveEntitlements({
          url: local.url,
          token: local.token,
          prefix: testPrefix(prefix),
        });
        env.services.live = live;
        return async () => {
          await local.stop();
          assert.equal(live.failures, 0, failureMessage);
        };
      },
    },
  ];
}
