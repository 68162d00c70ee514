/**
 * The one loop of periodic work: {@link startScheduler} runs jobs, each at its own cadence, one
 * run at a time. The Deno server runs every maintenance job through it (`runtime/maintenance.ts`);
 * the single-job workers (`ledger/hold_sweeper.ts`, `webhooks/delivery.ts`) are built on it too.
 * It lives here, below the capabilities, so they can use it without importing `runtime/`.
 *
 * @module
 */
import type { Services } from "../context.ts";

/** One periodic job of {@link startScheduler}. */
export interface PeriodicJob {
  /** Name in logs (`webhooks`, `holds`, `billing_cycle`…). */
  name: string;
  /** Pause between the end of one run and the start of the next, ms (> 0). */
  intervalMs: number;
  /** One run; a rejection is logged and the job runs again after its interval. */
  run: () => Promise<unknown>;
}

/** A running {@link startScheduler} loop. */
export interface Scheduler {
  /** Runs one job now (after a run in progress), outside its cadence; resolves when it finished. */
  runNow(name: string): Promise<void>;
  /**
   * Runs `work` now, never at the same time as a job run (after a run in progress); resolves
   * with its result or rejects with its error (not logged: the caller has it).
   */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** Stops the loop after the run in progress (if any) has finished. */
  stop(): Promise<void>;
}

/**
 * One loop of periodic work: each job runs `intervalMs` after its previous run ended (wall time),
 * one job at a time, in the order given when several are due. A failing run is logged and does
 * not stop the loop or the other jobs.
 *
 * @example
 * const scheduler = startScheduler(services, [{ name: "holds", intervalMs: 5_000, run: sweep }]);
 * await scheduler.stop();
 */
export function startScheduler(services: Services, jobs: readonly PeriodicJob[]): Scheduler {
  const due = new Map(jobs.map((job) => [job.name, Date.now() + job.intervalMs]));
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  const runJob = async (job: PeriodicJob): Promise<void> => {
    try {
      await job.run();
    } catch (error) {
      services.log({ level: "error", msg: "periodic job failed", job: job.name, error: String(error) });
    }
    due.set(job.name, Date.now() + job.intervalMs);
  };
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = running.then(work);
    running = next.then(() => undefined, () => undefined);
    return next;
  };
  const schedule = () => {
    if (stopped || jobs.length === 0) return;
    const wait = Math.max(0, Math.min(...jobs.map((job) => due.get(job.name)!)) - Date.now());
    timer = setTimeout(tick, wait);
  };
  const tick = () => {
    void serial(async () => {
      for (const job of jobs) {
        if (stopped) return;
        if (due.get(job.name)! <= Date.now()) await runJob(job);
      }
    }).finally(schedule);
  };
  schedule();
  return {
    runNow(name) {
      const job = jobs.find((j) => j.name === name);
      if (!job) return Promise.reject(new Error(`No periodic job "${name}"`));
      return serial(() => stopped ? Promise.resolve() : runJob(job));
    },
    exclusive: (work) => serial(work),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
