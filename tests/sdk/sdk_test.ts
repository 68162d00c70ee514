import assert from "node:assert/strict";
import { generateSchemaTypes, SCHEMA_FILE } from "../../scripts/sdk_generate.ts";
import { BillingApiError, createServerClient, unwrap } from "../../sdk/src/server.ts";
import { createBrowserClient, type KeyValueStorage, type UsageEvent } from "../../sdk/src/browser.ts";
import { mintSession, seedTenant, startSdkServer } from "./helpers.ts";

class MemoryStorage implements KeyValueStorage {
  readonly items = new Map<string, string>();
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
}

/** Ids of the events of each `POST /v1/events` a fetch wrapper saw. */
async function eventIds(request: Request): Promise<string[]> {
  const body = await request.clone().json() as { events: UsageEvent[] };
  return body.events.map((e) => e.id);
}

Deno.test("sdk/src/schema.gen.ts is generated from the current /openapi.json (run `deno task sdk:generate`)", async () => {
  const expected = await generateSchemaTypes();
  const committed = await Deno.readTextFile(SCHEMA_FILE);
  assert.ok(expected.includes('"/v1/entitlements/check"') && expected.includes('"/v1/apps/current"'));
  if (committed !== expected) {
    const routes = (text: string) => new Set(text.match(/^ {4}"\/[^"]*": \{$/gm) ?? []);
    const [now, then] = [routes(expected), routes(committed)];
    const added = [...now].filter((r) => !then.has(r)).map((r) => r.trim().slice(0, -3));
    const removed = [...then].filter((r) => !now.has(r)).map((r) => r.trim().slice(0, -3));
    assert.fail(
      `sdk/src/schema.gen.ts is stale: run \`deno task sdk:generate\` and commit it (paths added ${
        JSON.stringify(added)
      }, ` +
        `removed ${JSON.stringify(removed)}; otherwise schemas changed)`,
    );
  }
});

Deno.test("server client: typed calls over HTTP, problem code on BillingApiError, admin token only on /v1/admin", async () => {
  const server = await startSdkServer();
  try {
    const t = await seedTenant(server.base, { limit: 3 });
    const seen: string[] = [];
    const billing = createServerClient({
      baseUrl: server.base,
      secretKey: t.secretKey,
      fetch: (request) => {
        seen.push(
          `${request.method} ${new URL(request.url).pathname} ${
            request.headers.get("authorization")?.slice(0, 10)
          }`,
        );
        return fetch(request);
      },
    });
    const customer = await unwrap(billing.GET("/v1/customers/{id}", { params: { path: { id: "user_42" } } }));
    assert.equal(customer.external_id, "user_42");
    assert.match(customer.id, /^cus_/);
    assert.deepEqual(seen, ["GET /v1/customers/user_42 Bearer sk_"]);

    const report = await unwrap(billing.POST("/v1/events", {
      body: { events: [{ id: "srv-1", customer_id: "user_42", feature: "exports", value: 3 }] },
    }));
    assert.deepEqual(report, { accepted: 1, duplicates: 0, rejected: [] });
    const decision = await unwrap(
      billing.POST("/v1/entitlements/check", { body: { customer_id: "user_42", feature: "exports" } }),
    );
    assert.equal(decision.allowed, false);
    assert.equal(decision.reason, "limit_reached");
    assert.equal(decision.used, 3);

    const missing = await unwrap(billing.GET("/v1/customers/{id}", { params: { path: { id: "nobody" } } }))
      .catch((e) => e);
    assert.ok(missing instanceof BillingApiError);
    assert.equal(missing.code, "customer_not_found");
    assert.equal(missing.status, 404);
    assert.equal(missing.retryable, false);
    assert.equal(missing.problem?.code, "customer_not_found");
    assert.match(missing.requestId ?? "", /.+/);

    const invalid = await unwrap(billing.POST("/v1/customers", { body: { external_id: "has spaces" } }))
      .catch((e) => e);
    assert.equal(invalid.code, "validation_failed");
    assert.deepEqual(invalid.problem.fields.map((f: { path: string }) => f.path), ["external_id"]);

    const offline = createServerClient({ baseUrl: "http://127.0.0.1:9", secretKey: t.secretKey });
    const down = await unwrap(offline.GET("/v1/customers/{id}", { params: { path: { id: "user_42" } } }))
      .catch((e) => e);
    assert.ok(down instanceof BillingApiError);
    assert.equal(down.code, "network_error");
    assert.equal(down.retryable, true);

    assert.throws(() => createServerClient({ baseUrl: server.base, secretKey: t.publishableKey }), {
      code: "invalid_key",
    });
    assert.throws(() => createServerClient({ baseUrl: "billing.example.com" }), { code: "invalid_options" });
  } finally {
    await server.stop();
  }
});

Deno.test("browser client refuses secret keys and anything that is not a publishable key", () => {
  const base = {
    baseUrl: "http://127.0.0.1:1",
    customerId: "u",
    customerSession: "cs_unused",
    storage: null,
  };
  assert.throws(() => createBrowserClient({ ...base, publishableKey: "sk_" + "0".repeat(64) }), {
    code: "secret_key_in_browser",
  });
  assert.throws(() => createBrowserClient({ ...base, publishableKey: "adm_token" }), { code: "invalid_key" });
});

Deno.test("browser client: batches, flips at the limit, caches checks, retries a lost batch with the same ids (counted once)", async () => {
  const server = await startSdkServer();
  const t = await seedTenant(server.base, { limit: 5 });
  const posts: string[][] = [];
  let loseNextAnswer = true;
  const errors: string[] = [];
  const client = createBrowserClient({
    baseUrl: server.base,
    publishableKey: t.publishableKey,
    customerId: t.customerId,
    customerSession: t.session,
    flushIntervalMs: 60_000,
    maxBatchSize: 3,
    retryBaseMs: 10,
    storage: null,
    onError: (e) => errors.push(e.code),
    fetch: async (request) => {
      if (new URL(request.url).pathname === "/v1/events") {
        posts.push(await eventIds(request));
        const response = await fetch(request);
        if (loseNextAnswer) {
          // the API stored the batch but the answer is lost on the way back
          loseNextAnswer = false;
          await response.body?.cancel();
          throw new TypeError("connection reset");
        }
        return response;
      }
      return await fetch(request);
    },
  });
  try {
    const first = await client.check(t.feature);
    assert.equal(first.allowed, true);
    assert.equal(client.peek(t.feature), first, "fresh answers are cached");
    assert.equal(await client.check(t.feature), first, "a second check within the TTL makes no request");

    const ids = [1, 2, 3, 4].map(() => client.track(t.feature, 1));
    assert.equal(new Set(ids).size, 4);
    assert.equal(client.peek(t.feature), undefined, "tracking drops the cached answer");
    // maxBatchSize 3: the first three went out at once and their answer was lost
    const flushed = await client.flush();
    assert.ok(flushed.pending > 0 || posts.length >= 2);
    for (let i = 0; i < 50 && client.pendingEvents > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(client.pendingEvents, 0);
    assert.deepEqual(posts[0], ids.slice(0, 3));
    const resent = posts.slice(1).flat();
    assert.deepEqual(
      resent.filter((id) => ids.slice(0, 3).includes(id)),
      ids.slice(0, 3),
      "the lost batch is retried with the same ids",
    );
    assert.deepEqual(errors, ["network_error"]);

    const four = await client.check(t.feature);
    assert.equal(four.used, 4, "the retried batch counts once");
    assert.equal(four.allowed, true);
    client.track(t.feature, 1);
    const five = await client.check(t.feature);
    assert.equal(five.used, 5);
    assert.equal(five.allowed, false, "flips at the limit");
    assert.equal(five.reason, "limit_reached");

    const state = await client.state([t.feature, "unknown_feature"]);
    assert.equal(state[t.feature].allowed, false);
    assert.equal(state.unknown_feature.reason, "feature_not_in_plan");

    const strangerErrors: string[] = [];
    const stranger = createBrowserClient({
      baseUrl: server.base,
      publishableKey: t.publishableKey,
      customerId: "nobody",
      customerSession: t.session,
      storage: null,
      onError: (e, events) => strangerErrors.push(`${e.code}:${events.length}`),
    });
    // a page that names another customer than its session's is refused, whether that customer exists or not
    await assert.rejects(
      stranger.check(t.feature),
      (e: BillingApiError) => e.code === "customer_not_allowed" && e.status === 403,
    );
    stranger.track(t.feature, 1, { id: "stranger-1" });
    const refused = await stranger.flush();
    assert.deepEqual(
      refused,
      { accepted: 0, duplicates: 0, rejected: [], pending: 0 },
      "a 403 is final: no retry",
    );
    assert.deepEqual(strangerErrors, ["customer_not_allowed:1"]);
    stranger.close();
    assert.throws(() => stranger.track(t.feature), { code: "client_closed" });
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("browser client: events unacknowledged at close are stored and resent by the next client with the same ids", async () => {
  const server = await startSdkServer();
  const t = await seedTenant(server.base, { limit: 100 });
  const storage = new MemoryStorage();
  const sent: string[][] = [];
  try {
    const offline = createBrowserClient({
      baseUrl: server.base,
      publishableKey: t.publishableKey,
      customerId: t.customerId,
      customerSession: t.session,
      flushIntervalMs: 60_000,
      storage,
      fetch: async (request) => {
        sent.push(await eventIds(request));
        throw new TypeError("offline");
      },
    });
    const ids = [offline.track(t.feature, 2), offline.track(t.feature, 3)];
    offline.close(); // keepalive send fails; the events stay in storage
    // wait for the close's send to have been attempted (no fixed delay: the machine may be busy)
    for (let waited = 0; sent.length === 0 && waited < 5_000; waited += 10) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(sent, [ids]);
    const stored = JSON.parse([...storage.items.values()][0]) as UsageEvent[];
    assert.deepEqual(stored.map((e) => e.id), ids);

    const next = createBrowserClient({
      baseUrl: server.base,
      publishableKey: t.publishableKey,
      customerId: t.customerId,
      customerSession: t.session,
      storage,
    });
    try {
      assert.equal(next.pendingEvents, 2);
      const result = await next.flush();
      assert.equal(result.accepted, 2);
      // a third page restores nothing: storage was cleared on acknowledgement
      assert.equal(storage.items.size, 0);
      // and the same ids sent again are duplicates, never counted twice
      const billing = createServerClient({ baseUrl: server.base, secretKey: t.secretKey });
      const again = await unwrap(billing.POST("/v1/events", { body: { events: stored } }));
      assert.equal(again.duplicates, 2);
      const decision = await next.check(t.feature);
      assert.equal(decision.used, 5);
    } finally {
      next.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("browser client: sends the customer session, and fetches a new one once after customer_session_expired", async () => {
  const server = await startSdkServer();
  const t = await seedTenant(server.base, { limit: 100 });
  // a one-second session, left to expire while the page still holds it
  const stale = await mintSession(server.base, t.secretKey, t.customerId, 1);
  await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(stale.expires_at) - Date.now()) + 20));
  const fetched: string[] = [];
  const seen: (string | null)[] = [];
  const client = createBrowserClient({
    baseUrl: server.base,
    publishableKey: t.publishableKey,
    customerId: t.customerId,
    storage: null,
    customerSession: async () => {
      fetched.push(fetched.length === 0 ? "stale" : "fresh");
      // the page's backend answers with a far expires_at, so only the API's 401 reveals the expiry
      return fetched.length === 1
        ? { token: stale.token, expires_at: "2999-01-01T00:00:00Z" }
        : { ...(await t.session()), expires_at: "2999-01-01T00:00:00Z" };
    },
    fetch: (request) => {
      seen.push(request.headers.get("customer-session"));
      return fetch(request);
    },
  });
  try {
    assert.equal((await client.check(t.feature)).allowed, true);
    assert.deepEqual(fetched, ["stale", "fresh"]);
    assert.equal(seen.length, 2);
    assert.equal(seen[0], stale.token);
    assert.notEqual(seen[1], stale.token);
    client.track(t.feature, 3);
    assert.equal((await client.flush()).accepted, 1);
    assert.deepEqual(fetched, ["stale", "fresh"], "the fresh session is reused");
    assert.ok(seen.slice(1).every((token) => token === seen[1]));
  } finally {
    client.close();
    await server.stop();
  }
});
