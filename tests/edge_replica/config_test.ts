/**
 * `BILLING_ROLE` and the `EDGE_*` variables (ADR 0014), and the start task's installer step,
 * which must do nothing on the embedded default.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import { ROOT } from "../process.ts";

Deno.test("loadConfig(): role all by default, without replica; EDGE_* refused there", () => {
  const c = loadConfig({});
  assert.equal(c.role, "all");
  assert.equal(c.edgeReplica, null);
  assert.equal(c.liveEntitlements, "memory");
  assert.throws(
    () => loadConfig({ EDGE_REPLICA_PATH: "./data/edge.db" }),
    /only with BILLING_ROLE=edge or billing/,
  );
  assert.throws(() => loadConfig({ BILLING_ROLE: "primary" }), /BILLING_ROLE/);
});

Deno.test("loadConfig(): an edge node needs a replica path and a sync URL; defaults of the push loop", () => {
  assert.throws(() => loadConfig({ BILLING_ROLE: "edge" }), /EDGE_REPLICA_PATH: required/);
  assert.throws(
    () => loadConfig({ BILLING_ROLE: "edge", EDGE_REPLICA_PATH: "./data/edge.db" }),
    /EDGE_SYNC_URL: required/,
  );
  assert.throws(
    () => loadConfig({ BILLING_ROLE: "edge", EDGE_REPLICA_PATH: "e.db", EDGE_SYNC_URL: "ftp://x" }),
    /EDGE_SYNC_URL/,
  );
  const c = loadConfig({
    BILLING_ROLE: "edge",
    EDGE_REPLICA_PATH: "./data/edge.db",
    EDGE_SYNC_URL: "libsql://usage-org.turso.io",
  });
  assert.deepEqual(c.edgeReplica, {
    path: "./data/edge.db",
    syncUrl: "libsql://usage-org.turso.io",
    authToken: undefined,
    pushIntervalMs: 1000,
    pushBatch: 1000,
    pushBackoffMaxMs: 30_000,
    pullIntervalMs: 1000,
    ingestBatch: 1000,
    outboxRetentionMs: 86_400_000,
  });
  assert.throws(
    () =>
      loadConfig({
        BILLING_ROLE: "edge",
        EDGE_REPLICA_PATH: "./data/billing.db",
        EDGE_SYNC_URL: "http://127.0.0.1:8080",
      }),
    /must not be the primary database file/,
  );
  // No per-process counters on nodes that share the primary.
  assert.equal(c.liveEntitlements, "libsql");
  assert.throws(
    () =>
      loadConfig({
        BILLING_ROLE: "edge",
        EDGE_REPLICA_PATH: "e.db",
        EDGE_SYNC_URL: "http://127.0.0.1:8080",
        LIVE_ENTITLEMENTS: "memory",
      }),
    /LIVE_ENTITLEMENTS/,
  );
  assert.throws(
    () =>
      loadConfig({
        BILLING_ROLE: "edge",
        EDGE_REPLICA_PATH: "e.db",
        EDGE_SYNC_URL: "http://127.0.0.1:8080",
        EDGE_INGEST_BATCH: "1001",
      }),
    /EDGE_INGEST_BATCH/,
  );
});

Deno.test("loadConfig(): a billing process takes a replica or none", () => {
  assert.equal(loadConfig({ BILLING_ROLE: "billing" }).edgeReplica, null);
  assert.throws(
    () => loadConfig({ BILLING_ROLE: "billing", EDGE_SYNC_URL: "http://127.0.0.1:8080" }),
    /EDGE_REPLICA_PATH: required/,
  );
  const c = loadConfig({
    BILLING_ROLE: "billing",
    EDGE_REPLICA_PATH: "./data/billing-replica.db",
    EDGE_SYNC_URL: "http://127.0.0.1:8080",
    EDGE_PULL_INTERVAL_MS: "250",
  });
  assert.equal(c.edgeReplica?.pullIntervalMs, 250);
});

Deno.test("scripts/edge_deps.ts (first step of task start) runs nothing on the embedded default", async () => {
  // Without npm on PATH an installation would fail: exit 0 shows none was attempted.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-env", "--allow-read", "--allow-run=npm", "scripts/edge_deps.ts"],
    cwd: ROOT,
    env: { PATH: "/nonexistent" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.equal(new TextDecoder().decode(out.stdout), "");
  assert.doesNotMatch(stderr, /Installing/);
});
