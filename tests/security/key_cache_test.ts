/**
 * `KeyResolver.cached` (issue 14: the fast lane takes a cached key without a promise) answers
 * exactly what `resolve` answers whenever it answers at all, and defers to `resolve` otherwise.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tenant, testEnv } from "../helpers.ts";
import { KeyResolver } from "../../src/tenants/service.ts";

Deno.test("KeyResolver.cached: undefined until resolve has looked the key up, then resolve's answer; malformed keys null; forget() defers again", async () => {
  const env = await testEnv();
  try {
    const t = await tenant(env);
    const keys = new KeyResolver(env.services);
    const unknown = `sk_${"0".repeat(64)}`;
    assert.equal(keys.cached(t.secret_key), undefined);
    assert.equal(keys.cached(unknown), undefined);
    assert.equal(keys.cached("sk_short"), null);
    assert.equal(await keys.resolve("sk_short"), null);

    const principal = await keys.resolve(t.secret_key);
    assert.equal(principal?.kind, "secret");
    assert.deepEqual(keys.cached(t.secret_key), principal);
    assert.equal(keys.cached(t.publishable_key), undefined);
    assert.deepEqual([await keys.resolve(t.publishable_key)].map((p) => p?.kind), ["publishable"]);
    assert.deepEqual(keys.cached(t.publishable_key), await keys.resolve(t.publishable_key));

    assert.equal(await keys.resolve(unknown), null);
    assert.equal(keys.cached(unknown), null);

    keys.forget();
    assert.equal(keys.cached(t.secret_key), undefined);
    assert.deepEqual(await keys.resolve(t.secret_key), principal);
  } finally {
    await env.close();
  }
});
