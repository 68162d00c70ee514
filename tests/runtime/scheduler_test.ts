/**
 * The one scheduler of periodic work (`runtime/maintenance.ts`): one loop, each job at its own
 * cadence, never two runs at once, a failing job does not stop the others. Counts, not timings,
 * are asserted: the loop runs on real timers for a bounded number of runs.
 */
import assert from "node:assert/strict";
import { maintenanceJobs, type PeriodicJob, startScheduler } from "../../src/runtime/maintenance.ts";
import { testEnv } from "../helpers.ts";

Deno.test("startScheduler(): each job runs at its own cadence in one loop, one run at a time", async () => {
  const env = await testEnv();
  try {
    const runs: string[] = [];
    let active = 0;
    let overlapped = false;
    const job = (name: string, intervalMs: number, fail = false): PeriodicJob => ({
      name,
      intervalMs,
      run: async () => {
        if (++active > 1) overlapped = true;
        runs.push(name);
        await new Promise((r) => setTimeout(r, 1));
        active--;
        if (fail) throw new Error(`${name} failed`);
      },
    });
    const scheduler = startScheduler(env.services, [
      job("fast", 5),
      job("slow", 60_000),
      job("broken", 5, true),
    ]);
    while (runs.filter((r) => r === "fast").length < 10) await new Promise((r) => setTimeout(r, 5));
    await scheduler.stop();
    const stoppedAt = runs.length;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(runs.length, stoppedAt, "nothing runs after stop()");
    assert.equal(overlapped, false);
    assert.equal(runs.includes("slow"), false, "a 60 s job has not come due");
    assert.ok(
      runs.filter((r) => r === "broken").length >= 9,
      "a failing job keeps its cadence and the others run",
    );
  } finally {
    await env.close();
  }
});

Deno.test("startScheduler(): runNow() runs one job at once, after a run in progress", async () => {
  const env = await testEnv();
  try {
    let runs = 0;
    const scheduler = startScheduler(env.services, [{
      name: "once",
      intervalMs: 3_600_000,
      run: () => Promise.resolve(++runs),
    }]);
    await scheduler.runNow("once");
    await scheduler.runNow("once");
    assert.equal(runs, 2);
    await assert.rejects(scheduler.runNow("missing"), /No periodic job "missing"/);
    await scheduler.stop();
  } finally {
    await env.close();
  }
});

Deno.test("maintenanceJobs(): the configuration's cadences, 0 turns a job off", async () => {
  const env = await testEnv();
  try {
    const all = maintenanceJobs(env.services, {
      webhookWorkerIntervalMs: 1_000,
      billingCycleIntervalMs: 60_000,
    });
    assert.deepEqual(all.map((j) => [j.name, j.intervalMs]), [
      ["webhooks", 1_000],
      ["holds", 5_000],
      ["billing_cycle", 60_000],
      ["history", 3_600_000],
    ]);
    const off = maintenanceJobs(env.services, { webhookWorkerIntervalMs: 0, billingCycleIntervalMs: 0 });
    assert.deepEqual(off.map((j) => j.name), ["holds"]);
    for (const job of all) await job.run(); // every job runs against a real (empty) database
  } finally {
    await env.close();
  }
});
