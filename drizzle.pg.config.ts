import { defineConfig } from "drizzle-kit";

/**
 * drizzle-kit configuration of the PostgreSQL store: `deno task db:generate:pg` diffs
 * `src/storage/schema_pg.ts` into `migrations/pg/`.
 */
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/storage/schema_pg.ts",
  out: "./migrations/pg",
});
