/**
 * One storage suite (`store_cases.ts`), every store: libSQL (`Database`, embedded file) in Deno,
 * and a Durable Object's SQLite (`DurableDatabase`) in workerd, each case on a fresh database.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as esbuild from "esbuild";
import { Miniflare } from "miniflare";
import { openDatabase } from "../../src/storage/db.ts";
import { storeCases } from "./store_cases.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

Deno.test("store suite: libSQL Database", async (t) => {
  for (const c of storeCases) {
    await t.step(c.name, async () => {
      const dir = await Deno.makeTempDir({ prefix: "store-libsql-" });
      const database = await openDatabase({ url: `file:${dir}/s.db` });
      try {
        await c.run(database);
      } finally {
        database.close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    });
  }
});

/** drizzle-kit's journal and SQL files, as the Worker bundles them. */
async function migrationBundle() {
  const journal = JSON.parse(await Deno.readTextFile(`${ROOT}/migrations/meta/_journal.json`));
  const migrations: Record<string, string> = {};
  for (const entry of journal.entries) {
    migrations[`m${String(entry.idx).padStart(4, "0")}`] = await Deno.readTextFile(
      `${ROOT}/migrations/${entry.tag}.sql`,
    );
  }
  return { journal, migrations };
}

Deno.test({
  name: "store suite: Durable Object SQLite (DurableDatabase in workerd)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const built = await esbuild.build({
      entryPoints: [`${ROOT}/tests/storage/store_probe_worker.ts`],
      bundle: true,
      format: "esm",
      platform: "neutral",
      mainFields: ["module", "main"],
      conditions: ["workerd", "worker", "browser"],
      external: ["node:*"],
      write: false,
      logLevel: "silent",
    });
    const mf = new Miniflare({
      modules: true,
      script: built.outputFiles[0].text,
      compatibilityDate: "2026-04-20",
      compatibilityFlags: ["nodejs_compat"],
      durableObjects: { PROBE: { className: "StoreProbe", useSQLite: true } },
    });
    try {
      const url = await mf.ready;
      const bundle = JSON.stringify(await migrationBundle());
      for (const c of storeCases) {
        await t.step(c.name, async () => {
          const res = await fetch(new URL(`/?case=${encodeURIComponent(c.name)}`, url), {
            method: "POST",
            body: bundle,
          });
          const result = await res.json() as { ok: boolean; error?: string };
          assert.ok(result.ok, result.error ?? "");
        });
      }
    } finally {
      await mf.dispose();
      await esbuild.stop();
    }
  },
});
