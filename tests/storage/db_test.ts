import assert from "node:assert/strict";
import { openDatabase } from "../../src/storage/db.ts";
import { tenants } from "../../src/storage/schema.ts";

Deno.test("openDatabase(): concurrent first starts on one file migrate exactly once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "billing-mig-" });
  const url = `file:${dir}/race.db`;
  const opened = await Promise.all(Array.from({ length: 4 }, () => openDatabase({ url })));
  try {
    const applied = await opened[0].client.execute("select count(*) as n from __drizzle_migrations");
    const files = [...Deno.readDirSync(new URL("../../migrations", import.meta.url))].filter((f) =>
      f.name.endsWith(".sql")
    );
    assert.equal(Number(applied.rows[0].n), files.length);
    // a reopen is a no-op
    const again = await openDatabase({ url });
    again.close();
  } finally {
    for (const d of opened) d.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Database.write(): a throwing write rolls back everything; writes of one process run one at a time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "billing-tx-" });
  const db = await openDatabase({ url: `file:${dir}/tx.db` });
  try {
    await assert.rejects(
      db.write(async (tx) => {
        await tx.insert(tenants).values({ id: "ten_a", name: "a", created_at: new Date() });
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal((await db.db.select().from(tenants)).length, 0);
    let inside = 0;
    let maxInside = 0;
    await Promise.all(Array.from({ length: 20 }, (_, i) =>
      db.write(async (tx) => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        await tx.insert(tenants).values({ id: `ten_${i}`, name: `n${i}`, created_at: new Date() });
        await new Promise((r) => setTimeout(r, 1));
        inside--;
      })));
    assert.equal(maxInside, 1);
    assert.equal((await db.db.select().from(tenants)).length, 20);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
