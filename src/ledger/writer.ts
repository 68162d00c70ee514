/**
 * One writer per tenant (ADR 0003): every ledger posting, hold transition and inventory mutation
 * of a scope (tenant + app) goes through {@link CommandWriter.submit}. This module holds the
 * in-process implementation. On Deno it is the process's writer; on Workers the whole app runs
 * inside the tenant's Durable Object (ADR 0005), so the same in-process writer there is the
 * tenant's single writer across the deployment; on Deno Deploy a Deno KV lease per tenant
 * serializes isolates around it.
 *
 * {@link InProcessWriter} keeps one FIFO queue per scope. While a batch of a scope is being
 * written, the commands that arrive wait; the next batch takes all of them (up to
 * `maxBatchSize`) into one transaction through `Store.write`, so it stays serialized with every
 * other write of the process (and, across processes, behind SQLite's lock with bounded
 * `SQLITE_BUSY` retry). One commit answers many commands, each with its own outcome.
 *
 * Failure rules:
 * - A rejected command (business rule) is answered with its error and writes nothing; the rest of
 *   its batch commits.
 * - A batch that fails with a retryable error (`kind: "unavailable"`: busy database, lost
 *   connection) answers every command of the batch with that error. The outcome may be unknown
 *   (the commit may have happened before the acknowledgement was lost): clients retry with the
 *   same idempotency key and get the original result.
 * - Any other failure (a bug, a poison command) is isolated: the batch is re-run one command per
 *   transaction so only the failing command sees the error.
 *
 * @module
 */
import { BillingError } from "../domain/errors.ts";
import {
  type EntryPostedData,
  type LifecycleEvent,
  lifecycleEvent,
  type LifecycleEventMap,
  type LifecycleEventType,
} from "../domain/events.ts";
import type { Store } from "../storage/db.ts";
import type { Clock, Scope } from "../domain/scope.ts";
import type { LifecycleDispatcher } from "../lifecycle/dispatcher.ts";
import {
  AccountCache,
  type BatchItem,
  type BatchResult,
  type Command,
  hashCommandSync,
  type ResultOf,
  runBatch,
} from "./batch.ts";
import { recordLifecycleOf, type WriteActor } from "../lifecycle/outbox.ts";

/** Who submitted a command (audit trail). */
export type Submitter = Partial<WriteActor>;

/** A command's accepted result and whether it was an idempotent replay. */
export interface Accepted<T> {
  /** The command's result. */
  value: T;
  /** True when this is the stored result of an earlier request with the same key. */
  replayed: boolean;
}

/**
 * The single writer of every scope.
 *
 * @example
 * const { value, replayed } = await writer.submit(scope, { kind: "inventory_acquire", idempotency_key: "k1", subject: "u1", item: "gem", quantity: 5 });
 */
export interface CommandWriter {
  /**
   * Queues a command behind every earlier command of the scope and resolves with its result.
   *
   * @throws {BillingError} the command's rejection (`insufficient_balance` …), `writer_overloaded`
   *   (503) when the scope's queue is full, or a retryable `unavailable` error of the batch
   */
  submit<C extends Command>(scope: Scope, command: C, who?: Submitter): Promise<Accepted<ResultOf<C>>>;
}

/** What a batch looked like (metrics, benchmarks). */
export interface BatchReport {
  /** Tenant + app of the batch. */
  scope: Scope;
  /** Commands in the batch. */
  size: number;
  /** Whether its transaction committed (and was acknowledged). */
  committed: boolean;
  /** Wall time from hashing to the answer, ms. */
  duration_ms: number;
}

/** Options of {@link InProcessWriter}. */
export interface WriterOptions {
  /** Where batches are written (its `write` lane serializes them with every other write). */
  storage: Store;
  /** Source of the batch instant. */
  clock: Clock;
  /** Most commands per transaction (default {@link DEFAULT_MAX_BATCH_SIZE}). */
  maxBatchSize?: number;
  /** Most commands waiting per scope before `writer_overloaded` (default {@link DEFAULT_MAX_QUEUE_LENGTH}). */
  maxQueueLength?: number;
  /** When set, `ledger.entry_posted` events go to the outbox in the batch's transaction and are dispatched after commit. */
  lifecycle?: LifecycleDispatcher;
  /** Structured log sink (isolated command failures). */
  log?: (record: Record<string, unknown>) => void;
  /** Called after each batch (metrics, benchmarks). */
  onBatch?: (report: BatchReport) => void;
}

/** Default largest batch: 1000 commands (TigerBeetle's batches are 8190 transfers; SQLite favours fewer). */
export const DEFAULT_MAX_BATCH_SIZE = 1000;
/** Default queue bound per scope. */
export const DEFAULT_MAX_QUEUE_LENGTH = 50_000;

interface Waiting {
  command: Command;
  who: Submitter;
  resolve: (value: Accepted<unknown>) => void;
  reject: (error: unknown) => void;
}

interface Lane {
  scope: Scope;
  queue: Waiting[];
  draining: boolean;
}

/** The in-process writer: a queue and a drain loop per scope. */
export class InProcessWriter implements CommandWriter {
  readonly #options: Required<Pick<WriterOptions, "maxBatchSize" | "maxQueueLength">> & WriterOptions;
  readonly #lanes = new Map<string, Lane>();
  /** Accounts committed batches read or created (immutable rows): later batches skip reading them. */
  readonly #accounts = new AccountCache();

  /**
   * Creates a writer over a store; queues are created per scope on first use.
   *
   * @throws {RangeError} when `maxBatchSize` is not a positive integer
   */
  constructor(options: WriterOptions) {
    const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
      throw new RangeError("maxBatchSize must be a positive integer");
    }
    this.#options = {
      ...options,
      maxBatchSize,
      maxQueueLength: options.maxQueueLength ?? DEFAULT_MAX_QUEUE_LENGTH,
    };
  }

  submit<C extends Command>(scope: Scope, command: C, who: Submitter = {}): Promise<Accepted<ResultOf<C>>> {
    const id = `${scope.tenantId}\u0000${scope.appId}`;
    let lane = this.#lanes.get(id);
    if (!lane) this.#lanes.set(id, lane = { scope, queue: [], draining: false });
    if (lane.queue.length >= this.#options.maxQueueLength) {
      return Promise.reject(
        new BillingError(
          "writer_overloaded",
          "unavailable",
          "Too many ledger commands are waiting for this tenant; retry later",
        ),
      );
    }
    const promise = new Promise<Accepted<ResultOf<C>>>((resolve, reject) => {
      lane.queue.push({ command, who, resolve: resolve as (v: Accepted<unknown>) => void, reject });
    });
    if (!lane.draining) {
      lane.draining = true;
      // A macrotask, not a microtask: requests already read from their sockets reach this queue
      // first and share the batch's commit (see #drain).
      setTimeout(() => void this.#drain(id, lane), 0);
    }
    return promise;
  }

  /** Commands waiting in every queue (for tests and metrics). */
  get waiting(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.queue.length;
    return n;
  }

  async #drain(id: string, lane: Lane): Promise<void> {
    try {
      while (lane.queue.length > 0) {
        const batch = lane.queue.splice(0, this.#options.maxBatchSize);
        await this.#runBatch(lane.scope, batch);
        // Group commit (issue 14): an embedded SQLite commit blocks the event loop while it syncs,
        // so the requests that arrived meanwhile are still unparsed. One macrotask lets them reach
        // the queue before the next batch is cut: fewer, larger commits instead of a commit for
        // the one or two commands that happened to be queued.
        if (lane.queue.length > 0 && lane.queue.length < this.#options.maxBatchSize) await nextMacrotask();
      }
    } finally {
      lane.draining = false;
      if (lane.queue.length > 0) {
        lane.draining = true;
        setTimeout(() => void this.#drain(id, lane), 0);
      } else {
        this.#lanes.delete(id);
      }
    }
  }

  async #runBatch(scope: Scope, batch: Waiting[]): Promise<void> {
    const started = performance.now();
    let items: BatchItem[];
    try {
      items = batch.map((w) => ({ command: w.command, hash: hashCommandSync(w.command) }));
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    const events: LifecycleEvent[] = [];
    try {
      const result = await this.#options.storage.write(async (tx) => {
        events.length = 0;
        const now = this.#options.clock.now();
        // One outbox statement and one audit statement for the whole batch, each row with the
        // actor and request id of the command that caused it, sent with the batch's own writes.
        const record = this.#options.lifecycle
          ? (out: BatchResult) => {
            const recorded: { who: WriteActor; event: LifecycleEvent }[] = [];
            for (const { submitter, event } of batchEvents(scope, now, items, out)) {
              const who = {
                actor: (submitter === null ? undefined : batch[submitter].who.actor) ?? "system",
                requestId: (submitter === null ? undefined : batch[submitter].who.requestId) ?? null,
              };
              recorded.push({ who, event });
              events.push(event);
            }
            return recordLifecycleOf(tx, recorded);
          }
          : undefined;
        return await runBatch(tx, scope, now, items, this.#accounts, record);
      }, scope);
      this.#accounts.add(scope, result.accounts);
      this.#options.onBatch?.({
        scope,
        size: batch.length,
        committed: true,
        duration_ms: performance.now() - started,
      });
      batch.forEach((w, i) => {
        const outcome = result.outcomes[i];
        if (outcome.ok) w.resolve({ value: outcome.value, replayed: outcome.replayed });
        else w.reject(outcome.error);
      });
      if (events.length > 0) await this.#options.lifecycle?.dispatch(events);
    } catch (error) {
      this.#options.onBatch?.({
        scope,
        size: batch.length,
        committed: false,
        duration_ms: performance.now() - started,
      });
      const retryable = error instanceof BillingError && error.kind === "unavailable";
      if (retryable || batch.length === 1) {
        if (!retryable) {
          this.#options.log?.({
            level: "error",
            msg: "ledger command failed",
            kind: batch[0].command.kind,
            error: String(error),
          });
        }
        for (const w of batch) w.reject(error);
        return;
      }
      // Isolate the failing command: one transaction per command.
      for (const w of batch) await this.#runBatch(scope, [w]);
    }
  }
}

/** Resolves after the event loop has run once more (timers and I/O included, not only microtasks). */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * The lifecycle events of a committed batch, each with the index of the command that caused it
 * (`null` for expiries, which the system performs): `ledger.entry_posted` for every new entry,
 * `ledger.account_created`, `hold.created` / `hold.captured` / `hold.voided` for money holds,
 * `inventory.changed` for every accepted inventory mutation, and `hold.expired` for every money or
 * inventory hold the batch expired. Replays emit nothing: their change was reported when it happened.
 */
export function batchEvents(
  scope: Scope,
  now: Date,
  items: readonly BatchItem[],
  result: BatchResult,
): { submitter: number | null; event: LifecycleEvent }[] {
  const out: { submitter: number | null; event: LifecycleEvent }[] = [];
  const push = <K extends LifecycleEventType>(
    submitter: number | null,
    type: K,
    resourceId: string,
    data: LifecycleEventMap[K],
  ) =>
    out.push({
      submitter,
      event: lifecycleEvent({
        type,
        tenant_id: scope.tenantId,
        app_id: scope.appId,
        resource_id: resourceId,
        occurred_at: now,
        data,
      }),
    });
  const entryItems = new Set<number>();
  for (const { item, entry } of result.entries) {
    entryItems.add(item);
    push(item, "ledger.entry_posted", entry.id, entryEventData(entry));
  }
  result.outcomes.forEach((outcome, i) => {
    if (!outcome.ok || outcome.replayed) return;
    const command = items[i].command;
    const value = outcome.value as {
      account?: { id: string };
      created?: boolean;
      hold?: { id: string };
      operation?: { id?: string; seq?: number };
      balances?: unknown;
    };
    switch (command.kind) {
      case "ensure_account":
        if (value.created && value.account) {
          push(i, "ledger.account_created", value.account.id, {
            id: value.account.id,
            ...plainRecord(value.account),
          });
        }
        break;
      case "create_hold":
      case "capture_hold":
      case "void_hold": {
        if (!value.hold) break;
        const type = command.kind === "create_hold"
          ? "hold.created"
          : command.kind === "capture_hold"
          ? "hold.captured"
          : "hold.voided";
        push(i, type, value.hold.id, { ledger: "money", id: value.hold.id, ...plainRecord(value.hold) });
        break;
      }
      case "inventory_acquire":
      case "inventory_consume":
      case "inventory_transfer":
      case "inventory_hold":
      case "inventory_commit":
      case "inventory_release":
        push(i, "inventory.changed", String(value.hold?.id ?? value.operation?.id ?? command.kind), {
          kind: command.kind,
          operation: plain(value.operation ?? null),
          hold: plain(value.hold ?? null),
          balances: plain(value.balances ?? []),
        });
        break;
    }
  });
  for (const expired of result.expired) {
    push(null, "hold.expired", expired.hold.id, {
      ledger: expired.ledger,
      id: expired.hold.id,
      ...plainRecord(expired.hold),
    });
  }
  return out;
}

/** A JSON-safe copy of a domain value: instants become ISO 8601 strings. */
function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** {@link plain} of an object, typed as an event payload. */
function plainRecord(value: object): Record<string, unknown> {
  return plain(value) as Record<string, unknown>;
}

/** Event payload of a committed entry: the entry as the API shows it. */
export function entryEventData(
  entry: import("../domain/ledger_book.ts").LedgerEntry,
): EntryPostedData {
  return {
    id: entry.id,
    seq: entry.seq,
    idempotency_key: entry.idempotency_key,
    description: entry.description,
    reverses_entry_id: entry.reverses_entry_id,
    postings: entry.postings.map((p) => ({
      account_id: p.account_id,
      amount: p.amount,
      currency: p.currency,
    })),
    created_at: entry.created_at.toISOString(),
  };
}

const writers = new WeakMap<Store, InProcessWriter>();

/**
 * The process's writer for a store: `services.ledgerWriter` when set (an embedder's own
 * {@link CommandWriter}, e.g. a test double), else one {@link InProcessWriter} per store, created
 * on first use (also inside each tenant's Durable Object on Workers).
 */
export function writerFor(services: {
  database: Store;
  clock: Clock;
  lifecycle?: LifecycleDispatcher;
  log?: (record: Record<string, unknown>) => void;
  ledgerWriter?: CommandWriter;
}): CommandWriter {
  if (services.ledgerWriter) return services.ledgerWriter;
  let writer = writers.get(services.database);
  if (!writer) {
    writer = new InProcessWriter({
      storage: services.database,
      clock: services.clock,
      lifecycle: services.lifecycle,
      log: services.log,
    });
    writers.set(services.database, writer);
  }
  return writer;
}
