/**
 * The billing process's side of edge replicas (ADR 0014): pull the sync server into its own
 * replica every `EDGE_PULL_INTERVAL_MS`, read each node's outbox rows after its cursor, and
 * ingest them through `ingestHashed`, the code of `POST /v1/events`: idempotent by (tenant, app,
 * event id), so an event pushed twice or accepted by two nodes is counted once.
 *
 * Refusals (an event id reused with another payload, an unknown customer, a closed period, a
 * pause) are never dropped: each becomes a dead letter (`GET /v1/admin/dead_letters`, reason
 * `rejected`, message id `edge:<node>:<seq>`, so a re-read records it once) and is counted in
 * `billing_edge_usage_refused_total{code}`.
 *
 * Cursors (`<replica>.cursor.json`, one `seq` per node) move only after a batch committed; losing
 * them means re-reading, which ingestion's idempotency turns into duplicates.
 *
 * @module
 */
import { backOff } from "exponential-backoff";
import type { Services } from "../context.ts";
import type { ReplicaDatabase } from "../storage/turso_sync.ts";
import { recordDeadLetter } from "./dead_letters.ts";
import type { OutboxEventJson } from "./edge_outbox.ts";
import { type HashedEvent, ingestHashed } from "./service.ts";

/** One outbox row as read back. */
interface OutboxRow {
  seq: number;
  tenant_id: string;
  app_id: string;
  event_id: string;
  payload_hash: string;
  event: OutboxEventJson;
  received_at: number;
}

/** Settings of the ingester (from `EDGE_*`). */
export interface IngesterOptions {
  /** The billing replica file; `<path>.cursor.json` sits next to it. */
  path: string;
  /** Pause between pulls, ms. */
  pullIntervalMs: number;
  /** Cap of the pause between failed rounds, ms. */
  backoffMaxMs: number;
  /** Most rows per transaction (≤ 1000, the batch limit of ingestion). */
  batch: number;
}

/** What one round did. */
export interface IngestRound {
  /** Rows read from the replica. */
  read: number;
  /** Events newly stored in the primary. */
  accepted: number;
  /** Events already stored (pushed twice, or sent to two nodes). */
  duplicates: number;
  /** Events refused (each a dead letter). */
  refused: number;
}

/** Pulls edge replicas' usage into the primary. */
export class ReplicaIngester {
  readonly #db: ReplicaDatabase;
  readonly #services: Services;
  readonly #options: IngesterOptions;
  #cursors: Record<string, number>;
  #stopped = false;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  #busy: Promise<unknown> = Promise.resolve();
  /** Totals since start (tests and benches). */
  readonly totals: IngestRound = { read: 0, accepted: 0, duplicates: 0, refused: 0 };

  private constructor(
    db: ReplicaDatabase,
    services: Services,
    options: IngesterOptions,
    cursors: Record<string, number>,
  ) {
    this.#db = db;
    this.#services = services;
    this.#options = options;
    this.#cursors = cursors;
  }

  /**
   * Prepares the ingester on an open replica. The billing replica is only read: it never writes
   * (not even the outbox table, which the first edge node's push creates), so a pull never has
   * local changes to rebase.
   */
  static async open(
    db: ReplicaDatabase,
    services: Services,
    options: IngesterOptions,
  ): Promise<ReplicaIngester> {
    let cursors: Record<string, number> = {};
    try {
      cursors = JSON.parse(await Deno.readTextFile(`${options.path}.cursor.json`));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return new ReplicaIngester(db, services, options, cursors);
  }

  /** Rows of `node` after its cursor, oldest first, at most one batch. */
  async #rowsAfter(node: string): Promise<OutboxRow[]> {
    const statement = await this.#db.prepare(
      "SELECT seq, tenant_id, app_id, event_id, payload_hash, event, received_at FROM edge_usage_events WHERE node_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    );
    const rows = await statement.all(node, this.#cursors[node] ?? 0, this.#options.batch);
    return rows.map((r) => ({
      seq: Number(r.seq),
      tenant_id: String(r.tenant_id),
      app_id: String(r.app_id),
      event_id: String(r.event_id),
      payload_hash: String(r.payload_hash),
      event: JSON.parse(String(r.event)) as OutboxEventJson,
      received_at: Number(r.received_at),
    }));
  }

  /** Ingests one node's batch, scope by scope; refusals become dead letters. */
  async #ingest(node: string, rows: OutboxRow[], round: IngestRound): Promise<void> {
    const byScope = new Map<string, OutboxRow[]>();
    for (const r of rows) {
      const key = `${r.tenant_id}\u0000${r.app_id}`;
      const list = byScope.get(key) ?? [];
      list.push(r);
      byScope.set(key, list);
    }
    for (const group of byScope.values()) {
      const scope = { tenantId: group[0].tenant_id, appId: group[0].app_id };
      const hashed: HashedEvent[] = group.map((r) => ({
        hash: r.payload_hash,
        input: {
          id: r.event_id,
          customer_id: r.event.customer_id,
          feature: r.event.feature,
          value: r.event.value,
          timestamp: new Date(r.event.timestamp_ms),
          properties: r.event.properties ?? undefined,
          ...(r.event.lifecycle ? { lifecycle: r.event.lifecycle } : {}),
        },
      }));
      const report = await ingestHashed({ ...this.#services, scope, actor: `edge:${node}` }, hashed);
      round.accepted += report.accepted;
      round.duplicates += report.duplicates;
      // One node's outbox holds an event id of a scope once (the node checks before appending),
      // so a refusal names exactly one row of the group.
      const byId = new Map(group.map((r) => [r.event_id, r]));
      for (const refusal of report.rejected) {
        round.refused++;
        const row = byId.get(refusal.id) ?? group[0];
        const recorded = await recordDeadLetter(this.#services, {
          message_id: `edge:${node}:${row.seq}`,
          reason: "rejected",
          tenant_id: scope.tenantId,
          app_id: scope.appId,
          key_id: null,
          received_at: new Date(row.received_at).toISOString(),
          events: [{
            id: row.event_id,
            ...row.event,
            timestamp: new Date(row.event.timestamp_ms).toISOString(),
          }],
          error:
            `Edge node ${node} accepted event "${refusal.id}"; the billing side refused it: ${refusal.code}`,
          refusals: [{ id: refusal.id, code: refusal.code, message: refusal.message }],
          attempts: 1,
        });
        if (recorded) this.#services.metrics?.recordEdgeRefusal(refusal.code);
      }
    }
  }

  /**
   * One round: pull, then ingest every node's rows after its cursor, batch by batch.
   *
   * @throws the pull's error when the sync server cannot be reached, or the store's (the cursor
   *   stays, so the next round starts from the same row)
   */
  runOnce(): Promise<IngestRound> {
    const run = this.#busy.then(async () => {
      const round: IngestRound = { read: 0, accepted: 0, duplicates: 0, refused: 0 };
      await this.#db.pull();
      const table = await (await this.#db.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'edge_usage_events'",
      )).all();
      if (table.length === 0) return round; // no edge node pushed yet
      const nodes = await (await this.#db.prepare("SELECT DISTINCT node_id FROM edge_usage_events")).all();
      for (const { node_id } of nodes) {
        const node = String(node_id);
        for (;;) {
          const rows = await this.#rowsAfter(node);
          if (rows.length === 0) break;
          await this.#ingest(node, rows, round);
          round.read += rows.length;
          this.#cursors[node] = rows[rows.length - 1].seq;
          await this.#saveCursors();
          if (rows.length < this.#options.batch) break;
        }
      }
      this.totals.read += round.read;
      this.totals.accepted += round.accepted;
      this.totals.duplicates += round.duplicates;
      this.totals.refused += round.refused;
      return round;
    });
    this.#busy = run.catch(() => {});
    return run;
  }

  async #saveCursors(): Promise<void> {
    const path = `${this.#options.path}.cursor.json`;
    await Deno.writeTextFile(`${path}.tmp`, JSON.stringify(this.#cursors));
    await Deno.rename(`${path}.tmp`, path);
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

  /** Starts the background loop (idempotent). */
  start(): void {
    this.#loop ??= (async () => {
      while (!this.#stopped) {
        await this.#sleep(this.#options.pullIntervalMs);
        if (this.#stopped) break;
        try {
          await backOff(() => this.runOnce(), {
            numOfAttempts: Number.MAX_SAFE_INTEGER,
            startingDelay: this.#options.pullIntervalMs,
            timeMultiple: 2,
            maxDelay: this.#options.backoffMaxMs,
            jitter: "full",
            retry: (error: unknown, attempt: number) => {
              if (attempt === 1 || attempt % 10 === 0) {
                this.#services.log({
                  level: "error",
                  msg: "edge replica ingestion failed; retrying with backoff",
                  attempt,
                  error: String((error as Error)?.message ?? error).slice(0, 300),
                });
              }
              return !this.#stopped;
            },
          });
        } catch {
          // stopped while backing off
        }
      }
    })();
  }

  /** Stops the loop after its current round and closes the replica. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop?.catch(() => {});
    await this.#busy.catch(() => {});
    await this.#db.close().catch(() => {});
  }
}
