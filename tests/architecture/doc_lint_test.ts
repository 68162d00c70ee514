/**
 * The doc-lint gate of the test task (`scripts/doc_lint.ts`) forgives only what Deno misreports:
 * `private-type-ref` to a type no project file declares (an npm package's own type). Everything
 * else — a missing JSDoc, a missing type, a private reference to a project type — still fails.
 *
 * @module
 */
import assert from "node:assert/strict";
import { countedDiagnostics, declaredNames, parseDiagnostics } from "../../scripts/doc_lint.ts";

const OUTPUT = `error[missing-jsdoc]: exported symbol is missing JSDoc documentation
 --> /x/src/a.ts:1:1

error[private-type-ref]: public type 'router' references private type 'OpenAPIHono'
 --> /x/src/b.ts:2:1

error[private-type-ref]: public type 'load' references private type 'PlanRow'
 --> /x/src/c.ts:3:1

error: Found 3 documentation lint errors.
`;

Deno.test("doc lint gate: keeps missing docs and private project types, drops only package types", () => {
  const diagnostics = parseDiagnostics(OUTPUT);
  assert.deepEqual(diagnostics.map((d) => [d.rule, d.referenced]), [
    ["missing-jsdoc", null],
    ["private-type-ref", "OpenAPIHono"],
    ["private-type-ref", "PlanRow"],
  ]);
  const local = declaredNames(
    'import { OpenAPIHono } from "@hono/zod-openapi";\ntype PlanRow = { id: string };\n',
  );
  assert.ok(local.has("PlanRow"));
  assert.ok(!local.has("OpenAPIHono"), "an imported name is not a project declaration");
  assert.deepEqual(countedDiagnostics(diagnostics, local).map((d) => d.referenced ?? d.rule), [
    "missing-jsdoc",
    "PlanRow",
  ]);
});
