/**
 * Benchmark of issue 19's rating costs: `deno task bench:dimensions [--events N] [--lines N]`.
 *
 * 1. Pure rating: `computeInvoice` of a plan with 40 metered features, once with integer prices and
 *    once with decimal prices (sub-cent, 12-place), repeated; prints invoices per second of each.
 * 2. Grouping in the store: N usage events of one customer and feature spread over 2 models × 2
 *    token types in a fresh libSQL file (WAL, the server's settings); prints the time of the plain
 *    `sum` aggregation and of the per-combination aggregation (`json_extract` GROUP BY) over them.
 * Numbers, never assertions (the team's rule for speed targets).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { computeInvoice } from "../src/domain/invoice.ts";
import { checkFeatures, type FeatureInput } from "../src/domain/plan.ts";
import { newId } from "../src/domain/ids.ts";
import { openDatabase } from "../src/storage/db.ts";
import {
  aggregateUsageByDimensions,
  aggregateUsageEvents,
  insertUsageEvents,
} from "../src/usage/repository.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    events: { type: "string", default: "200000" },
    invoices: { type: "string", default: "2000" },
  },
});
const EVENTS = Number(values.events);
const INVOICES = Number(values.invoices);

function ratePerSecond(decimal: boolean): number {
  const features: FeatureInput[] = Array.from({ length: 40 }, (_, i) => ({
    key: `f${i}`,
    type: "metered" as const,
    included: 100,
    pricing: i % 2 === 0
      ? {
        model: "per_unit" as const,
        ...(decimal ? { unit_amount_decimal: "0.000015" } : { unit_amount: 3 }),
      }
      : {
        model: "graduated" as const,
        tiers: [
          { up_to: 10_000, ...(decimal ? { unit_amount_decimal: "0.00006" } : { unit_amount: 2 }) },
          { up_to: null, ...(decimal ? { unit_amount_decimal: "0.000012345678" } : { unit_amount: 1 }) },
        ],
      },
  }));
  const plan = { name: "Bench", base_amount: 4900, features: checkFeatures(features) };
  const usage = new Map(features.map((f, i) => [f.key, 1_234_567 + i * 1000]));
  const started = performance.now();
  for (let n = 0; n < INVOICES; n++) computeInvoice({ plan, usage, trial: false });
  return INVOICES / ((performance.now() - started) / 1000);
}

console.log("rating, 40 features per invoice:", {
  integer_invoices_per_second: Math.round(ratePerSecond(false)),
  decimal_invoices_per_second: Math.round(ratePerSecond(true)),
});

const dir = await Deno.makeTempDir({ prefix: "dimension-bench-" });
const database = await openDatabase({ url: `file:${dir}/bench.db` });
try {
  const scope = { tenantId: "ten_bench", appId: "app_bench" };
  const start = new Date("2026-01-01T00:00:00Z");
  const combos = [["m-large", "input"], ["m-large", "output"], ["m-small", "input"], ["m-small", "output"]];
  for (let offset = 0; offset < EVENTS; offset += 1000) {
    const rows = Array.from({ length: Math.min(1000, EVENTS - offset) }, (_, j) => {
      const i = offset + j;
      const [model, token_type] = combos[i % 4];
      return {
        id: newId("evt"),
        event_id: `e${i}`,
        customer_id: "cus_bench",
        feature: "tokens",
        value: 1000 + (i % 97),
        timestamp: new Date(start.getTime() + i * 1000),
        properties: { model, token_type, request_id: `r${i}` },
        payload_hash: "x",
        created_at: start,
      };
    });
    await database.write((tx) => insertUsageEvents(tx, scope, rows));
  }
  const feature = { key: "tokens", aggregation: "sum" as const, unique_property: null };
  const end = new Date(start.getTime() + (EVENTS + 1) * 1000);
  const time = async (what: () => Promise<unknown>) => {
    await what(); // warm
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await what();
    return Math.round(((performance.now() - t0) / 5) * 10) / 10;
  };
  const plain = await time(() => aggregateUsageEvents(database.db, scope, "cus_bench", feature, start, end));
  const grouped = await time(() =>
    aggregateUsageByDimensions(database.db, scope, "cus_bench", feature, ["model", "token_type"], start, end)
  );
  console.log(`aggregation over ${EVENTS} events (libSQL file), mean of 5:`, {
    sum_ms: plain,
    grouped_by_model_token_type_ms: grouped,
  });
} finally {
  database.close();
  await Deno.remove(dir, { recursive: true });
}
