/**
 * In-process delivery of lifecycle events after their write commits (webhook fan-out, metrics,
 * plugins subscribe here).
 *
 * @module
 */
import type { LifecycleEvent, LifecycleSubscriber } from "../domain/events.ts";

/**
 * Delivers lifecycle events to in-process subscribers. A failing subscriber is logged and never
 * breaks the operation that emitted the event.
 */
export class LifecycleDispatcher {
  readonly #subscribers: LifecycleSubscriber[] = [];
  readonly #log: (record: Record<string, unknown>) => void;

  /**
   * Creates a dispatcher without subscribers.
   *
   * @param log receives one structured record per failing subscriber (default: discard)
   */
  constructor(log: (record: Record<string, unknown>) => void = () => {}) {
    this.#log = log;
  }

  /** Adds a subscriber; returns a function that removes it. */
  subscribe(subscriber: LifecycleSubscriber): () => void {
    this.#subscribers.push(subscriber);
    return () => {
      const i = this.#subscribers.indexOf(subscriber);
      if (i >= 0) this.#subscribers.splice(i, 1);
    };
  }

  /** Hands each event to every subscriber, in order; errors are logged, not thrown. */
  async dispatch(events: readonly LifecycleEvent[]): Promise<void> {
    for (const event of events) {
      for (const subscriber of this.#subscribers) {
        try {
          await subscriber.handle(event);
        } catch (error) {
          this.#log({
            level: "error",
            msg: "lifecycle subscriber failed",
            subscriber: subscriber.name,
            event: event.type,
            error: String(error),
          });
        }
      }
    }
  }
}
