/**
 * Test harness for the Cloudflare Worker: builds the deployable bundle with the pinned wrangler
 * (`wrangler deploy --dry-run --outdir`, the same command a deploy runs minus the upload) and
 * serves exactly that bundle in a real workerd through Miniflare, with the bindings wrangler
 * derives from `wrangler.toml` (Durable Objects, SQLite-backed; usage queue producer and
 * consumer). Durable Object storage persists in a directory, so a restart of workerd is a real
 * eviction of every object: memory gone, SQLite kept.
 *
 * @module
 */
import { Miniflare, type WorkerOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { TEST_ENCRYPTION_KEY } from "./process.ts";

const ROOT = new URL("..", import.meta.url).pathname;
/** The wrangler the project pins (deno.json); its workerd bounds `compatibility_date`. */
export const WRANGLER = "npm:wrangler@4.86.0";

/** Result of {@link buildWorker}. */
export interface WorkerBuild {
  outdir: string;
  /** wrangler's summary: total upload and gzip size in KiB. */
  uploadKiB: number;
  gzipKiB: number;
  /** Bytes of the bundled script itself (`worker.js`). */
  scriptBytes: number;
  output: string;
}

/**
 * Runs `wrangler deploy --dry-run --outdir <outdir>` on the repository's `wrangler.toml`.
 *
 * @throws when wrangler exits non-zero (its output is in the message)
 */
export async function buildWorker(outdir: string): Promise<WorkerBuild> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WRANGLER, "deploy", "--dry-run", "--outdir", outdir],
    cwd: ROOT,
    env: { CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
  if (!result.success) throw new Error(`wrangler deploy --dry-run failed (${result.code}):\n${output}`);
  const size = output.match(/Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/);
  if (!size) throw new Error(`wrangler printed no bundle size:\n${output}`);
  const scriptBytes = (await Deno.stat(`${outdir}/worker.js`)).size;
  return { outdir, uploadKiB: Number(size[1]), gzipKiB: Number(size[2]), scriptBytes, output };
}

/** The Worker's non-HTTP handlers, dispatched by workerd as Queues and Cron Triggers would. */
export interface WorkerHandlers {
  /** Delivers a batch to the `queue()` handler; reports which messages it acked or retried. */
  queue(
    queueName: string,
    messages: { id: string; timestamp: Date; attempts: number; body: unknown }[],
  ): Promise<
    { outcome: string; ackAll: boolean; explicitAcks: string[]; retryMessages: { msgId: string }[] }
  >;
  /** Fires the `scheduled()` handler. */
  scheduled(options: { scheduledTime: Date; cron: string }): Promise<{ outcome: string; noRetry: boolean }>;
}

/** A Worker served by workerd. */
export interface RunningWorker {
  /** Base URL of the Worker (changes on restart). */
  url(): string;
  /** The Worker's queue and cron handlers in the running workerd. */
  handlers(): Promise<WorkerHandlers>;
  /**
   * Calls one Durable Object directly, as the Worker does (internal paths such as
   * `/__internal/stats` are refused from outside): `binding` is `TENANTS` or `DIRECTORY`.
   */
  objectFetch(binding: string, name: string, path: string, init?: RequestInit): Promise<Response>;
  /** Stops workerd and starts a new one on the same storage: every Durable Object is evicted. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

/** The Miniflare options of a built bundle under `wrangler.toml`'s bindings. */
async function workerOptions(outdir: string, vars: Record<string, string>): Promise<WorkerOptions> {
  const { workerOptions: fromConfig } = unstable_getMiniflareWorkerOptions(`${ROOT}/wrangler.toml`);
  const modules: { type: "ESModule" | "Text"; path: string }[] = [{
    type: "ESModule",
    path: `${outdir}/worker.js`,
  }];
  for await (const entry of Deno.readDir(outdir)) {
    if (entry.name.endsWith(".sql")) modules.push({ type: "Text", path: `${outdir}/${entry.name}` });
  }
  const { modulesRules: _rules, ...rest } = fromConfig as WorkerOptions & { modulesRules?: unknown };
  return {
    ...rest,
    name: "edge-billing-worker",
    modules,
    modulesRoot: outdir,
    bindings: { BILLING_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, ...(fromConfig.bindings ?? {}), ...vars },
  } as WorkerOptions;
}

/**
 * Starts workerd on a built bundle.
 *
 * @param persistDir where Durable Object and queue storage lives (kept across {@link RunningWorker.restart})
 * @param vars variables and secrets (`BILLING_ADMIN_TOKEN`, `LOG_LEVEL`)
 */
export async function startWorker(
  build: WorkerBuild,
  persistDir: string,
  vars: Record<string, string>,
): Promise<RunningWorker> {
  const options = {
    ...(await workerOptions(build.outdir, vars)),
    host: "127.0.0.1",
    port: 0,
    durableObjectsPersist: `${persistDir}/do`,
    queuesPersist: `${persistDir}/queues`,
  };
  let mf = new Miniflare(options);
  let url = (await mf.ready).href.replace(/\/$/, "");
  return {
    url: () => url,
    handlers: async () => (await mf.getWorker()) as unknown as WorkerHandlers,
    async objectFetch(binding, name, path, init) {
      // Miniflare's workers-types clash with Deno's: use the stub through its documented shape.
      const namespace = await mf.getDurableObjectNamespace(binding) as unknown as {
        idFromName(name: string): unknown;
        get(id: unknown): { fetch(url: string, init?: unknown): Promise<Response> };
      };
      const response = await namespace.get(namespace.idFromName(name)).fetch(`https://object${path}`, init);
      return new Response(await response.arrayBuffer(), {
        status: response.status,
        headers: [...response.headers],
      });
    },
    async restart() {
      await mf.dispose();
      mf = new Miniflare(options);
      url = (await mf.ready).href.replace(/\/$/, "");
    },
    async dispose() {
      await mf.dispose();
    },
  };
}
