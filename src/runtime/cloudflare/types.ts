/**
 * The slice of the Cloudflare Workers runtime API this adapter uses, declared here so the code
 * type-checks under Deno without `cloudflare:` modules or the global `@cloudflare/workers-types`
 * declarations (which clash with Deno's own `Request`/`Response`). Shapes follow the Workers
 * documentation (Durable Objects storage API, Queues, Cron Triggers); only the members we call are
 * listed.
 *
 * @module
 */
import type { Scope } from "../../domain/scope.ts";

/** A Durable Object's SQL cursor (`ctx.storage.sql.exec(...)`). */
export interface SqlStorageCursor<T = Record<string, unknown>> extends Iterable<T> {
  /** Reads every remaining row. */
  toArray(): T[];
  /** The only row of the result; throws when the query returned no row or more than one. */
  one(): T;
  /** Rows the statement inserted, updated or deleted (indexes included), for billing and asserts. */
  readonly rowsWritten: number;
}

/** A SQLite-backed Durable Object's SQL handle. */
export interface SqlStorage {
  /**
   * Runs `query` with `bindings` for its `?` placeholders (at most 100 bound parameters per
   * statement) and returns a cursor over the rows. Throws on SQL errors, e.g. a constraint failure.
   */
  exec<T = Record<string, unknown>>(query: string, ...bindings: unknown[]): SqlStorageCursor<T>;
  /** Size of the object's database in bytes. */
  readonly databaseSize: number;
}

/** A Durable Object's storage (SQLite-backed class). */
export interface DurableObjectStorage {
  /** The object's private SQLite database. */
  readonly sql: SqlStorage;
  /**
   * Runs `closure` in one transaction (a SQLite savepoint): everything it wrote, through `sql` or
   * the KV methods, commits when its promise resolves and rolls back when it rejects, across awaits.
   */
  transaction<T>(closure: (txn: unknown) => Promise<T>): Promise<T>;
  /** The synchronous variant: `closure` must not await. */
  transactionSync<T>(closure: () => T): T;
  /** Epoch ms of the scheduled alarm, `null` when none is set. */
  getAlarm(): Promise<number | null>;
  /** Schedules the object's `alarm()` at `scheduledTime` (epoch ms; a past time fires at once), replacing any earlier one. */
  setAlarm(scheduledTime: number): Promise<void>;
  /** Value stored under `key` by the key-value API, `undefined` when absent. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Stores one value (structured-clone serialisable) under `key`. */
  put(key: string, value: unknown): Promise<void>;
  /** Stores several values at once (at most 128 keys per call). */
  put(entries: Record<string, unknown>): Promise<void>;
  /** Key-value pairs in ascending key order, filtered by `prefix`, after `startAfter`, at most `limit`. */
  list<T = unknown>(
    options?: { prefix?: string; startAfter?: string; limit?: number },
  ): Promise<Map<string, T>>;
  /** Deletes the keys (at most 128 per call) and returns how many existed. */
  delete(keys: string[]): Promise<number>;
}

/** What a Durable Object class receives in its constructor. */
export interface DurableObjectState {
  /** Id of this instance (for the tenant objects: derived from `tenant:<name>`). */
  readonly id: DurableObjectId;
  /** This instance's durable storage: SQLite plus the key-value API over it. */
  readonly storage: DurableObjectStorage;
  /** Holds every incoming event until `fn` settles (used for migrations at start-up). */
  blockConcurrencyWhile<T>(fn: () => Promise<T>): Promise<T>;
  /** Accepted for parity with Workers; an object stays alive while it has pending work anyway. */
  waitUntil(promise: Promise<unknown>): void;
}

/** The id of one Durable Object instance. */
export interface DurableObjectId {
  /** The id as 64 hexadecimal digits. */
  toString(): string;
  /** The name the id was derived from with `idFromName`, when known. */
  readonly name?: string;
}

/** A client for one Durable Object instance. */
export interface DurableObjectStub {
  /** Sends an HTTP request to the object's `fetch` handler; the object is created on first use. */
  fetch(input: Request | string, init?: RequestInit): Promise<Response>;
}

/** A Durable Object namespace binding. */
export interface DurableObjectNamespace {
  /** The id for `name`: the same name always yields the same object, worldwide. */
  idFromName(name: string): DurableObjectId;
  /** A stub that routes requests to the object with that id. */
  get(id: DurableObjectId): DurableObjectStub;
}

/** A queue producer binding. */
export interface Queue<Body> {
  /** Enqueues one message; resolves once the queue has durably accepted it. */
  send(body: Body, options?: { contentType?: "json" | "text" | "bytes" | "v8" }): Promise<void>;
}

/** One delivery of a queue message (redelivered with the same `id` and a higher `attempts`). */
export interface Message<Body> {
  /** Unique id of the message, the same on every redelivery. */
  readonly id: string;
  /** When the message was sent. */
  readonly timestamp: Date;
  /** The body as sent. */
  readonly body: Body;
  /** How many times it has been delivered, this delivery included (1 on the first). */
  readonly attempts: number;
  /** Marks this message done: it is not redelivered even if the rest of the batch fails. */
  ack(): void;
  /** Asks for redelivery, after `delaySeconds` when given (up to the queue's retry limit). */
  retry(options?: { delaySeconds?: number }): void;
}

/** A batch handed to a queue consumer. */
export interface MessageBatch<Body> {
  /** Name of the queue the batch comes from. */
  readonly queue: string;
  /** The messages, at most the consumer's configured batch size. */
  readonly messages: readonly Message<Body>[];
}

/** A cron trigger firing. */
export interface ScheduledController {
  /** Epoch milliseconds the trigger was scheduled for. */
  readonly scheduledTime: number;
  /** The cron expression of the trigger that fired (as written in `wrangler.toml`). */
  readonly cron: string;
}

/** The execution context of an event handler. */
export interface ExecutionContext {
  /** Keeps the invocation alive after the response until `promise` settles (background work). */
  waitUntil(promise: Promise<unknown>): void;
  /** On an uncaught exception, forwards the request to the origin instead of failing (unused here). */
  passThroughOnException(): void;
  /** Props of the entrypoint (service bindings with props; empty for public traffic). */
  readonly props: unknown;
}

/** A usage batch accepted with `Prefer: respond-async` and appended by the queue consumer. */
export interface UsageMessage {
  /** Format version of this body. */
  v: 1;
  /** Name of the tenant's Durable Object (`tenant:<name>`). */
  tenant_object: string;
  /** Tenant and app the events belong to, resolved from the API key at acceptance. */
  scope: Scope;
  /** API key that sent the batch (audit actor). */
  key_id: string;
  /** When the Worker accepted the batch (ISO 8601): the default timestamp of its events. */
  received_at: string;
  /** The events exactly as the client sent them (validated against `IngestBody`). */
  events: unknown[];
  /**
   * Present when the message carries one consumption the Worker already counted in Redis (edge
   * hot path, ADR 0009): its event is stored without being counted again, and a duplicate or a
   * rejection drops the Redis counter so it is rebuilt from the store.
   */
  consumption?: ConsumptionRef;
}

/** The live counter a queued consumption was taken from. */
export interface ConsumptionRef {
  /** `cus_…` id. */
  customer_id: string;
  /** Feature key. */
  feature: string;
  /** Start of the counter's period, epoch ms. */
  period_start_ms: number;
}

/** Bindings and variables of the Worker (`wrangler.toml`). */
export interface Env {
  /** One Durable Object per tenant: the tenant's data and its single writer. */
  TENANTS: DurableObjectNamespace;
  /** One Durable Object mapping API-key hashes and tenant names to tenant objects. */
  DIRECTORY: DurableObjectNamespace;
  /** Producer of the usage queue (`Prefer: respond-async` ingestion). */
  USAGE_QUEUE: Queue<UsageMessage>;
  /** Admin token of `/v1/admin/*` (a secret: `wrangler secret put BILLING_ADMIN_TOKEN`). */
  BILLING_ADMIN_TOKEN: string;
  /** `info`, `error` or `silent` (default `info`). */
  LOG_LEVEL?: string;
  /** `true`: webhook endpoints may use http and private hosts (local `wrangler dev` only; default off). */
  WEBHOOK_ALLOW_PRIVATE_URLS?: string;
  /** Upstash Redis REST URL: turns on the edge hot path (ADR 0009); unset = every request via the objects. */
  UPSTASH_REDIS_REST_URL?: string;
  /** Its token (a secret: `wrangler secret put UPSTASH_REDIS_REST_TOKEN`). */
  UPSTASH_REDIS_REST_TOKEN?: string;
  /** Prefix of every Redis key (default `billing:`). */
  REDIS_KEY_PREFIX?: string;
  /** `<requests>/<window seconds>` per customer for `pk_` keys (default `600/60`; `0` = off). */
  PUBLISHABLE_RATE_LIMIT?: string;
}
