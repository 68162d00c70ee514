/**
 * Transactional outbox and plugins: every committed change has its outbox row (same message id
 * as the in-process event and the audit row), a rolled-back change has none, and plugins are
 * time-bounded and isolated.
 */
import assert from "node:assert/strict";
import { BillingError } from "../../src/domain/errors.ts";
import type { LifecycleEvent } from "../../src/domain/events.ts";
import type { PlanView } from "../../src/domain/views.ts";
import type { Ctx } from "../../src/context.ts";
import { writeOp } from "../../src/lifecycle/write.ts";
import { readOutbox } from "../../src/lifecycle/outbox.ts";
import { PluginRegistry } from "../../src/lifecycle/plugins.ts";
import { plans } from "../../src/storage/schema.ts";
import { apiPlanBody, call, countRows, tenant, testEnv } from "../helpers.ts";

Deno.test("outbox: tenant, plan and customer writes each commit their event with the change, in commit order", async () => {
  const env = await testEnv();
  try {
    const t = await tenant(env);
    const plan = await call(env, "POST", "/v1/plans", { key: t.secret_key, body: apiPlanBody() });
    assert.equal(plan.status, 201);
    const cus = await call(env, "POST", "/v1/customers", {
      key: t.secret_key,
      body: { external_id: "u1", email: "a@example.com" },
    });
    assert.equal(cus.status, 201);
    const archived = await call(env, "POST", `/v1/plans/${plan.body.id}/archive`, { key: t.secret_key });
    assert.equal(archived.status, 200);

    const outbox = await readOutbox(env.database.db, { tenantId: t.tenant_id, appId: t.app_id });
    assert.deepEqual(outbox.map((m) => m.type), [
      "tenant.created",
      "plan.created",
      "customer.created",
      "plan.archived",
    ]);
    assert.deepEqual(outbox.map((m) => m.resource_id), [t.app_id, plan.body.id, cus.body.id, plan.body.id]);
    assert.ok(outbox.every((m, i) => i === 0 || m.seq > outbox[i - 1].seq), "seq grows with commit order");
    assert.equal(outbox[1].data.key, "api-pro");
    // The in-process event, the outbox row and the audit row name the same message.
    assert.deepEqual(env.events.map((e) => e.id), outbox.map((m) => m.id));
    const audit = await env.database.client.execute("select message_id from audit_events order by id");
    assert.deepEqual(audit.rows.map((r) => r.message_id), outbox.map((m) => m.id));
  } finally {
    await env.close();
  }
});

Deno.test("outbox: a rejected request and a rolled-back write leave no outbox or audit row and dispatch nothing", async () => {
  const env = await testEnv();
  try {
    const t = await tenant(env);
    const before = {
      outbox: await countRows(env, "outbox_events"),
      audit: await countRows(env, "audit_events"),
      events: env.events.length,
    };
    // Conflict after validation: the same plan key twice with another payload.
    assert.equal(
      (await call(env, "POST", "/v1/plans", { key: t.secret_key, body: apiPlanBody() })).status,
      201,
    );
    const conflict = await call(env, "POST", "/v1/plans", {
      key: t.secret_key,
      body: apiPlanBody({ name: "Other" }),
    });
    assert.ok(conflict.status >= 400 && conflict.status < 500);
    assert.equal(await countRows(env, "outbox_events"), before.outbox + 1);
    assert.equal(await countRows(env, "audit_events"), before.audit + 1);

    // A write that emits and then fails: the plan row, the event and the audit row all vanish.
    const ctx: Ctx = { ...env.services, scope: { tenantId: t.tenant_id, appId: t.app_id }, actor: "system" };
    await assert.rejects(
      writeOp(ctx, async (tx, emit) => {
        await tx.update(plans).set({ name: "renamed" });
        // Only the rollback matters here, not the payload: a partial plan is enough.
        emit("plan.updated", "pln_x", { name: "renamed" } as unknown as PlanView);
        throw new BillingError("boom", "conflict", "Failed after emitting");
      }),
      (e: unknown) => e instanceof BillingError && e.code === "boom",
    );
    assert.equal(await countRows(env, "outbox_events"), before.outbox + 1);
    assert.equal(await countRows(env, "audit_events"), before.audit + 1);
    assert.equal(env.events.length, before.events + 1);
    const names = await env.database.client.execute("select name from plans");
    assert.deepEqual(names.rows.map((r) => r.name), ["API Pro"]);
  } finally {
    await env.close();
  }
});

Deno.test("outbox: a failing outbox write rolls back the change (no change without its event)", async () => {
  const env = await testEnv();
  try {
    const t = await tenant(env);
    // Make every outbox insert fail inside the transaction.
    await env.database.client.execute(
      "create trigger outbox_fail before insert on outbox_events begin select raise(abort, 'outbox unavailable'); end",
    );
    const res = await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: "u1" } });
    assert.equal(res.status, 500);
    assert.equal(await countRows(env, "customers"), 0);
  } finally {
    await env.close();
  }
});

Deno.test("PluginRegistry: a throwing plugin and a plugin past its time bound are logged; the operation succeeds and others still run", async () => {
  const logs: Record<string, unknown>[] = [];
  const env = await testEnv({ services: { log: (r) => void logs.push(r) } });
  try {
    const plugins = new PluginRegistry(env.services.lifecycle, env.services.log);
    const seen: string[] = [];
    let aborted = false;
    plugins.register({
      name: "thrower",
      handle: () => {
        throw new Error("plugin bug");
      },
    });
    plugins.register({
      name: "slow",
      timeoutMs: 30,
      events: ["customer.created"],
      handle: (_e, signal) =>
        new Promise((resolve) => {
          const t = setTimeout(resolve, 2_000);
          signal.addEventListener("abort", () => {
            aborted = true;
            clearTimeout(t);
          });
        }),
    });
    plugins.register({
      name: "recorder",
      events: ["customer.created"],
      handle: (e: LifecycleEvent) => void seen.push(e.type),
    });
    assert.throws(() => plugins.register({ name: "recorder", handle: () => {} }), /already registered/);
    assert.throws(() => plugins.register({ name: "x", timeoutMs: 0, handle: () => {} }), /outside/);

    const t = await tenant(env);
    const started = performance.now();
    const res = await call(env, "POST", "/v1/customers", { key: t.secret_key, body: { external_id: "u1" } });
    assert.equal(res.status, 201);
    assert.ok(performance.now() - started < 1_500, "the slow plugin was cut off at its bound");
    assert.ok(aborted, "the slow plugin saw its signal abort");
    assert.deepEqual(seen, ["customer.created"]);
    const failures = logs.filter((l) => l.msg === "plugin failed" || l.msg === "plugin timed out");
    assert.deepEqual(failures.map((l) => [l.msg, l.plugin, l.event]), [
      ["plugin failed", "thrower", "tenant.created"],
      ["plugin failed", "thrower", "customer.created"],
      ["plugin timed out", "slow", "customer.created"],
    ]);
    assert.ok(
      failures.every((l) => typeof l.message_id === "string" && String(l.message_id).startsWith("msg_")),
    );
    assert.equal(plugins.unregister("thrower"), true);
    assert.deepEqual(plugins.names(), ["slow", "recorder"]);
  } finally {
    await env.close();
  }
});
