import assert from "node:assert/strict";
import {
  dimensionKey,
  type DimensionMatch,
  dimensionValues,
  findDimensionEntry,
  matchesDimensions,
} from "../../src/domain/dimensions.ts";

const dims = ["model", "token_type"];

Deno.test("dimension values come from event properties, rendered as strings", () => {
  assert.deepEqual(dimensionValues(dims, { model: "m-large", token_type: "output", other: 1 }), {
    model: "m-large",
    token_type: "output",
  });
  assert.deepEqual(dimensionValues(dims, { model: 7 }), { model: "7", token_type: null });
  assert.deepEqual(dimensionValues(dims, undefined), { model: null, token_type: null });
});

Deno.test("first match wins; a dimension absent from match matches anything", () => {
  const entries: { match: DimensionMatch; name: string }[] = [
    { match: { model: "m-large", token_type: "output" }, name: "large-out" },
    { match: { model: "m-large" }, name: "large-any" },
    { match: {}, name: "catch-all" },
  ];
  const pick = (p: Record<string, unknown>) =>
    findDimensionEntry(entries, dimensionValues(dims, p))?.entry.name;
  assert.equal(pick({ model: "m-large", token_type: "output" }), "large-out");
  assert.equal(pick({ model: "m-large", token_type: "input" }), "large-any");
  assert.equal(pick({ model: "m-large" }), "large-any");
  assert.equal(pick({ model: "M-Large" }), "catch-all");
  assert.equal(
    findDimensionEntry(entries.slice(0, 2), dimensionValues(dims, { model: "m-small" })),
    undefined,
  );
  assert.equal(matchesDimensions({ model: "m-large" }, { model: null, token_type: null }), false);
});

Deno.test("dimension keys are stable in declared order", () => {
  assert.equal(
    dimensionKey(dims, { token_type: "input", model: "m-small" }),
    '{"model":"m-small","token_type":"input"}',
  );
  assert.equal(dimensionKey(dims, { model: "m-small" }), '{"model":"m-small","token_type":null}');
});
