/**
 * The shape of `src/` as a test: the import graph (type imports included) has no cycle, and
 * arrows point down only: runtime → http → capabilities → storage and domain.
 *
 * @module
 */
import assert from "node:assert/strict";

const SRC = new URL("../../src/", import.meta.url).pathname;

/** Every `.ts` file under `src/`, as paths relative to it. */
function sourceFiles(dir = SRC, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isDirectory) out.push(...sourceFiles(`${dir}${entry.name}/`, `${prefix}${entry.name}/`));
    else if (entry.name.endsWith(".ts")) out.push(`${prefix}${entry.name}`);
  }
  return out;
}

/** Resolves a relative specifier against the importing file (both relative to `src/`). */
function resolve(from: string, specifier: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  return parts.join("/");
}

/** The import graph of `src/`: file → files it imports (static, dynamic and type imports). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const pattern = /(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g;
  for (const file of sourceFiles()) {
    const text = Deno.readTextFileSync(`${SRC}${file}`);
    const deps = new Set<string>();
    for (const match of text.matchAll(pattern)) {
      const target = resolve(file, match[1]);
      if (!target.startsWith("..") && target.endsWith(".ts")) deps.add(target);
    }
    graph.set(file, [...deps]);
  }
  return graph;
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** Top-level layer of a file: `domain`, `storage`, `http`, `runtime`, `dev`, or a capability folder. */
function layer(file: string): string {
  return file.includes("/") ? file.split("/")[0] : file;
}

Deno.test("src/ has no import cycle (type imports included)", () => {
  assert.deepEqual(cycles(importGraph()), []);
});

Deno.test("src/ arrows point down: domain imports only domain; storage only storage and domain; capabilities never import http/app.ts or runtime/", () => {
  const violations: string[] = [];
  for (const [file, deps] of importGraph()) {
    for (const dep of deps) {
      const from = layer(file);
      const to = layer(dep);
      if (from === "domain" && to !== "domain") violations.push(`${file} -> ${dep}`);
      if (from === "storage" && to !== "storage" && to !== "domain") violations.push(`${file} -> ${dep}`);
      if (!["runtime", "http", "dev"].includes(from) && (to === "runtime" || dep === "http/app.ts")) {
        violations.push(`${file} -> ${dep}`);
      }
    }
  }
  assert.deepEqual(violations, []);
});
