/**
 * Long seed sweep of the ledger simulation: `deno task sim:sweep [--from N] [--count N] [--rounds N] [--seed N]`.
 * Runs seeds `from … from+count−1` (default 1…200, 400 rounds each) or one `--seed`, prints one
 * line per seed and stops at the first failure with the seed and the last rounds.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { simulate } from "../tests/simulation/ledger_sim.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    from: { type: "string", default: "1" },
    count: { type: "string", default: "200" },
    rounds: { type: "string", default: "400" },
    seed: { type: "string" },
    verbose: { type: "boolean", default: false },
  },
});
const rounds = Number(values.rounds);
const seeds = values.seed !== undefined
  ? [Number(values.seed)]
  : Array.from({ length: Number(values.count) }, (_, i) => Number(values.from) + i);
const started = performance.now();
let commands = 0;
for (const seed of seeds) {
  const t0 = performance.now();
  try {
    const r = await simulate({ seed, rounds, verbose: values.verbose });
    commands += r.commands;
    console.log(
      `seed ${seed}: ok ${r.commands} commands (${r.accepted} accepted, ${r.rejected} rejected, ${r.replayed} replays), ` +
        `faults ${r.failedBeforeCommit} before commit / ${r.lostAcks} lost acks, ${r.reopens} reopens, ${r.restarts} restarts, ` +
        `batch ≤ ${r.maxBatchSize}, ${Math.round(performance.now() - t0)} ms`,
    );
  } catch (error) {
    console.error(String(error instanceof Error ? error.message : error));
    Deno.exit(1);
  }
}
console.log(
  `${seeds.length} seeds, ${commands} commands, ${Math.round((performance.now() - started) / 1000)} s`,
);
