/**
 * The SSRF guard of webhook endpoint URLs (`webhooks/url_guard.ts`): refused at creation
 * (422 `webhook_url_not_allowed`, field `url`, nothing written) and at delivery after DNS
 * resolution (attempt recorded as failed, nothing sent), unless `WEBHOOK_ALLOW_PRIVATE_URLS`.
 * Delivery-time tests use a real loopback receiver, so "nothing sent" is observed, not assumed.
 */
import { generateEncryptionKey, SecretBox } from "../../src/storage/secret_box.ts";
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import {
  blockedRange,
  checkDeliveryTarget,
  denoResolver,
  literalUrlRefusal,
} from "../../src/webhooks/url_guard.ts";
import { drainWebhooksOnce, type WebhookWorkerOptions } from "../../src/webhooks/delivery.ts";
import { createApp } from "../../src/http/app.ts";
import { buildServices } from "../../src/runtime/services.ts";
import { openDatabase } from "../../src/storage/db.ts";
import { ADMIN_TOKEN, call, tenant, testEnv } from "../helpers.ts";

/** Every class the guard must refuse, as URL literals (several spellings each). */
const REFUSED: [string, string][] = [
  ["https://127.0.0.1/hooks", "loopback"],
  ["https://127.255.1.2/hooks", "loopback"],
  ["https://[::1]/hooks", "loopback"],
  ["https://localhost/hooks", "loopback name"],
  ["https://api.localhost:8443/hooks", "loopback name"],
  ["https://2130706433/hooks", "decimal 127.0.0.1"],
  ["https://0x7f000001/hooks", "hex 127.0.0.1"],
  ["https://0177.0.0.1/hooks", "octal 127.0.0.1"],
  ["https://127.1/hooks", "short 127.0.0.1"],
  ["https://10.0.0.5/hooks", "RFC 1918 10/8"],
  ["https://172.16.3.4/hooks", "RFC 1918 172.16/12"],
  ["https://192.168.1.10/hooks", "RFC 1918 192.168/16"],
  ["https://0xc0.0xa8.1.1/hooks", "hex 192.168.1.1"],
  ["https://[fc00::1]/hooks", "RFC 4193 unique local"],
  ["https://[fd12:3456::1]/hooks", "RFC 4193 unique local"],
  ["https://169.254.169.254/latest/meta-data/", "cloud metadata (link-local)"],
  ["https://[fe80::1]/hooks", "IPv6 link-local"],
  ["https://100.64.0.1/hooks", "CGNAT"],
  ["https://100.127.255.254/hooks", "CGNAT"],
  ["https://0.0.0.0/hooks", "unspecified"],
  ["https://[::]/hooks", "IPv6 unspecified"],
  ["https://224.0.0.1/hooks", "multicast"],
  ["https://[ff02::1]/hooks", "IPv6 multicast"],
  ["https://255.255.255.255/hooks", "broadcast"],
  ["https://240.0.0.1/hooks", "reserved 240/4"],
  ["https://192.0.2.10/hooks", "documentation (reserved)"],
  ["https://[2001:db8::1]/hooks", "IPv6 documentation (reserved)"],
  ["https://[::ffff:127.0.0.1]/hooks", "IPv4-mapped loopback"],
  ["https://[::ffff:a9fe:a9fe]/hooks", "IPv4-mapped metadata"],
  ["https://[::ffff:10.1.2.3]/hooks", "IPv4-mapped private"],
  ["https://[::127.0.0.1]/hooks", "IPv4-compatible loopback (::/96)"],
  ["https://[::8.8.8.8]/hooks", "IPv4-compatible public address (::/96)"],
  ["http://example.com/hooks", "plain http"],
];

Deno.test("blockedRange(): only public unicast passes; mapped IPv6 is judged as its IPv4", () => {
  for (const ok of ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111"]) {
    assert.equal(blockedRange(ok), null, ok);
  }
  const cases: [string, string][] = [
    ["127.0.0.1", "loopback"],
    ["::1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["fc00::1", "uniqueLocal"],
    ["fdff::1", "uniqueLocal"],
    ["169.254.169.254", "linkLocal"],
    ["fe80::1", "linkLocal"],
    ["100.64.0.1", "carrierGradeNat"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["239.1.1.1", "multicast"],
    ["ff0e::1", "multicast"],
    ["240.0.0.1", "reserved"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:169.254.169.254", "linkLocal"],
    // IPv4-compatible IPv6 (::/96): refused whatever IPv4 address it carries
    ["::127.0.0.1", "ipv4Compatible"],
    ["::7f00:1", "ipv4Compatible"],
    ["::8.8.8.8", "ipv4Compatible"],
    ["0:0:0:0:0:0:a9fe:a9fe", "ipv4Compatible"],
    ["not-an-address", "invalid"],
  ];
  for (const [address, range] of cases) assert.equal(blockedRange(address), range, address);
  // NAT64 and 6to4 embed IPv4 addresses: refused as special-purpose, whatever they carry.
  assert.notEqual(blockedRange("64:ff9b::a00:1"), null);
  assert.notEqual(blockedRange("2002:a00:1::"), null);
});

Deno.test("literalUrlRefusal(): each refused class, public https passes, WEBHOOK_ALLOW_PRIVATE_URLS lets all through", () => {
  for (const [url, what] of REFUSED) {
    assert.notEqual(literalUrlRefusal(new URL(url), false), null, `${what}: ${url}`);
    assert.equal(literalUrlRefusal(new URL(url), true), null, `allowed: ${url}`);
  }
  for (
    const url of [
      "https://example.com/hooks",
      "https://93.184.215.14/hooks",
      "https://[2606:4700::1]/x",
      "https://localhost.example.com/",
    ]
  ) {
    assert.equal(literalUrlRefusal(new URL(url), false), null, url);
  }
});

Deno.test("POST /v1/webhook-endpoints refuses private, loopback, link-local, CGNAT, multicast, reserved and http URLs with 422 and writes nothing", async () => {
  const env = await testEnv({ services: { webhookAllowPrivateUrls: false } });
  try {
    const t = await tenant(env);
    for (const [url, what] of REFUSED) {
      const res = await call(env, "POST", "/v1/webhook-endpoints", {
        key: t.secret_key,
        body: { url, events: ["*"] },
      });
      assert.equal(res.status, 422, `${what}: ${url} → ${JSON.stringify(res.body)}`);
      assert.match(res.contentType, /^application\/problem\+json/);
      assert.equal(res.body.code, "webhook_url_not_allowed");
      assert.deepEqual(res.body.fields.map((f: { path: string }) => f.path), ["url"]);
    }
    const list = await call(env, "GET", "/v1/webhook-endpoints", { key: t.secret_key });
    assert.deepEqual(list.body.data, [], "no refused endpoint was stored");
    const audit = await call(env, "GET", "/v1/audit-events?action=webhook_endpoint.created", {
      key: t.secret_key,
    });
    assert.deepEqual(audit.body.data, [], "no audit row for a refused creation");

    // Malformed input is still a 400 validation failure, checked before the guard.
    const ftp = await call(env, "POST", "/v1/webhook-endpoints", {
      key: t.secret_key,
      body: { url: "ftp://10.0.0.1/", events: ["*"] },
    });
    assert.equal(ftp.status, 400);
    assert.equal(ftp.body.code, "validation_failed");

    const ok = await call(env, "POST", "/v1/webhook-endpoints", {
      key: t.secret_key,
      body: { url: "https://example.com/hooks", events: ["*"] },
    });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
  } finally {
    await env.close();
  }
  // The opt-in (the test suites' default) accepts a loopback http receiver.
  const dev = await testEnv();
  try {
    const t = await tenant(dev);
    const res = await call(dev, "POST", "/v1/webhook-endpoints", {
      key: t.secret_key,
      body: { url: "http://127.0.0.1:9/hooks", events: ["*"] },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  } finally {
    await dev.close();
  }
});

Deno.test("WEBHOOK_ALLOW_PRIVATE_URLS: false by default, true/false parsed, anything else refused", () => {
  assert.equal(loadConfig({}).webhookAllowPrivateUrls, false);
  assert.equal(loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: "true" }).webhookAllowPrivateUrls, true);
  assert.equal(loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: "false" }).webhookAllowPrivateUrls, false);
  assert.throws(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: "yes" }), /WEBHOOK_ALLOW_PRIVATE_URLS/);
});

Deno.test("buildServices() (Deno server, Deploy): the embedded default keeps the guard on; WEBHOOK_ALLOW_PRIVATE_URLS=true opens it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "billing-ssrf-" });
  const database = await openDatabase({ url: `file:${dir}/b.db` });
  try {
    for (const [env, expected] of [[{}, 422], [{ WEBHOOK_ALLOW_PRIVATE_URLS: "true" }, 201]] as const) {
      const services = buildServices(
        loadConfig({ LOG_LEVEL: "silent", DATABASE_URL: `file:${dir}/b.db`, ...env }),
        database,
      );
      services.secrets = await SecretBox.create(generateEncryptionKey());
      const app = { app: createApp(services, { adminToken: ADMIN_TOKEN }) };
      const t = await tenant(app);
      const res = await call(app, "POST", "/v1/webhook-endpoints", {
        key: t.secret_key,
        body: { url: "http://localhost:8080/hooks", events: ["*"] },
      });
      assert.equal(res.status, expected, JSON.stringify(res.body));
      if (expected === 422) assert.match(res.body.detail, /WEBHOOK_ALLOW_PRIVATE_URLS=true/);
    }
  } finally {
    database.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** A loopback receiver counting what reaches it. */
function receiver() {
  const received: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    received.push(await req.text());
    return new Response("thanks", { status: 200 });
  });
  return { port: server.addr.port, received, close: () => server.shutdown() };
}

const FAST: WebhookWorkerOptions = {
  timeoutMs: 2_000,
  baseDelayMs: 1_000,
  maxAttempts: 5,
  random: () => 0.5,
};

async function deliveries(env: Awaited<ReturnType<typeof testEnv>>, key: string, endpointId: string) {
  const res = await call(env, "GET", `/v1/webhook-endpoints/${endpointId}/deliveries`, { key });
  assert.equal(res.status, 200);
  return res.body.data as {
    id: string;
    status: string;
    attempts: number;
    attempt_log: { outcome: string; error: string | null; status_code: number | null }[];
  }[];
}

Deno.test("delivery time: a host name resolving to loopback is refused after resolution, recorded as failed and never sent", async () => {
  // Created while private targets were allowed (or via DNS that changed since): the endpoint
  // exists, and the guard at delivery time is the only defence.
  const env = await testEnv();
  const rx = receiver();
  try {
    const t = await tenant(env);
    const ep = await call(env, "POST", "/v1/webhook-endpoints", {
      key: t.secret_key,
      body: { url: `https://hooks.example.test:${rx.port}/in`, events: ["customer.created"] },
    });
    assert.equal(ep.status, 201);
    await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: "c1" } });
    const lookups: string[] = [];
    const guarded = { ...env.services, webhookAllowPrivateUrls: false };
    const report = await drainWebhooksOnce(guarded, {
      ...FAST,
      resolveHost: (host) => {
        lookups.push(host);
        return Promise.resolve(["93.184.215.14", "127.0.0.1"]); // one public, one loopback answer
      },
    });
    assert.deepEqual(lookups, ["hooks.example.test"]);
    assert.equal(report.attempted, 1);
    assert.equal(report.exhausted, 1, "a refused target is not retried");
    assert.deepEqual(rx.received, []);
    const [d] = await deliveries(env, t.secret_key, ep.body.id);
    assert.equal(d.status, "failed");
    assert.equal(d.attempts, 1);
    assert.equal(d.attempt_log[0].outcome, "network_error");
    assert.equal(d.attempt_log[0].status_code, null);
    assert.match(d.attempt_log[0].error!, /SSRF guard.*hooks\.example\.test.*127\.0\.0\.1 \(loopback\)/);
  } finally {
    await rx.close();
    await env.close();
  }
});

Deno.test("delivery time: localhost, metadata and mapped addresses via DNS, plain http after the setting changed; the opt-in still delivers", async () => {
  const env = await testEnv();
  const rx = receiver();
  try {
    const t = await tenant(env);
    const make = async (url: string) => {
      const res = await call(env, "POST", "/v1/webhook-endpoints", {
        key: t.secret_key,
        body: { url, events: ["customer.created"] },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    };
    const viaLocalhost = await make(`http://localhost:${rx.port}/a`);
    const viaMetadata = await make(`https://metadata.example.test/b`);
    const viaMapped = await make(`https://mapped.example.test/c`);
    await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: "c1" } });
    const answers: Record<string, string[]> = {
      "metadata.example.test": ["169.254.169.254"],
      "mapped.example.test": ["::ffff:10.0.0.8"],
    };
    const guarded = { ...env.services, webhookAllowPrivateUrls: false };
    const report = await drainWebhooksOnce(guarded, {
      ...FAST,
      resolveHost: (h) => Promise.resolve(answers[h] ?? ["93.184.215.14"]),
    });
    assert.equal(report.exhausted, 3);
    assert.deepEqual(rx.received, [], "nothing reached the loopback receiver");
    const errors = await Promise.all(
      [viaLocalhost, viaMetadata, viaMapped].map(async (id) => (await deliveries(env, t.secret_key, id))[0]),
    );
    assert.ok(errors.every((d) => d.status === "failed" && d.attempt_log.length === 1));
    assert.match(errors[0].attempt_log[0].error!, /https/);
    assert.match(errors[1].attempt_log[0].error!, /169\.254\.169\.254 \(linkLocal\)/);
    assert.match(errors[2].attempt_log[0].error!, /::ffff:10\.0\.0\.8 \(private\)/);

    // The real resolver: localhost is loopback without asking DNS, whatever the name servers say.
    const https = await checkDeliveryTarget(`https://localhost:${rx.port}/a`, false, denoResolver(), 1_000);
    assert.equal(https.ok, false);
    assert.ok(!https.ok && https.permanent && /loopback/.test(https.error));

    // With the opt-in the same delivery goes out after a manual redelivery: the refusal above was the guard.
    const d = errors[0];
    const again = await call(
      env,
      "POST",
      `/v1/webhook-endpoints/${viaLocalhost}/deliveries/${d.id}/redeliver`,
      { key: t.secret_key },
    );
    assert.equal(again.status, 202);
    await drainWebhooksOnce(env.services, FAST);
    assert.equal(rx.received.length, 1);
    assert.equal((await deliveries(env, t.secret_key, viaLocalhost))[0].status, "succeeded");
  } finally {
    await rx.close();
    await env.close();
  }
});

Deno.test("delivery time: an unresolvable host is a retried network error, a public answer is sent", async () => {
  const env = await testEnv();
  try {
    const t = await tenant(env);
    const ep = await call(env, "POST", "/v1/webhook-endpoints", {
      key: t.secret_key,
      body: { url: "https://hooks.example.test/in", events: ["customer.created"] },
    });
    await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: "c1" } });
    const guarded = { ...env.services, webhookAllowPrivateUrls: false };
    const sent: string[] = [];
    const fetchStub = ((input: string | URL | Request) => {
      sent.push(String(input));
      return Promise.resolve(new Response("ok", { status: 200 }));
    }) as typeof fetch;
    const first = await drainWebhooksOnce(guarded, {
      ...FAST,
      fetch: fetchStub,
      resolveHost: () => Promise.reject(new Error("NXDOMAIN")),
    });
    assert.equal(first.retried, 1);
    assert.deepEqual(sent, []);
    let [d] = await deliveries(env, t.secret_key, ep.body.id);
    assert.equal(d.status, "pending");
    assert.match(d.attempt_log[0].error!, /Could not resolve "hooks\.example\.test": NXDOMAIN/);

    env.clock.advance(60_000);
    const second = await drainWebhooksOnce(guarded, {
      ...FAST,
      fetch: fetchStub,
      resolveHost: () => Promise.resolve(["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]),
    });
    assert.equal(second.succeeded, 1);
    assert.deepEqual(sent, ["https://hooks.example.test/in"]);
    [d] = await deliveries(env, t.secret_key, ep.body.id);
    assert.equal(d.status, "succeeded");
  } finally {
    await env.close();
  }
});
