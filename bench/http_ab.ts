/**
 * The read check over HTTP, before against after on a shared machine: `deno run -A bench/http_ab.ts
 * --base DIR [--rounds 10] [--seconds 3]` starts the real server of another checkout (`DIR`, e.g. a
 * worktree of the base commit: `git worktree add --detach DIR COMMIT`) and of this one, both at
 * once (`LOG_LEVEL=silent`, temp data dirs, seeded as `bench/http.ts` seeds), warms both, then
 * drives them alternately with wrk on `POST /v1/entitlements/check` (50 connections), swapping the
 * order every round, so that each pair sees the same background load. Prints each run's server CPU
 * per request (`/proc/<pid>/stat`, user + system), req/s and p99, then the median and the minimum of
 * each side (issue 14, ADR 0015 "The check over HTTP"). Numbers only, no assertions.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  checkLua,
  type Child,
  ensureWrk,
  seed,
  serverCommand,
  spawnListening,
  withRss,
  wrk,
} from "./http.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    base: { type: "string" },
    rounds: { type: "string", default: "10" },
    seconds: { type: "string", default: "3" },
  },
});

/** One side: a server of one checkout, seeded, with its wrk script. */
interface Side {
  name: string;
  server: Child;
  lua: string;
  dir: string;
  us: number[];
}

/** Starts and seeds the server of the checkout at `cwd`. */
async function side(name: string, cwd: string): Promise<Side> {
  const dir = await Deno.makeTempDir({ prefix: `bench-ab-${name}-` });
  const server = await spawnListening(
    serverCommand(),
    {
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: `file:${dir}/billing.db`,
      LOG_LEVEL: "silent",
      BILLING_ADMIN_TOKEN: "bench-http-admin-token-0123456789",
    },
    cwd,
  );
  const { key } = await seed(server.base);
  return { name, server, lua: checkLua(key, crypto.randomUUID().slice(0, 8)), dir, us: [] };
}

/** The middle value of `values` (the upper one of an even count). */
function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

if (!values.base) {
  console.error("usage: deno run -A bench/http_ab.ts --base DIR [--rounds 10] [--seconds 3]");
  Deno.exit(2);
}
if (!(await ensureWrk())) Deno.exit(1);
const seconds = Number(values.seconds);
const here = new URL("..", import.meta.url).pathname;
const sides = [await side("base", values.base), await side("this", here)];
try {
  const url = (s: Side) => `${s.server.base}/v1/entitlements/check`;
  for (const s of sides) await wrk(s.dir, url(s), s.lua, 2, 50); // warm-up
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const s of round % 2 === 0 ? sides : [...sides].reverse()) {
      const { value: r, cpu_ms } = await withRss(s.server.pid, () => wrk(s.dir, url(s), s.lua, seconds, 50));
      const us = (cpu_ms * 1000) / r.requests;
      s.us.push(us);
      const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ")[0];
      console.log(
        `round ${round} ${s.name.padEnd(4)} ${us.toFixed(1)} µs/req  ${
          (r.requests / r.seconds).toFixed(0)
        } req/s  p99 ${r.p99_ms.toFixed(2)} ms  load ${load}` +
          (r.non2xx + r.socketErrors > 0 ? `  (${r.non2xx} non-2xx, ${r.socketErrors} socket errors)` : ""),
      );
    }
  }
  for (const s of sides) {
    console.log(
      `${s.name}: server CPU per check, median ${median(s.us).toFixed(1)} µs, minimum ${
        Math.min(...s.us).toFixed(1)
      } µs`,
    );
  }
} finally {
  for (const s of sides) {
    await s.server.stop();
    await Deno.remove(s.dir, { recursive: true }).catch(() => {});
  }
}
