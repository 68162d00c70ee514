/**
 * First step of `deno task test`: makes sure the system programs the suite drives are present,
 * so that the README's one test command works on a fresh Debian machine.
 *
 * - `/usr/bin/chromium`: the browser SDK tests (Debian package `chromium`);
 * - `redis-server`: the live-entitlement suites start their own when 127.0.0.1:6379 is silent
 *   (Debian package `redis-server`);
 * - a PostgreSQL server on 127.0.0.1:5432 that lets `postgres` in without a password (the
 *   PostgreSQL store's suites create a fresh database per run): when the port is silent, the
 *   Debian package `postgresql` is installed and its clusters started; when none answers, a
 *   private cluster is `initdb`'d and started (trust, 127.0.0.1 only); when the server on 5432
 *   still refuses us, the script stops and says why (`PG_TEST_URL` points the suites at another
 *   server).
 *
 * Missing ones are installed with `apt-get` when we are root (CI, containers) or have password-less
 * sudo; otherwise the script stops with the exact command to run. Nothing is done when both exist.
 *
 * @module
 */

const NEEDED: { program: string; pkg: string; why: string }[] = [
  { program: "/usr/bin/chromium", pkg: "chromium", why: "browser SDK tests" },
  { program: "redis-server", pkg: "redis-server", why: "live entitlement tests on Redis" },
];

async function portOpen(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

const pgUrl = Deno.env.get("PG_TEST_URL");
if (!pgUrl && !(await portOpen(5432)) && !(await exists("pg_ctlcluster"))) {
  NEEDED.push({ program: "pg_ctlcluster", pkg: "postgresql", why: "PostgreSQL store tests" });
}

async function exists(program: string): Promise<boolean> {
  if (program.startsWith("/")) {
    try {
      return (await Deno.stat(program)).isFile;
    } catch {
      return false;
    }
  }
  const out = await new Deno.Command("sh", {
    args: ["-c", `command -v ${program}`],
    stdout: "null",
    stderr: "null",
  }).output();
  return out.success;
}

async function run(cmd: string[]): Promise<boolean> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return out.success;
}

const missing = [];
for (const need of NEEDED) if (!(await exists(need.program))) missing.push(need);
if (missing.length > 0) {
  const packages = missing.map((m) => m.pkg);
  console.error(
    `test setup: installing Debian packages ${packages.join(", ")} (${missing.map((m) => m.why).join("; ")})`,
  );
  const isRoot = Deno.uid?.() === 0;
  const sudo = isRoot
    ? []
    : (await exists("sudo")) && (await run(["sudo", "-n", "true"]))
    ? ["sudo", "-n"]
    : null;
  const hasApt = await exists("apt-get");
  if (sudo === null || !hasApt) {
    console.error(
      `test setup: cannot install them here; run: sudo apt-get update && sudo apt-get install -y ${
        packages.join(" ")
      }`,
    );
    Deno.exit(1);
  }
  const ok = (await run([...sudo, "apt-get", "update", "-qq"])) &&
    (await run([...sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", ...packages]));
  if (!ok) {
    console.error(`test setup: apt-get failed; run: sudo apt-get install -y ${packages.join(" ")}`);
    Deno.exit(1);
  }
}

if (!pgUrl && !(await portOpen(5432))) {
  console.error("test setup: starting the PostgreSQL cluster (PostgreSQL store tests)");
  const isRoot = Deno.uid?.() === 0;
  const prefix = isRoot ? [] : ["sudo", "-n"];
  const clusters = await new Deno.Command("sh", {
    args: ["-c", "pg_lsclusters -h 2>/dev/null | awk '{print $1\" \"$2}'"],
    stdout: "piped",
  }).output();
  for (const line of new TextDecoder().decode(clusters.stdout).trim().split("\n").filter(Boolean)) {
    const [version, name] = line.split(" ");
    await run([...prefix, "pg_ctlcluster", version, name, "start"]);
  }
  for (let i = 0; i < 50 && !(await portOpen(5432)); i++) await new Promise((r) => setTimeout(r, 200));
  if (!(await portOpen(5432))) await startPrivateCluster();
}

/**
 * No cluster of the Debian package answers on 5432 (none was created, e.g. in a container where the
 * package's post-install step could not, or it does not start): `initdb` a cluster of our own for
 * the tests (trust authentication on 127.0.0.1 only, C collation) in
 * `/var/tmp/billing-test-pg-<uid>/data`, kept across runs, and start it on 5432 with `pg_ctl`.
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user the
 * package created. Stops the script with the reason when that fails.
 */
async function startPrivateCluster(): Promise<void> {
  const found = await new Deno.Command("sh", {
    args: ["-c", "ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1"],
    stdout: "piped",
  }).output();
  const bin = new TextDecoder().decode(found.stdout).trim();
  const isRoot = Deno.uid?.() === 0;
  const base = `/var/tmp/billing-test-pg-${Deno.uid?.() ?? "user"}`;
  const as = isRoot ? ["runuser", "-u", "postgres", "--"] : [];
  console.error(`test setup: no PostgreSQL cluster answers on 5432; starting a private one in ${base}`);
  const ok = bin !== "" &&
    (await run([
      "install",
      "-d",
      "-m",
      "700",
      ...(isRoot ? ["-o", "postgres", "-g", "postgres"] : []),
      base,
    ])) &&
    ((await exists(`${base}/data/PG_VERSION`)) ||
      (await run([
        ...as,
        `${bin}/initdb`,
        "-D",
        `${base}/data`,
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        "--locale=C",
      ]))) &&
    (await run([
      ...as,
      `${bin}/pg_ctl`,
      "-D",
      `${base}/data`,
      "-o",
      `-c listen_addresses=127.0.0.1 -p 5432 -k ${base}`,
      "-l",
      `${base}/server.log`,
      "-w",
      "start",
    ]));
  if (!ok) {
    console.error(
      `test setup: could not start a private PostgreSQL cluster (${
        bin ? `see ${base}/server.log` : "initdb is missing"
      }); install and start PostgreSQL on 127.0.0.1:5432 with trust for user postgres, or set PG_TEST_URL`,
    );
    Deno.exit(1);
  }
}
if (!pgUrl) {
  const probe = await new Deno.Command("sh", {
    args: ["-c", "psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -w -Atc 'select 1'"],
    stdout: "null",
    stderr: "piped",
  }).output().catch(() => null);
  if (!probe?.success) {
    console.error(
      "test setup: PostgreSQL on 127.0.0.1:5432 does not let user postgres in without a password, so the " +
        "PostgreSQL store tests cannot run. Allow it for local tests (pg_hba.conf: " +
        "`host all postgres 127.0.0.1/32 trust`, then reload) or set PG_TEST_URL=postgres://user:pass@host/db. " +
        (probe ? new TextDecoder().decode(probe.stderr).trim() : "psql is missing"),
    );
    Deno.exit(1);
  }
}
