/**
 * A Durable Object that runs one storage case (`tests/store_cases.ts`) against its own SQLite
 * through `DurableDatabase`; bundled by `store_suite_test.ts` and served by workerd. Test-only.
 *
 * @module
 */
import { DurableDatabase, type MigrationBundle } from "../../src/runtime/cloudflare/durable_database.ts";
import type { DurableObjectNamespace, DurableObjectState } from "../../src/runtime/cloudflare/types.ts";
import { storeCases } from "./store_cases.ts";

/** `POST /?case=<name>` with the migration bundle as body → `{ ok, error? }`. */
export class StoreProbe {
  readonly #state: DurableObjectState;
  constructor(state: DurableObjectState) {
    this.#state = state;
  }
  async fetch(request: Request): Promise<Response> {
    const name = new URL(request.url).searchParams.get("case");
    const store = new DurableDatabase(this.#state.storage);
    await store.migrate(await request.json() as MigrationBundle);
    const found = storeCases.find((c) => c.name === name);
    if (!found) return Response.json({ ok: false, error: `No case ${name}` });
    try {
      await found.run(store);
      return Response.json({ ok: true });
    } catch (error) {
      return Response.json({ ok: false, error: String((error as Error)?.stack ?? error) });
    }
  }
}

export default {
  fetch(request: Request, env: { PROBE: DurableObjectNamespace }): Promise<Response> {
    const name = new URL(request.url).searchParams.get("case") ?? "";
    return env.PROBE.get(env.PROBE.idFromName(name)).fetch(request);
  },
};
