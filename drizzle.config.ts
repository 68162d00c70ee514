import { defineConfig } from "drizzle-kit";

/** drizzle-kit configuration: `deno task db:generate` diffs `src/storage/schema.ts` into `migrations/`. */
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/storage/schema.ts",
  out: "./migrations",
});
