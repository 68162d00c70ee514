/**
 * Where accepted usage goes, chosen once at start-up (ADR 0014): absent (`Services.usageSink`
 * unset) = the primary database, through `ingestEvents` as always; an edge node configured with
 * a Turso replica appends to its local outbox instead (`edge_outbox.ts`), and the billing process
 * ingests what was pushed (`replica_ingest.ts`) through the same `ingestHashed`.
 *
 * Pure types (no import of the dependency container), so `context.ts` can name the port.
 *
 * @module
 */
import type { LifecycleFact } from "../domain/events.ts";
import type { Scope } from "../domain/scope.ts";

/** One event as an edge node accepted it: the client's fields, stamped, plus its payload hash. */
export interface SinkEvent {
  /** The client's id (idempotency key per tenant + app). */
  id: string;
  /** `cus_…` id or external id, as sent (the billing side resolves it). */
  customer_id: string;
  /** Feature key. */
  feature: string;
  /** Units (the default 1 already applied). */
  value: number;
  /** When the usage happened: as sent, else when the edge node received it. */
  timestamp: Date;
  /** Whether the client sent `timestamp` (the payload hash covers only what it sent). */
  timestamp_sent: boolean;
  /** Free-form properties, or null. */
  properties: Record<string, unknown> | null;
  /** SHA-256 hex of the client payload (`hashEvents`): equal = retry, other = `idempotency_key_reused`. */
  hash: string;
  /** Lifecycle event to emit when the billing side stores it (a consuming check's limit crossing). */
  lifecycle?: LifecycleFact<"entitlement.quota_exceeded" | "entitlement.soft_limit_reached">;
}

/** What a sink did with a batch; `stored` are the events newly appended, in order. */
export interface SinkReport {
  /** Events newly appended. */
  accepted: number;
  /** Events whose id the sink already holds with the same payload. */
  duplicates: number;
  /** Events whose id the sink already holds with another payload (409 `idempotency_key_reused`). */
  rejected: { id: string; code: "idempotency_key_reused"; status: 409; message: string }[];
  /** Client ids of the events newly appended. */
  stored: string[];
}

/** The port: append a batch durably (committed locally) before the caller answers. */
export interface UsageSink {
  /** Short name for logs and the start-up line. */
  readonly name: string;
  /**
   * Appends a batch of one scope in one local transaction.
   *
   * @param now receive time (`received_at` of each row)
   * @throws when the local write fails (nothing of the batch is kept)
   */
  append(scope: Scope, events: readonly SinkEvent[], now: Date): Promise<SinkReport>;
}
