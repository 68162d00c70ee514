/**
 * Hono environment of the API and helpers shared by route modules.
 *
 * @module
 */
import { OpenAPIHono, type z } from "@hono/zod-openapi";
import type { Ctx } from "../context.ts";
import type { Principal } from "../tenants/service.ts";
import type { SessionClaims } from "../sessions/token.ts";
import { problem, zodFields } from "./problem.ts";
import { ProblemSchema } from "./schemas.ts";

/** Variables set by middleware for each request. */
export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal;
    /** The verified customer session of a publishable-key request (absent for secret keys). */
    session?: SessionClaims;
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
export function json<T extends z.ZodType>(schema: T, description = "OK") {
  return { description, content: { "application/json": { schema } } };
}

/** A required JSON request body. */
export function body<T extends z.ZodType>(schema: T) {
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
