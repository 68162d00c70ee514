/**
 * First step of `deno task test`: makes sure the system programs the suite drives are present,
 * so that the README's one test command works on a fresh Debian machine.
 *
 * - `/usr/bin/chromium`: the browser SDK tests (Debian package `chromium`);
 * - `redis-server`: the live-entitlement suites start their own when 127.0.0.1:6379 is silent
 *   (Debian package `redis-server`).
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
