import assert from "node:assert/strict";
import fc from "fast-check";
import { TypeID } from "typeid-js";
import { ID_PREFIX, type IdPrefix, isId, newId } from "../../src/domain/ids.ts";

/** What isId() answered before it took typeid-js's unboxed parse (the reference). */
function reference(prefix: IdPrefix, value: string): boolean {
  try {
    return TypeID.fromString(value).getType() === prefix;
  } catch {
    return false;
  }
}

const PREFIXES = Object.values(ID_PREFIX);

Deno.test("newId() issues TypeIDs of its prefix that isId() accepts and other prefixes refuse", () => {
  for (const prefix of PREFIXES) {
    const id = newId(prefix);
    assert.match(id, new RegExp(`^${prefix}_[0-7][0-9a-hjkmnp-tv-z]{25}$`));
    assert.equal(TypeID.fromString(id).toString(), id);
    assert.equal(isId(prefix, id), true);
    for (const other of PREFIXES) {
      if (other !== prefix) assert.equal(isId(other, id), false, `${other} ${id}`);
    }
  }
});

Deno.test("isId() answers as TypeID.fromString(value).getType() === prefix on valid, mutated and random text", () => {
  const valid = fc.constantFrom(...PREFIXES).map((p) => newId(p));
  const mutated = fc.tuple(valid, fc.nat(40), fc.string({ maxLength: 3 })).map(([id, at, text]) =>
    id.slice(0, at % (id.length + 1)) + text + id.slice((at % (id.length + 1)) + 1)
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...PREFIXES),
      fc.oneof(valid, mutated, fc.string({ maxLength: 40 })),
      (p, v) => {
        assert.equal(isId(p, v), reference(p, v), `${p} ${v}`);
      },
    ),
    { seed: 14, numRuns: 3000 },
  );
});
