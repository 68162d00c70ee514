/**
 * The local Upstash endpoint (`src/dev/upstash_local.ts`) driven by the official `@upstash/redis`
 * client against a real redis-server: single commands, pipelines, transactions, base64 and plain
 * encodings, scripts (EVAL / EVALSHA / SCRIPT LOAD and the client's NOSCRIPT fallback), auth.
 */
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { acquireRedis, testPrefix, upstashFor } from "../redis_helpers.ts";

const redis = await acquireRedis();
const opts = { ignore: redis === null, sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "upstash local: single commands, binary-safe base64 and plain encodings, errors",
  opts,
  async () => {
    const local = await upstashFor(redis!);
    try {
      const p = testPrefix("upstash-single");
      const client = new Redis({ url: local.url, token: local.token, retry: false });
      assert.equal(await client.set(`${p}a`, "héllo wörld ✓"), "OK");
      assert.equal(await client.get(`${p}a`), "héllo wörld ✓");
      assert.equal(await client.incrby(`${p}n`, 41), 41);
      assert.equal(await client.incr(`${p}n`), 42);
      assert.equal(await client.get(`${p}missing`), null);
      await client.hset(`${p}h`, { x: "1", y: "two" });
      assert.deepEqual(await client.hgetall(`${p}h`), { x: 1, y: "two" }); // client deserializes JSON-looking values
      await client.rpush(`${p}l`, "a", "b", "c");
      assert.deepEqual(await client.lrange(`${p}l`, 0, -1), ["a", "b", "c"]);
      // a string that is itself valid base64 text survives the round trip
      await client.set(`${p}b64`, "T0s=");
      assert.equal(await client.get(`${p}b64`), "T0s=");
      // plain (utf-8) responses
      const plain = new Redis({ url: local.url, token: local.token, responseEncoding: false, retry: false });
      assert.equal(await plain.get(`${p}a`), "héllo wörld ✓");
      // a Redis error surfaces as the client's error, with Redis' message
      await assert.rejects(() => client.incr(`${p}a`), /not an integer/);
      await client.del(`${p}a`, `${p}n`, `${p}h`, `${p}l`, `${p}b64`);
    } finally {
      await local.stop();
    }
  },
);

Deno.test("upstash local: pipeline keeps per-command errors; multi-exec is atomic", opts, async () => {
  const local = await upstashFor(redis!);
  try {
    const p = testPrefix("upstash-pipe");
    const client = new Redis({
      url: local.url,
      token: local.token,
      retry: false,
      enableAutoPipelining: false,
    });
    const results = await client.pipeline().set(`${p}k`, "v").incr(`${p}c`).get(`${p}k`).exec();
    assert.deepEqual(results, ["OK", 1, "v"]);
    const kept = await client.pipeline().incr(`${p}k`).incr(`${p}c`).exec({ keepErrors: true });
    assert.match(String(kept[0].error), /not an integer/);
    assert.equal(kept[1].result, 2);
    const tx = await client.multi().incr(`${p}c`).incr(`${p}c`).get(`${p}c`).exec();
    assert.deepEqual(tx, [3, 4, 4]);
    // concurrent transactions never interleave: 50 × (INCR, INCR) always leaves even values between them
    const all = await Promise.all(
      Array.from({ length: 50 }, () => client.multi().incr(`${p}t`).incr(`${p}t`).exec()),
    );
    for (const [a, b] of all as number[][]) assert.equal(b, a + 1);
    assert.equal(await client.get(`${p}t`), 100);
    await client.del(`${p}k`, `${p}c`, `${p}t`);
  } finally {
    await local.stop();
  }
});

Deno.test("upstash local: EVAL, SCRIPT LOAD + EVALSHA, NOSCRIPT fallback of createScript", opts, async () => {
  const local = await upstashFor(redis!);
  try {
    const p = testPrefix("upstash-lua");
    const client = new Redis({ url: local.url, token: local.token, retry: false });
    const lua = "return {KEYS[1], ARGV[1], redis.call('INCRBY', KEYS[1], ARGV[1])}";
    assert.deepEqual(await client.eval(lua, [`${p}x`], ["5"]), [`${p}x`, 5, 5]);
    const sha = await client.scriptLoad(lua);
    assert.match(sha, /^[0-9a-f]{40}$/);
    assert.deepEqual(await client.evalsha(sha, [`${p}x`], ["2"]), [`${p}x`, 2, 7]);
    await assert.rejects(() => client.evalsha("0".repeat(40), [], []), /NOSCRIPT/);
    // a fresh script: EVALSHA answers NOSCRIPT, the client falls back to EVAL, then EVALSHA hits
    const fresh = client.createScript<number>(`return redis.call('INCRBY', KEYS[1], ARGV[1]) -- ${p}`);
    assert.equal(await fresh.exec([`${p}y`], ["3"]), 3);
    assert.equal(await fresh.evalsha([`${p}y`], ["3"]), 6);
    await client.del(`${p}x`, `${p}y`);
  } finally {
    await local.stop();
  }
});

Deno.test("upstash local: a wrong or missing token is 401; refused commands are errors", opts, async () => {
  const local = await upstashFor(redis!);
  try {
    const wrong = new Redis({ url: local.url, token: "nope", retry: false });
    await assert.rejects(() => wrong.get("x"), /Unauthorized/);
    const bare = await fetch(local.url, { method: "POST", body: JSON.stringify(["PING"]) });
    assert.equal(bare.status, 401);
    await bare.body?.cancel();
    const client = new Redis({ url: local.url, token: local.token, retry: false });
    await assert.rejects(() => client.exec(["SUBSCRIBE", "chan"]), /not supported/);
    const raw = await fetch(local.url, {
      method: "POST",
      headers: { authorization: `Bearer ${local.token}` },
      body: "not json",
    });
    assert.equal(raw.status, 400);
    assert.match((await raw.json()).error, /not valid JSON/);
  } finally {
    await local.stop();
  }
});
