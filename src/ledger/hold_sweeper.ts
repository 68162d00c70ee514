/**
 * The local server's periodic hold sweep: every `intervalMs` it expires the due ledger and
 * inventory holds of every scope through the single writer (`sweepAllScopes`). On Workers and
 * Deno Deploy the same sweep runs from the maintenance cron (`runtime/maintenance.ts`). Together
 * with the sweep at the start of every write batch and the one a read triggers, a due hold is
 * released promptly and exactly once (ADR 0007).
 *
 * @module
 */
import type { Services } from "../context.ts";
import { sweepAllScopes } from "./service.ts";
import { startScheduler } from "../lifecycle/scheduler.ts";

/** Default period of the sweep: 5 s (holds live at least 1 s, at most 30 days). */
export const DEFAULT_HOLD_SWEEP_INTERVAL_MS = 5_000;

/** A running sweeper. */
export interface HoldSweeper {
  /** Runs one sweep now (after a running one); resolves with the number of scopes swept. */
  sweepNow(): Promise<number>;
  /** Stops the timer and waits for a running sweep. */
  stop(): Promise<void>;
}

/**
 * Starts the periodic sweep alone on the one scheduler (`lifecycle/scheduler.ts`; the Deno server
 * runs it as its `holds` maintenance job). A failing sweep is logged and retried on the next tick.
 *
 * @example
 * const sweeper = startHoldSweeper(services);
 * await sweeper.stop();
 */
export function startHoldSweeper(services: Services, options: { intervalMs?: number } = {}): HoldSweeper {
  const sweep = () => sweepAllScopes(services);
  const scheduler = startScheduler(services, [{
    name: "holds",
    intervalMs: options.intervalMs ?? DEFAULT_HOLD_SWEEP_INTERVAL_MS,
    run: sweep,
  }]);
  return { sweepNow: () => scheduler.exclusive(sweep), stop: () => scheduler.stop() };
}
