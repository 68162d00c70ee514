/**
 * What an edge node asks the billing side before it prunes its outbox (ADR 0014): a pushed row
 * is final when the primary holds its event id in its scope with the same payload hash (stored,
 * by this node's push or by any other path: the billing side would count it as a duplicate), or
 * when the billing side recorded its refusal as the dead letter `edge:<node>:<seq>`. Anything
 * else — not ingested yet, stored under another payload without a dead letter yet — stays.
 *
 * @module
 */
import type { Executor } from "../storage/db.ts";
import { deadLetterMessageIds } from "./repository.ts";
import { existingHashes } from "./service.ts";
import type { IngestedLookup, PushedRow } from "./edge_outbox.ts";

/**
 * The lookup of an edge node whose services read the primary through `exec`.
 *
 * @returns the `seq`s of the rows that are final; reads only (one query per scope and chunk)
 */
export function ingestedOnPrimary(exec: Executor): IngestedLookup {
  return async (nodeId: string, rows: readonly PushedRow[]): Promise<ReadonlySet<number>> => {
    const final = new Set<number>();
    const byScope = new Map<string, PushedRow[]>();
    for (const row of rows) {
      const k = `${row.scope.tenantId}\u0000${row.scope.appId}`;
      let list = byScope.get(k);
      if (!list) byScope.set(k, list = []);
      list.push(row);
    }
    for (const list of byScope.values()) {
      const hashes = await existingHashes(list[0].scope, exec, list.map((r) => r.event_id));
      for (const r of list) if (hashes.get(r.event_id) === r.payload_hash) final.add(r.seq);
    }
    const rest = rows.filter((r) => !final.has(r.seq));
    const letters = await deadLetterMessageIds(exec, rest.map((r) => `edge:${nodeId}:${r.seq}`));
    for (const r of rest) if (letters.has(`edge:${nodeId}:${r.seq}`)) final.add(r.seq);
    return final;
  };
}
