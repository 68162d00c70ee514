/**
 * The one structured logger of every runtime (Deno server, Deno Deploy, the Worker and its
 * Durable Objects): JSON lines on stdout, filtered by `LOG_LEVEL`.
 *
 * @module
 */

/** A structured log sink: one record becomes one JSON line. */
export type LogSink = (record: Record<string, unknown>) => void;

/**
 * Logger writing JSON lines to stdout, filtered by level.
 *
 * @param level `info` (everything), `error` (only records with `level: "error"`) or `silent`
 *   (nothing); an unknown or absent level logs everything, like `info`
 * @returns the sink; each record gets a `time` field (ISO 8601)
 * @example
 * const log = jsonLogger("error");
 * log({ level: "error", msg: "maintenance failed" });
 */
export function jsonLogger(level: string | undefined): LogSink {
  if (level === "silent") return () => {};
  return (record) => {
    if (level === "error" && record.level !== "error") return;
    console.log(JSON.stringify({ time: new Date().toISOString(), ...record }));
  };
}
