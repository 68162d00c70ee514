/**
 * A private PostgreSQL cluster for one test: `initdb` into a temporary directory, started with
 * `pg_ctl` on a free port of 127.0.0.1 with trust authentication, so a test can restart or stop it
 * without touching the machine's shared server on 5432 (other suites and processes use that one).
 *
 * PostgreSQL refuses to run as root: when the test runs as root, every server command runs as
 * the `postgres` system user through `runuser` (the Debian package creates that user), and the
 * data directory is handed to it. Anyone else runs the server as themselves.
 *
 * @module
 */

/** A running private cluster. */
export interface PrivateCluster {
  /** Port it listens on (127.0.0.1). */
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (the maintenance database). */
  adminUrl: string;
  /** `postgres://…/<name>` of a database created with the C collation. */
  createDatabase(name: string): Promise<string>;
  /**
   * `pg_ctl restart` with shutdown `mode`: `fast` (sessions are terminated, clean checkpoint),
   * `immediate` (no checkpoint: crash recovery from the WAL on the way up, like a power cut of
   * the server process). Resolves when the server accepts connections again.
   */
  restart(mode: "fast" | "immediate"): Promise<void>;
  /** Stops the server (immediate) and removes its directory. */
  destroy(): Promise<void>;
}

/** Where the PostgreSQL server programs are (`initdb`, `pg_ctl`), newest installed version. */
export async function postgresBinDir(): Promise<string | null> {
  try {
    const versions: number[] = [];
    for await (const entry of Deno.readDir("/usr/lib/postgresql")) {
      if (/^\d+$/.test(entry.name)) versions.push(Number(entry.name));
    }
    versions.sort((a, b) => b - a);
    for (const v of versions) {
      const dir = `/usr/lib/postgresql/${v}/bin`;
      try {
        if ((await Deno.stat(`${dir}/initdb`)).isFile) return dir;
      } catch { /* next version */ }
    }
  } catch { /* not a Debian layout */ }
  const which = await new Deno.Command("sh", { args: ["-c", "command -v initdb"], stdout: "piped" })
    .output().catch(() => null);
  const path = which?.success ? new TextDecoder().decode(which.stdout).trim() : "";
  return path ? path.slice(0, path.lastIndexOf("/")) : null;
}

/**
 * Why a private cluster cannot be started here, or `null` when it can: the programs are missing,
 * or the process runs as root and there is no `postgres` user to run the server as.
 */
export async function privateClusterUnavailable(): Promise<string | null> {
  if (!(await postgresBinDir())) return "initdb/pg_ctl are not installed (Debian package postgresql)";
  if (Deno.uid() === 0) {
    const user = await new Deno.Command("id", { args: ["-u", "postgres"], stdout: "null", stderr: "null" })
      .output();
    if (!user.success) return "running as root and there is no postgres user to run the server as";
  }
  return null;
}

async function run(cmd: string[], asPostgres: boolean): Promise<string> {
  const argv = asPostgres ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd;
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd.join(" ")} failed:\n${text}`);
  return text;
}

function freePort(): number {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    try {
      const listener = Deno.listen({ hostname: "127.0.0.1", port });
      listener.close();
      return port;
    } catch { /* taken: try another */ }
  }
}

async function accepting(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * `initdb`s and starts a private cluster (trust authentication, C collation, fsync on: restarts
 * must keep every committed transaction, as on a real server).
 *
 * @throws {Error} with the command's output when initdb or pg_ctl fails; call
 *   {@link privateClusterUnavailable} first to skip with a reason instead
 */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const bin = await postgresBinDir();
  if (!bin) throw new Error("initdb is not installed");
  const asPostgres = Deno.uid() === 0;
  const dir = await Deno.makeTempDir({ prefix: "billing-pg-" });
  if (asPostgres) await run(["chown", "postgres:", dir], false);
  const data = `${dir}/data`;
  await run(
    [`${bin}/initdb`, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"],
    asPostgres,
  );
  const port = freePort();
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c max_connections=60`;
  const pgCtl = (...args: string[]) => run([`${bin}/pg_ctl`, "-D", data, ...args], asPostgres);
  await pgCtl("-o", options, "-l", `${dir}/server.log`, "-w", "-t", "60", "start");
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    port,
    adminUrl,
    async createDatabase(name: string) {
      await run([
        `${bin}/psql`,
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        `create database "${name}" template template0 encoding 'UTF8' lc_collate 'C' lc_ctype 'C'`,
      ], false);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async restart(mode) {
      await pgCtl("-o", options, "-l", `${dir}/server.log`, "-m", mode, "-w", "-t", "60", "restart");
      for (let i = 0; i < 300 && !(await accepting(port)); i++) await new Promise((r) => setTimeout(r, 100));
    },
    async destroy() {
      await pgCtl("-m", "immediate", "-w", "stop").catch(() => "");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
