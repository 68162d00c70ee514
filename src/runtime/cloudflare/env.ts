/**
 * The Worker's environment, validated with the same zod schema as every other runtime
 * (`loadConfig` in `config.ts`). A Worker env mixes bindings (objects) with variables and secrets
 * (strings); only the strings are configuration.
 *
 * @module
 */
import { type Config, loadConfig } from "../../config.ts";
import type { Env } from "./types.ts";

const configs = new WeakMap<object, Config>();

/**
 * The validated configuration of a Worker env (cached per env object, which lives as long as the
 * isolate).
 *
 * @returns the same {@link Config} the Deno server would build from these variables
 * @throws {import("../../config.ts").ConfigError} listing each invalid variable (for example an
 *   `UPSTASH_REDIS_REST_URL` without its token)
 */
export function workerConfig(env: Env): Config {
  const cached = configs.get(env);
  if (cached) return cached;
  const strings: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (typeof value === "string") strings[name] = value;
  const config = loadConfig(strings);
  configs.set(env, config);
  return config;
}
