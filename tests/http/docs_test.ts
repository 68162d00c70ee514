import assert from "node:assert/strict";
import { testEnv } from "../helpers.ts";

// deno-lint-ignore no-explicit-any -- walks arbitrary JSON of the OpenAPI document
type Schema = Record<string, any>;

/**
 * Every property of every object schema in the document (components, inline bodies and
 * responses, parameters) that lacks a description or an example, as `where.field [what]`.
 *
 * A property that is a reference to a named schema (`$ref`, or `allOf [$ref, null]` when
 * nullable) is described by that schema: it needs the component's own description, and its
 * example is composed of the component's property examples (each checked on the component).
 */
function undocumented(doc: Schema): string[] {
  const missing: string[] = [];
  const components: Record<string, Schema> = doc.components?.schemas ?? {};
  const referenced = (prop: Schema): string | undefined =>
    prop.$ref ??
      [...(prop.allOf ?? []), ...(prop.anyOf ?? []), ...(prop.oneOf ?? [])].find((s: Schema) => s.$ref)?.$ref;
  const walk = (schema: Schema | undefined, where: string) => {
    if (!schema || typeof schema !== "object" || schema.$ref) return;
    for (const [name, prop] of Object.entries<Schema>(schema.properties ?? {})) {
      const ref = referenced(prop);
      if (ref) {
        const component = components[ref.split("/").pop()!];
        if (!prop.description && !component?.description) {
          missing.push(`${where}.${name} [description of ${ref}]`);
        }
        continue;
      }
      const lacks = [
        !prop.description && "description",
        prop.example === undefined && prop.examples === undefined && "example",
      ]
        .filter(Boolean);
      if (lacks.length > 0) missing.push(`${where}.${name} [${lacks.join(", ")}]`);
      walk(prop, `${where}.${name}`);
    }
    if (typeof schema.items === "object") walk(schema.items, `${where}[]`);
    if (typeof schema.additionalProperties === "object") walk(schema.additionalProperties, `${where}{}`);
    for (const key of ["anyOf", "oneOf", "allOf"]) (schema[key] ?? []).forEach((s: Schema) => walk(s, where));
  };
  for (const [name, schema] of Object.entries<Schema>(doc.components?.schemas ?? {})) walk(schema, name);
  for (const [path, operations] of Object.entries<Schema>(doc.paths ?? {})) {
    for (const [method, op] of Object.entries<Schema>(operations)) {
      const route = `${method.toUpperCase()} ${path}`;
      for (const p of op.parameters ?? []) {
        const described = p.description ?? p.schema?.description;
        const example = p.example ?? p.examples ?? p.schema?.example;
        if (!described || example === undefined) missing.push(`${route} ${p.in} parameter ${p.name}`);
      }
      for (const media of Object.values<Schema>(op.requestBody?.content ?? {})) {
        walk(media.schema, `${route} body`);
      }
      for (const [status, response] of Object.entries<Schema>(op.responses ?? {})) {
        for (const media of Object.values<Schema>(response.content ?? {})) {
          walk(media.schema, `${route} ${status}`);
        }
      }
    }
  }
  return missing;
}

Deno.test("GET /docs serves the Scalar reference of /openapi.json with its renderer from this server (no CDN)", async () => {
  const env = await testEnv();
  try {
    const page = await env.app.request("/docs");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    const html = await page.text();
    assert.match(html, /<script src="\/docs\/scalar\.js"><\/script>/);
    assert.match(html, /"url": "\/openapi\.json"/);
    assert.doesNotMatch(html, /<script[^>]+src="https?:/, "no script from another host");
    assert.doesNotMatch(html, /import .* from 'https?:/, "no module from another host");

    const script = await env.app.request("/docs/scalar.js");
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type") ?? "", /javascript/);
    const bytes = (await script.arrayBuffer()).byteLength;
    assert.ok(bytes > 1_000_000, `the standalone renderer bundle (${bytes} bytes)`);
  } finally {
    await env.close();
  }
});

Deno.test("/docs/scalar.js answers 503 docs_unavailable when the runtime cannot load the renderer", async () => {
  const { createApp } = await import("../../src/http/app.ts");
  const env = await testEnv();
  try {
    const app = createApp(env.services, {
      adminToken: "x".repeat(20),
      docsScript: () => Promise.resolve(null),
    });
    const res = await app.request("/docs/scalar.js");
    assert.equal(res.status, 503);
    assert.equal((await res.json()).code, "docs_unavailable");
  } finally {
    await env.close();
  }
});

Deno.test("every field and parameter of /openapi.json has a description and an example", async () => {
  const env = await testEnv();
  try {
    const doc = await (await env.app.request("/openapi.json")).json();
    const missing = undocumented(doc);
    assert.deepEqual(
      missing,
      [],
      `${missing.length} fields lack a description or an example:\n  ${missing.join("\n  ")}`,
    );
  } finally {
    await env.close();
  }
});
