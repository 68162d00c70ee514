/**
 * `GET /healthz` (liveness: the process answers) and `GET /readyz` (readiness: the database
 * answers, its migrations are applied, Redis answers when configured). Probes and load balancers
 * call them without a key.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Services } from "../context.ts";
import { pingStore } from "../storage/ping.ts";
import { type AppEnv, errors, json, router } from "./env.ts";
import { problem } from "./problem.ts";
import { ProblemSchema } from "./schemas.ts";

/** One readiness check's outcome. */
export interface ReadinessCheck {
  /** What was checked: `database`, `migrations`, `redis`, `shutdown`. */
  name: string;
  /** Whether it passed. */
  ok: boolean;
  /** What was seen (for humans; not a stable value). */
  detail: string;
}

/** Runs every readiness check of a runtime; never throws (a failed check is `ok: false`). */
export type Readiness = () => Promise<ReadinessCheck[]>;

/** How long one check may take before it counts as failed, in milliseconds. */
export const READINESS_CHECK_TIMEOUT_MS = 2_000;

/**
 * Runs `check` bounded by {@link READINESS_CHECK_TIMEOUT_MS}; a throw or a timeout is a failed
 * check named `name`.
 *
 * @param check resolves to the detail of a passed check, or to a failed {@link ReadinessCheck}
 */
export async function runCheck(
  name: string,
  check: () => Promise<string | ReadinessCheck>,
): Promise<ReadinessCheck> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${READINESS_CHECK_TIMEOUT_MS} ms`)),
      READINESS_CHECK_TIMEOUT_MS,
    );
  });
  try {
    const outcome = await Promise.race([check(), timeout]);
    return typeof outcome === "string" ? { name, ok: true, detail: outcome } : outcome;
  } catch (error) {
    return { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** Default readiness of any runtime: the store answers a trivial query. */
export function databaseReadiness(services: Pick<Services, "database">): Readiness {
  return async () => [
    await runCheck("database", async () => {
      await pingStore(services.database);
      return "answers";
    }),
  ];
}

const CheckSchema = z.object({
  name: z.string().openapi({ description: "What was checked", example: "database" }),
  ok: z.boolean().openapi({ description: "Whether it passed", example: true }),
  detail: z.string().openapi({ description: "What was seen", example: "answers" }),
}).openapi("ReadinessCheck");

/** Probes send no query; anything else is a mistake worth a 400 rather than silence. */
const NO_QUERY = z.strictObject({});

/** `/healthz` and `/readyz` (no authentication; a query parameter answers 400 `validation_failed`). */
export function healthRoutes(readiness: Readiness): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "get",
      path: "/healthz",
      tags: ["health"],
      summary: "Liveness: the process answers (checks nothing else)",
      request: { query: NO_QUERY },
      responses: {
        400: errors[400],
        200: json(
          z.object({ ok: z.literal(true).openapi({ description: "Always true", example: true }) }).openapi(
            "Liveness",
          ),
          "The process is alive",
        ),
      },
    }),
    (c) => c.json({ ok: true as const }, 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/readyz",
      tags: ["health"],
      summary: "Readiness: database reachable, migrations applied, Redis reachable when configured",
      description: "Answers 503 `not_ready` (naming each failed check) while any check fails, and " +
        "while the process is shutting down, so a load balancer stops sending it traffic.",
      request: { query: NO_QUERY },
      responses: {
        400: errors[400],
        200: json(
          z.object({
            ready: z.literal(true).openapi({ description: "Always true on 200", example: true }),
            checks: z.array(CheckSchema).openapi({
              description: "Every check that ran, in order",
              example: [{ name: "database", ok: true, detail: "answers" }],
            }),
          }).openapi("Readiness"),
          "Every check passed",
        ),
        503: {
          description: "A check failed (`not_ready`)",
          content: { "application/problem+json": { schema: ProblemSchema } },
        },
      },
    }),
    async (c) => {
      const checks = await readiness();
      const failed = checks.filter((check) => !check.ok);
      if (failed.length > 0) {
        // The 503 is declared above as problem+json; the typed-response helper only knows c.json.
        return problem(
          c,
          503,
          "not_ready",
          `Not ready: ${failed.map((check) => `${check.name} (${check.detail})`).join("; ")}`,
        ) as never;
      }
      return c.json({ ready: true as const, checks }, 200);
    },
  );
  return app;
}
