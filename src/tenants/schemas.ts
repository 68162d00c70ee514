/**
 * Request and response schemas of tenant provisioning (`POST /v1/admin/tenants`).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { Key } from "../http/schemas.ts";

/** Body of `POST /v1/admin/tenants`. */
export const CreateTenantBody: z.ZodObject<{ name: z.ZodString; app: z.ZodString }, z.core.$strict> = z
  .object({
    name: Key.openapi({
      description: "Tenant name, unique on this server; an existing name adds the app to that tenant",
      example: "acme",
    }),
    app: Key.openapi({ description: "App name within the tenant", example: "production" }),
  }).strict().openapi("CreateTenant");
/** A created tenant app with its API keys (shown once). */
export const TenantCreated: z.ZodObject<
  { tenant_id: z.ZodString; app_id: z.ZodString; secret_key: z.ZodString; publishable_key: z.ZodString },
  z.core.$strip
> = z.object({
  tenant_id: z.string().openapi({
    description: "TypeID of the tenant",
    example: "ten_01jd0000000000000000000000",
  }),
  app_id: z.string().openapi({ description: "TypeID of the app", example: "app_01jd0000000000000000000000" }),
  secret_key: z.string().openapi({
    description: "Shown once. Full access to this tenant+app.",
    example: "sk_4f3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e",
  }),
  publishable_key: z.string().openapi({
    description: "Shown once. Entitlement checks and usage only, for browsers.",
    example: "pk_9a8b7c6d5e4f30211f0e9d8c7b6a59483726150f1e2d3c4b5a69788796a5b4c3",
  }),
}).openapi("TenantCreated");
