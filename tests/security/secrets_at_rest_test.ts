// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
/**
 * Secrets at rest (ADR 0012): webhook signing secrets, Stripe keys, and stored answers holding a
 * credential are sealed with AES-GCM; none appears in the database file, its WAL, a SELECT of any
 * table, a log line or an error body; rotating `BILLING_ENCRYPTION_KEY` keeps old values readable;
 * the start-up backfill seals plaintext rows once.
 *
 * @module
 */
import assert from "node:assert/strict";
import { call, tenant, testEnv } from "../helpers.ts";
import { createApp } from "../../src/http/app.ts";
import {
  generateEncryptionKey,
  isSealed,
  SEALED_PREFIX,
  SecretBox,
  SecretBoxError,
} from "../../src/storage/secret_box.ts";
import { sealPlaintextSecrets } from "../../src/storage/secret_backfill.ts";
import { loadConfig } from "../../src/config.ts";

/** Every text of every row of every table, for "not in a SELECT" assertions. */
async function dumpTables(client: { execute(sql: string): Promise<{ rows: unknown[] }> }): Promise<string> {
  const tables = await client.execute("select name from sqlite_master where type = 'table'");
  let out = "";
  for (const t of tables.rows as { name: string }[]) {
    out += JSON.stringify((await client.execute(`select * from "${t.name}"`)).rows);
  }
  return out;
}

/** The database file and its WAL as latin1 text (bytes searched as they are on disk). */
async function rawFiles(dir: string): Promise<string> {
  let out = "";
  for (const name of ["billing.db", "billing.db-wal"]) {
    try {
      out += new TextDecoder("latin1").decode(await Deno.readFile(`${dir}/${name}`));
    } catch { /* no WAL yet */ }
  }
  return out;
}

Deno.test("secrets never appear in the database file, its WAL, a SELECT, a log line or an error body", async () => {
  const logs: string[] = [];
  const env = await testEnv({ services: { log: (record) => void logs.push(JSON.stringify(record)) } });
  try {
    const owner = await tenant(env, "secrets");
    await call(env, "POST", "/v1/customers", { key: owner.secret_key, body: { external_id: "c1" } });
    const endpoint = await call(env, "POST", "/v1/webhook_endpoints", {
      key: owner.secret_key,
      body: { url: "https://example.com/hooks", events: ["*"] },
      headers: { "idempotency-key": "wep-1" },
    });
    assert.equal(endpoint.status, 201);
    const stripeKey = "sk_test_SECRETstripeKEY0123456789";
    const stripeHook = "whsec_SECRETstripeHOOK0123456789";
    const stripe = await call(env, "PUT", "/v1/providers/stripe", {
      key: owner.secret_key,
      body: { secret_key: stripeKey, webhook_secret: stripeHook },
    });
    assert.equal(stripe.status, 200, JSON.stringify(stripe.body));
    assert.equal(stripe.body.api_key_last4, "6789");
    const apiKey = await call(env, "POST", "/v1/api_keys", {
      key: owner.secret_key,
      body: { name: "stored answer" },
      headers: { "idempotency-key": "key-1" },
    });
    assert.equal(apiKey.status, 201);
    const session = await call(env, "POST", "/v1/customer_sessions", {
      key: owner.secret_key,
      body: { customer_id: "c1" },
      headers: { "idempotency-key": "ses-1" },
    });
    assert.equal(session.status, 201);
    // replays answer the same credentials (opened from the sealed stored answers)
    const replayKey = await call(env, "POST", "/v1/api_keys", {
      key: owner.secret_key,
      body: { name: "stored answer" },
      headers: { "idempotency-key": "key-1" },
    });
    assert.equal(replayKey.body.key, apiKey.body.key);
    const replayEndpoint = await call(env, "POST", "/v1/webhook_endpoints", {
      key: owner.secret_key,
      body: { url: "https://example.com/hooks", events: ["*"] },
      headers: { "idempotency-key": "wep-1" },
    });
    assert.equal(replayEndpoint.body.secret, endpoint.body.secret);
    // reads: the configuration never returns the keys; a bad update does not echo them
    const read = await call(env, "GET", "/v1/providers/stripe", { key: owner.secret_key });
    assert.equal(read.status, 200);
    const bad = await call(env, "PUT", "/v1/providers/stripe", {
      key: owner.secret_key,
      body: { secret_key: "sk_test_ANOTHERsecret0123456789", webhook_secret: "not-a-whsec" },
    });
    assert.equal(bad.status, 400);
    const secrets = [
      endpoint.body.secret,
      stripeKey,
      stripeHook,
      "sk_test_ANOTHERsecret0123456789",
      apiKey.body.key,
      session.body.token,
    ];
    const bodies = JSON.stringify([read.body, bad.body, endpoint.body.id]);
    const dump = await dumpTables(env.database.client);
    const files = await rawFiles(env.dir);
    const logText = logs.join("\n");
    for (const secret of secrets) {
      assert.ok(!dump.includes(secret), `SELECT shows a secret (${secret.slice(0, 8)}…)`);
      assert.ok(!files.includes(secret), `the database file or WAL holds a secret (${secret.slice(0, 8)}…)`);
      assert.ok(!logText.includes(secret), `a log line holds a secret (${secret.slice(0, 8)}…)`);
      assert.ok(!bodies.includes(secret), `an error or read body holds a secret (${secret.slice(0, 8)}…)`);
    }
    assert.ok(dump.includes(SEALED_PREFIX), "the sealed values are there");
  } finally {
    await env.close();
  }
});

Deno.test("BILLING_ENCRYPTION_KEY rotation: values sealed under the old key stay readable, new ones use the new key", async () => {
  const oldKey = generateEncryptionKey();
  const newKey = generateEncryptionKey();
  const oldBox = await SecretBox.create(oldKey);
  const env = await testEnv({ services: { secrets: oldBox } });
  try {
    const owner = await tenant(env, "rotation");
    const endpoint = await call(env, "POST", "/v1/webhook_endpoints", {
      key: owner.secret_key,
      body: { url: "https://example.com/hooks", events: ["*"] },
      headers: { "idempotency-key": "wep-rot" },
    });
    assert.equal(endpoint.status, 201);
    await call(env, "PUT", "/v1/providers/stripe", {
      key: owner.secret_key,
      body: { secret_key: "sk_live_ROTATEDkey00001111", webhook_secret: "whsec_ROTATEDhook0000" },
    });
    // the process restarts with the new key and the old one in BILLING_ENCRYPTION_OLD_KEYS
    const config = loadConfig({ BILLING_ENCRYPTION_KEY: newKey, BILLING_ENCRYPTION_OLD_KEYS: oldKey });
    const rotated = await SecretBox.create(config.encryptionKey!, config.encryptionOldKeys);
    assert.notEqual(rotated.keyId, oldBox.keyId);
    const services = { ...env.services, secrets: rotated };
    const app = { app: createApp(services, { adminToken: "rotation-admin-token-0123456789-abcdef" }) };
    const read = await call(app, "GET", "/v1/providers/stripe", { key: owner.secret_key });
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal(read.body.api_key_last4, "1111");
    assert.equal(read.body.livemode, true);
    const replay = await call(app, "POST", "/v1/webhook_endpoints", {
      key: owner.secret_key,
      body: { url: "https://example.com/hooks", events: ["*"] },
      headers: { "idempotency-key": "wep-rot" },
    });
    assert.equal(replay.body.secret, endpoint.body.secret, "opened with the old key");
    const second = await call(app, "POST", "/v1/webhook_endpoints", {
      key: owner.secret_key,
      body: { url: "https://example.com/hooks2", events: ["*"] },
    });
    assert.equal(second.status, 201);
    const stored = await env.database.client.execute({
      sql: "select id, secret from webhook_endpoints order by id",
      args: [],
    });
    const byId = new Map(stored.rows.map((r) => [String(r.id), String(r.secret)]));
    assert.ok(byId.get(endpoint.body.id)!.startsWith(`${SEALED_PREFIX}${oldBox.keyId}:`));
    assert.ok(byId.get(second.body.id)!.startsWith(`${SEALED_PREFIX}${rotated.keyId}:`));
    // without the old key, its values do not open (and the error names the key id, not the value)
    const newOnly = await SecretBox.create(newKey);
    await assert.rejects(
      () => newOnly.open(byId.get(endpoint.body.id)!, "webhook_endpoints.secret"),
      (error: unknown) => error instanceof SecretBoxError && error.message.includes(oldBox.keyId),
    );
    // a value moved to another column does not authenticate
    await assert.rejects(
      () => rotated.open(byId.get(endpoint.body.id)!, "payment_provider_configs.api_key"),
      SecretBoxError,
    );
  } finally {
    await env.close();
  }
});

Deno.test("sealPlaintextSecrets(): seals rows written in clear once (idempotent); the app reads them", async () => {
  const env = await testEnv();
  try {
    const owner = await tenant(env, "backfill");
    const created: any[] = [];
    for (let i = 0; i < 120; i++) {
      const res = await call(env, "POST", "/v1/webhook_endpoints", {
        key: owner.secret_key,
        body: { url: `https://example.com/hooks/${i}`, events: ["*"] },
      });
      if (res.status === 409) break; // the app's endpoint limit
      created.push(res.body);
    }
    await call(env, "PUT", "/v1/providers/stripe", {
      key: owner.secret_key,
      body: { secret_key: "sk_test_PLAINkey000022223333", webhook_secret: "whsec_PLAINhook0000" },
    });
    // as a database from before encryption: plaintext columns
    for (const e of created) {
      await env.database.client.execute({
        sql: "update webhook_endpoints set secret = ? where id = ?",
        args: [e.secret, e.id],
      });
    }
    await env.database.client.execute(
      "update payment_provider_configs set api_key = 'sk_test_PLAINkey000022223333', webhook_secret = 'whsec_PLAINhook0000'",
    );
    const first = await sealPlaintextSecrets(env.database, env.services.secrets!);
    assert.deepEqual(first, { webhook_endpoints: created.length, payment_provider_configs: 1 });
    const second = await sealPlaintextSecrets(env.database, env.services.secrets!);
    assert.deepEqual(second, { webhook_endpoints: 0, payment_provider_configs: 0 });
    const rows = await env.database.client.execute("select id, secret from webhook_endpoints");
    for (const row of rows.rows) assert.ok(isSealed(String(row.secret)));
    const byId = new Map(rows.rows.map((r) => [String(r.id), String(r.secret)]));
    for (const e of created) {
      assert.equal(await env.services.secrets!.open(byId.get(e.id)!, "webhook_endpoints.secret"), e.secret);
    }
    const read = await call(env, "GET", "/v1/providers/stripe", { key: owner.secret_key });
    assert.equal(read.body.api_key_last4, "3333");
  } finally {
    await env.close();
  }
});

Deno.test("without BILLING_ENCRYPTION_KEY a secret is refused with a problem, never stored in clear", async () => {
  const env = await testEnv({ services: { secrets: undefined } });
  try {
    const owner = await tenant(env, "nokey");
    const res = await call(env, "POST", "/v1/webhook_endpoints", {
      key: owner.secret_key,
      body: { url: "https://example.com/hooks", events: ["*"] },
    });
    assert.equal(res.status, 503);
    assert.equal(res.body.code, "encryption_key_missing");
    const stored = await env.database.client.execute("select count(*) as n from webhook_endpoints");
    assert.equal(Number(stored.rows[0].n), 0);
    assert.throws(() => loadConfig({ BILLING_ENCRYPTION_KEY: "c2hvcnQ=" }), /BILLING_ENCRYPTION_KEY/);
    assert.throws(
      () => loadConfig({ DATABASE_URL: "postgres://db/x", BILLING_ADMIN_TOKEN: "x".repeat(32) }),
      /BILLING_ENCRYPTION_KEY: required/,
    );
  } finally {
    await env.close();
  }
});
