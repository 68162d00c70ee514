/**
 * The pg-core schema (`schema_pg.ts`) stays in step with the sqlite-core one (`schema.ts`): the
 * same tables, columns (name, type, nullability, default, enum values, primary key), composite
 * primary keys and indexes (name, uniqueness, columns in order, partial-index condition).
 *
 * @module
 */
import assert from "node:assert/strict";
import { getTableName, is, SQL, type Table } from "drizzle-orm";
import { getTableConfig as sqliteConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { getTableConfig as pgConfig, PgTable } from "drizzle-orm/pg-core";
import * as sqliteSchema from "../../src/storage/schema.ts";
import * as pgSchema from "../../src/storage/schema_pg.ts";

/** SQLite column type → the PostgreSQL type that stores the same values. */
const TYPE_OF: Record<string, string> = {
  SQLiteText: "PgText",
  SQLiteTextJson: "PgJson",
  SQLiteInteger: "PgBigInt53",
  SQLiteTimestamp: "PgBigInt53",
  SQLiteBoolean: "PgBoolean",
};

function text(where: unknown): string | null {
  if (!where) return null;
  assert.ok(is(where, SQL));
  return (where as SQL).queryChunks.map((c) => (c as { value?: string[] }).value?.join("") ?? "?").join("");
}

interface Shape {
  columns: Record<string, unknown>;
  primaryKeys: string[][];
  indexes: Record<string, unknown>;
}

// deno-lint-ignore no-explicit-any -- the two dialects' configs differ in generics only
function shapeOf(config: any, type: (column: any) => string): Shape {
  const columns: Record<string, unknown> = {};
  for (const c of config.columns) {
    columns[c.name] = {
      type: type(c),
      notNull: c.notNull,
      primary: c.primary,
      default: c.default === undefined ? undefined : JSON.stringify(c.default),
      enum: c.enumValues ?? null,
    };
  }
  const indexes: Record<string, unknown> = {};
  for (const i of config.indexes) {
    indexes[i.config.name] = {
      unique: Boolean(i.config.unique),
      columns: i.config.columns.map((c: { name: string }) => c.name),
      where: text(i.config.where),
    };
  }
  const primaryKeys = config.primaryKeys.map((k: { columns: { name: string }[] }) =>
    k.columns.map((c) => c.name)
  );
  return { columns, primaryKeys, indexes };
}

function tables<T>(
  schema: Record<string, unknown>,
  kind: abstract new (...args: never[]) => T,
): Map<string, T> {
  const out = new Map<string, T>();
  for (const value of Object.values(schema)) {
    if (is(value, kind as never)) out.set(getTableName(value as unknown as Table), value as T);
  }
  return out;
}

Deno.test("schema_pg.ts: the same tables as schema.ts", () => {
  const sqlite = tables(sqliteSchema, SQLiteTable);
  const pg = tables(pgSchema, PgTable);
  assert.ok(sqlite.size >= 40, `expected the whole schema, found ${sqlite.size} tables`);
  assert.deepEqual([...pg.keys()].sort(), [...sqlite.keys()].sort());
});

Deno.test("schema_pg.ts: every table has the columns, keys and indexes of its sqlite twin", () => {
  const pg = tables(pgSchema, PgTable);
  for (const [name, table] of tables(sqliteSchema, SQLiteTable)) {
    const twin = pg.get(name);
    assert.ok(twin, `table "${name}" is missing from schema_pg.ts`);
    const expected = shapeOf(sqliteConfig(table), (c) => {
      // SQLite's autoincrement key is PostgreSQL's bigserial.
      if (c.columnType === "SQLiteInteger" && c.autoIncrement) return "PgBigSerial53";
      return TYPE_OF[c.columnType] ?? `unmapped ${c.columnType}`;
    });
    const actual = shapeOf(pgConfig(twin), (c) => c.columnType);
    assert.deepEqual(actual.columns, expected.columns, `columns of "${name}"`);
    assert.deepEqual(actual.primaryKeys, expected.primaryKeys, `primary key of "${name}"`);
    assert.deepEqual(actual.indexes, expected.indexes, `indexes of "${name}"`);
  }
});

Deno.test("migrations/pg: the journal lists every SQL file, in order", async () => {
  const folder = new URL("../../migrations/pg/", import.meta.url);
  const journal = JSON.parse(await Deno.readTextFile(new URL("meta/_journal.json", folder)));
  const files = [...Deno.readDirSync(folder)].filter((f) => f.name.endsWith(".sql")).map((f) => f.name)
    .sort();
  assert.deepEqual(journal.entries.map((e: { tag: string }) => `${e.tag}.sql`), files);
  assert.equal(journal.dialect, "postgresql");
});
