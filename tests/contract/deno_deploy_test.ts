/**
 * The Deno Deploy entry (`src/runtime/deno_deploy/main.ts`): two processes stand for two isolates
 * of one deployment (one libSQL database, one KV file as the deployment's KV). The HTTP contract
 * suite runs against one of them; concurrent writes of one tenant spread over both stay exact;
 * the KV lease itself is checked between two KV handles.
 *
 * @module
 */
import assert from "node:assert/strict";
import { BillingError } from "../../src/domain/errors.ts";
import { TenantLock } from "../../src/runtime/deno_deploy/tenant_lock.ts";
import { contractCases, http, provision, type Target } from "./contract.ts";
import { spawnDeno, TEST_ENCRYPTION_KEY } from "../process.ts";
import { loadConfig } from "../../src/config.ts";
import { createDeployHandler, type DeployHandler } from "../../src/runtime/deno_deploy/handler.ts";
import { maintenanceSucceeded } from "../../src/runtime/maintenance.ts";

const MAIN = new URL("../../src/runtime/deno_deploy/main.ts", import.meta.url).pathname;
const ADMIN_TOKEN = "deploy-admin-token-0123456789-abcdef";

/** Starts one "isolate" and waits for its listening line. */
async function spawnIsolate(dir: string) {
  const child = await spawnDeno({
    args: ["-A", "--unstable-kv", "--unstable-cron", MAIN],
    env: {
      PORT: "0",
      DATABASE_URL: `file:${dir}/billing.db`,
      DENO_KV_PATH: `${dir}/kv.sqlite`,
      BILLING_ADMIN_TOKEN: ADMIN_TOKEN,
      BILLING_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      LOG_LEVEL: "error",
      // the webhook case delivers to a receiver on 127.0.0.1
      WEBHOOK_ALLOW_PRIVATE_URLS: "true",
    },
  });
  return {
    target: { url: () => `http://127.0.0.1:${child.port}`, adminToken: ADMIN_TOKEN } satisfies Target,
    stop: child.stop,
  };
}

Deno.test({
  name: "Deno Deploy entry: two isolates on one database and one KV",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "deno-deploy-" });
    const a = await spawnIsolate(dir);
    const b = await spawnIsolate(dir);
    try {
      // What `Deno.cron` runs every five minutes, run on demand by a third isolate of the deployment.
      let cron: { deploy: DeployHandler; kv: Deno.Kv } | undefined;
      const target: Target = {
        ...a.target,
        async maintain() {
          if (!cron) {
            const kv = await Deno.openKv(`${dir}/kv.sqlite`);
            const config = loadConfig({
              DATABASE_URL: `file:${dir}/billing.db`,
              BILLING_ADMIN_TOKEN: ADMIN_TOKEN,
              BILLING_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
              LOG_LEVEL: "error",
              WEBHOOK_ALLOW_PRIVATE_URLS: "true",
            });
            cron = { deploy: await createDeployHandler(config, kv), kv };
          }
          const report = await cron.deploy.maintenance();
          assert.ok(maintenanceSucceeded(report), JSON.stringify(report));
        },
      };
      try {
        for (const c of contractCases) await t.step(`contract: ${c.name}`, () => c.run(target));
      } finally {
        cron?.kv.close();
      }

      await t.step(
        "one tenant's writes spread over both isolates stay exact (funds spent exactly once)",
        async () => {
          const { secret_key: key } = await provision(a.target);
          const account = async (name: string, extra: Record<string, unknown> = {}) =>
            (await http(a.target, "POST", "/v1/ledger/accounts", {
              key,
              body: { name, type: "liability", currency: "USD", ...extra },
            })).body.id;
          const cash = (await http(a.target, "POST", "/v1/ledger/accounts", {
            key,
            body: { name: "cash", type: "asset", currency: "USD" },
          })).body.id;
          const wallet = await account("wallet:shared", { debits_must_not_exceed_credits: true });
          const merchant = await account("merchant:shared");
          await http(a.target, "POST", "/v1/ledger/entries", {
            key,
            body: {
              idempotency_key: "fund",
              postings: [{ account_id: cash, amount: 1000, currency: "USD" }, {
                account_id: wallet,
                amount: -1000,
                currency: "USD",
              }],
            },
          });
          const spends = await Promise.all(
            Array.from(
              { length: 40 },
              (_, i) =>
                http(i % 2 === 0 ? a.target : b.target, "POST", "/v1/ledger/entries", {
                  key,
                  body: {
                    idempotency_key: `spend-${i}`,
                    postings: [{ account_id: wallet, amount: 50, currency: "USD" }, {
                      account_id: merchant,
                      amount: -50,
                      currency: "USD",
                    }],
                  },
                }),
            ),
          );
          const statuses = spends.map((s) => s.status);
          assert.equal(statuses.filter((s) => s === 201).length, 20, `20 spends fit in 1000: ${statuses}`);
          const refused = spends.filter((s) => s.status !== 201);
          assert.ok(
            refused.every((s) => s.status === 422 && s.body.code === "insufficient_balance"),
            JSON.stringify(refused.map((s) => s.body)),
          );
          const balance = await http(b.target, "GET", `/v1/ledger/accounts/${wallet}/balance`, { key });
          assert.deepEqual([balance.body.posted, balance.body.available], [0, 0]);
        },
      );
    } finally {
      await a.stop();
      await b.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("TenantLock: leases exclude each other across KV handles, expire, and time out with tenant_busy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tenant-lock-" });
  const first = await Deno.openKv(`${dir}/kv.sqlite`);
  const second = await Deno.openKv(`${dir}/kv.sqlite`);
  try {
    const locks = [new TenantLock(first), new TenantLock(second)];
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    await Promise.all(Array.from({ length: 30 }, (_, i) =>
      locks[i % 2].run("ten_a", async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        await new Promise((r) => setTimeout(r, 1));
        order.push(i);
        inside--;
      })));
    assert.equal(maxInside, 1, "never two holders at once");
    assert.equal(order.length, 30);
    assert.equal(locks[0].stats.acquired + locks[1].stats.acquired, 30);
    assert.ok(locks[0].stats.contended + locks[1].stats.contended > 0, "the two handles did contend");
    // other tenants are not blocked by a held lease
    let other = false;
    await locks[0].run("ten_a", async () => {
      await locks[1].run("ten_b", () => Promise.resolve(void (other = true)));
    });
    assert.ok(other);

    // a holder that stops renewing (a dead isolate) loses its lease when it expires
    const dying = new TenantLock(first, { leaseMs: 100 });
    const waiter = new TenantLock(second, { maxWaitMs: 5_000 });
    let release!: () => void;
    const held = dying.run("ten_c", () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    await waiter.run("ten_c", async () => {});
    assert.ok(Date.now() - started >= 50, "waited for the expiry");
    assert.equal(waiter.stats.stolen, 1);
    release();
    await held; // its release finds another owner's (or no) lease and leaves it alone

    // a lease held past the wait limit answers the retryable tenant_busy
    const patient = new TenantLock(second, { maxWaitMs: 50 });
    await locks[0].run("ten_d", async () => {
      await assert.rejects(
        patient.run("ten_d", async () => {}),
        (e) => e instanceof BillingError && e.code === "tenant_busy" && e.retryable,
      );
    });
  } finally {
    first.close();
    second.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
