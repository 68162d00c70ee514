/**
 * `GET /readyz` of the Deno server: the database (libSQL or PostgreSQL) answers, every migration
 * of its folder is recorded as applied, Redis answers when configured, and the process is not
 * shutting down.
 *
 * @module
 */
import { Redis } from "@upstash/redis";
import type { Config } from "../../config.ts";
import { type Readiness, type ReadinessCheck, runCheck } from "../../http/health.ts";
import { migrationStatus, type OpenStore } from "../../storage/open.ts";
import { pingStore } from "../../storage/ping.ts";

/**
 * The Deno server's readiness checks.
 *
 * @param config `redis` decides whether Redis is checked (a `PING` over its REST API)
 * @param database the open store (libSQL or PostgreSQL)
 * @param stopping true once a graceful stop began (the check `shutdown` then fails)
 * @returns a {@link Readiness} that never throws
 */
export function denoReadiness(config: Config, database: OpenStore, stopping: () => boolean): Readiness {
  const redis = config.redis
    ? new Redis({
      url: config.redis.url,
      token: config.redis.token,
      retry: { retries: 0 },
      enableTelemetry: false,
    })
    : null;
  return async () => {
    const checks: ReadinessCheck[] = [];
    if (stopping()) checks.push({ name: "shutdown", ok: false, detail: "the process is stopping" });
    checks.push(
      await runCheck("database", async () => {
        await pingStore(database);
        return "answers";
      }),
      await runCheck("migrations", async () => {
        const { expected, applied } = await migrationStatus(database);
        const detail = `${applied} of ${expected} applied`;
        return applied >= expected ? detail : { name: "migrations", ok: false, detail };
      }),
    );
    if (redis) {
      checks.push(
        await runCheck("redis", async () => {
          const answer = await redis.ping();
          return `PING answered ${answer}`;
        }),
      );
    }
    return checks;
  };
}
