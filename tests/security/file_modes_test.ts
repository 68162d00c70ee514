/**
 * The embedded default's files (ADR 0012): the data directory is 0700; the database, its WAL and
 * shared-memory files, the admin token and the encryption key are 0600, also after the first
 * writes; the first start prints the files' paths, never the token or the key. A short admin
 * token from the environment stops the process with a clear message.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DENO_MAIN, ROOT, spawnServer, START_LOCK, START_PERMISSIONS } from "../process.ts";

async function mode(path: string): Promise<string> {
  return ((await Deno.stat(path)).mode! & 0o777).toString(8);
}

Deno.test({
  name:
    "embedded default: data directory 0700, database/WAL/SHM/admin token/encryption key 0600; only paths printed",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "billing-modes-" });
    const data = `${dir}/data`;
    const env = { DATABASE_URL: `file:${data}/billing.db`, LOG_LEVEL: "error" };
    const server = await spawnServer(env);
    try {
      const token = (await Deno.readTextFile(`${data}/admin-token`)).trim();
      const key = (await Deno.readTextFile(`${data}/encryption-key`)).trim();
      assert.ok(token.length >= 32);
      assert.match(server.output, new RegExp(`Admin token: generated into ${data}/admin-token`));
      assert.match(server.output, new RegExp(`Encryption key: generated into ${data}/encryption-key`));
      assert.ok(!server.output.includes(token), "the admin token is never printed");
      assert.ok(!server.output.includes(key), "the encryption key is never printed");
      // writes after start-up (WAL and SHM in use)
      const res = await fetch(`${server.base}/v1/admin/tenants`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "modes", app: "production" }),
      });
      assert.equal(res.status, 201);
      const keys = await res.json();
      const hook = await fetch(`${server.base}/v1/webhook_endpoints`, {
        method: "POST",
        headers: { authorization: `Bearer ${keys.secret_key}`, "content-type": "application/json" },
        body: JSON.stringify({ url: "https://example.com/hooks", events: ["*"] }),
      });
      assert.equal(hook.status, 201);
      await hook.body?.cancel();
      assert.equal(await mode(data), "700");
      const files: Record<string, string> = {};
      for (
        const name of ["billing.db", "billing.db-wal", "billing.db-shm", "admin-token", "encryption-key"]
      ) {
        files[name] = await mode(`${data}/${name}`);
      }
      assert.deepEqual(files, {
        "billing.db": "600",
        "billing.db-wal": "600",
        "billing.db-shm": "600",
        "admin-token": "600",
        "encryption-key": "600",
      });
    } finally {
      await server.stop();
    }
    // second start: the files are read (paths printed again, values never)
    const again = await spawnServer(env);
    try {
      assert.match(again.output, /Admin token: in .*admin-token/);
      assert.match(again.output, /Encryption key: in .*encryption-key/);
      const token = (await Deno.readTextFile(`${data}/admin-token`)).trim();
      assert.ok(!again.output.includes(token));
    } finally {
      await again.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("an admin token shorter than 32 characters in the environment stops the server with a clear message", async () => {
  const dir = await Deno.makeTempDir({ prefix: "billing-short-" });
  try {
    const short = "short-admin-token-0123456789";
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", START_LOCK, ...START_PERMISSIONS, DENO_MAIN],
      cwd: ROOT,
      env: { DATABASE_URL: `file:${dir}/billing.db`, BILLING_ADMIN_TOKEN: short, PORT: "0" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, stderr);
    assert.match(stderr, /BILLING_ADMIN_TOKEN: must be at least 32 random characters/);
    assert.ok(!stderr.includes(short), "the message names the variable, never its value");
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
