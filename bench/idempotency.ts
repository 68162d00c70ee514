/**
 * Cost of the `Idempotency-Key` middleware on the embedded libSQL default, in process
 * (`app.request`, no network): N `POST /v1/ledger/accounts` without the header, N with a fresh
 * key each (execute + store the answer), and N retries of those keys (answered from the store).
 * Prints milliseconds per request; nothing is asserted.
 *
 *   deno run -A bench/idempotency.ts [--requests 1000]
 */
import { parseArgs } from "node:util";
import { tenant, testEnv } from "../tests/helpers.ts";

const { values } = parseArgs({ options: { requests: { type: "string", default: "1000" } } });
const n = Number(values.requests);
const env = await testEnv();
const t = await tenant(env);

async function run(label: string, key: (i: number) => string | undefined, name: (i: number) => string) {
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const headers: Record<string, string> = {
      authorization: `Bearer ${t.secret_key}`,
      "content-type": "application/json",
    };
    const k = key(i);
    if (k) headers["idempotency-key"] = k;
    const res = await env.app.request("/v1/ledger/accounts", {
      method: "POST",
      headers,
      body: JSON.stringify({ name: name(i), type: "asset", currency: "USD" }),
    });
    if (res.status >= 300) throw new Error(`${label}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
  const ms = performance.now() - started;
  console.log(`${label.padEnd(34)} ${(ms / n).toFixed(3)} ms/request  (${n} requests, ${ms.toFixed(0)} ms)`);
}

await run("no header", () => undefined, (i) => `plain-${i}`);
await run("fresh key (execute + store)", (i) => `k-${i}`, (i) => `keyed-${i}`);
await run("same key again (stored answer)", (i) => `k-${i}`, (i) => `keyed-${i}`);
await env.close();
