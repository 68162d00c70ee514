/**
 * The Cloudflare Worker in real workerd: the dry-run deploy (bundle size printed), the HTTP
 * contract suite, and the Worker-only behaviour (Durable Object eviction mid-stream, usage queue
 * redelivery, cron trigger). One build and one workerd for the whole file.
 *
 * @module
 */
import assert from "node:assert/strict";
import { apiPlanBody } from "../helpers.ts";
import { contractCases, http, type HttpResult, provision, type Target } from "./contract.ts";
import { buildWorker, type RunningWorker, startWorker } from "../workerd.ts";

const ADMIN_TOKEN = "worker-admin-token-0123456789-abcdef";

Deno.test({
  name: "Cloudflare Worker in workerd",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "worker-runtime-" });
    try {
      const build = await buildWorker(`${dir}/dist`);
      console.log(
        `wrangler deploy --dry-run: total upload ${build.uploadKiB} KiB, gzip ${build.gzipKiB} KiB; worker.js ${
          (build.scriptBytes / 1024).toFixed(1)
        } KiB`,
      );
      assert.match(build.output, /env\.TENANTS \(TenantObject\)\s+Durable Object/);
      assert.match(build.output, /env\.USAGE_QUEUE \(billing-usage\)\s+Queue/);
      // the Worker's module graph must stay free of the libSQL client (ADR 0005)
      assert.doesNotMatch(
        await Deno.readTextFile(`${build.outdir}/worker.js`),
        /@libsql[+/]|libsql-client|from "@libsql/,
        "no libSQL client in the bundle",
      );
      const worker = await startWorker(build, dir, {
        BILLING_ADMIN_TOKEN: ADMIN_TOKEN,
        LOG_LEVEL: "error",
        // the webhook case delivers to a receiver on 127.0.0.1
        WEBHOOK_ALLOW_PRIVATE_URLS: "true",
      });
      const target: Target = {
        url: worker.url,
        adminToken: ADMIN_TOKEN,
        async maintain() {
          // the cron trigger; it fails the invocation when any tenant object's maintenance failed
          const run = await (await worker.handlers()).scheduled({
            scheduledTime: new Date(),
            cron: "*/5 * * * *",
          });
          assert.equal(run.outcome, "ok", "every tenant object's maintenance succeeded");
        },
      };
      try {
        for (const c of contractCases) await t.step(`contract: ${c.name}`, () => c.run(target));
        await t.step(
          "Durable Object evicted (workerd restarted) in the middle of a stream of postings: none lost, none doubled",
          () => evictionMidStream(target, worker),
        );
        await t.step(
          "usage queue: respond-async batches are appended by the consumer; a redelivered message adds nothing",
          () => queueRedelivery(target, worker),
        );
        await t.step(
          "cron trigger: due holds expire and ended periods are invoiced, once",
          () => cronMaintenance(target, worker),
        );
      } finally {
        await worker.dispose();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

/** Sends a request until it gets an answer that is not a network error or a 5xx (a client retry loop). */
async function untilAnswered(
  target: Target,
  method: string,
  path: string,
  options: { key: string; body?: unknown },
): Promise<HttpResult> {
  const deadline = Date.now() + 60_000; // generous: a restart of workerd on a loaded CI machine
  for (;;) {
    try {
      const res = await http(target, method, path, options);
      if (res.status < 500 || Date.now() > deadline) return res;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function evictionMidStream(target: Target, worker: RunningWorker) {
  const { secret_key: key } = await provision(target);
  const account = async (name: string, type: string) =>
    (await http(target, "POST", "/v1/ledger/accounts", { key, body: { name, type, currency: "USD" } })).body
      .id as string;
  const cash = await account("cash", "asset");
  const wallet = await account("wallet:stream", "liability");
  const total = 60;
  const statuses: number[] = [];
  let finished = 0;
  let finishedAtRestart = -1;
  const post = async (i: number) => {
    const res = await untilAnswered(target, "POST", "/v1/ledger/entries", {
      key,
      body: {
        idempotency_key: `stream-${i}`,
        postings: [{ account_id: cash, amount: i + 1, currency: "USD" }, {
          account_id: wallet,
          amount: -(i + 1),
          currency: "USD",
        }],
      },
    });
    statuses.push(res.status);
    finished++;
  };
  const lanes = Array.from({ length: 6 }, async (_, lane) => {
    for (let i = lane; i < total; i += 6) await post(i);
  });
  const restart = (async () => {
    while (finished < total / 3) await new Promise((r) => setTimeout(r, 5));
    finishedAtRestart = finished;
    await worker.restart();
  })();
  await Promise.all([...lanes, restart]);
  assert.ok(
    finishedAtRestart > 0 && finishedAtRestart < total,
    `restart happened mid-stream (after ${finishedAtRestart} of ${total})`,
  );
  assert.ok(
    statuses.every((s) => s === 201 || s === 200),
    `every posting answered 201 or an idempotent 200: ${statuses}`,
  );
  const balance = await http(target, "GET", `/v1/ledger/accounts/${wallet}/balance`, { key });
  const expected = (total * (total + 1)) / 2;
  assert.deepEqual([balance.body.posted, balance.body.credits_posted, balance.body.debits_posted], [
    expected,
    expected,
    0,
  ]);
  const keys: string[] = [];
  let cursor: string | null = null;
  do {
    const page: HttpResult = await http(
      target,
      "GET",
      `/v1/ledger/entries?limit=50${cursor ? `&cursor=${cursor}` : ""}`,
      { key },
    );
    assert.equal(page.status, 200, JSON.stringify(page.body));
    keys.push(...page.body.data.map((e: { idempotency_key: string }) => e.idempotency_key));
    cursor = page.body.next_cursor;
  } while (cursor);
  assert.deepEqual(
    keys.sort(),
    Array.from({ length: total }, (_, i) => `stream-${i}`).sort(),
    "each posting exactly once",
  );
}

/** Entitlement check of `feature` (used units) for `customer`. */
async function used(target: Target, key: string, customer: string, feature: string): Promise<number> {
  return (await http(target, "POST", "/v1/entitlements/check", {
    key,
    body: { customer_id: customer, feature },
  })).body.used;
}

async function queueRedelivery(target: Target, worker: RunningWorker) {
  const name = `q${crypto.randomUUID().slice(0, 12)}`;
  const keys = await provision(target, name);
  const key = keys.secret_key;
  const plan = await http(target, "POST", "/v1/plans", { key, body: apiPlanBody() });
  await http(target, "POST", "/v1/customers", { key, body: { external_id: "dora" } });
  await http(target, "POST", "/v1/subscriptions", {
    key,
    body: { customer_id: "dora", plan_id: plan.body.id },
  });
  const now = new Date().toISOString();
  const events = [1, 2, 3].map((v) => ({
    id: `async-${v}`,
    customer_id: "dora",
    feature: "api_calls",
    value: v,
    timestamp: now,
  }));
  // a publishable key is never queued unchecked: without a customer session it is refused at once
  const unchecked = await http(target, "POST", "/v1/events", {
    key: keys.publishable_key,
    body: { events: events.map((e) => ({ ...e, customer_id: "victim" })) },
    headers: { prefer: "respond-async" },
  });
  assert.deepEqual([unchecked.status, unchecked.body.code], [401, "customer_session_required"]);
  const accepted = await http(target, "POST", "/v1/events", {
    key,
    body: { events },
    headers: { prefer: "respond-async" },
  });
  assert.deepEqual([accepted.status, accepted.body, accepted.headers.get("preference-applied")], [202, {
    queued_events: 3,
    messages: 1,
  }, "respond-async"]);
  // the real queue delivers to the consumer after its batch timeout (1 s)
  const deadline = Date.now() + 15_000;
  while ((await used(target, key, "dora", "api_calls")) !== 6) {
    assert.ok(Date.now() < deadline, "the queue consumer appended the batch");
    await new Promise((r) => setTimeout(r, 100));
  }
  // the audit trail names the key that sent the batch: rebuild the very message the Worker queued
  const audit = await http(target, "GET", "/v1/audit-events", { key });
  const row = audit.body.data.find((r: { action: string }) => r.action === "usage.ingested");
  assert.ok(row, JSON.stringify(audit.body));
  const body = {
    v: 1,
    tenant_object: `tenant:${name}`,
    scope: { tenantId: keys.tenant_id, appId: keys.app_id },
    key_id: row.actor,
    received_at: now,
    events,
  };
  // Queues deliver at least once: after a consumer invocation that committed but failed before
  // acknowledging, the same message comes again with attempts + 1.
  const consumer = await worker.handlers();
  const poison = { ...body, scope: { tenantId: null, appId: null } }; // can never succeed: acked and logged, not retried forever
  const redelivered = await consumer.queue("billing-usage", [
    { id: "msg-redelivered", timestamp: new Date(), attempts: 2, body },
    { id: "msg-poison", timestamp: new Date(), attempts: 1, body: poison },
  ]);
  assert.equal(redelivered.outcome, "ok");
  assert.deepEqual([...redelivered.explicitAcks].sort(), ["msg-poison", "msg-redelivered"]);
  assert.deepEqual(redelivered.retryMessages, []);
  assert.equal(await used(target, key, "dora", "api_calls"), 6, "the redelivered message added no usage");
  // the same client batch sent synchronously is all duplicates too
  const sync = await http(target, "POST", "/v1/events", { key, body: { events } });
  assert.deepEqual(sync.body, { accepted: 0, duplicates: 3, rejected: [] });
  // an invalid async batch is not queued: the tenant object answers the canonical 400
  const invalid = await http(target, "POST", "/v1/events", {
    key,
    body: { events: [] },
    headers: { prefer: "respond-async" },
  });
  assert.deepEqual([invalid.status, invalid.body.code], [400, "validation_failed"]);
}

async function cronMaintenance(target: Target, worker: RunningWorker) {
  const { secret_key: key } = await provision(target);
  const cash = (await http(target, "POST", "/v1/ledger/accounts", {
    key,
    body: { name: "cash", type: "asset", currency: "USD" },
  })).body.id;
  const wallet = (await http(target, "POST", "/v1/ledger/accounts", {
    key,
    body: { name: "wallet:cron", type: "liability", currency: "USD" },
  })).body.id;
  await http(target, "POST", "/v1/ledger/entries", {
    key,
    body: {
      idempotency_key: "fund",
      postings: [{ account_id: cash, amount: 500, currency: "USD" }, {
        account_id: wallet,
        amount: -500,
        currency: "USD",
      }],
    },
  });
  const hold = await http(target, "POST", "/v1/ledger/holds", {
    key,
    body: { idempotency_key: "short", account_id: wallet, amount: 200, currency: "USD", ttl_seconds: 1 },
  });
  assert.equal(hold.status, 201, JSON.stringify(hold.body));
  // a subscription that started two months ago has ended periods the cycle must invoice
  const plan = await http(target, "POST", "/v1/plans", { key, body: apiPlanBody() });
  await http(target, "POST", "/v1/customers", { key, body: { external_id: "erin" } });
  const start = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 2, 1));
  const sub = await http(target, "POST", "/v1/subscriptions", {
    key,
    body: { customer_id: "erin", plan_id: plan.body.id, start_at: start.toISOString() },
  });
  assert.equal(sub.status, 201, JSON.stringify(sub.body));
  await new Promise((r) => setTimeout(r, 1100));

  const cron = await worker.handlers();
  const first = await cron.scheduled({ scheduledTime: new Date(), cron: "*/5 * * * *" });
  assert.equal(first.outcome, "ok");
  const expired = await http(target, "GET", `/v1/ledger/holds/${hold.body.id}`, { key });
  assert.equal(expired.body.status, "expired");
  const balance = await http(target, "GET", `/v1/ledger/accounts/${wallet}/balance`, { key });
  assert.deepEqual([balance.body.posted, balance.body.held, balance.body.available], [500, 0, 500]);
  const invoices = await http(target, "GET", "/v1/invoices?customer_id=erin", { key });
  assert.equal(invoices.body.data.length, 2, "two ended monthly periods, one invoice each");
  const second = await cron.scheduled({ scheduledTime: new Date(), cron: "*/5 * * * *" });
  assert.equal(second.outcome, "ok");
  const again = await http(target, "GET", "/v1/invoices?customer_id=erin", { key });
  assert.deepEqual(
    again.body.data.map((i: { id: string }) => i.id).sort(),
    invoices.body.data.map((i: { id: string }) => i.id).sort(),
  );
}

Deno.test("nothing in src/domain imports a runtime (cloudflare:, Deno-only or driver modules)", async () => {
  const dir = new URL("../../src/domain/", import.meta.url).pathname;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(`${dir}${entry.name}`);
    assert.doesNotMatch(text, /from\s+"(cloudflare:|@libsql|drizzle-orm|hono)/, entry.name);
  }
});
