/**
 * The SQL migrations, bundled into the Worker. drizzle-kit's journal is imported as JSON; each
 * migration file is a Text module that wrangler uploads next to the bundle (`wrangler.toml`:
 * `find_additional_modules`, `base_dir = "migrations"` and a `*.sql` Text rule), loaded by a computed specifier so a
 * new migration needs no code change here. Only the Worker runs this module (Deno reads the
 * folder through drizzle's libSQL migrator).
 *
 * @module
 */
import journal from "../../../migrations/meta/_journal.json" with { type: "json" };
import type { MigrationBundle } from "./durable_database.ts";

/**
 * Loads every migration listed in the journal.
 *
 * @throws when a journal entry has no uploaded SQL module (a broken build)
 */
export async function loadMigrations(): Promise<MigrationBundle> {
  const migrations: Record<string, string> = {};
  for (const entry of journal.entries) {
    // Uploaded beside the bundle (base_dir = migrations); computed so esbuild leaves it to the runtime.
    const specifier = ["./", entry.tag, ".sql"].join("");
    const module = (await import(specifier)) as { default: string };
    migrations[`m${String(entry.idx).padStart(4, "0")}`] = module.default;
  }
  return { journal, migrations };
}
