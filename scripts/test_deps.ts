/**
 * First step of `deno task test`: makes sure the system programs the suite drives are present,
 * so that the README's one test command works on a fresh Debian machine.
 *
 * - `/usr/bin/chromium`: the browser SDK tests (Debian package `chromium`);
 * - `redis-server`: the live-entitlement suites start their own when 127.0.0.1:6379 is silent
 *   (Debian package `redis-server`);
 * - a PostgreSQL server on 127.0.0.1:5432 that lets `postgres` in without a password (the
 *   PostgreSQL store's suites create a fresh database per run): when the port is silent, the
 *   Debian package `postgresql` is installed and its cluster started; when it still refuses us,
 *   the script stops and says why (`PG_TEST_URL` points the suites at another server).
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
