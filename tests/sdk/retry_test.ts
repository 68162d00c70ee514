/**
 * The server client's retries: one Idempotency-Key per creating call, reused by every retry;
 * network errors, timeouts, 429 and 5xx retried with backoff (Retry-After honoured); 4xx and the
 * caller's own abort never retried. Waits are recorded through the injected `sleep`, not timed.
 */
import assert from "node:assert/strict";
import { BillingApiError, createServerClient, unwrap } from "../../sdk/src/server.ts";
import { backoffMs, retryAfterMs, retryingFetch } from "../../sdk/src/retry.ts";
import { seedTenant, startSdkServer } from "./helpers.ts";

const PLAN = { key: "retry", name: "Retry", currency: "USD", interval: "month" } as const;

/** Waits for the request's signal to abort (the SDK's per-attempt timeout), then rejects like fetch does. */
function untilAborted(request: Request): Promise<never> {
  return new Promise((_, reject) => {
    if (request.signal.aborted) reject(request.signal.reason);
    request.signal.addEventListener("abort", () => reject(request.signal.reason), { once: true });
  });
}

Deno.test("a creating request whose answer is lost to the timeout is retried once with the same Idempotency-Key and creates once", async () => {
  const server = await startSdkServer();
  try {
    const t = await seedTenant(server.base);
    const seen: { key: string | null; status: number | "lost"; replayed?: string | null }[] = [];
    const waits: number[] = [];
    const billing = createServerClient({
      baseUrl: server.base,
      secretKey: t.secretKey,
      retry: { maxRetries: 1, timeoutMs: 1000, sleep: (ms) => (waits.push(ms), Promise.resolve()) },
      fetch: async (request) => {
        const key = request.headers.get("idempotency-key");
        // The server receives and applies the request; its answer never reaches the client.
        const response = await fetch(request.clone(), { signal: undefined });
        if (seen.length === 0) {
          seen.push({ key, status: "lost" });
          await response.body?.cancel();
          return await untilAborted(request);
        }
        seen.push({ key, status: response.status, replayed: response.headers.get("idempotent-replayed") });
        return response;
      },
    });
    const plan = await unwrap(billing.POST("/v1/plans", { body: PLAN }));
    assert.equal(seen.length, 2, "one retry");
    assert.match(seen[0].key ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(seen[1].key, seen[0].key, "the retry reuses the generated key");
    // Stripe semantics of the Idempotency-Key header: the replay carries the first answer's status
    // (201) and says it is a replay.
    assert.equal(seen[1].status, 201, "the retry gets the first request's answer");
    assert.equal(seen[1].replayed, "true", "the retry is answered as a replay of the first request");
    assert.equal(waits.length, 1);

    const all = await unwrap(billing.GET("/v1/plans"));
    assert.deepEqual(all.data.filter((p) => p.key === "retry").map((p) => p.id), [plan.id], "created once");
  } finally {
    await server.stop();
  }
});

Deno.test("a timed-out webhook endpoint creation (a route keyed by the Idempotency-Key header) retried once creates one endpoint with one secret", async () => {
  const server = await startSdkServer();
  try {
    const t = await seedTenant(server.base);
    const answers: { key: string | null; body: unknown }[] = [];
    const billing = createServerClient({
      baseUrl: server.base,
      secretKey: t.secretKey,
      retry: { maxRetries: 1, timeoutMs: 1000, sleep: () => Promise.resolve() },
      fetch: async (request) => {
        const response = await fetch(request.clone(), { signal: undefined });
        answers.push({ key: request.headers.get("idempotency-key"), body: await response.clone().json() });
        if (answers.length === 1) {
          await response.body?.cancel();
          return await untilAborted(request); // the first answer (with the secret) is lost
        }
        return response;
      },
    });
    const endpoint = await unwrap(billing.POST("/v1/webhook-endpoints", {
      body: { url: "https://example.com/billing-hooks", events: ["invoice.*"] },
    }));
    assert.equal(answers.length, 2);
    assert.equal(answers[1].key, answers[0].key);
    assert.deepEqual(answers[1].body, answers[0].body, "the retry gets the first creation's answer");
    assert.match(endpoint.secret, /^whsec_/);
    const listed = await unwrap(billing.GET("/v1/webhook-endpoints"));
    assert.deepEqual(listed.data.map((e) => e.id), [endpoint.id], "one endpoint");
  } finally {
    await server.stop();
  }
});

/** A scripted transport: answers (or throws) in order, recording each request's key. */
function scripted(script: (Response | Error)[]) {
  const keys: (string | null)[] = [];
  return {
    keys,
    fetch: (request: Request): Promise<Response> => {
      keys.push(request.headers.get("idempotency-key"));
      const next = script.shift();
      if (!next) throw new Error("script exhausted");
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
  };
}

const problem = (status: number, code: string, headers: Record<string, string> = {}) =>
  new Response(
    JSON.stringify({ type: `/problems/${code}`, title: "x", status, detail: code, code, request_id: "r" }),
    {
      status,
      headers: { "content-type": "application/problem+json", ...headers },
    },
  );
const created = () =>
  new Response(JSON.stringify({ id: "pln_1" }), {
    status: 201,
    headers: { "content-type": "application/json" },
  });

Deno.test("network error, 503 with Retry-After and 429 are retried with one key; waits follow Retry-After, else backoff", async () => {
  const transport = scripted([
    new TypeError("connection reset"),
    problem(503, "database_busy", { "retry-after": "2" }),
    problem(429, "rate_limited"),
    created(),
  ]);
  const waits: number[] = [];
  const billing = createServerClient({
    baseUrl: "http://billing.test",
    secretKey: "sk_test",
    fetch: transport.fetch,
    retry: { maxRetries: 3, random: () => 1, sleep: (ms) => (waits.push(ms), Promise.resolve()) },
  });
  const plan = await unwrap(billing.POST("/v1/plans", { body: PLAN }));
  assert.equal(plan.id, "pln_1");
  assert.equal(new Set(transport.keys).size, 1, "every attempt carries the same key");
  assert.equal(transport.keys.length, 4);
  // backoff 500·2^0 (jitter at its top), Retry-After 2 s, backoff 500·2^2
  assert.deepEqual(waits, [500, 2000, 2000]);
});

Deno.test("4xx answers are not retried; the caller's key is kept; retries run out on the last 5xx", async () => {
  const conflict = scripted([problem(409, "plan_key_exists")]);
  const billing = createServerClient({
    baseUrl: "http://billing.test",
    secretKey: "sk_test",
    fetch: conflict.fetch,
    retry: { sleep: () => Promise.resolve() },
  });
  await assert.rejects(
    unwrap(billing.POST("/v1/plans", { body: PLAN, headers: { "Idempotency-Key": "mine-1" } })),
    (e: unknown) => e instanceof BillingApiError && e.code === "plan_key_exists",
  );
  assert.deepEqual(conflict.keys, ["mine-1"]);

  const down = scripted([problem(500, "internal_error"), problem(502, "bad_gateway"), problem(503, "x")]);
  const client = createServerClient({
    baseUrl: "http://billing.test",
    secretKey: "sk_test",
    fetch: down.fetch,
    retry: { maxRetries: 2, sleep: () => Promise.resolve() },
  });
  await assert.rejects(
    unwrap(client.GET("/v1/plans")),
    (e: unknown) => e instanceof BillingApiError && e.status === 503 && e.retryable,
  );
  assert.deepEqual(down.keys, [null, null, null], "GETs carry no key and are retried too");
});

Deno.test("every attempt timing out ends in network_error naming the timeout; the caller's own abort is not retried", async () => {
  let attempts = 0;
  const slow = createServerClient({
    baseUrl: "http://billing.test",
    secretKey: "sk_test",
    fetch: (request) => (attempts++, untilAborted(request)),
    retry: { maxRetries: 1, timeoutMs: 50, sleep: () => Promise.resolve() },
  });
  await assert.rejects(
    unwrap(slow.POST("/v1/plans", { body: PLAN })),
    (e: unknown) => e instanceof BillingApiError && e.code === "network_error" && /timed out/.test(e.message),
  );
  assert.equal(attempts, 2);

  attempts = 0;
  const controller = new AbortController();
  const client = createServerClient({
    baseUrl: "http://billing.test",
    secretKey: "sk_test",
    fetch: (request) => (attempts++, controller.abort(), untilAborted(request)),
    retry: { maxRetries: 3, sleep: () => Promise.resolve() },
  });
  await assert.rejects(unwrap(client.GET("/v1/plans", { signal: controller.signal })));
  assert.equal(attempts, 1);
});

Deno.test("retryAfterMs() reads delta seconds and HTTP dates; backoffMs() doubles up to its cap", () => {
  assert.equal(retryAfterMs("3"), 3000);
  assert.equal(retryAfterMs(null), null);
  assert.equal(retryAfterMs("soon"), null);
  const now = Date.parse("2026-12-01T00:00:00Z");
  assert.equal(retryAfterMs("Tue, 01 Dec 2026 00:00:10 GMT", now), 10_000);
  const top = { random: () => 0.999999 };
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => backoffMs(n, top)), [
    500,
    1000,
    2000,
    4000,
    8000,
    8000,
    8000,
  ]);
  assert.equal(backoffMs(3, { random: () => 0 }), 0, "full jitter reaches zero");
});

Deno.test("the SDK generates no Idempotency-Key for the body-keyed hot routes (check, events, ledger entries and their batches), and one for other POSTs", async () => {
  const seen: { path: string; key: string | null }[] = [];
  const send = retryingFetch((request) => {
    seen.push({ path: new URL(request.url).pathname, key: request.headers.get("idempotency-key") });
    return Promise.resolve(new Response("{}", { status: 200 }));
  });
  for (
    const path of [
      "/v1/entitlements/check",
      "/v1/events",
      "/v1/ledger/entries",
      "/v1/ledger/entries/batch",
      "/v1/plans",
    ]
  ) {
    await send(new Request(`http://api.test${path}`, { method: "POST", body: "{}" }));
  }
  await send(
    new Request("http://api.test/v1/events", {
      method: "POST",
      body: "{}",
      headers: { "Idempotency-Key": "mine" },
    }),
  );
  assert.deepEqual(seen.slice(0, 4).map((s) => s.key), [null, null, null, null]);
  assert.match(seen[4].key ?? "", /^[0-9a-f-]{36}$/);
  assert.equal(seen[5].key, "mine", "a caller's own header is sent as given");
});
