/**
 * Deno entry point: `deno task start`. Reads the configuration, opens (and migrates) the
 * database, prepares the admin token, and serves the app with `Deno.serve`.
 *
 * @module
 */
import { ConfigError, loadConfig } from "../../config.ts";
import { startServer } from "./server.ts";

try {
  const config = loadConfig(Deno.env.toObject());
  const server = await startServer(config);
  const shutdown = async () => {
    await server.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", shutdown);
  Deno.addSignalListener("SIGTERM", shutdown);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    Deno.exit(2);
  }
  throw error;
}
