/**
 * Real server processes for tests: `deno run` a module as a child, wait for its
 * "listening on http://host:port" line, keep draining its stdout so it never blocks on a full
 * pipe, and stop it with SIGTERM.
 *
 * @module
 */

/** The repository root (the working directory of `deno task start`). */
export const ROOT: string = new URL("..", import.meta.url).pathname;
/** The Deno server entry (`deno task start`). */
export const DENO_MAIN: string = new URL("../src/runtime/deno/main.ts", import.meta.url).pathname;
/** The lockfile of the server's own dependencies (`deno task start` runs with it). */
export const START_LOCK = "--lock=deno.lock";
/** The permissions of `deno task start`. */
export const START_PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-ffi",
  "--allow-sys",
];

/** A running child server. */
export interface ChildServer {
  /** `http://host:port` from its listening line. */
  base: string;
  port: number;
  /** Everything it printed up to and including the listening line. */
  output: string;
  /** Sends `signal` (default SIGTERM), then waits for the exit; returns the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Starts `deno run <args>` with `env` and waits (up to 60 s) until it prints its listening line.
 *
 * @param options.args arguments after `deno run` (permissions, flags, the module)
 * @param options.echo print what the child writes after start-up to the test's stderr
 * @throws {Error} with the child's output when it exits or stays silent
 */
export async function spawnDeno(
  options: { args: string[]; env: Record<string, string>; echo?: boolean },
): Promise<ChildServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...options.args],
    cwd: ROOT,
    env: options.env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const listening = /listening on (http:\/\/\S+:(\d+))/;
  let output = "";
  const deadline = Date.now() + 60_000;
  while (!listening.test(output)) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`server did not start: ${output}`);
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited: ${output}`);
    output += value;
  }
  const [, base, port] = output.match(listening)!;
  const drained = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      if (options.echo && value && value.trim()) console.error(`[server] ${value.trim()}`);
    }
  })();
  return {
    base,
    port: Number(port),
    output,
    async stop(signal: Deno.Signal = "SIGTERM") {
      child.kill(signal);
      const status = await child.status;
      await drained;
      return status;
    },
  };
}

/** Starts the Deno server (`src/runtime/deno/main.ts`) with `env` on a free port. */
export function spawnServer(
  env: Record<string, string>,
  options: { echo?: boolean } = {},
): Promise<ChildServer> {
  return spawnDeno({
    args: [START_LOCK, ...START_PERMISSIONS, DENO_MAIN],
    env: { PORT: "0", ...env },
    echo: options.echo,
  });
}

/** A fixed `BILLING_ENCRYPTION_KEY` for test servers (base64 of 32 bytes; never a real key). */
export const TEST_ENCRYPTION_KEY = "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0hISE=";
