/**
 * Tenant routes: tenant and app provisioning and admin token rotation with the admin token; the
 * app's own key management (`/v1/api_keys`) with a full-scope secret key.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { createTenantApp, type KeyResolver } from "./service.ts";
import type { Services } from "../context.ts";
import { type AppEnv, body, errors, json, router, secured } from "../http/env.ts";
import { type AdminTokens, DEFAULT_ADMIN_GRACE_SECONDS } from "./admin_tokens.ts";
import {
  createApiKey,
  listApiKeys,
  MAX_KEY_PAGE,
  MAX_ROLL_GRACE_SECONDS,
  revokeApiKey,
  rollApiKey,
} from "./keys.ts";
import { KEY_SCOPES } from "./scopes.ts";
import { CreateTenantBody, TenantCreated } from "./schemas.ts";

/** `POST /v1/admin/tenants` (admin token required by the app's middleware). */
export function tenantRoutes(services: Services): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/tenants",
      tags: ["admin"],
      summary: "Create a tenant app and its API keys",
      security: [{ adminAuth: [] }],
      request: { body: body(CreateTenantBody) },
      responses: {
        201: json(TenantCreated, "Created"),
        400: errors[400],
        401: errors[401],
        409: errors[409],
      },
    }),
    async (c) =>
      c.json(await createTenantApp(services, c.req.valid("json"), { requestId: c.get("requestId") }), 201),
  );
  return app;
}

const KeyScopeEnum = z.enum(KEY_SCOPES).openapi({
  description:
    "What a secret key reaches: `full` (everything, key management included), `read_only` (GET routes and " +
    "entitlement checks), `usage_only` (POST /v1/events, POST /v1/entitlements/check, GET /v1/usage, " +
    "POST /v1/customer_sessions), `ledger_only` (/v1/ledger/…). See ADR 0013",
  example: "usage_only",
});

const ApiKeyFields = {
  id: z.string().openapi({ description: "TypeID of the key", example: "key_01jd0000000000000000000000" }),
  name: z.string().openapi({ description: "Name given by the owner", example: "usage sender" }),
  kind: z.enum(["secret", "publishable"]).openapi({
    description: "sk_ (server) or pk_ (browser)",
    example: "secret",
  }),
  scope: KeyScopeEnum.nullable().openapi({ description: "Scope of a secret key; null for publishable keys" }),
  prefix: z.string().openapi({ description: "First 10 characters of the key", example: "sk_4f3c2b1" }),
  last4: z.string().openapi({ description: "Last 4 characters of the key", example: "5e4d" }),
  created_at: z.string().openapi({
    description: "ISO 8601 creation time",
    example: "2026-01-15T12:00:00.000Z",
  }),
  expires_at: z.string().nullable().openapi({
    description: "ISO 8601 instant after which the key fails; null = never",
    example: null,
  }),
  revoked_at: z.string().nullable().openapi({
    description: "ISO 8601 revocation time; null = not revoked",
    example: null,
  }),
  status: z.enum(["active", "expired", "revoked"]).openapi({
    description: "Whether the key works now",
    example: "active",
  }),
};
const API_KEY_EXAMPLE = {
  id: "key_01jd0000000000000000000000",
  name: "usage sender",
  kind: "secret",
  scope: "usage_only",
  prefix: "sk_4f3c2b1",
  last4: "5e4d",
  created_at: "2026-01-15T12:00:00.000Z",
  expires_at: null,
  revoked_at: null,
  status: "active",
};
const ApiKeySchema = z.object(ApiKeyFields).openapi("ApiKey", {
  description: "An API key (never the key itself: prefix and last4 identify it)",
  example: API_KEY_EXAMPLE,
});
const CreatedApiKeySchema = z.object({
  ...ApiKeyFields,
  key: z.string().openapi({
    description: "The key itself, shown only in this answer (only its SHA-256 is stored)",
    example: "sk_4f3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e",
  }),
}).openapi("CreatedApiKey");
const ApiKeyList = z.object({
  data: z.array(ApiKeySchema).openapi({ description: "A page of keys in id order", example: [] }),
  next_cursor: z.string().nullable().openapi({
    description: "Pass as cursor for the next page; null on the last page",
    example: null,
  }),
}).openapi("ApiKeyList");
const CreateApiKeyBody = z.object({
  name: z.string().min(1).max(100).openapi({
    description: "A name to recognise the key by",
    example: "usage sender",
  }),
  kind: z.enum(["secret", "publishable"]).optional().openapi({
    description: "secret (default) or publishable",
    example: "secret",
  }),
  scope: KeyScopeEnum.optional().openapi({ description: "Scope of a secret key (default full)" }),
  expires_at: z.iso.datetime({ offset: true }).nullable().optional().openapi({
    description: "ISO 8601 instant after which the key fails (future); absent or null = never",
    example: "2027-01-01T00:00:00Z",
  }),
}).strict().openapi("CreateApiKey");
const RollBody = z.object({
  expires_in_seconds: z.number().int().min(0).max(MAX_ROLL_GRACE_SECONDS).optional().openapi({
    description:
      "How long the old key keeps working, in seconds: default 86400 (24 hours, as Stripe), 0 = revoked at once, " +
      "at most 7 days",
    example: 86400,
  }),
}).strict().openapi("RollApiKey");
const RolledApiKey = z.object({
  key: z.object(CreatedApiKeySchema.shape).openapi({
    description: "The new key; `key` is shown only here",
    example: {
      ...API_KEY_EXAMPLE,
      id: "key_01jd0000000000000000000001",
      key: "sk_4f3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e",
    },
  }),
  previous: ApiKeySchema,
}).openapi("RolledApiKey");
const KeyIdParam = z.object({
  id: z.string().min(1).max(128).openapi({
    param: { name: "id", in: "path" },
    description: "TypeID of the key",
    example: "key_01jd0000000000000000000000",
  }),
});

/**
 * `/v1/api_keys` (full-scope secret keys only: the scope check of `http/app.ts`). A roll or
 * revocation makes `keys` forget its cached lookups, so in this process the change holds at once.
 */
export function apiKeyRoutes(keys: KeyResolver): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/api_keys",
      tags: ["api_keys"],
      summary: "List the app's API keys (never the keys themselves)",
      security: secured,
      request: {
        query: z.object({
          cursor: z.string().min(1).max(128).optional().openapi({
            description: "next_cursor of the previous page",
            example: "key_01jd0000000000000000000000",
          }),
          limit: z.coerce.number().int().min(1).max(MAX_KEY_PAGE).optional().openapi({
            description: `Page size, 1–${MAX_KEY_PAGE} (default 50)`,
            example: 50,
          }),
        }),
      },
      responses: { 200: json(ApiKeyList, "A page of keys"), ...errors },
    }),
    async (c) => c.json(await listApiKeys(c.var.ctx, c.req.valid("query")), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/api_keys",
      tags: ["api_keys"],
      summary: "Create an API key with a name, scope and optional expiry; the key is returned only here",
      security: secured,
      request: { body: body(CreateApiKeyBody) },
      responses: { 201: json(CreatedApiKeySchema, "Created"), ...errors },
    }),
    async (c) => c.json(await createApiKey(c.var.ctx, c.req.valid("json")), 201),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/api_keys/{id}/roll",
      tags: ["api_keys"],
      summary: "Roll an API key: a new key now, the old one valid for a grace period (default 24 h)",
      security: secured,
      request: { params: KeyIdParam, body: { ...body(RollBody), required: false } },
      responses: { 201: json(RolledApiKey, "Rolled"), ...errors },
    }),
    async (c) => {
      const rolled = await rollApiKey(c.var.ctx, c.req.valid("param").id, c.req.valid("json") ?? {});
      keys.forget();
      return c.json(rolled, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/api_keys/{id}/revoke",
      tags: ["api_keys"],
      summary: "Revoke an API key at once (every process within a second)",
      security: secured,
      request: { params: KeyIdParam },
      responses: { 200: json(ApiKeySchema, "Revoked"), ...errors },
    }),
    async (c) => {
      const revoked = await revokeApiKey(c.var.ctx, c.req.valid("param").id);
      keys.forget();
      return c.json(revoked, 200);
    },
  );
  return app;
}

const AdminTokenSchema = z.object({
  id: z.string().openapi({
    description: "TypeID of the token row",
    example: "adt_01jd0000000000000000000000",
  }),
  source: z.enum(["config", "rolled"]).openapi({
    description: "config: the configured token (listed once a roll retired it); rolled: issued by a roll",
    example: "rolled",
  }),
  prefix: z.string().openapi({ description: "First 8 characters of the token", example: "adm_4f3c" }),
  created_at: z.string().openapi({
    description: "ISO 8601 creation time",
    example: "2026-01-15T12:00:00.000Z",
  }),
  expires_at: z.string().nullable().openapi({
    description: "ISO 8601 end of validity; null = none",
    example: null,
  }),
  revoked_at: z.string().nullable().openapi({ description: "ISO 8601 revocation time", example: null }),
  status: z.enum(["active", "expired", "revoked"]).openapi({
    description: "Whether it works now",
    example: "active",
  }),
}).openapi("AdminToken");
const RolledAdminToken = z.object({
  id: z.string().openapi({
    description: "TypeID of the new token",
    example: "adt_01jd0000000000000000000000",
  }),
  token: z.string().openapi({
    description: "The new admin token, shown only here (only its SHA-256 is stored)",
    example: "adm_4f3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e",
  }),
  created_at: z.string().openapi({
    description: "ISO 8601 creation time",
    example: "2026-01-15T12:00:00.000Z",
  }),
  previous: z.object(AdminTokenSchema.shape).openapi({
    description: "The token that made the call, with its grace period",
    example: {
      id: "adt_01jd0000000000000000000000",
      source: "config",
      prefix: "adm_9a8b",
      created_at: "2026-01-15T12:00:00.000Z",
      expires_at: "2026-01-16T12:00:00.000Z",
      revoked_at: null,
      status: "active",
    },
  }),
}).openapi("RolledAdminToken");
const RollAdminBody = z.object({
  expires_in_seconds: z.number().int().min(0).max(MAX_ROLL_GRACE_SECONDS).optional().openapi({
    description:
      "How long the calling token keeps working: default 86400 (24 h), 0 = at once, at most 7 days",
    example: 3600,
  }),
}).strict().openapi("RollAdminToken");
const AdminTokenIdParam = z.object({
  id: z.string().min(1).max(128).openapi({
    param: { name: "id", in: "path" },
    description: "TypeID of the token row",
    example: "adt_01jd0000000000000000000000",
  }),
});
const adminSecurity = [{ adminAuth: [] }];

/** `/v1/admin/admin_tokens` (admin token required by the app's middleware). */
export function adminTokenRoutes(tokens: AdminTokens): OpenAPIHono<AppEnv> {
  const app = router();
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/admin/admin_tokens",
      tags: ["admin"],
      summary: "List rolled admin tokens and a retired configured token (never the tokens)",
      security: adminSecurity,
      responses: {
        200: json(
          z.object({
            data: z.array(AdminTokenSchema).openapi({ description: "Token rows, oldest first", example: [] }),
          }).openapi("AdminTokenList"),
          "Tokens",
        ),
        401: errors[401],
        409: errors[409],
      },
    }),
    async (c) => c.json({ data: await tokens.list() }, 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/admin_tokens/roll",
      tags: ["admin"],
      summary: "Roll the admin token: a new token now, the calling one valid for a grace period",
      security: adminSecurity,
      request: { body: { ...body(RollAdminBody), required: false } },
      responses: {
        201: json(RolledAdminToken, "Rolled"),
        400: errors[400],
        401: errors[401],
        409: errors[409],
      },
    }),
    async (c) => {
      const presented = c.req.header("authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? "";
      const grace = c.req.valid("json")?.expires_in_seconds ?? DEFAULT_ADMIN_GRACE_SECONDS;
      return c.json(await tokens.roll(presented, grace), 201);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/admin_tokens/{id}/revoke",
      tags: ["admin"],
      summary: "Revoke an admin token at once (every process within a second)",
      security: adminSecurity,
      request: { params: AdminTokenIdParam },
      responses: {
        200: json(AdminTokenSchema, "Revoked"),
        401: errors[401],
        404: errors[404],
        409: errors[409],
      },
    }),
    async (c) => c.json(await tokens.revoke(c.req.valid("param").id), 200),
  );
  return app;
}
