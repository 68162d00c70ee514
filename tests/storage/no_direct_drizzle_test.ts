/**
 * Keeps the storage boundary: only `src/storage/` and the capability repositories
 * (`src/<capability>/repository.ts`, built on `storage/scoped.ts`) import drizzle or the schema.
 * Services and every other module call repositories, so no query of a tenant's data can skip the
 * one tenancy filter. The exceptions below are listed with their reason; the list may only shrink.
 *
 * @module
 */
import assert from "node:assert/strict";

const SRC = new URL("../../src/", import.meta.url).pathname;

/**
 * Modules still querying through drizzle directly, each with why. Remove an entry when its module
 * moves to a repository (the test fails when a listed module no longer needs the exception).
 */
const EXCEPTIONS: Record<string, string> = {
  "runtime/cloudflare/durable_database.ts": "the Durable Object driver itself (drizzle's durable-sqlite)",
  "ledger/batch.ts":
    "the single writer's book store: chunked bulk loads and upserts of one scope per batch (its filters use tenancy() of storage/scoped.ts)",
};

/** Every `.ts` file under `src/`, relative to it. */
function sourceFiles(dir = SRC, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isDirectory) out.push(...sourceFiles(`${dir}${entry.name}/`, `${prefix}${entry.name}/`));
    else if (entry.name.endsWith(".ts")) out.push(`${prefix}${entry.name}`);
  }
  return out.sort();
}

/** Whether a module may use drizzle: the storage layer and the capability repositories. */
function mayQuery(file: string): boolean {
  return file.startsWith("storage/") || /^[a-z_]+\/repository\.ts$/.test(file);
}

/** What a module imports of drizzle or the schema (static, dynamic and type imports). */
function storageImports(file: string): string[] {
  const text = Deno.readTextFileSync(`${SRC}${file}`);
  const pattern = /(?:from\s+|import\s*\(\s*|import\s+)["']([^"']+)["']/g;
  return [...text.matchAll(pattern)].map((m) => m[1])
    .filter((s) =>
      s === "drizzle-orm" || s.startsWith("drizzle-orm/") || /(^|\/)storage\/schema\.ts$/.test(s)
    );
}

Deno.test("storage boundary: no service imports drizzle-orm or storage/schema.ts; only repositories and storage/ do", () => {
  const offenders = sourceFiles()
    .filter((file) => !mayQuery(file) && !(file in EXCEPTIONS))
    .map((file) => ({ file, imports: storageImports(file) }))
    .filter((f) => f.imports.length > 0)
    .map((f) => `${f.file}: ${f.imports.join(", ")}`);
  assert.deepEqual(offenders, [], "query through the capability's repository.ts instead");
});

Deno.test("storage boundary: every service.ts is free of drizzle and every listed exception still needs its entry", () => {
  const services = sourceFiles().filter((file) => file.endsWith("/service.ts"));
  assert.ok(services.length >= 14, `service modules found: ${services.length}`);
  for (const file of services) {
    if (file in EXCEPTIONS) continue;
    assert.deepEqual(storageImports(file), [], `${file} imports drizzle or the schema`);
  }
  for (const file of Object.keys(EXCEPTIONS)) {
    assert.ok(storageImports(file).length > 0, `${file} no longer needs its exception; remove it`);
  }
});

Deno.test("storage boundary: repositories reach tenant rows through storage/scoped.ts", () => {
  const repositories = sourceFiles().filter((file) => /^[a-z_]+\/repository\.ts$/.test(file));
  assert.ok(repositories.length >= 12, `repositories found: ${repositories.length}`);
  for (const file of repositories) {
    const text = Deno.readTextFileSync(`${SRC}${file}`);
    // tenants/ holds the tenancy tables themselves (no scope to apply yet)
    if (file === "tenants/repository.ts") continue;
    assert.match(text, /from "\.\.\/storage\/scoped\.ts"/, `${file} does not use the scoped accessor`);
  }
});
