/**
 * Plugins: in-process subscribers to lifecycle events with a time bound, kept in a registry.
 *
 * A plugin sees each committed event it subscribed to (after the commit, so it can never undo or
 * block a change). Each call gets {@link Plugin.timeoutMs} (default
 * {@link DEFAULT_PLUGIN_TIMEOUT_MS}) and an `AbortSignal` that fires at the deadline; a plugin that
 * throws or overruns is logged (`level: "error"`, plugin name, event type, message id) and the
 * operation that emitted the event still succeeds. Durable, at-least-once consumers (webhooks) read
 * the outbox instead; plugins are for best-effort in-process reactions (cache invalidation,
 * metrics, notifications).
 *
 * @module
 */
import type { LifecycleEvent, LifecycleEventType } from "../domain/events.ts";
import type { LifecycleDispatcher } from "./dispatcher.ts";

/** Default time bound of one plugin call, in milliseconds. */
export const DEFAULT_PLUGIN_TIMEOUT_MS = 2_000;
/** Upper limit of a plugin's time bound, in milliseconds (a limit on everything). */
export const MAX_PLUGIN_TIMEOUT_MS = 30_000;

/** An in-process lifecycle plugin. */
export interface Plugin {
  /** Unique name, used in logs and to unregister. */
  name: string;
  /** Event types to receive; omitted or `"*"` = all. */
  events?: readonly LifecycleEventType[] | "*";
  /** Time bound of one call in ms, 1…{@link MAX_PLUGIN_TIMEOUT_MS} (default {@link DEFAULT_PLUGIN_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Handles one event; `signal` aborts at the deadline. */
  handle(event: LifecycleEvent, signal: AbortSignal): void | Promise<void>;
}

/** Result of one plugin call. */
export type PluginOutcome = "ok" | "failed" | "timed_out" | "skipped";

class PluginTimeout extends Error {}

/**
 * Registry of plugins attached to a {@link LifecycleDispatcher}.
 *
 * @example
 * const plugins = new PluginRegistry(services.lifecycle, services.log);
 * plugins.register({ name: "slack", events: ["invoice.paid"], handle: async (e) => notify(e) });
 */
export class PluginRegistry {
  readonly #plugins = new Map<string, { plugin: Plugin; detach: () => void }>();
  readonly #dispatcher: LifecycleDispatcher;
  readonly #log: (record: Record<string, unknown>) => void;

  /**
   * Creates an empty registry; plugins attach with {@link PluginRegistry.register}.
   *
   * @param dispatcher the dispatcher plugins subscribe to (events arrive after their commit)
   * @param log structured logger for plugin failures and time-outs (default: discard)
   */
  constructor(dispatcher: LifecycleDispatcher, log: (record: Record<string, unknown>) => void = () => {}) {
    this.#dispatcher = dispatcher;
    this.#log = log;
  }

  /**
   * Adds a plugin.
   *
   * @throws {Error} when a plugin of that name is registered, or the time bound is out of range
   */
  register(plugin: Plugin): void {
    if (this.#plugins.has(plugin.name)) throw new Error(`Plugin "${plugin.name}" is already registered`);
    const timeoutMs = plugin.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_PLUGIN_TIMEOUT_MS) {
      throw new Error(
        `Plugin "${plugin.name}" time bound ${timeoutMs} ms is outside 1…${MAX_PLUGIN_TIMEOUT_MS}`,
      );
    }
    const detach = this.#dispatcher.subscribe({
      name: `plugin:${plugin.name}`,
      handle: async (event) => {
        await this.run(plugin, event);
      },
    });
    this.#plugins.set(plugin.name, { plugin, detach });
  }

  /** Removes a plugin; returns whether it was registered. */
  unregister(name: string): boolean {
    const entry = this.#plugins.get(name);
    if (!entry) return false;
    entry.detach();
    this.#plugins.delete(name);
    return true;
  }

  /** Names of the registered plugins, in registration order. */
  names(): string[] {
    return [...this.#plugins.keys()];
  }

  /**
   * Runs one plugin on one event under its time bound; never throws.
   *
   * @returns what happened (`skipped` when the plugin does not subscribe to the event's type)
   */
  async run(plugin: Plugin, event: LifecycleEvent): Promise<PluginOutcome> {
    if (plugin.events && plugin.events !== "*" && !plugin.events.includes(event.type)) return "skipped";
    const timeoutMs = plugin.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort(new PluginTimeout(`Plugin "${plugin.name}" exceeded ${timeoutMs} ms`));
        reject(controller.signal.reason);
      }, timeoutMs);
    });
    try {
      await Promise.race([Promise.resolve().then(() => plugin.handle(event, controller.signal)), deadline]);
      return "ok";
    } catch (error) {
      const timedOut = error instanceof PluginTimeout;
      this.#log({
        level: "error",
        msg: timedOut ? "plugin timed out" : "plugin failed",
        plugin: plugin.name,
        event: event.type,
        message_id: event.id ?? null,
        timeout_ms: timeoutMs,
        error: String(error),
      });
      return timedOut ? "timed_out" : "failed";
    } finally {
      clearTimeout(timer);
    }
  }
}
