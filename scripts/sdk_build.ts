/**
 * Builds the npm shape of the SDK into `sdk/dist/` with esbuild (JS) and TypeScript (`.d.ts`):
 *
 * - `dist/server.js`  (package entry `.`): platform-neutral ESM with its two small dependencies
 *   (`openapi-fetch`, `standardwebhooks`, both MIT) bundled in, so the package has no runtime
 *   dependency and `npm install <path>` works even as a symlink (nothing to resolve next to it)
 * - `dist/browser.js` (entry `./browser`): browser ESM; the build fails if anything in it needs a Node
 *   built-in, and the output is checked for `node:` imports and `require(`
 * - `dist/*.d.ts`: declarations of both entries; the `openapi-fetch` types they use are shipped in
 *   `dist/vendor/` (with their licenses), so types need no dependency either
 *
 * Also exports {@link bundleBrowserStandalone}, a single self-contained browser module (used by the
 * browser test page, and usable from a plain `<script type="module">`).
 *
 * Usage: `deno task sdk:build`
 *
 * @module
 */
import * as esbuild from "esbuild";

const SDK_DIR = new URL("../sdk/", import.meta.url);
const entry = (name: string) => new URL(`src/${name}.ts`, SDK_DIR).pathname;

/** Fails when browser JS mentions Node built-ins (`node:` specifiers or CommonJS `require`). */
export function assertNoNodeBuiltins(code: string, what: string): void {
  const hit = code.match(/["'`]node:[a-z_/]+["'`]|\brequire\s*\(/);
  if (hit) throw new Error(`${what} uses a Node built-in: ${hit[0]}`);
}

/**
 * One ESM file with the browser client and everything it imports, for `<script type="module">`.
 *
 * @returns the JavaScript text
 */
export async function bundleBrowserStandalone(): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [entry("browser")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles[0].text;
  assertNoNodeBuiltins(code, "the browser bundle");
  return code;
}

/** Builds `sdk/dist/` (or `outDir`). */
export async function buildSdk(
  outDir: URL = new URL("dist/", SDK_DIR),
): Promise<void> {
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  const common: esbuild.BuildOptions = {
    bundle: true,
    format: "esm",
    target: "es2022",
    legalComments: "inline",
    logLevel: "warning",
  };
  await esbuild.build({
    ...common,
    entryPoints: [entry("server")],
    platform: "neutral",
    mainFields: ["module", "main"], // standardwebhooks is CommonJS
    outfile: new URL("server.js", outDir).pathname,
  });
  await esbuild.build({
    ...common,
    entryPoints: [entry("browser")],
    platform: "browser",
    outfile: new URL("browser.js", outDir).pathname,
  });
  assertNoNodeBuiltins(
    await Deno.readTextFile(new URL("browser.js", outDir)),
    "dist/browser.js",
  );

  const tsc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "npm:typescript@5.9.3/tsc",
      "-p",
      new URL("tsconfig.json", SDK_DIR).pathname,
      "--outDir",
      outDir.pathname,
    ],
    stdout: "inherit",
    stderr: "inherit",
  });
  const { code } = await tsc.output();
  if (code !== 0) throw new Error(`tsc failed with exit code ${code}`);
  // Declarations keep the source's `.ts` specifiers; published packages import `.js`. The types of
  // openapi-fetch come from dist/vendor/.
  for await (const file of Deno.readDir(outDir)) {
    if (!file.name.endsWith(".d.ts")) continue;
    const path = new URL(file.name, outDir);
    const text = await Deno.readTextFile(path);
    await Deno.writeTextFile(
      path,
      text.replace(/(from\s+["']\.\/[^"']+)\.ts(["'])/g, "$1.js$2")
        .replace(
          /from\s+["']openapi-fetch["']/g,
          'from "./vendor/openapi-fetch.js"',
        ),
    );
  }
  await vendorTypes(new URL("vendor/", outDir));
}

/** Copies the declarations (and licenses) of openapi-fetch and openapi-typescript-helpers into `dir`. */
async function vendorTypes(dir: URL): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const fetchDir = await Deno.realPath(
    new URL("../node_modules/openapi-fetch", import.meta.url),
  );
  const helpersDir = `${fetchDir}/../openapi-typescript-helpers`;
  const fetchTypes = await Deno.readTextFile(`${fetchDir}/dist/index.d.ts`);
  await Deno.writeTextFile(
    new URL("openapi-fetch.d.ts", dir),
    fetchTypes.replace(
      /from\s+['"]openapi-typescript-helpers['"]/g,
      "from './openapi-typescript-helpers.js'",
    ),
  );
  await Deno.copyFile(
    `${helpersDir}/dist/index.d.ts`,
    new URL("openapi-typescript-helpers.d.ts", dir),
  );
  await Deno.copyFile(
    `${fetchDir}/LICENSE`,
    new URL("openapi-fetch.LICENSE", dir),
  );
  await Deno.copyFile(
    `${helpersDir}/LICENSE`,
    new URL("openapi-typescript-helpers.LICENSE", dir),
  );
}

/** Size of the browser client as a page ships it: one minified module, and gzipped. */
export async function browserBundleSize(): Promise<
  { minified_bytes: number; gzip_bytes: number }
> {
  const result = await esbuild.build({
    entryPoints: [entry("browser")],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles[0].contents;
  const gzip = await new Response(
    new Blob([new Uint8Array(code)]).stream().pipeThrough(
      new CompressionStream("gzip"),
    ),
  ).arrayBuffer();
  return { minified_bytes: code.length, gzip_bytes: gzip.byteLength };
}

if (import.meta.main) {
  try {
    await buildSdk();
    console.log("built sdk/dist (server.js, browser.js, *.d.ts)");
    console.log(
      "browser client, minified single module:",
      await browserBundleSize(),
    );
  } finally {
    await esbuild.stop();
  }
}
