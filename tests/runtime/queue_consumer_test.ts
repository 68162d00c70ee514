/**
 * The Worker's usage queue consumer (`handlers.ts` `queue()`) against fake tenant objects: a
 * failing group is split per message, a message that keeps failing is recorded as a dead letter
 * (never acked unrecorded), and nothing valid is retried into the dead-letter queue.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createWorker, RECORD_DEAD_LETTER_AFTER_ATTEMPTS } from "../../src/runtime/cloudflare/handlers.ts";
import type { UsageMessageEnvelope, UsageMessageResult } from "../../src/runtime/cloudflare/tenant_object.ts";
import type { Env, Message, UsageMessage } from "../../src/runtime/cloudflare/types.ts";
import type { DeadLetterInput } from "../../src/usage/dead_letters.ts";

/** A message whose ack/retry calls are recorded. */
function message(id: string, body: unknown, attempts = 1) {
  const seen = { acked: false, retried: false };
  const m: Message<UsageMessage> = {
    id,
    timestamp: new Date(),
    attempts,
    body: body as UsageMessage,
    ack: () => void (seen.acked = true),
    retry: () => void (seen.retried = true),
  };
  return { m, seen };
}

function usage(tenant: string, events: unknown[]): UsageMessage {
  return {
    v: 1,
    tenant_object: tenant,
    scope: { tenantId: "ten_1", appId: "app_1" },
    key_id: "key_1",
    received_at: new Date().toISOString(),
    events,
  };
}

/**
 * Fake objects: `tenant:*` appends unless an envelope's events contain `{ id: "poison" }`, in
 * which case the whole call fails (as an exception in the object would); `public` stores dead
 * letters unless `refuseLetters`.
 */
function fakeEnv(options: { refuseLetters?: boolean } = {}) {
  const calls: { object: string; ids: string[] }[] = [];
  const letters: DeadLetterInput[] = [];
  const env = {
    LOG_LEVEL: "silent",
    BILLING_ADMIN_TOKEN: "x".repeat(32),
    TENANTS: {
      idFromName: (name: string) => ({ name, toString: () => name }),
      get: (id: { name: string }) => ({
        fetch(input: string, init?: RequestInit): Promise<Response> | Response {
          const path = new URL(input).pathname;
          if (path.endsWith("/dead_letters")) {
            if (options.refuseLetters) return new Response("down", { status: 503 });
            letters.push(...JSON.parse(String(init?.body)));
            return new Response(null, { status: 204 });
          }
          const envelopes = JSON.parse(String(init?.body)) as UsageMessageEnvelope[];
          calls.push({ object: id.name, ids: envelopes.map((e) => e.id) });
          if (envelopes.some((e) => e.body.events.some((ev) => (ev as { id: string }).id === "poison"))) {
            return new Response("Error: too many SQL variables", { status: 500 });
          }
          return Response.json(
            envelopes.map((e): UsageMessageResult => ({ id: e.id, outcome: "done", accepted: 1 })),
          );
        },
      }),
    },
  } as unknown as Env;
  return { env, calls, letters };
}

const ok = [{ id: "e1", customer_id: "c", feature: "f" }];
const poison = [{ id: "poison", customer_id: "c", feature: "f" }];

Deno.test("queue(): a failing group is appended message by message; only the failing one is retried", async () => {
  const { env, calls, letters } = fakeEnv();
  const a = message("a", usage("tenant:t", ok));
  const bad = message("bad", usage("tenant:t", poison));
  const b = message("b", usage("tenant:t", ok));
  await createWorker().queue({ queue: "billing-usage", messages: [a.m, bad.m, b.m] }, env);
  assert.deepEqual(calls.map((c) => c.ids), [["a", "bad", "b"], ["a"], ["bad"], ["b"]]);
  assert.deepEqual([a.seen, b.seen], [{ acked: true, retried: false }, { acked: true, retried: false }]);
  assert.deepEqual(bad.seen, { acked: false, retried: true });
  assert.deepEqual(letters, []);
});

Deno.test("queue(): a message still failing at its last attempts is recorded as a dead letter and acked", async () => {
  const { env, letters } = fakeEnv();
  const bad = message("bad", usage("tenant:t", poison), RECORD_DEAD_LETTER_AFTER_ATTEMPTS);
  const malformed = message("nobody", { v: 1, events: ok });
  await createWorker().queue({ queue: "billing-usage", messages: [bad.m, malformed.m] }, env);
  assert.deepEqual([bad.seen, malformed.seen], [{ acked: true, retried: false }, {
    acked: true,
    retried: false,
  }]);
  assert.deepEqual(
    letters.map((l) => [l.message_id, l.reason, l.tenant_object, l.events.length, l.attempts]),
    [["nobody", "malformed", null, 1, 1], [
      "bad",
      "failed",
      "tenant:t",
      1,
      RECORD_DEAD_LETTER_AFTER_ATTEMPTS,
    ]],
  );
  assert.match(letters[1].error, /too many SQL variables/);
});

Deno.test("queue(): when the dead letter cannot be recorded the message is retried, not acked", async () => {
  const { env } = fakeEnv({ refuseLetters: true });
  const bad = message("bad", usage("tenant:t", poison), RECORD_DEAD_LETTER_AFTER_ATTEMPTS + 1);
  await createWorker().queue({ queue: "billing-usage", messages: [bad.m] }, env);
  assert.deepEqual(bad.seen, { acked: false, retried: true });
});
