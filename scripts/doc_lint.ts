/**
 * `deno doc --lint` without the diagnostics Deno raises for npm packages' own types.
 *
 * Deno reports `private-type-ref` whenever a public symbol mentions a type that none of the linted
 * entry points exports, and it treats every type declared in an npm package that way: annotating a
 * schema as `z.ZodObject<…>` or a router as `OpenAPIHono<AppEnv>` yields one error per zod or hono
 * type named. Upstream agrees these are false positives (denoland/deno#27364); its fix skips only
 * types of non-`file:` modules, and npm packages are read from `node_modules` through `file:` URLs
 * here, so they are still reported. This script runs the linter on the given paths (default `src/`)
 * and drops a `private-type-ref` diagnostic only when the referenced type is declared nowhere under
 * `src/` or the linted paths, i.e. it comes from a package. Every other diagnostic is printed unchanged, and
 * the exit code is 1 when any is left.
 *
 * Usage: `deno run --allow-run --allow-read scripts/doc_lint.ts [paths…]`
 *
 * @module
 */

/** Names of every interface, type alias, class, enum, function and variable declared in `source` (imports excluded). */
export function declaredNames(source: string): Set<string> {
  const names = new Set<string>();
  // `import { type X }` and `export type { X } from` name types declared elsewhere
  source = source.replace(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["'][^"']+["'];?/gm, "");
  const declaration = /\b(?:interface|type|class|enum|function|const|let|var)\s+([A-Za-z_$][\w$]*)/g;
  for (const match of source.matchAll(declaration)) names.add(match[1]);
  return names;
}

/** One diagnostic block of the linter's plain-text output (starts at `error[rule]: …`). */
export interface Diagnostic {
  /** The rule, e.g. `missing-jsdoc` or `private-type-ref`. */
  rule: string;
  /** For `private-type-ref`: the name of the referenced type; otherwise `null`. */
  referenced: string | null;
  /** The block as printed, for the report. */
  text: string;
}

/** Splits the linter's output (run with `NO_COLOR`) into diagnostics; the summary line is dropped. */
export function parseDiagnostics(output: string): Diagnostic[] {
  const blocks = output.split(/\n(?=error\[)/).filter((block) => block.startsWith("error["));
  return blocks.map((block) => {
    const text = block.replace(/\n+error: Found [\s\S]*$/, "").trimEnd();
    const rule = text.match(/^error\[([a-z-]+)\]/)![1];
    const referenced = rule === "private-type-ref"
      ? text.match(/references private type '([^']+)'/)?.[1] ?? null
      : null;
    return { rule, referenced, text };
  });
}

async function* sourceFiles(path: string): AsyncGenerator<string> {
  const info = await Deno.stat(path);
  if (info.isFile) {
    if (/\.(ts|tsx|mts)$/.test(path)) yield path;
    return;
  }
  for await (const entry of Deno.readDir(path)) yield* sourceFiles(`${path}/${entry.name}`);
}

if (import.meta.main) {
  const paths = Deno.args.length > 0 ? Deno.args : ["src/"];
  const local = new Set<string>();
  // the project's own types count as local even when linting a single file
  for (const path of new Set([...paths, "src/"])) {
    for await (const file of sourceFiles(path.replace(/\/$/, ""))) {
      for (const name of declaredNames(await Deno.readTextFile(file))) local.add(name);
    }
  }
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", ...paths],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
  const diagnostics = parseDiagnostics(output);
  const kept = diagnostics.filter((d) => !(d.referenced !== null && !local.has(d.referenced)));
  for (const d of kept) console.log(`${d.text}\n`);
  const dropped = diagnostics.length - kept.length;
  console.log(`${kept.length} documentation lint errors (${dropped} npm-package type references ignored)`);
  if (kept.length > 0 || (!run.success && diagnostics.length === 0)) Deno.exit(1);
}
