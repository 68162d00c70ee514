/**
 * The SDK as people install it: the committed `sdk/dist/` is exactly what the build makes from the
 * sources; `npm pack` gives a tarball that installs into a scratch Node project and works against a
 * real server (types included: the project type-checks with tsc); a clean checkout's `sdk/`
 * installs by path with no build step; `npm publish --dry-run` and `deno publish --dry-run` pass.
 */
import assert from "node:assert/strict";
import * as esbuild from "esbuild";
import { buildSdk } from "../../scripts/sdk_build.ts";
import { seedTenant, startSdkServer } from "./helpers.ts";

const ROOT = new URL("../../", import.meta.url);
const SDK_DIR = new URL("sdk/", ROOT);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

async function sh(
  cmd: string,
  args: string[],
  cwd: string | URL,
  env: Record<string, string> = {},
) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    env: {
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_update_notifier: "false",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = decode(out.stdout) + decode(out.stderr);
  assert.equal(out.code, 0, `${cmd} ${args.join(" ")} failed:\n${text}`);
  return { stdout: decode(out.stdout), text };
}

/** Paths of the files under `dir`, relative, sorted. */
function listFiles(dir: string, prefix = ""): string[] {
  return [...Deno.readDirSync(`${dir}/${prefix}`)].flatMap((e) =>
    e.isDirectory ? listFiles(dir, `${prefix}${e.name}/`) : [`${prefix}${e.name}`]
  ).sort();
}

Deno.test("sdk/dist (shipped in the repository) is exactly what `deno task sdk:build` builds from sdk/src", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "billing-sdk-dist-" });
  try {
    await buildSdk(new URL(`file://${tmp}/`));
    await esbuild.stop();
    const built = listFiles(tmp);
    const shipped = listFiles(new URL("dist/", SDK_DIR).pathname);
    assert.deepEqual(shipped, built);
    const stale = built.filter((name) =>
      Deno.readTextFileSync(`${tmp}/${name}`) !==
        Deno.readTextFileSync(new URL(`dist/${name}`, SDK_DIR))
    );
    assert.deepEqual(
      stale,
      [],
      "run `deno task sdk:build` and commit sdk/dist",
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/** Uses the installed package as a Node program would; prints what it saw as JSON. */
const NODE_PROGRAM = `
import { createServerClient, unwrap, verifyWebhook, BillingApiError } from "@edge-billing/sdk";
import { Webhook } from "standardwebhooks";
const [base, secretKey] = process.argv.slice(2);
const keys = [];
const billing = createServerClient({
  baseUrl: base,
  secretKey,
  fetch: (request) => { keys.push(request.headers.get("idempotency-key")); return fetch(request); },
});
const customer = await unwrap(billing.POST("/v1/customers", { body: { external_id: "node_user" } }));
const again = await unwrap(billing.GET("/v1/customers/{id}", { params: { path: { id: "node_user" } } }));
const secret = "whsec_" + Buffer.from("0123456789abcdef0123456789abcdef").toString("base64");
const body = JSON.stringify({ id: "msg_1", type: "plan.created", timestamp: new Date().toISOString(), app_id: "app_1", resource_id: "pln_1", data: { id: "pln_1" } });
const now = new Date();
const headers = { "webhook-id": "msg_1", "webhook-timestamp": String(Math.floor(now / 1000)), "webhook-signature": new Webhook(secret).sign("msg_1", now, body) };
const event = verifyWebhook(body, headers, secret);
let forged = null;
try { verifyWebhook(body.replace("pln_1", "pln_2"), headers, secret); } catch (e) { forged = e instanceof BillingApiError ? e.code : String(e); }
console.log(JSON.stringify({ id: customer.id, same: again.id === customer.id, keys, event: event.type, forged }));
`;

/** A typed use of the package: tsc must accept it through the package's own `.d.ts`. */
const TYPED_PROGRAM = `
import { createServerClient, type Schemas, type WebhookEvent, type WebhookEventOf } from "@edge-billing/sdk";
const billing = createServerClient({ baseUrl: "http://127.0.0.1:1", secretKey: "sk_x", retry: { maxRetries: 1 } });
export async function plans(): Promise<Schemas["Plan"][] | undefined> {
  const { data } = await billing.GET("/v1/plans");
  return data?.data;
}
export function total(event: WebhookEvent): number | null {
  if (event.type === "invoice.paid") return event.data.total;
  return null;
}
export const paid: WebhookEventOf<"invoice.paid">["type"] = "invoice.paid";
`;

async function runInstalled(project: string, base: string, secretKey: string) {
  await Deno.writeTextFile(`${project}/main.mjs`, NODE_PROGRAM);
  const { stdout } = await sh("node", ["main.mjs", base, secretKey], project);
  return JSON.parse(stdout);
}

async function scratchProject(name: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: `billing-sdk-${name}-` });
  await Deno.writeTextFile(
    `${dir}/package.json`,
    JSON.stringify({ name: `scratch-${name}`, private: true, type: "module" }),
  );
  return dir;
}

Deno.test("npm pack → npm install <tarball> in a scratch Node project: types check, calls a real server, verifies webhooks", async () => {
  const server = await startSdkServer();
  const project = await scratchProject("tarball");
  try {
    const packed = await sh("npm", [
      "pack",
      "--json",
      "--pack-destination",
      project,
    ], SDK_DIR);
    const [info] = JSON.parse(packed.stdout);
    const files = info.files.map((f: { path: string }) => f.path).sort();
    assert.ok(
      files.includes("dist/server.js") && files.includes("dist/server.d.ts"),
      files.join(", "),
    );
    assert.ok(
      !files.some((f: string) => f.startsWith("src/")),
      "the npm package ships built files only",
    );
    // standardwebhooks: the test program signs a delivery with it, as the server does
    await sh(
      "npm",
      ["install", `./${info.filename}`, "standardwebhooks@1.1.1"],
      project,
    );

    const t = await seedTenant(server.base);
    const out = await runInstalled(project, server.base, t.secretKey);
    assert.match(out.id, /^cus_/);
    assert.equal(out.same, true);
    assert.equal(out.keys.length, 2);
    assert.match(
      out.keys[0],
      /^[0-9a-f-]{36}$/,
      "the POST carried a generated Idempotency-Key",
    );
    assert.equal(out.keys[1], null, "a GET needs none");
    assert.equal(out.event, "plan.created");
    assert.equal(out.forged, "webhook_signature_invalid");

    await Deno.writeTextFile(`${project}/typed.ts`, TYPED_PROGRAM);
    await Deno.writeTextFile(
      `${project}/tsconfig.json`,
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          noEmit: true,
        },
        files: ["typed.ts"],
      }),
    );
    await sh(Deno.execPath(), [
      "run",
      "-A",
      "--no-config",
      "npm:typescript@5.9.3/tsc",
      "-p",
      ".",
    ], project);
  } finally {
    await Deno.remove(project, { recursive: true }).catch(() => {});
    await server.stop();
  }
});

Deno.test("npm install <path> of a clean checkout's sdk/ works without a build step", async () => {
  const server = await startSdkServer();
  const checkout = await Deno.makeTempDir({ prefix: "billing-sdk-checkout-" });
  const project = await scratchProject("path");
  try {
    // What git would check out: tracked (or to-be-tracked) files, nothing ignored, no node_modules
    const listed = await sh("git", [
      "ls-files",
      "--cached",
      "--others",
      "--exclude-standard",
      "sdk",
    ], ROOT);
    for (const path of listed.stdout.split("\n").filter(Boolean)) {
      const target = `${checkout}/${path}`;
      await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), {
        recursive: true,
      });
      await Deno.copyFile(new URL(path, ROOT), target);
    }
    // standardwebhooks: the test program signs a delivery with it, as the server does
    await sh(
      "npm",
      ["install", `${checkout}/sdk`, "standardwebhooks@1.1.1"],
      project,
    );
    const t = await seedTenant(server.base);
    const out = await runInstalled(project, server.base, t.secretKey);
    assert.match(out.id, /^cus_/);
    assert.equal(out.event, "plan.created");
  } finally {
    await Deno.remove(project, { recursive: true }).catch(() => {});
    await Deno.remove(checkout, { recursive: true }).catch(() => {});
    await server.stop();
  }
});

Deno.test("npm publish --dry-run and deno publish --dry-run (JSR) accept the SDK", async () => {
  const npm = await sh("npm", ["publish", "--dry-run"], SDK_DIR);
  assert.match(npm.text, /\+ @edge-billing\/sdk@0\.1\.0/);
  assert.match(npm.text, /dist\/server\.js/);
  const jsr = await sh(Deno.execPath(), [
    "publish",
    "--dry-run",
    "--allow-dirty",
  ], SDK_DIR);
  assert.match(jsr.text, /Success.*Dry run complete/s);
  assert.match(jsr.text, /src\/webhooks\.ts/);
});
