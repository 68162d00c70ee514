// deno-lint-ignore-file no-explicit-any -- the OpenAPI document is walked untyped
/**
 * The served `/openapi.json` as independent tools see it: Redocly's `recommended` rules and
 * Spectral's `spectral:oas` ruleset (both pinned, run from Deno's npm cache), plus what those
 * rules do not check: operationIds, tags, headers, instants, problem codes and their `type` URIs,
 * and the `webhooks` of every lifecycle event.
 */
import assert from "node:assert/strict";
import { PROBLEM_CODES, PROBLEM_TYPES } from "../../src/http/problem_types.ts";
import { EVENT_DATA } from "../../src/webhooks/events.ts";
import { testEnv } from "../helpers.ts";

const REDOCLY = "npm:@redocly/cli@2.77.0";
const SPECTRAL = "npm:@stoplight/spectral-cli@6.16.3";

/** Serves the app on 127.0.0.1 (so `servers` is a real origin) and returns the document. */
async function servedDocument(): Promise<{ doc: any; text: string; base: string; close(): Promise<void> }> {
  const env = await testEnv();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, env.app.fetch);
  const base = `http://127.0.0.1:${server.addr.port}`;
  const text = await (await fetch(`${base}/openapi.json`)).text();
  return {
    doc: JSON.parse(text),
    text,
    base,
    async close() {
      await server.shutdown();
      await env.close();
    },
  };
}

async function run(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-config", ...args],
    cwd,
    env: { REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: result.code, out: decode(result.stdout) + decode(result.stderr) };
}

Deno.test("/openapi.json is clean under Redocly recommended and spectral:oas (no error, warning or hint)", async () => {
  const served = await servedDocument();
  const dir = await Deno.makeTempDir({ prefix: "billing-oas-lint-" });
  try {
    await Deno.writeTextFile(`${dir}/openapi.json`, served.text);
    await Deno.writeTextFile(`${dir}/.spectral.yaml`, 'extends: ["spectral:oas"]\n');
    const redocly = await run(
      [REDOCLY, "lint", "--extends=recommended", "--format=stylish", "openapi.json"],
      dir,
    );
    assert.equal(redocly.code, 0, redocly.out);
    assert.match(redocly.out, /Your API description is valid/);
    assert.doesNotMatch(redocly.out, /warning/i, redocly.out);
    const spectral = await run(
      [SPECTRAL, "lint", "-r", ".spectral.yaml", "-f", "text", "--fail-severity=hint", "openapi.json"],
      dir,
    );
    assert.equal(spectral.code, 0, spectral.out);
    assert.match(spectral.out, /No results with a severity of 'hint' or higher found/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await served.close();
  }
});

Deno.test("/openapi.json: unique resource-verb operationIds, declared tags, servers, described operations, documented headers", async () => {
  const served = await servedDocument();
  try {
    const { doc } = served;
    assert.deepEqual(doc.servers, [{ url: served.base, description: "This deployment" }]);
    const declared = new Set(doc.tags.map((t: any) => t.name));
    const ids = new Set<string>();
    let operations = 0;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        operations++;
        assert.match(op.operationId, /^[a-z]+[A-Z][A-Za-z]+$/, `${method} ${path}: verbResource operationId`);
        assert.ok(!ids.has(op.operationId), `duplicate operationId ${op.operationId}`);
        ids.add(op.operationId);
        assert.ok(op.description?.length > op.summary?.length, `${method} ${path} has a description`);
        for (const tag of op.tags) assert.ok(declared.has(tag), `tag ${tag} is declared`);
        for (const [status, response] of Object.entries<any>(op.responses)) {
          assert.ok(response.headers?.["x-request-id"], `${method} ${path} ${status} documents x-request-id`);
        }
      }
    }
    assert.ok(operations >= 70, `expected every route, saw ${operations}`);
    // readable names for generated clients
    assert.equal(doc.paths["/v1/plans"].post.operationId, "createPlan");
    assert.equal(doc.paths["/v1/plans"].get.operationId, "listPlans");
    assert.equal(doc.paths["/v1/entitlements/check"].post.operationId, "checkEntitlement");
    // the rate-limited routes document the limit on every answer, 429 with Retry-After too
    const check = doc.paths["/v1/entitlements/check"].post.responses;
    for (const h of ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]) {
      assert.ok(check["200"].headers[h], `200 documents ${h}`);
      assert.ok(check["429"].headers[h], `429 documents ${h}`);
    }
    assert.ok(check["429"].headers["Retry-After"]);
    assert.ok(doc.paths["/v1/ledger/entries"].post.responses["201"].headers["Idempotent-Replayed"]);
    // the Stripe webhook authenticates by signature: it says so with an empty security requirement
    assert.deepEqual(doc.paths["/v1/providers/stripe/webhook/{app_id}"].post.security, []);
  } finally {
    await served.close();
  }
});

Deno.test("/openapi.json: every instant is format date-time; problem codes are listed per operation and globally", async () => {
  const served = await servedDocument();
  try {
    const { doc } = served;
    const unmarked: string[] = [];
    let instants = 0;
    const walk = (node: any, at: string) => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}/${i}`));
      if (typeof node !== "object" || node === null) return;
      if (typeof node.example === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(node.example)) {
        instants++;
        if (node.format !== "date-time") unmarked.push(at);
      }
      for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k}`);
    };
    walk(doc, "#");
    assert.ok(instants >= 50, `saw ${instants} instants`);
    assert.deepEqual(unmarked, []);
    for (const name of ["created_at", "current_period_end", "trial_end", "canceled_at"]) {
      const prop = doc.components.schemas.Subscription.properties[name];
      const formats = [prop.format, ...(prop.anyOf ?? []).map((p: any) => p.format)];
      assert.ok(formats.includes("date-time"), `Subscription.${name} is date-time`);
    }

    assert.deepEqual(doc.components.schemas.Problem.properties.code.enum, PROBLEM_CODES);
    const ledgerEntry = doc.paths["/v1/ledger/entries"].post.responses;
    const codesOf = (r: any) => r.content["application/problem+json"].schema.allOf[1].properties.code.enum;
    assert.ok(codesOf(ledgerEntry["422"]).includes("postings_not_balanced"));
    assert.ok(codesOf(ledgerEntry["409"]).includes("idempotency_key_reused"));
    assert.ok(codesOf(ledgerEntry["400"]).includes("validation_failed"));
    assert.ok(
      !codesOf(ledgerEntry["422"]).includes("plan_archived"),
      "codes of other resources are not listed",
    );
    assert.match(ledgerEntry["422"].description, /`insufficient_balance`/);
  } finally {
    await served.close();
  }
});

Deno.test("/openapi.json webhooks: one entry per lifecycle event, its body typed by the delivery's schema", async () => {
  const served = await servedDocument();
  try {
    const { doc } = served;
    assert.deepEqual(Object.keys(doc.webhooks).sort(), Object.keys(EVENT_DATA).sort());
    const paid = doc.webhooks["invoice.paid"].post;
    const ref = paid.requestBody.content["application/json"].schema.$ref;
    assert.equal(ref, "#/components/schemas/InvoicePaidEvent");
    const body = doc.components.schemas.InvoicePaidEvent;
    assert.deepEqual(body.properties.type.enum ?? [body.properties.type.const], ["invoice.paid"]);
    assert.equal(body.properties.data.$ref, "#/components/schemas/Invoice");
    assert.deepEqual(paid.parameters.map((p: any) => p.name), [
      "webhook-id",
      "webhook-timestamp",
      "webhook-signature",
    ]);
  } finally {
    await served.close();
  }
});

Deno.test("problem type URIs answer: JSON for machines, HTML for people, 404 problem for unknown codes", async () => {
  const env = await testEnv();
  try {
    const json = await env.app.request("/problems/insufficient_balance");
    assert.equal(json.status, 200);
    assert.deepEqual(await json.json(), {
      type: "/problems/insufficient_balance",
      code: "insufficient_balance",
      status: 422,
      title: PROBLEM_TYPES.insufficient_balance.title,
      explanation: PROBLEM_TYPES.insufficient_balance.explanation,
      retryable: false,
    });
    const html = await env.app.request("/problems/rate_limited", {
      headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" },
    });
    assert.equal(html.status, 200);
    assert.match(html.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await html.text(), /<h1>Rate limited<\/h1>/);
    const unknown = await env.app.request("/problems/not_a_code");
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json()).code, "route_not_found");
    // the type of a real problem answer resolves
    const missing = await env.app.request("/v1/plans", { headers: {} });
    const type = (await missing.json()).type;
    assert.equal((await env.app.request(type)).status, 200);
    const index = await (await env.app.request("/problems")).json();
    assert.equal(index.length, PROBLEM_CODES.length);
  } finally {
    await env.close();
  }
});

Deno.test("every problem code thrown in src/ is in the catalog (so /problems/{code} and the document list it)", async () => {
  const thrown = new Set<string>();
  const walk = async (dir: URL) => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) await walk(new URL(`${entry.name}/`, dir));
      else if (entry.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(new URL(entry.name, dir));
        for (const m of text.matchAll(/BillingError\(\s*"([a-z_]+)"/g)) thrown.add(m[1]);
        for (const m of text.matchAll(/notFound\(\s*"([a-z_]+)"/g)) thrown.add(`${m[1]}_not_found`);
        for (const m of text.matchAll(/problem\(\s*c,\s*\d+,\s*"([a-z_]+)"/g)) thrown.add(m[1]);
      }
    }
  };
  await walk(new URL("../../src/", import.meta.url));
  assert.ok(thrown.size >= 60, `saw ${thrown.size} codes`);
  const missing = [...thrown].filter((code) => !Object.hasOwn(PROBLEM_TYPES, code)).sort();
  assert.deepEqual(missing, [], "add these codes to src/http/problem_types.ts");
});
