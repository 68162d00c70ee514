/**
 * The container image (`Dockerfile`) runs exactly the command `deno task start` runs and the
 * process tests spawn, and passes a Dockerfile linter. No Docker engine is needed.
 */
import assert from "node:assert/strict";
import { DENO_MAIN, START_LOCK, START_PERMISSIONS } from "../process.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const dockerfile = await Deno.readTextFile(`${ROOT}/Dockerfile`);
const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)) as {
  tasks: Record<string, string>;
  scopes: Record<string, Record<string, string>>;
};

/** The JSON (exec) form of an instruction, e.g. `CMD ["run", …]`. */
function execForm(instruction: string): string[] {
  const line = dockerfile.split("\n").find((l) => l.startsWith(`${instruction} [`));
  assert.ok(line, `the Dockerfile has a ${instruction} in exec form`);
  return JSON.parse(line.slice(instruction.length + 1));
}

Deno.test("Dockerfile: the image's command equals `deno task start` and the tests' server command", () => {
  const main = DENO_MAIN.slice(ROOT.length).replace(/^\//, "");
  const command = ["deno", ...execForm("CMD")];
  assert.deepEqual(command, ["deno", "run", START_LOCK, ...START_PERMISSIONS, main]);
  // `task start` first runs the edge replica installer, which does nothing unless BILLING_ROLE asks
  // for a replica (ADR 0014; the image serves the roles without one), then exactly this command.
  const [installer, server, ...rest] = config.tasks.start.split(" && ");
  assert.equal(
    installer,
    "deno run --lock=deno.lock --allow-env --allow-read --allow-write=tools/edge_replica --allow-run=npm scripts/edge_deps.ts",
  );
  assert.equal(server, command.join(" "));
  assert.deepEqual(rest, []);
});

Deno.test("Dockerfile: official Deno base image of the pinned version, non-root, data volume, port and health check", () => {
  assert.match(dockerfile, /^FROM denoland\/deno:2\.9\.6$/m);
  assert.match(dockerfile, /^USER deno$/m);
  assert.match(dockerfile, /^VOLUME \["\/data"\]$/m);
  assert.match(dockerfile, /DATABASE_URL=file:\/data\/billing\.db/);
  assert.match(dockerfile, /^EXPOSE 8787$/m);
  assert.match(dockerfile, /^HEALTHCHECK .*\n\s+CMD \[.*\/readyz/m);
  // dependencies are installed at build time from the server's own lockfile, frozen
  assert.match(
    dockerfile,
    /deno install --frozen --lock=deno\.lock --entrypoint src\/runtime\/deno\/main\.ts/,
  );
});

Deno.test("Dockerfile: dockerfile-utils lint reports nothing", async () => {
  const linter = config.scopes["./tests/"]["dockerfile-utils"];
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--lock=deno.tools.lock",
      "--allow-read",
      "--allow-env",
      linter,
      "lint",
      `${ROOT}/Dockerfile`,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "");
});

Deno.test("deno.lock pins only the server's packages, exactly as deno.tools.lock pins them", async () => {
  type Lock = { specifiers: Record<string, string>; npm: Record<string, unknown> };
  const runtime = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.lock`)) as Lock;
  const tools = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.tools.lock`)) as Lock;
  for (
    const tool of [
      "miniflare",
      "wrangler",
      "playwright-core",
      "esbuild",
      "fast-check",
      "@scalar/api-reference",
    ]
  ) {
    assert.ok(
      !Object.keys(runtime.specifiers).some((s) => s.startsWith(`npm:${tool}@`)),
      `${tool} is not in deno.lock`,
    );
  }
  assert.ok(Object.keys(runtime.npm).length < 100, "a few dozen packages, not hundreds");
  for (const [specifier, version] of Object.entries(runtime.specifiers)) {
    assert.equal(tools.specifiers[specifier], version, specifier);
  }
  for (const [key, entry] of Object.entries(runtime.npm)) assert.deepEqual(tools.npm[key], entry, key);
  // the server resolves nothing outside deno.lock
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["cache", "--frozen", "--lock=deno.lock", "src/runtime/deno/main.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
});
