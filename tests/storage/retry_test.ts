import assert from "node:assert/strict";
import { backoffDelayMs, retrying } from "../../src/storage/retry.ts";

Deno.test("retrying() retries what retryIf accepts, up to the attempt limit, and returns the first success", async () => {
  let calls = 0;
  const value = await retrying(() => {
    calls++;
    return calls < 4 ? Promise.reject(new Error("busy")) : Promise.resolve("done");
  }, { attempts: 5, firstDelayMs: 1, maxDelayMs: 2, retryIf: () => true });
  assert.equal(value, "done");
  assert.equal(calls, 4);
});

Deno.test("retrying() rethrows at once when retryIf refuses, and the last error when out of attempts", async () => {
  let calls = 0;
  const refused = new Error("not retryable");
  await assert.rejects(
    retrying(() => {
      calls++;
      return Promise.reject(refused);
    }, { attempts: 10, firstDelayMs: 1, maxDelayMs: 1, retryIf: (e) => e !== refused }),
    (e) => e === refused,
  );
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(
    retrying(() => Promise.reject(new Error(`attempt ${++calls}`)), {
      attempts: 3,
      firstDelayMs: 1,
      maxDelayMs: 1,
      retryIf: () => true,
    }),
    /attempt 3/,
  );
  assert.equal(calls, 3);
});

Deno.test("backoffDelayMs() doubles from the base, caps, and stays within [½, 1] of the capped delay", () => {
  const o = { baseDelayMs: 5_000, maxDelayMs: 3_600_000 };
  for (let attempt = 1; attempt <= 60; attempt++) {
    const cap = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.min(attempt - 1, 40));
    assert.equal(backoffDelayMs(attempt, o, 0), Math.floor(cap / 2));
    assert.ok(backoffDelayMs(attempt, o, 0.999999) <= cap);
  }
});
