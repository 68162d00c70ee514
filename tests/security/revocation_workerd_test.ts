/**
 * Key management on Cloudflare Workers, in real workerd: a key created through the API routes at
 * once; a revoked key fails within a second, also on the Worker's edge path (checks answered from
 * Redis by the Worker without the tenant object) and through the object; a key outside its scope
 * never takes the edge path; admin token rotation answers its problem (the token is the secret
 * binding there); a short `BILLING_ADMIN_TOKEN` binding fails every request with a problem.
 *
 * @module
 */
import assert from "node:assert/strict";
import { apiPlanBody } from "../helpers.ts";
import { http, provision, type Target } from "../contract/contract.ts";
import { acquireRedis, testPrefix, upstashFor } from "../redis_helpers.ts";
import { buildWorker, startWorker } from "../workerd.ts";
import { KEY_CACHE_TTL_MS } from "../../src/tenants/service.ts";

const ADMIN_TOKEN = "workerd-keys-admin-token-0123456789-abcdef";

async function until401(probe: () => Promise<{ status: number }>, since: number): Promise<number> {
  for (;;) {
    const res = await probe();
    if (res.status === 401) return Date.now() - since;
    assert.ok(
      Date.now() - since < KEY_CACHE_TTL_MS + 10_000,
      `still ${res.status} (the printed number is the measurement)`,
    );
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test({
  name:
    "workerd: created keys route at once, revoked keys fail within a second (edge path included), scopes hold",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const redis = await acquireRedis();
    assert.ok(redis, "Redis on 127.0.0.1:6379 is part of the test environment");
    const upstash = await upstashFor(redis);
    const dir = await Deno.makeTempDir({ prefix: "worker-keys-" });
    try {
      const build = await buildWorker(`${dir}/dist`);
      const worker = await startWorker(build, `${dir}/a`, {
        BILLING_ADMIN_TOKEN: ADMIN_TOKEN,
        LOG_LEVEL: "error",
        UPSTASH_REDIS_REST_URL: upstash.url,
        UPSTASH_REDIS_REST_TOKEN: upstash.token,
        REDIS_KEY_PREFIX: testPrefix("keys"),
      });
      const target: Target = { url: worker.url, adminToken: ADMIN_TOKEN };
      try {
        const keys = await provision(target);
        const owner = keys.secret_key;
        const plan = await http(target, "POST", "/v1/plans", {
          key: owner,
          body: apiPlanBody({ key: "calls", features: [{ key: "calls", type: "metered", limit: 1000 }] }),
        });
        assert.equal(plan.status, 201, JSON.stringify(plan.body));
        await http(target, "POST", "/v1/customers", { key: owner, body: { external_id: "c1" } });
        const sub = await http(target, "POST", "/v1/subscriptions", {
          key: owner,
          body: { customer_id: "c1", plan_id: plan.body.id },
        });
        assert.equal(sub.status, 201, JSON.stringify(sub.body));

        const made = await http(target, "POST", "/v1/api_keys", {
          key: owner,
          body: { name: "edge", scope: "usage_only" },
        });
        assert.equal(made.status, 201, JSON.stringify(made.body));
        const edgeCheck = () =>
          http(target, "POST", "/v1/entitlements/check", {
            key: made.body.key,
            body: { customer_id: "c1", feature: "calls" },
          });
        const objectRead = () =>
          http(target, "GET", "/v1/usage?customer_id=c1&feature=calls", { key: made.body.key });
        assert.equal((await edgeCheck()).status, 200, "a created key works at once");
        assert.equal((await edgeCheck()).status, 200);
        // outside its scope: the object's 403, never the edge
        const plans = await http(target, "GET", "/v1/plans", { key: made.body.key });
        assert.equal(plans.status, 403);
        assert.equal(plans.body.code, "key_scope_not_allowed");
        const readOnly = await http(target, "POST", "/v1/api_keys", {
          key: owner,
          body: { name: "ro", scope: "ledger_only" },
        });
        const edgeDenied = await http(target, "POST", "/v1/entitlements/check", {
          key: readOnly.body.key,
          body: { customer_id: "c1", feature: "calls" },
        });
        assert.equal(edgeDenied.status, 403, JSON.stringify(edgeDenied.body));

        const revoked = await http(target, "POST", `/v1/api_keys/${made.body.id}/revoke`, { key: owner });
        assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
        const revokedAt = Date.now(); // measured from the revocation's answer
        const edge = await until401(edgeCheck, revokedAt);
        const object = await until401(objectRead, revokedAt);

        // a roll with no grace ends the old key too; the new key routes at once
        const second = await http(target, "POST", "/v1/api_keys", { key: owner, body: { name: "two" } });
        assert.equal((await http(target, "GET", "/v1/plans", { key: second.body.key })).status, 200);
        const rolled = await http(target, "POST", `/v1/api_keys/${second.body.id}/roll`, {
          key: owner,
          body: { expires_in_seconds: 0 },
        });
        assert.equal(rolled.status, 201, JSON.stringify(rolled.body));
        const rolledAt = Date.now();
        assert.equal((await http(target, "GET", "/v1/plans", { key: rolled.body.key.key })).status, 200);
        const roll = await until401(
          () => http(target, "GET", "/v1/plans", { key: second.body.key }),
          rolledAt,
        );

        // admin tokens: the secret binding is the token here
        const rotate = await http(target, "POST", "/v1/admin/admin_tokens/roll", { key: ADMIN_TOKEN });
        assert.equal(rotate.status, 409);
        assert.equal(rotate.body.code, "admin_token_rotation_unavailable");
        console.log(
          `workerd revocation effective after: edge check ${edge} ms, tenant object ${object} ms, ` +
            `rolled key ${roll} ms (bound ${KEY_CACHE_TTL_MS} ms)`,
        );
      } finally {
        await worker.dispose();
      }

      // a short admin token binding: every request answers a problem naming the variable
      const short = await startWorker(build, `${dir}/b`, {
        BILLING_ADMIN_TOKEN: "short-token",
        LOG_LEVEL: "error",
      });
      try {
        const res = await fetch(`${short.url()}/v1/admin/tenants`, {
          method: "POST",
          headers: { authorization: "Bearer short-token", "content-type": "application/json" },
          body: JSON.stringify({ name: "x", app: "y" }),
        });
        assert.equal(res.status, 503);
        assert.match(res.headers.get("content-type") ?? "", /problem\+json/);
        const body = await res.json();
        assert.equal(body.code, "server_misconfigured");
        assert.match(body.detail, /BILLING_ADMIN_TOKEN/);
        assert.ok(!body.detail.includes("short-token"));
      } finally {
        await short.dispose();
      }
    } finally {
      await upstash.stop().catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
