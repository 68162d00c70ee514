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
 * Starts the periodic sweep. A failing sweep is logged and retried on the next tick.
 *
 * @example
 * const sweeper = startHoldSweeper(services);
 * await sweeper.stop();
 */
export function startHoldSweeper(services: Services, options: { intervalMs?: number } = {}): HoldSweeper {
  const intervalMs = options.intervalMs ?? DEFAULT_HOLD_SWEEP_INTERVAL_MS;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<number> | null = null;
  const sweep = async (): Promise<number> => {
    while (running) await running.catch(() => undefined);
    running = sweepAllScopes(services);
    try {
      return await running;
    } finally {
      running = null;
    }
  };
  const tick = async () => {
    if (stopped) return;
    try {
      await sweep();
    } catch (error) {
      services.log({ level: "error", msg: "hold sweep failed", error: String(error) });
    }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };
  timer = setTimeout(tick, intervalMs);
  return {
    sweepNow: sweep,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
