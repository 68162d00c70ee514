/**
 * Deno entry point: `deno task start`. Reads the configuration, opens (and migrates) the
 * database, prepares the admin token, and serves the app with `Deno.serve`.
 *
 * Stopping: the first SIGTERM or SIGINT stops gracefully (see `RunningServer.stop`: in-flight
 * requests get up to 10 s, then background jobs stop, the writer drains, the database closes)
 * and exits 0; a second signal exits at once (code 130 for SIGINT, 143 for SIGTERM).
 *
 * Started through `npx deno task start`, the signal a process manager sends goes to npm, whose
 * `sh -c` dies without passing it on: `deno task` and this process would be left running. So
 * when this process was started by `deno task`, it also stops gracefully as soon as the launcher
 * above `deno task` is gone (see `launcher.ts`).
 *
 * @module
 */
import { ConfigError, loadConfig } from "../../config.ts";
import { watchLauncher } from "./launcher.ts";
import { startServer } from "./server.ts";

try {
  const config = loadConfig(Deno.env.toObject());
  const server = await startServer(config);
  let stopping = false;
  const stop = async (reason: string, code: number) => {
    if (stopping) {
      console.error(`Second ${reason}: exiting at once`);
      Deno.exit(code);
    }
    stopping = true;
    console.log(`Stopping (${reason}): finishing in-flight requests`);
    const report = await server.stop();
    console.log(
      `Stopped in ${report.elapsed_ms} ms${report.drained ? "" : " (some requests were cut off after 10 s)"}`,
    );
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT", 130));
  Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM", 143));
  watchLauncher(() => void stop("launcher exited", 143));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    Deno.exit(2);
  }
  throw error;
}
