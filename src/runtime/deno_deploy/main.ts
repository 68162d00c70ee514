/**
 * Deno Deploy entry point (`deployctl deploy --entrypoint src/runtime/deno_deploy/main.ts`, see
 * docs/deploy.md). Serves the API with `Deno.serve`, serializes each tenant's writes across
 * isolates with the deployment's KV (`Deno.openKv()`), and runs hold expiry, period rollover and
 * webhook delivery every five minutes with `Deno.cron`.
 *
 * Locally (tests, trying it out): `DENO_KV_PATH` points several processes at one KV file, which
 * is how isolates share the deployment's KV; `PORT` picks the port (Deploy ignores it).
 *
 * @module
 */
import { ConfigError, loadConfig } from "../../config.ts";
import { createDeployHandler } from "./handler.ts";

/** Schedule of the maintenance cron (same as the Workers cron trigger). */
export const MAINTENANCE_SCHEDULE = "*/5 * * * *";

try {
  const config = loadConfig(Deno.env.toObject());
  const kv = await Deno.openKv(Deno.env.get("DENO_KV_PATH") || undefined);
  const deploy = await createDeployHandler(config, kv);
  Deno.cron("billing maintenance", MAINTENANCE_SCHEDULE, async () => {
    const report = await deploy.maintenance();
    deploy.services.log({ level: "info", msg: "maintenance", report });
  });
  Deno.serve({
    port: config.port,
    onListen: ({ hostname, port }) =>
      console.log(`Billing worker (Deno Deploy entry) listening on http://${hostname}:${port}`),
  }, deploy.fetch);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    Deno.exit(2);
  }
  throw error;
}
