/**
 * Request and response schemas of the calling key's app (`/v1/apps/current`): its browser origins.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { typeId } from "../http/schemas.ts";

const Origin = z.string().min(1).max(300).openapi({
  description: "Browser origin: http(s) scheme, host and optional port; no path, no wildcard",
  example: "https://app.example.com",
});
/** Body of `PATCH /v1/apps/current`. */
export const UpdateAppBody: z.ZodObject<{ allowed_origins: z.ZodArray<z.ZodString> }, z.core.$strict> = z
  .object({
    allowed_origins: z.array(Origin).max(50).openapi({
      description:
        "Replaces the list of origins whose pages may call the publishable-key routes (CORS); [] closes them to browsers",
      example: ["https://app.example.com", "http://localhost:5173"],
    }),
  }).strict().openapi("UpdateApp");
/** An app with the browser origins of its publishable key. */
export const AppSchema: z.ZodObject<
  { id: z.ZodString; name: z.ZodString; allowed_origins: z.ZodArray<z.ZodString>; created_at: z.ZodString },
  z.core.$strip
> = z.object({
  id: typeId("app", "app_01jd0000000000000000000000"),
  name: z.string().openapi({ description: "App name within the tenant", example: "production" }),
  allowed_origins: z.array(z.string()).openapi({
    description: "Origins allowed to call the publishable-key routes, sorted",
    example: ["https://app.example.com"],
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 UTC instant",
    example: "2026-11-01T00:00:00.000Z",
  }),
}).openapi("App");
