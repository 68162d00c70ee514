/**
 * `GET /readyz` of the Deno server: the libSQL database answers, every migration in
 * `migrations/` is recorded as applied, Redis answers when configured, and the process is not
 * shutting down.
 *
 * @module
 */
import { Redis } from "@upstash/redis";
import type { Config } from "../../config.ts";
import { type Readiness, type ReadinessCheck, runCheck } from "../../http/health.ts";
import { type Database, MIGRATIONS_FOLDER } from "../../storage/db.ts";

/** Number of migrations drizzle-kit generated (entries of `migrations/meta/_journal.json`). */
async function expectedMigrations(): Promise<number> {
  const journal = JSON.parse(await Deno.readTextFile(`${MIGRATIONS_FOLDER}/meta/_journal.json`)) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

/**
 * The Deno server's readiness checks.
 *
 * @param config `redis` decides whether Redis is checked (a `PING` over its REST API)
 * @param database the open libSQL database
 * @param stopping true once a graceful stop began (the check `shutdown` then fails)
 * @returns a {@link Readiness} that never throws
 */
export function denoReadiness(config: Config, database: Database, stopping: () => boolean): Readiness {
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
        await database.client.execute("select 1");
        return "answers";
      }),
      await runCheck("migrations", async () => {
        const expected = await expectedMigrations();
        const result = await database.client.execute("select count(*) as n from __drizzle_migrations");
        const applied = Number(result.rows[0]?.n ?? 0);
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
