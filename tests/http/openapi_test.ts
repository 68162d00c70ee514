// deno-lint-ignore-file no-explicit-any -- JSON bodies of API answers are read untyped in this test code
import assert from "node:assert/strict";
import { call, testEnv } from "../helpers.ts";

Deno.test("GET /openapi.json documents every /v1 route with its request and response schemas", async () => {
  const env = await testEnv();
  try {
    const res = await call(env, "GET", "/openapi.json");
    assert.equal(res.status, 200);
    const doc = res.body;
    assert.equal(doc.openapi, "3.1.0");
    const served = new Set(
      env.app.routes
        .filter((r) => r.path.startsWith("/v1/") && r.method !== "ALL" && !r.path.includes("*"))
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z_]+)/g, "{$1}")}`),
    );
    assert.ok(served.size >= 20, `expected the spine's routes, saw ${served.size}`);
    for (const route of served) {
      const [method, path] = route.split(" ");
      const op = doc.paths?.[path]?.[method];
      assert.ok(op, `${route} is served but not documented`);
      const ok = Object.entries(op.responses ?? {}).filter(([status]) => status.startsWith("2"));
      assert.ok(ok.length > 0, `${route} documents no success response`);
      for (const [, response] of ok) {
        const content = (response as any).content;
        if (content) {
          assert.ok(
            Object.values(content).every((c: any) => c.schema),
            `${route} has a response without schema`,
          );
        }
      }
      if (["post", "patch", "put"].includes(method) && op.requestBody) {
        assert.ok(
          op.requestBody.content?.["application/json"]?.schema,
          `${route} has a request body without schema`,
        );
      }
    }
  } finally {
    await env.close();
  }
});
