/**
 * A local endpoint that speaks the Upstash Redis REST protocol and forwards every command to a
 * real `redis-server` over TCP (through `ioredis`). It lets the official `@upstash/redis` client —
 * the one the worker uses on the edge — run against a Redis on this machine: `deno task upstash`.
 *
 * The protocol, as the `@upstash/redis` client speaks it:
 * - every request is `POST` with `Authorization: Bearer <token>` (401 otherwise);
 * - `POST /` with a JSON array `["SET", "key", "value"]` runs one command and answers
 *   `{"result": …}` (200) or `{"error": "ERR …"}` (400);
 * - `POST /pipeline` with an array of commands runs them in order (not atomically) and answers
 *   an array of `{"result"}` / `{"error"}` items, one per command;
 * - `POST /multi-exec` runs the commands as one `MULTI`/`EXEC` transaction; same answer shape,
 *   or `{"error"}` (400) when Redis aborts the whole transaction;
 * - with the header `Upstash-Encoding: base64` every string in a result (bulk and status
 *   replies, also inside arrays) is base64 of its bytes; integers and nulls stay JSON numbers
 *   and nulls. Without it, strings are UTF-8 text;
 * - arguments are JSON strings or numbers (numbers are sent as their decimal text).
 * `EVAL`, `EVALSHA` (with Redis' own `NOSCRIPT` error, which the client's script helper relies
 * on) and `SCRIPT LOAD` pass through, except that Upstash's own shebang flag `allow-key-locking`
 * (used by `@upstash/ratelimit`) is accepted and dropped before Redis sees the script.
 *
 * Commands that would tie up or change the state of the one shared connection (`MULTI`, `EXEC`,
 * `WATCH`, `SELECT`, `SUBSCRIBE`, blocking pops, `QUIT`, …) are refused with an error; use
 * `/multi-exec` for transactions.
 *
 * Configuration (env): `UPSTASH_LOCAL_PORT` (default 8079), `UPSTASH_LOCAL_TOKEN` (default
 * `local-upstash-token`), `REDIS_URL` (default `redis://127.0.0.1:6379`).
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Redis as IORedis } from "ioredis";

/** Options of {@link startUpstashLocal}. */
export interface UpstashLocalOptions {
  /** TCP port to listen on (0 = any free port). */
  port: number;
  /** Bearer token clients must send. */
  token: string;
  /** `redis://host:port[/db]` of the real Redis. */
  redisUrl: string;
  /** Host to bind (default 127.0.0.1). */
  hostname?: string;
}

/** A running endpoint. */
export interface UpstashLocal {
  /** `http://127.0.0.1:<port>`: the `url` to give `@upstash/redis`. */
  url: string;
  /** The bound TCP port. */
  port: number;
  /** Stops serving and closes the Redis connection. */
  stop(): Promise<void>;
}

/** Commands refused because they would change or block the shared connection. */
const REFUSED = new Set([
  "multi",
  "exec",
  "discard",
  "watch",
  "unwatch",
  "select",
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
  "monitor",
  "quit",
  "reset",
  "hello",
  "auth",
  "blpop",
  "brpop",
  "brpoplpush",
  "blmove",
  "bzpopmin",
  "bzpopmax",
  "blmpop",
  "bzmpop",
  "xread",
  "xreadgroup",
  "wait",
  "waitaof",
  "client",
  "sync",
  "psync",
  "shutdown",
]);

/** Largest number of commands in one pipeline or transaction (a limit on everything). */
export const MAX_COMMANDS_PER_REQUEST = 10_000;

type Reply = null | number | string | Uint8Array | Reply[] | Error;
type Json = null | number | string | Json[];

class ProtocolError extends Error {}

function toArgs(command: unknown): [string, string[]] {
  if (!Array.isArray(command) || command.length === 0) {
    throw new ProtocolError("ERR command must be a non-empty JSON array");
  }
  const parts = command.map((part) => {
    if (typeof part === "string") return part;
    if (typeof part === "number" && Number.isFinite(part)) return String(part);
    if (typeof part === "boolean") return part ? "1" : "0";
    throw new ProtocolError(`ERR unsupported argument ${JSON.stringify(part)}: use strings or numbers`);
  });
  const name = parts[0].toLowerCase();
  if (REFUSED.has(name)) throw new ProtocolError(`ERR command "${parts[0]}" is not supported over REST`);
  // Upper case on purpose: ioredis applies reply transformers (HGETALL → object, …) by the
  // lower-case name only, and the REST protocol wants Redis' raw reply.
  return [name.toUpperCase(), scripting(name, parts.slice(1))];
}

/**
 * Upstash accepts the script shebang flag `allow-key-locking` (lock only the keys in KEYS), which
 * open-source Redis rejects ("Unexpected flag in script shebang"); `@upstash/ratelimit` sets it.
 * The endpoint drops that flag before Redis sees the script and keeps the client's view of the
 * script's identity: `SCRIPT LOAD` answers the SHA1 of the script as sent, and `EVALSHA` with that
 * SHA1 runs the stored rewrite. Locking is moot here: Redis runs every script alone anyway.
 */
const UPSTASH_ONLY_FLAGS = new Set(["allow-key-locking"]);
/** SHA1 of a script as a client sent it → SHA1 of the script Redis stored (bounded). */
const scriptAliases = new Map<string, string>();
const MAX_SCRIPT_ALIASES = 10_000;

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

function withoutUpstashFlags(script: string): string {
  const match = script.match(/^#!lua[ \t]+flags=([^\s]*)(.*)(\r?\n|$)/);
  if (!match) return script;
  const flags = match[1].split(",").filter((f) => f && !UPSTASH_ONLY_FLAGS.has(f));
  const shebang = flags.length > 0 ? `#!lua flags=${flags.join(",")}${match[2]}` : `#!lua${match[2]}`;
  const rewritten = shebang + script.slice(match[0].length - match[3].length);
  if (rewritten !== script) {
    if (scriptAliases.size >= MAX_SCRIPT_ALIASES) scriptAliases.delete(scriptAliases.keys().next().value!);
    scriptAliases.set(sha1(script), sha1(rewritten));
  }
  return rewritten;
}

function scripting(name: string, args: string[]): string[] {
  if ((name === "eval" || name === "eval_ro") && args.length > 0) {
    return [withoutUpstashFlags(args[0]), ...args.slice(1)];
  }
  if ((name === "evalsha" || name === "evalsha_ro") && args.length > 0) {
    return [scriptAliases.get(args[0].toLowerCase()) ?? args[0], ...args.slice(1)];
  }
  if (name === "script" && args[0]?.toLowerCase() === "load" && args.length === 2) {
    return ["LOAD", withoutUpstashFlags(args[1])];
  }
  return args;
}

/** `SCRIPT LOAD` answers the SHA1 of the script as the client sent it (see {@link scripting}). */
function scriptLoadReply(command: unknown, reply: Reply): Reply {
  if (!Array.isArray(command) || command.length !== 3) return reply;
  if (String(command[0]).toLowerCase() !== "script" || String(command[1]).toLowerCase() !== "load") {
    return reply;
  }
  return reply instanceof Error ? reply : sha1(String(command[2]));
}

const utf8 = new TextDecoder();

function encodeReply(reply: Reply, base64: boolean): Json {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === "number") return reply;
  if (typeof reply === "bigint") return Number(reply);
  if (Array.isArray(reply)) return reply.map((r) => encodeReply(r, base64));
  if (reply instanceof Error) throw reply;
  const bytes = typeof reply === "string" ? new TextEncoder().encode(reply) : reply;
  if (!base64) return utf8.decode(bytes);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function item(reply: Reply, base64: boolean): { result: Json } | { error: string } {
  if (reply instanceof Error) return { error: reply.message };
  try {
    return { result: encodeReply(reply, base64) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/**
 * Starts the endpoint.
 *
 * Waits up to 2 s for the first Redis connection; while Redis is unreachable, requests answer
 * `{"error"}` with status 500 at once (nothing is queued) and the connection keeps retrying.
 *
 * @throws when the port cannot be bound
 * @example
 * const local = await startUpstashLocal({ port: 8079, token: "dev", redisUrl: "redis://127.0.0.1:6379" });
 * const redis = new Redis({ url: local.url, token: "dev" });
 */
export async function startUpstashLocal(options: UpstashLocalOptions): Promise<UpstashLocal> {
  const redis = new IORedis(options.redisUrl, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: (times: number) => Math.min(times * 100, 1000),
  });
  redis.on("error", () => {/* reported per request */});
  // Wait (briefly) for the first connection so the first requests do not fail; a Redis that is
  // down now is reported per request until it comes up.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const expected = `Bearer ${options.token}`;

  async function one(command: unknown, base64: boolean): Promise<Response> {
    const [name, args] = toArgs(command);
    try {
      const reply = scriptLoadReply(command, await redis.callBuffer(name, ...args) as Reply);
      return json(200, { result: encodeReply(reply, base64) });
    } catch (error) {
      return commandError(error);
    }
  }

  async function pipeline(commands: unknown, base64: boolean, atomic: boolean): Promise<Response> {
    if (!Array.isArray(commands) || commands.length === 0) {
      throw new ProtocolError("ERR body must be a non-empty array of commands");
    }
    if (commands.length > MAX_COMMANDS_PER_REQUEST) {
      throw new ProtocolError(`ERR at most ${MAX_COMMANDS_PER_REQUEST} commands per request`);
    }
    const parsed = commands.map(toArgs);
    const batch = atomic ? redis.multi() : redis.pipeline();
    for (const [name, args] of parsed) batch.callBuffer(name, ...args);
    let results: [Error | null, unknown][] | null;
    try {
      results = await batch.exec();
    } catch (error) {
      return commandError(error);
    }
    if (results === null) return json(400, { error: "EXECABORT Transaction discarded" });
    return json(
      200,
      results.map(([error, reply], i) => item(error ?? scriptLoadReply(commands[i], reply as Reply), base64)),
    );
  }

  const server = Deno.serve({
    port: options.port,
    hostname: options.hostname ?? "127.0.0.1",
    onListen: () => {},
  }, async (req) => {
    if (!sameSecret(req.headers.get("authorization") ?? "", expected)) {
      return json(401, { error: "Unauthorized" });
    }
    if (req.method !== "POST") return json(405, { error: "ERR use POST with a JSON body" });
    const base64 = req.headers.get("upstash-encoding")?.toLowerCase() === "base64";
    const path = new URL(req.url).pathname.replace(/\/+$/, "");
    try {
      const body = await req.json().catch(() => {
        throw new ProtocolError("ERR body is not valid JSON");
      });
      if (path === "") return await one(body, base64);
      if (path === "/pipeline") return await pipeline(body, base64, false);
      if (path === "/multi-exec") return await pipeline(body, base64, true);
      return json(404, { error: `ERR unknown path ${path}` });
    } catch (error) {
      if (error instanceof ProtocolError) return json(400, { error: error.message });
      return commandError(error);
    }
  });
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      await server.shutdown();
      redis.disconnect();
    },
  };
}

/** Constant-time comparison of the Authorization header with the expected one. */
function sameSecret(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Redis reply errors are the caller's (400); connection failures are ours (500). */
function commandError(error: unknown): Response {
  const message = (error as Error)?.message ?? String(error);
  const isReply = (error as Error)?.name === "ReplyError" ||
    /^[A-Z]+ /.test(message) && !/Connection|Stream isn't writeable/i.test(message);
  return json(isReply ? 400 : 500, { error: isReply ? message : `ERR Redis unavailable: ${message}` });
}

if (import.meta.main) {
  const env = Deno.env.toObject();
  const port = Number(env.UPSTASH_LOCAL_PORT ?? 8079);
  const token = env.UPSTASH_LOCAL_TOKEN ?? "local-upstash-token";
  const redisUrl = env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const local = await startUpstashLocal({ port, token, redisUrl });
  console.log(`Upstash-compatible REST endpoint on ${local.url} → ${redisUrl}`);
  console.log(`Use UPSTASH_REDIS_REST_URL=${local.url} UPSTASH_REDIS_REST_TOKEN=${token}`);
}
