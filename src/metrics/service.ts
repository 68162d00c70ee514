/**
 * Prometheus metrics via `prom-client` (the Node.js Prometheus client; it runs unchanged under
 * Deno through `npm:`). Each {@link Metrics} owns its own registry, so tests and several apps in
 * one process never share counters; `GET /metrics` (admin token) renders it in the text format.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `billing_http_requests_total` | counter | `method`, `route` (the route pattern, e.g. `/v1/invoices/:id`), `status` |
 * | `billing_http_request_duration_seconds` | histogram | `method`, `route` |
 * | `billing_entitlement_checks_total` | counter | `result` = `allowed` / `denied` |
 * | `billing_usage_events_ingested_total` | counter | – |
 * | `billing_ledger_entries_committed_total` | counter | – |
 * | `billing_writer_batch_size` | histogram | – (events per write batch; fed by the usage writer through {@link Metrics.observeWriterBatch}) |
 * | `billing_webhook_deliveries_total` | counter | `outcome` = `succeeded` / `http_error` / `timeout` / `network_error` / `exhausted` |
 * | `billing_lifecycle_events_total` | counter | `type` |
 * | `billing_usage_dead_letters_total` | counter | `reason` = `failed` / `malformed` / `rejected` (queued usage recorded for an operator, `GET /v1/admin/dead_letters`) |
 *
 * Counts that follow committed writes (usage ingested, ledger entries, lifecycle events) come
 * from a lifecycle subscriber ({@link Metrics.subscriber}), so operations need no metrics code.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { LifecycleEvent, LifecycleSubscriber } from "../domain/events.ts";

/** Outcome of one webhook delivery attempt (or `exhausted` when a delivery gave up). */
export type DeliveryOutcome = "succeeded" | "http_error" | "timeout" | "network_error" | "exhausted";

/** The service's metrics on their own registry. */
export class Metrics {
  /** The prom-client registry holding every metric below. */
  readonly registry: Registry = new Registry();
  readonly #requests: Counter<"method" | "route" | "status">;
  readonly #duration: Histogram<"method" | "route">;
  readonly #checks: Counter<"result">;
  readonly #ingested: Counter;
  readonly #ledgerEntries: Counter;
  readonly #batchSize: Histogram;
  readonly #deliveries: Counter<"outcome">;
  readonly #events: Counter<"type">;
  readonly #deadLetters: Counter<"reason">;
  readonly #edgeRefused: Counter<"code">;
  #edgeBacklog:
    | (() => Promise<{ pending_events: number; oldest_pending_age_seconds: number; pruned_events?: number }>)
    | null = null;

  constructor() {
    const registers = [this.registry];
    this.#requests = new Counter({
      name: "billing_http_requests_total",
      help: "HTTP requests by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.#duration = new Histogram({
      name: "billing_http_request_duration_seconds",
      help: "HTTP request latency in seconds by method and route pattern",
      labelNames: ["method", "route"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#checks = new Counter({
      name: "billing_entitlement_checks_total",
      help: "Entitlement checks by result",
      labelNames: ["result"],
      registers,
    });
    this.#ingested = new Counter({
      name: "billing_usage_events_ingested_total",
      help: "Usage events accepted (duplicates excluded)",
      registers,
    });
    this.#ledgerEntries = new Counter({
      name: "billing_ledger_entries_committed_total",
      help: "Ledger entries committed",
      registers,
    });
    this.#batchSize = new Histogram({
      name: "billing_writer_batch_size",
      help: "Usage events per write batch",
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    });
    this.#deliveries = new Counter({
      name: "billing_webhook_deliveries_total",
      help: "Webhook delivery attempts by outcome (exhausted = a delivery gave up after its last attempt)",
      labelNames: ["outcome"],
      registers,
    });
    this.#events = new Counter({
      name: "billing_lifecycle_events_total",
      help: "Lifecycle events committed, by type",
      labelNames: ["type"],
      registers,
    });
    this.#deadLetters = new Counter({
      name: "billing_usage_dead_letters_total",
      help: "Queued usage messages recorded as dead letters, by reason",
      labelNames: ["reason"],
      registers,
    });
    this.#edgeRefused = new Counter({
      name: "billing_edge_usage_refused_total",
      help: "Events edge nodes accepted that the billing side refused (each a dead letter), by code",
      labelNames: ["code"],
      registers,
    });
    // Edge nodes only (ADR 0014): read from the outbox at each scrape; 0 elsewhere.
    const backlog = async () => (await this.#edgeBacklog?.().catch(() => null)) ?? null;
    new Gauge({
      name: "billing_edge_usage_pending_events",
      help: "Usage events this edge node acknowledged and has not pushed to the sync server yet",
      registers,
      async collect() {
        this.set((await backlog())?.pending_events ?? 0);
      },
    });
    new Gauge({
      name: "billing_edge_usage_oldest_pending_age_seconds",
      help: "Age in seconds of the oldest usage event waiting to be pushed (0 when none)",
      registers,
      async collect() {
        this.set((await backlog())?.oldest_pending_age_seconds ?? 0);
      },
    });
    new Counter({
      name: "billing_edge_usage_pruned_events_total",
      help: "Outbox rows this edge node deleted after the billing side made them final (since start)",
      registers,
      async collect() {
        const pruned = (await backlog())?.pruned_events ?? 0;
        this.reset();
        if (pruned > 0) this.inc(pruned);
      },
    });
  }

  /** Counts one event an edge node accepted and the billing side refused (ADR 0014). */
  recordEdgeRefusal(code: string): void {
    this.#edgeRefused.inc({ code });
  }

  /**
   * Makes the edge backlog gauges read `source` at each scrape (an edge node's outbox).
   *
   * @param source events waiting to be pushed, the age of the oldest in seconds, and the rows
   *   pruned since start (`billing_edge_usage_pruned_events_total`)
   */
  trackEdgeBacklog(
    source: () => Promise<
      { pending_events: number; oldest_pending_age_seconds: number; pruned_events?: number }
    >,
  ): void {
    this.#edgeBacklog = source;
  }

  /** Counts one queued usage message recorded as a dead letter. */
  recordDeadLetter(reason: "failed" | "malformed" | "rejected"): void {
    this.#deadLetters.inc({ reason });
  }

  /** Records one HTTP request. @param seconds latency in seconds */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.#requests.inc({ method, route, status: String(status) });
    this.#duration.observe({ method, route }, seconds);
  }

  /** Records one entitlement decision. */
  recordEntitlementCheck(allowed: boolean): void {
    this.#checks.inc({ result: allowed ? "allowed" : "denied" });
  }

  /** Records the size of one usage write batch (hook for the batching writer). @param size events, ≥ 0 */
  observeWriterBatch(size: number): void {
    this.#batchSize.observe(size);
  }

  /** Records one webhook delivery attempt's outcome. */
  recordWebhookDelivery(outcome: DeliveryOutcome): void {
    this.#deliveries.inc({ outcome });
  }

  /** Counts a committed lifecycle event (usage ingested and ledger entries follow from it). */
  recordLifecycleEvent(event: LifecycleEvent): void {
    this.#events.inc({ type: event.type });
    if (event.type === "usage.ingested") {
      const accepted = Number(event.data.accepted ?? 0);
      if (Number.isSafeInteger(accepted) && accepted > 0) this.#ingested.inc(accepted);
    } else if (event.type === "ledger.entry_posted") {
      this.#ledgerEntries.inc();
    }
  }

  /** A lifecycle subscriber feeding {@link Metrics.recordLifecycleEvent}. */
  subscriber(): LifecycleSubscriber {
    return { name: "metrics", handle: (event) => this.recordLifecycleEvent(event) };
  }

  /** The registry in the Prometheus text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** `Content-Type` of {@link Metrics.render}'s output. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
