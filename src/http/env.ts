/**
 * Hono environment of the API and helpers shared by route modules.
 *
 * @module
 */
import { OpenAPIHono, type z } from "@hono/zod-openapi";
import type { Ctx } from "../context.ts";
import type { Principal } from "../tenants/service.ts";
import { problem, zodFields } from "./problem.ts";
import { ProblemSchema } from "./schemas.ts";

/** Variables set by middleware for each request. */
export interface AppEnv {
  /** Read with `c.get(name)` in handlers. */
  Variables: {
    /** Id of the request (`X-Request-Id` from the client, or generated), echoed in problems. */
    requestId: string;
    /** Who called: the resolved API key (secret or publishable) or the admin token. */
    principal: Principal;
    /** Services narrowed to the caller's scope, with actor and request id for the audit trail. */
    ctx: Ctx;
  };
}

/** A router whose validation failures become `validation_failed` problems listing field paths. */
export function router(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const where = (result as { target?: string }).target;
        const prefix = where === "query" ? "query" : where === "param" ? "path" : "";
        return problem(
          c,
          400,
          "validation_failed",
          "The request has invalid fields",
          zodFields(result.error as z.ZodError, prefix),
        );
      }
    },
  });
}

/** JSON body/response content of a schema. */
export function json<T extends z.ZodType>(
  schema: T,
  description = "OK",
): { description: string; content: { "application/json": { schema: T } } } {
  return { description, content: { "application/json": { schema } } };
}

/** A required JSON request body. */
export function body<T extends z.ZodType>(
  schema: T,
): { required: boolean; content: { "application/json": { schema: T } } } {
  return { required: true, content: { "application/json": { schema } } };
}

const problemContent = { content: { "application/problem+json": { schema: ProblemSchema } } };
/** Problem responses common to authenticated routes. */
export const errors = {
  400: { description: "Invalid request", ...problemContent },
  401: { description: "Missing or unknown API key", ...problemContent },
  403: { description: "Key not allowed on this route", ...problemContent },
  404: { description: "Not found (or another tenant's)", ...problemContent },
  409: { description: "Conflict with the resource's state", ...problemContent },
  422: { description: "Breaks a business rule", ...problemContent },
} as const;

/** Bearer security requirement for secret keys. */
export const secured = [{ bearerAuth: [] }];
