/**
 * Configuration from environment variables, validated once at start-up.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `PORT` | 8787 | HTTP port |
 * | `HOST` | `127.0.0.1` | interface to listen on (`0.0.0.0` to accept outside connections) |
 * | `BILLING_CYCLE_INTERVAL_MS` | 60000 | pause between billing-cycle runs (period rollover, plan changes due, finalization); `0` = off |
 * | `DATABASE_URL` | `file:./data/billing.db` | libSQL URL (`file:…`, `libsql://…`, `https://…`) or PostgreSQL URL (`postgres://…`, `postgresql://…`: several API processes on one database) |
 * | `DATABASE_POOL_MAX` | 10 | PostgreSQL only: most open connections of one process |
 * | `DATABASE_STATEMENT_TIMEOUT_MS` | 30000 | PostgreSQL only: the server cancels a statement running longer; `0` = none |
 * | `DATABASE_AUTH_TOKEN` | – | Turso auth token for remote URLs |
 * | `BILLING_ADMIN_TOKEN` | generated on the embedded default | token of `/v1/admin/*`; at least 32 characters (rolled tokens: `POST /v1/admin/admin_tokens/roll`) |
 * | `BILLING_ENCRYPTION_KEY` | generated on the embedded default | base64 of 32 random bytes: seals webhook and Stripe secrets at rest (AES-256-GCM, ADR 0012); required with a remote database |
 * | `BILLING_ENCRYPTION_OLD_KEYS` | – | comma-separated earlier keys: they only open values they sealed (key rotation) |
 * | `LOG_LEVEL` | `info` | `info`, `error` or `silent` |
 * | `STRIPE_API_BASE` | Stripe's own | base URL of the Stripe API (stripe-mock or a local test server) |
 * | `WEBHOOK_WORKER_INTERVAL_MS` | 1000 | pause between webhook delivery drains; `0` = no background worker |
 * | `WEBHOOK_ALLOW_PRIVATE_URLS` | `false` | `true` lets webhook endpoints use plain http and loopback/private/link-local hosts (local development only; otherwise the SSRF guard refuses them) |
 * | `UPSTASH_REDIS_REST_URL` | – | Upstash Redis REST URL (or the local endpoint of `deno task upstash`); unset = in-process live entitlements |
 * | `UPSTASH_REDIS_REST_TOKEN` | – | its token (required with the URL) |
 * | `REDIS_KEY_PREFIX` | `billing:` | prefix of every Redis key (to share one Redis between deployments) |
 * | `LIVE_ENTITLEMENTS` | `memory` (`libsql` on PostgreSQL) | without Redis: `memory` (in-process cache and counters; one process per database) or `libsql` (no cache: every check on the database, whichever it is, for several processes sharing one database) |
 * | `BILLING_ROLE` | `all` | `all` (one process does everything, as before), `edge` (usage goes to a local Turso replica, pushed in the background) or `billing` (pulls what edge nodes pushed and ingests it); ADR 0014 |
 * | `EDGE_REPLICA_PATH` | – | local replica file (`edge`: the outbox of accepted usage; `billing`: its copy of the sync server) |
 * | `EDGE_SYNC_URL` | – | the sync server: Turso Cloud `libsql://…` or `http://host:port` of `tursodb --sync-server` |
 * | `EDGE_SYNC_AUTH_TOKEN` | – | its auth token, when it needs one |
 * | `EDGE_PUSH_INTERVAL_MS` | 1000 | `edge`: pause between pushes while the sync server answers |
 * | `EDGE_PUSH_BATCH` | 1000 | `edge`: most changes sent in one push request |
 * | `EDGE_PUSH_BACKOFF_MAX_MS` | 30000 | `edge`: longest pause between push attempts while the sync server fails (exponential from the interval) |
 * | `EDGE_PULL_INTERVAL_MS` | 1000 | `billing`: pause between pulls of the sync server |
 * | `EDGE_INGEST_BATCH` | 1000 | `billing`: most replica events ingested in one transaction |
 * | `EDGE_OUTBOX_RETENTION_MS` | 86400000 | `edge`: outbox rows are pruned once pushed, final on the billing side and this old (local duplicate answers for retries until then) |
 * | `PUBLISHABLE_RATE_LIMIT` | `600/60` | requests / window seconds per customer for `pk_` keys (sliding window on Redis; without Redis a fixed window per process; `0` = off) |
 *
 * @module
 */
import { z } from "zod";
import { decodeEncryptionKey } from "./storage/secret_box.ts";

/** Shortest admin token accepted from the environment (characters). */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

/** Parsed configuration. */
export interface Config {
  /** `PORT`: TCP port of the HTTP server (default 8787). */
  port: number;
  /** Interface to listen on. */
  host: string;
  /** Pause between billing-cycle runs in ms; 0 = no background run. */
  billingCycleIntervalMs: number;
  /** `DATABASE_URL`: libSQL URL, `file:…` (embedded), `libsql://…` or `https://…` (default `file:./data/billing.db`). */
  databaseUrl: string;
  /** `DATABASE_AUTH_TOKEN`: Turso auth token for remote URLs; `undefined` for files. */
  databaseAuthToken: string | undefined;
  /** PostgreSQL only: most open connections of one process. */
  databasePoolMax?: number;
  /** PostgreSQL only: statement timeout in ms (0 = none). */
  databaseStatementTimeoutMs?: number;
  /** `undefined` means: generate or load one under `./data/` (embedded default only). */
  adminToken: string | undefined;
  /**
   * `BILLING_ENCRYPTION_KEY` (base64 of 32 bytes); `undefined` means: generate or load one under
   * `./data/` (embedded default only).
   */
  encryptionKey?: string;
  /** `BILLING_ENCRYPTION_OLD_KEYS`: earlier keys that still open what they sealed. */
  encryptionOldKeys?: string[];
  /** `LOG_LEVEL`: `info` logs every request and background run, `error` only failures, `silent` nothing. */
  logLevel: "info" | "error" | "silent";
  /** Whether the database is a local file (the embedded default or another `file:` URL). */
  embedded: boolean;
  /** Stripe API base URL (`undefined` = Stripe's own). */
  stripeApiBase: string | undefined;
  /** Milliseconds between webhook drains of the background worker; 0 = disabled. */
  webhookWorkerIntervalMs: number;
  /** `WEBHOOK_ALLOW_PRIVATE_URLS`: webhook endpoints may target http and non-public addresses (default false). */
  webhookAllowPrivateUrls?: boolean;
  /** Upstash-compatible Redis for live entitlements and rate limits; absent/`null` = in-process. */
  redis?: { url: string; token: string; prefix: string } | null;
  /** Live entitlements without Redis: in-process (`memory`, default) or none (`libsql`). */
  liveEntitlements?: "memory" | "libsql";
  /** Per-customer limit of publishable keys (applied only with Redis); absent/`null` = off. */
  publishableRateLimit?: { requests: number; windowSeconds: number } | null;
  /** `BILLING_ROLE`: absent = `all` (ADR 0014). */
  role?: BillingRole;
  /** The Turso replica of an `edge` or `billing` process; absent/`null` = none (usage goes to the primary). */
  edgeReplica?: EdgeReplicaConfig | null;
}

/**
 * What a process does with usage (ADR 0014): `all` stores it in the primary database and bills
 * it; `edge` appends it to a local replica and pushes it; `billing` pulls the replicas' usage into
 * the primary and bills it.
 */
export type BillingRole = "all" | "edge" | "billing";

/** The Turso replica of an edge or billing process (`EDGE_*`). */
export interface EdgeReplicaConfig {
  /** `EDGE_REPLICA_PATH`: the local replica file. */
  path: string;
  /** `EDGE_SYNC_URL`: `libsql://…` (Turso Cloud) or `http://host:port` (`tursodb --sync-server`). */
  syncUrl: string;
  /** `EDGE_SYNC_AUTH_TOKEN`. */
  authToken: string | undefined;
  /** `EDGE_PUSH_INTERVAL_MS`: pause between pushes while they succeed, ms. */
  pushIntervalMs: number;
  /** `EDGE_PUSH_BATCH`: most changes (rows) sent in one push request. */
  pushBatch: number;
  /** `EDGE_PUSH_BACKOFF_MAX_MS`: cap of the pause between failed pushes, ms. */
  pushBackoffMaxMs: number;
  /** `EDGE_PULL_INTERVAL_MS`: pause between pulls of the billing process, ms. */
  pullIntervalMs: number;
  /** `EDGE_INGEST_BATCH`: most replica events ingested in one transaction (≤ 1000). */
  ingestBatch: number;
  /** `EDGE_OUTBOX_RETENTION_MS`: least age of an outbox row before it may be pruned, ms. */
  outboxRetentionMs: number;
}

/** Default database: an embedded libSQL file. */
export const DEFAULT_DATABASE_URL = "file:./data/billing.db";

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.union([z.ipv4(), z.ipv6(), z.literal("localhost")], {
    message: "must be an IP address or localhost",
  }).default("127.0.0.1"),
  BILLING_CYCLE_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  DATABASE_URL: z.string().regex(/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/|:memory:|postgres(ql)?:\/\/)/, {
    message:
      "must start with file:, libsql://, https://, http://, ws://, wss://, postgres:// or postgresql://",
  }).default(DEFAULT_DATABASE_URL),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(1000).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  DATABASE_AUTH_TOKEN: z.string().min(1).optional(),
  BILLING_ADMIN_TOKEN: z.string().min(MIN_ADMIN_TOKEN_LENGTH, {
    message:
      `must be at least ${MIN_ADMIN_TOKEN_LENGTH} random characters (for example: openssl rand -hex 32)`,
  }).optional(),
  BILLING_ENCRYPTION_KEY: z.string().refine((v) => decodeEncryptionKey(v) !== null, {
    message: "must be base64 of 32 random bytes (for example: openssl rand -base64 32)",
  }).optional(),
  BILLING_ENCRYPTION_OLD_KEYS: z.string().refine(
    (v) => v.split(",").every((k) => decodeEncryptionKey(k) !== null),
    { message: "must be a comma-separated list of base64 keys of 32 bytes" },
  ).optional(),
  LOG_LEVEL: z.enum(["info", "error", "silent"]).default("info"),
  STRIPE_API_BASE: z.url({ protocol: /^https?$/ }).optional(),
  WEBHOOK_WORKER_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(1000),
  WEBHOOK_ALLOW_PRIVATE_URLS: z.enum(["true", "false"], { message: "must be true or false" }).default(
    "false",
  ),
  UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/ }).optional(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]{0,64}$/, {
    message: "use letters, digits, _ . : - (at most 64)",
  }).default("billing:"),
  LIVE_ENTITLEMENTS: z.enum(["memory", "libsql"]).optional(),
  BILLING_ROLE: z.enum(["all", "edge", "billing"]).default("all"),
  EDGE_REPLICA_PATH: z.string().min(1).max(1024).optional(),
  EDGE_SYNC_URL: z.string().regex(/^(libsql|https?):\/\/[^\s]+$/, {
    message: "must start with libsql://, https:// or http://",
  }).optional(),
  EDGE_SYNC_AUTH_TOKEN: z.string().min(1).optional(),
  EDGE_PUSH_INTERVAL_MS: z.coerce.number().int().min(10).max(3_600_000).default(1000),
  EDGE_PUSH_BATCH: z.coerce.number().int().min(1).max(100_000).default(1000),
  EDGE_PUSH_BACKOFF_MAX_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  EDGE_PULL_INTERVAL_MS: z.coerce.number().int().min(10).max(3_600_000).default(1000),
  EDGE_INGEST_BATCH: z.coerce.number().int().min(1).max(1000).default(1000),
  EDGE_OUTBOX_RETENTION_MS: z.coerce.number().int().min(0).max(31 * 86_400_000).default(86_400_000),
  PUBLISHABLE_RATE_LIMIT: z.string().regex(/^(0|[1-9][0-9]{0,6}\/[1-9][0-9]{0,5})$/, {
    message: "use <requests>/<window seconds> such as 600/60, or 0 to turn it off",
  }).default("600/60"),
});

/** A configuration error naming every offending variable. */
export class ConfigError extends Error {
  /** Always `"ConfigError"`, so logs and `instanceof`-free checks can tell it apart. */
  override name = "ConfigError";
}

/**
 * Parses the environment.
 *
 * @throws {ConfigError} listing each invalid variable (the message names the variable, never its
 *   value), or when a remote database has no `BILLING_ADMIN_TOKEN` or `BILLING_ENCRYPTION_KEY` (a
 *   generated one is only safe on a local file)
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const embedded = e.DATABASE_URL.startsWith("file:") || e.DATABASE_URL === ":memory:";
  if (!embedded && !e.BILLING_ADMIN_TOKEN) {
    throw new ConfigError(
      "Invalid configuration:\n  BILLING_ADMIN_TOKEN: required when DATABASE_URL is not a local file",
    );
  }
  if (!embedded && !e.BILLING_ENCRYPTION_KEY) {
    throw new ConfigError(
      "Invalid configuration:\n  BILLING_ENCRYPTION_KEY: required when DATABASE_URL is not a local file " +
        "(every process sharing the database needs the same key)",
    );
  }
  if (e.UPSTASH_REDIS_REST_URL && !e.UPSTASH_REDIS_REST_TOKEN) {
    throw new ConfigError(
      "Invalid configuration:\n  UPSTASH_REDIS_REST_TOKEN: required with UPSTASH_REDIS_REST_URL",
    );
  }
  const edgeReplica = edgeReplicaOf(e);
  const [requests, windowSeconds] = e.PUBLISHABLE_RATE_LIMIT.split("/").map(Number);
  return {
    port: e.PORT,
    host: e.HOST,
    billingCycleIntervalMs: e.BILLING_CYCLE_INTERVAL_MS,
    databaseUrl: e.DATABASE_URL,
    databaseAuthToken: e.DATABASE_AUTH_TOKEN,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseStatementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    adminToken: e.BILLING_ADMIN_TOKEN,
    encryptionKey: e.BILLING_ENCRYPTION_KEY,
    encryptionOldKeys: e.BILLING_ENCRYPTION_OLD_KEYS?.split(",") ?? [],
    logLevel: e.LOG_LEVEL,
    embedded,
    stripeApiBase: e.STRIPE_API_BASE,
    webhookWorkerIntervalMs: e.WEBHOOK_WORKER_INTERVAL_MS,
    webhookAllowPrivateUrls: e.WEBHOOK_ALLOW_PRIVATE_URLS === "true",
    redis: e.UPSTASH_REDIS_REST_URL
      ? { url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN!, prefix: e.REDIS_KEY_PREFIX }
      : null,
    // Several processes share a PostgreSQL database: in-process counters would overshoot.
    // Edge and billing processes share the primary: without Redis no per-process counters.
    liveEntitlements: e.LIVE_ENTITLEMENTS ??
      (/^postgres(ql)?:\/\//.test(e.DATABASE_URL) || e.BILLING_ROLE !== "all" ? "libsql" : "memory"),
    publishableRateLimit: requests > 0 ? { requests, windowSeconds } : null,
    role: e.BILLING_ROLE,
    edgeReplica,
  };
}

/**
 * The replica settings of `BILLING_ROLE` (ADR 0014): `edge` needs `EDGE_REPLICA_PATH` and
 * `EDGE_SYNC_URL`; `billing` needs both or neither (neither: it only bills what reaches the primary
 * otherwise); `all` takes none. Without Redis, `edge` and `billing` refuse `LIVE_ENTITLEMENTS=memory`
 * (per-process counters of several processes could overshoot a hard limit together).
 *
 * @throws {ConfigError} naming the variable that is missing or not allowed
 */
function edgeReplicaOf(e: z.infer<typeof EnvSchema>): EdgeReplicaConfig | null {
  const fail = (line: string) => {
    throw new ConfigError(`Invalid configuration:\n  ${line}`);
  };
  const given = e.EDGE_REPLICA_PATH !== undefined || e.EDGE_SYNC_URL !== undefined;
  if (e.BILLING_ROLE === "all") {
    if (given) fail("EDGE_REPLICA_PATH, EDGE_SYNC_URL: only with BILLING_ROLE=edge or billing");
    return null;
  }
  if (e.LIVE_ENTITLEMENTS === "memory" && !e.UPSTASH_REDIS_REST_URL) {
    fail(`LIVE_ENTITLEMENTS: memory is per process; BILLING_ROLE=${e.BILLING_ROLE} needs Redis or libsql`);
  }
  if (e.BILLING_ROLE === "billing" && !given) return null;
  if (!e.EDGE_REPLICA_PATH) fail(`EDGE_REPLICA_PATH: required with BILLING_ROLE=${e.BILLING_ROLE}`);
  if (!e.EDGE_SYNC_URL) fail(`EDGE_SYNC_URL: required with BILLING_ROLE=${e.BILLING_ROLE}`);
  const normalized = (path: string) => path.replace(/^file:/, "").replace(/^\.\//, "");
  if (normalized(e.EDGE_REPLICA_PATH!) === normalized(e.DATABASE_URL)) {
    fail("EDGE_REPLICA_PATH: must not be the primary database file (DATABASE_URL)");
  }
  return {
    path: e.EDGE_REPLICA_PATH!,
    syncUrl: e.EDGE_SYNC_URL!,
    authToken: e.EDGE_SYNC_AUTH_TOKEN,
    pushIntervalMs: e.EDGE_PUSH_INTERVAL_MS,
    pushBatch: e.EDGE_PUSH_BATCH,
    pushBackoffMaxMs: e.EDGE_PUSH_BACKOFF_MAX_MS,
    pullIntervalMs: e.EDGE_PULL_INTERVAL_MS,
    ingestBatch: e.EDGE_INGEST_BATCH,
    outboxRetentionMs: e.EDGE_OUTBOX_RETENTION_MS,
  };
}
