/**
 * Installs Turso's sync client and `tursodb` (the local sync server) into
 * `tools/edge_replica/node_modules` with `npm install`, at the versions and integrity hashes the
 * committed `tools/edge_replica/package-lock.json` pins, when they are needed and missing (ADR 0014).
 *
 * Why `npm install` and not `npm ci`: the packages list optional per-platform binaries that the
 * registry does not have (e.g. `@tursodatabase/sync-darwin-arm64`), so npm's own lock file has no
 * entry for them, and `npm ci` refuses such a lock as "out of sync" on a clean checkout (it passed
 * only where `node_modules` was already installed). `npm install` with the lock present installs the
 * locked versions, skips the missing optional binaries and leaves the lock unchanged.
 *
 * Why npm and not Deno's resolver: `@tursodatabase/sync` lists an optional `darwin-arm64` binary
 * package that the registry does not have, and Deno's own npm resolver refuses the whole package for
 * it (every published version does). npm skips missing optional packages. The installed files are
 * loaded as plain local modules: `deno.json` maps their few bare imports (`scopes`), so the server
 * keeps `nodeModulesDir: "none"`.
 *
 * When:
 * - `--always` (the test and bench tasks): always make sure they are installed;
 * - otherwise (first step of `deno task start`): only when `BILLING_ROLE` is `edge` or `billing`
 *   and `EDGE_SYNC_URL` is set. On the embedded default nothing is checked and nothing downloaded.
 *
 * Exits 1 with npm's output when the installation fails.
 *
 * @module
 */

const DIR = new URL("../tools/edge_replica/", import.meta.url).pathname;

/** Packages whose installed version must equal the lock's (the rest come with them). */
const CHECKED = [
  "@tursodatabase/sync",
  "@tursodatabase/sync-common",
  "@tursodatabase/database-common",
  "turso",
];

/** Whether every checked package is installed at the version `package-lock.json` pins. */
async function installed(): Promise<boolean> {
  const lock = JSON.parse(await Deno.readTextFile(`${DIR}package-lock.json`)) as {
    packages: Record<string, { version?: string }>;
  };
  for (const name of CHECKED) {
    const want = lock.packages[`node_modules/${name}`]?.version;
    try {
      const have = JSON.parse(await Deno.readTextFile(`${DIR}node_modules/${name}/package.json`)).version;
      if (!want || have !== want) return false;
    } catch {
      return false;
    }
  }
  return true;
}

const always = Deno.args.includes("--always");
const role = Deno.env.get("BILLING_ROLE") ?? "all";
const wanted = always || ((role === "edge" || role === "billing") && !!Deno.env.get("EDGE_SYNC_URL"));

if (wanted && !(await installed())) {
  console.error(
    "Installing the Turso sync client into tools/edge_replica/node_modules (npm install from the lock)",
  );
  const out = await new Deno.Command("npm", {
    args: ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", DIR],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success || !(await installed())) {
    console.error("npm install in tools/edge_replica failed; the edge replica cannot be loaded");
    Deno.exit(1);
  }
}
