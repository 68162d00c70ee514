/**
 * The edge node's usage outbox (ADR 0014): accepted events are appended to a table of the node's
 * Turso replica in one local transaction before the request is answered, and pushed to the sync
 * server in the background (every `EDGE_PUSH_INTERVAL_MS` while it answers; exponentially backed
 * off up to `EDGE_PUSH_BACKOFF_MAX_MS` while it does not). The billing process pulls them and
 * ingests them (`replica_ingest.ts`).
 *
 * The table is append-only. Each node writes rows under its own `node_id` (random, kept in
 * `<replica>.node`) with a gap-free `seq`, so rows of two nodes never collide in the sync server,
 * and the billing process keeps one cursor per node. Locally an event id of the scope is checked
 * against every row the replica holds (this node's, and others' copied at bootstrap): same payload
 * = duplicate, other payload = `idempotency_key_reused`, as the primary would answer. Ids sent to
 * two nodes are only reconciled on the billing side (counted once; a payload conflict becomes a
 * dead letter there).
 *
 * Backlog: after a successful push, every row up to the `seq` read before it started is on the
 * server; that mark is kept in `<replica>.pushed` (losing it only overstates the backlog until
 * the next push: the client itself knows what it sent). `/metrics` shows the events waiting and
 * the age of the oldest.
 *
 * Pruning ({@link EdgeOutbox.pruneOnce}): this node's rows are deleted once pushed AND made
 * billable — the primary holds their event id with the same payload hash, or a dead letter
 * `edge:<node>:<seq>` records the billing side's refusal ({@link OutboxOptions.ingested}). Pushed
 * alone is not enough: the client pushes a local delete like any change, so the row would vanish
 * from the sync server before the billing process read it. At most {@link PRUNE_BATCH} rows per
 * run, in one local transaction, after a confirmed push, once a row is older than the retention
 * (`EDGE_OUTBOX_RETENTION_MS`, 24 h: until then a retry of its id is a local duplicate); never a
 * row above the push mark; never
 * the node's highest row (it keeps `seq` gap-free across restarts when everything else is
 * pruned, since the billing side's cursor only moves forward). The deletes travel to the sync
 * server with the next push, so the sync database shrinks too. A retry of a pruned event id (after
 * the retention) is appended again and counted once by the billing side (idempotent by event id
 * and hash).
 *
 * @module
 */
import { backOff } from "exponential-backoff";
import type { Scope } from "../domain/scope.ts";
import type { QuantityJson } from "../domain/quantity.ts";
import type { ReplicaDatabase } from "../storage/turso_sync.ts";
import type { SinkEvent, SinkReport, UsageSink } from "./sink.ts";

/** The outbox table and its index (created on open; the billing process reads the same table). */
export const OUTBOX_DDL: string = `
CREATE TABLE IF NOT EXISTS edge_usage_events (
  node_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  tenant_id TEXT NOT NULL,
  app_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  payload_hash TEXT NOT NULL,
  event TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (node_id, seq)
);
CREATE INDEX IF NOT EXISTS edge_usage_events_event ON edge_usage_events (event_id, tenant_id, app_id);
`;

/** Most events written in one outbox transaction by the group commit (a limit on everything). */
export const MAX_EVENTS_PER_COMMIT = 5000;

/** An append waiting for the group commit. */
interface PendingAppend {
  scope: Scope;
  events: readonly SinkEvent[];
  now: Date;
  resolve(report: SinkReport): void;
  reject(error: unknown): void;
}

/** Most rows deleted by one prune run, in one local transaction (a limit on everything). */
export const PRUNE_BATCH = 1000;

/** Least age of an outbox row before it may be pruned (24 h: local duplicate answers for retries). */
export const DEFAULT_OUTBOX_RETENTION_MS = 86_400_000;

/** Least pause between two prune runs of the background loop, ms. */
export const PRUNE_INTERVAL_MS = 5_000;

/** One pushed outbox row of this node, as the prune asks about it. */
export interface PushedRow {
  /** Its `seq` on this node. */
  seq: number;
  /** Tenant and app of the event. */
  scope: Scope;
  /** The client's event id. */
  event_id: string;
  /** Payload hash the edge node stored. */
  payload_hash: string;
}

/**
 * Which of `rows` the billing side has made final (stored in the primary with the same payload
 * hash, or refused as a dead letter), by `seq`. See `usage/edge_prune.ts`.
 */
export type IngestedLookup = (nodeId: string, rows: readonly PushedRow[]) => Promise<ReadonlySet<number>>;

/** Ids per `IN (…)` lookup of the outbox (a limit on everything). */
const LOOKUP_CHUNK = 200;

/** The JSON of the `event` column. */
export interface OutboxEventJson {
  /** As sent. */
  customer_id: string;
  /** Feature key. */
  feature: string;
  /** Units: a JSON number or a decimal string (as {@link SinkEvent}'s `value`). */
  value: QuantityJson;
  /** Epoch ms (as sent, else receive time). */
  timestamp_ms: number;
  /** Whether the client sent the timestamp. */
  timestamp_sent: boolean;
  /** Properties or null. */
  properties: Record<string, unknown> | null;
  /** Lifecycle event to emit when stored (limit crossing of a consuming check). */
  lifecycle?: SinkEvent["lifecycle"];
}

/** The backlog `/metrics` shows. */
export interface OutboxBacklog {
  /** Events appended on this node and not yet confirmed pushed. */
  pending_events: number;
  /** Age of the oldest of them, seconds (0 when none). */
  oldest_pending_age_seconds: number;
  /** Rows of this node deleted by the prune since the process started. */
  pruned_events: number;
}

/** Settings of the outbox (from `EDGE_*`, see `config.ts`). */
export interface OutboxOptions {
  /** The replica file (`EDGE_REPLICA_PATH`); `<path>.node` and `<path>.pushed` sit next to it. */
  path: string;
  /** Pause between pushes while they succeed, ms. */
  pushIntervalMs: number;
  /** Cap of the pause between failed pushes, ms. */
  pushBackoffMaxMs: number;
  /** Where failures are logged. */
  log: (record: Record<string, unknown>) => void;
  /** Source of now (tests pass their clock). */
  now?: () => number;
  /** Asks the billing side which pushed rows are final; absent = the outbox is never pruned. */
  ingested?: IngestedLookup;
  /**
   * Least age of a row (since it was received) before it may be pruned, ms (default 24 h): until
   * then a retry of its event id is answered as a duplicate locally.
   */
  retentionMs?: number;
  /** Least pause between prune runs of the loop, ms (default {@link PRUNE_INTERVAL_MS}). */
  pruneIntervalMs?: number;
}

/** Reads a small text file, or null when absent. */
async function readText(path: string): Promise<string | null> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** Writes a small text file atomically (temporary file, then rename). */
async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

/** The edge node's outbox on its Turso replica; a {@link UsageSink}. */
export class EdgeOutbox implements UsageSink {
  /** `"edge replica"`. */
  readonly name = "edge replica";
  readonly #db: ReplicaDatabase;
  readonly #options: OutboxOptions;
  readonly #now: () => number;
  /** This node's id in the outbox rows. */
  readonly nodeId: string;
  #lastSeq: number;
  #pushedSeq: number;
  #lane: Promise<unknown> = Promise.resolve();
  readonly #queue: PendingAppend[] = [];
  #draining = false;
  #stopped = false;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  /** Successful pushes so far (for tests and benches). */
  pushes = 0;
  /** Failed push attempts so far. */
  pushFailures = 0;
  /** Rows pruned since start. */
  pruned = 0;
  /** Deletes of pruned rows committed locally and not yet pushed. */
  #prunedUnpushed = false;
  #lastPruneAt = 0;

  private constructor(
    db: ReplicaDatabase,
    nodeId: string,
    lastSeq: number,
    pushedSeq: number,
    options: OutboxOptions,
  ) {
    this.#db = db;
    this.nodeId = nodeId;
    this.#lastSeq = lastSeq;
    this.#pushedSeq = Math.min(pushedSeq, lastSeq);
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Prepares the outbox on an open replica: creates the table, takes the node id (a new one when
   * the replica file is new), and reads the last `seq` and the push mark.
   *
   * @param fresh whether the replica file did not exist before it was opened
   */
  static async open(db: ReplicaDatabase, fresh: boolean, options: OutboxOptions): Promise<EdgeOutbox> {
    await db.exec(OUTBOX_DDL);
    const nodeFile = `${options.path}.node`;
    let nodeId = fresh ? null : await readText(nodeFile);
    if (!nodeId) {
      nodeId = `node_${crypto.randomUUID().replaceAll("-", "")}`;
      await writeAtomically(nodeFile, nodeId + "\n");
      await Deno.remove(`${options.path}.pushed`).catch(() => {});
    }
    const [row] = await (await db.prepare("SELECT max(seq) AS seq FROM edge_usage_events WHERE node_id = ?"))
      .all(nodeId);
    const lastSeq = Number(row?.seq ?? 0);
    const pushedSeq = Number(await readText(`${options.path}.pushed`) ?? 0);
    return new EdgeOutbox(db, nodeId, lastSeq, Number.isSafeInteger(pushedSeq) ? pushedSeq : 0, options);
  }

  /** Runs `fn` after every earlier call (one connection: one transaction at a time). */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#lane.then(fn, fn);
    this.#lane = next.catch(() => {});
    return next;
  }

  /** Stored payload hashes of `ids` in the scope, from every row the replica holds. */
  async #hashes(scope: Scope, ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += LOOKUP_CHUNK) {
      const chunk = unique.slice(i, i + LOOKUP_CHUNK);
      const statement = await this.#db.prepare(
        `SELECT event_id, payload_hash FROM edge_usage_events WHERE tenant_id = ? AND app_id = ? AND event_id IN (${
          chunk.map(() => "?").join(", ")
        })`,
      );
      for (const r of await statement.all(scope.tenantId, scope.appId, ...chunk)) {
        out.set(String(r.event_id), String(r.payload_hash));
      }
    }
    return out;
  }

  /**
   * {@inheritDoc UsageSink.append}
   *
   * Group commit: appends that arrive while a transaction is being written wait, and the next
   * transaction takes all of them (up to {@link MAX_EVENTS_PER_COMMIT} events), so concurrent
   * small requests cost one commit instead of one each. Each keeps its own report; a failed
   * transaction fails every append of it (none of their rows is kept).
   */
  append(scope: Scope, events: readonly SinkEvent[], now: Date): Promise<SinkReport> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ scope, events, now, resolve, reject });
      if (!this.#draining) {
        this.#draining = true;
        void this.#serial(() => this.#drain());
      }
    });
  }

  /** Writes queued appends group by group until none waits (`#drainGroups`), then clears `#draining`. */
  async #drain(): Promise<void> {
    try {
      await this.#drainGroups();
    } finally {
      this.#draining = false;
    }
  }

  async #drainGroups(): Promise<void> {
    while (this.#queue.length > 0) {
      const group: PendingAppend[] = [];
      let size = 0;
      while (
        this.#queue.length > 0 &&
        (group.length === 0 || size + this.#queue[0].events.length <= MAX_EVENTS_PER_COMMIT)
      ) {
        const next = this.#queue.shift()!;
        size += next.events.length;
        group.push(next);
      }
      let seq = this.#lastSeq;
      const reports: SinkReport[] = [];
      try {
        await this.#db.exec("BEGIN IMMEDIATE");
        try {
          const insert = await this.#db.prepare(
            "INSERT INTO edge_usage_events (node_id, seq, tenant_id, app_id, event_id, payload_hash, event, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          );
          for (const { scope, events, now } of group) {
            const report: SinkReport = { accepted: 0, duplicates: 0, rejected: [], stored: [] };
            // Reads this transaction's own earlier rows too: one id in two appends is stored once.
            const existing = await this.#hashes(scope, events.map((e) => e.id));
            for (const e of events) {
              const seen = existing.get(e.id);
              if (seen === e.hash) {
                report.duplicates++;
                continue;
              }
              if (seen !== undefined) {
                report.rejected.push({
                  id: e.id,
                  code: "idempotency_key_reused",
                  status: 409,
                  message: `Event id "${e.id}" was already used with a different payload`,
                });
                continue;
              }
              const json: OutboxEventJson = {
                customer_id: e.customer_id,
                feature: e.feature,
                value: e.value,
                timestamp_ms: e.timestamp.getTime(),
                timestamp_sent: e.timestamp_sent,
                properties: e.properties,
                ...(e.lifecycle ? { lifecycle: e.lifecycle } : {}),
              };
              seq++;
              await insert.run(
                this.nodeId,
                seq,
                scope.tenantId,
                scope.appId,
                e.id,
                e.hash,
                JSON.stringify(json),
                now.getTime(),
              );
              existing.set(e.id, e.hash);
              report.stored.push(e.id);
            }
            report.accepted = report.stored.length;
            reports.push(report);
          }
          await this.#db.exec("COMMIT");
        } catch (error) {
          await this.#db.exec("ROLLBACK").catch(() => {});
          throw error;
        }
      } catch (error) {
        for (const p of group) p.reject(error);
        continue;
      }
      this.#lastSeq = seq;
      group.forEach((p, i) => p.resolve(reports[i]));
    }
    // Same tick as the empty queue was seen: an append after this starts a new drain.
    this.#draining = false;
  }

  /** Events not yet confirmed pushed and the age of the oldest (one indexed read). */
  async backlog(): Promise<OutboxBacklog> {
    const pending = this.#lastSeq - this.#pushedSeq;
    if (pending <= 0) return { pending_events: 0, oldest_pending_age_seconds: 0, pruned_events: this.pruned };
    const [row] = await (await this.#db.prepare(
      "SELECT received_at FROM edge_usage_events WHERE node_id = ? AND seq = ?",
    )).all(this.nodeId, this.#pushedSeq + 1);
    const oldest = Number(row?.received_at ?? this.#now());
    return {
      pending_events: pending,
      oldest_pending_age_seconds: Math.max(0, (this.#now() - oldest) / 1000),
      pruned_events: this.pruned,
    };
  }

  /**
   * Pushes everything appended so far.
   *
   * @returns the events this push confirmed
   * @throws the client's error when the sync server cannot be reached (nothing is lost: the rows stay)
   */
  async pushOnce(): Promise<number> {
    const through = this.#lastSeq;
    const before = this.#pushedSeq;
    const prunes = this.#prunedUnpushed;
    // Not in the append lane: appends go on while a push runs (the client pushes committed
    // changes; rows committed after `through` are simply pushed by the next push).
    await this.#db.push();
    if (through > this.#pushedSeq) {
      this.#pushedSeq = through;
      await writeAtomically(`${this.#options.path}.pushed`, `${through}\n`);
    }
    if (prunes) this.#prunedUnpushed = false;
    this.pushes++;
    return Math.max(0, through - before);
  }

  /**
   * Deletes up to `limit` of this node's rows that are pushed and final on the billing side
   * (see the module: never above the push mark, never the node's highest row), in one local
   * transaction. The deletes reach the sync server with the next push.
   *
   * @returns how many rows were deleted (0 without {@link OutboxOptions.ingested})
   * @throws the replica's or the lookup's error (nothing deleted)
   */
  async pruneOnce(limit = PRUNE_BATCH): Promise<number> {
    const lookup = this.#options.ingested;
    const pushed = this.#pushedSeq;
    if (!lookup || pushed <= 0) return 0;
    const rows = (await (await this.#db.prepare(
      "SELECT seq, tenant_id, app_id, event_id, payload_hash FROM edge_usage_events WHERE node_id = ? AND seq <= ? AND seq < (SELECT max(seq) FROM edge_usage_events WHERE node_id = ?) AND received_at <= ? ORDER BY seq LIMIT ?",
    )).all(
      this.nodeId,
      pushed,
      this.nodeId,
      this.#now() - (this.#options.retentionMs ?? DEFAULT_OUTBOX_RETENTION_MS),
      limit,
    )).map((r): PushedRow => ({
      seq: Number(r.seq),
      scope: { tenantId: String(r.tenant_id), appId: String(r.app_id) },
      event_id: String(r.event_id),
      payload_hash: String(r.payload_hash),
    }));
    if (rows.length === 0) return 0;
    const final = await lookup(this.nodeId, rows);
    const seqs = rows.map((r) => r.seq).filter((seq) => final.has(seq));
    if (seqs.length === 0) return 0;
    await this.#serial(async () => {
      await this.#db.exec("BEGIN IMMEDIATE");
      try {
        for (let i = 0; i < seqs.length; i += LOOKUP_CHUNK) {
          const chunk = seqs.slice(i, i + LOOKUP_CHUNK);
          await (await this.#db.prepare(
            `DELETE FROM edge_usage_events WHERE node_id = ? AND seq <= ? AND seq IN (${
              chunk.map(() => "?").join(", ")
            })`,
          )).run(this.nodeId, pushed, ...chunk);
        }
        await this.#db.exec("COMMIT");
      } catch (error) {
        await this.#db.exec("ROLLBACK").catch(() => {});
        throw error;
      }
    });
    this.pruned += seqs.length;
    this.#prunedUnpushed = true;
    return seqs.length;
  }

  /** Rows of this node the replica holds (pushed or not; for tests and metrics). */
  async storedRows(): Promise<number> {
    const [row] = await (await this.#db.prepare(
      "SELECT count(*) AS n FROM edge_usage_events WHERE node_id = ?",
    )).all(this.nodeId);
    return Number(row?.n ?? 0);
  }

  /** One prune run of the loop, at most every `pruneIntervalMs`; failures are logged, not thrown. */
  async #pruneDue(): Promise<void> {
    if (!this.#options.ingested || this.#stopped) return;
    const now = Date.now();
    if (now - this.#lastPruneAt < (this.#options.pruneIntervalMs ?? PRUNE_INTERVAL_MS)) return;
    this.#lastPruneAt = now;
    try {
      await this.pruneOnce();
    } catch (error) {
      this.#options.log({
        level: "error",
        msg: "edge outbox prune failed; retried on the next run",
        error: String((error as Error)?.message ?? error).slice(0, 300),
      });
    }
  }

  /** Starts the background push loop (idempotent). */
  start(): void {
    this.#loop ??= this.#run();
  }

  async #sleep(ms: number): Promise<void> {
    if (this.#stopped) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      await this.#sleep(this.#options.pushIntervalMs);
      if (this.#stopped) continue;
      // Prune only after a confirmed push (the mark), then push its deletes with the next one.
      await this.#pruneDue();
      if (this.#stopped || (this.#lastSeq <= this.#pushedSeq && !this.#prunedUnpushed)) continue;
      try {
        await backOff(() => this.pushOnce(), {
          numOfAttempts: Number.MAX_SAFE_INTEGER,
          startingDelay: this.#options.pushIntervalMs,
          timeMultiple: 2,
          maxDelay: this.#options.pushBackoffMaxMs,
          jitter: "full",
          retry: (error: unknown, attempt: number) => {
            this.pushFailures++;
            if (attempt === 1 || attempt % 10 === 0) {
              this.#options.log({
                level: "error",
                msg: "edge replica push failed; retrying with backoff",
                attempt,
                pending_events: this.#lastSeq - this.#pushedSeq,
                error: String((error as Error)?.message ?? error).slice(0, 300),
              });
            }
            return !this.#stopped;
          },
        });
      } catch {
        // stopped while backing off: the rows stay in the replica for the next start
      }
    }
  }

  /**
   * Stops the loop, then tries one last push (bounded by `graceMs`) and closes the replica. What
   * is not pushed stays in the file and is pushed after the next start.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop?.catch(() => {});
    if (this.#lastSeq > this.#pushedSeq) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.pushOnce().catch(() => 0),
        new Promise((resolve) => timer = setTimeout(resolve, graceMs)),
      ]);
      clearTimeout(timer);
    }
    await this.#serial(() => this.#db.close()).catch(() => {});
  }
}
