/**
 * Event dimensions: pricing and crediting a metered feature by event properties (issue 19).
 *
 * A feature declares up to {@link MAX_DIMENSIONS} property names (`["model", "token_type"]`); its
 * `dimension_prices` is an ordered list of entries with a `match` object. Matching follows the rule
 * Lago documents for charge filters and Orb for matrix prices, made deterministic: the **first**
 * entry whose every `match` key equals the event's property wins; a dimension absent from `match`
 * matches any value (also a missing one); events matching no entry fall back to the feature's own
 * pricing. Values are compared as strings, exactly (no case folding): `"m-large"` ≠ `"M-Large"`.
 *
 * @module
 */

/** Most dimensions one feature may declare (Lago and Orb keep matrices small for the same reason). */
export const MAX_DIMENSIONS = 4;

/** Property name → required value. Keys must be among the feature's declared dimensions. */
export type DimensionMatch = Readonly<Record<string, string>>;

/** The dimension values of one event or usage group; `null` where the event lacks the property. */
export type DimensionValues = Readonly<Record<string, string | null>>;

/**
 * The values of `dimensions` in an event's `properties`: strings as they are, numbers and booleans
 * rendered with `String()`, anything else (absent, null, objects) as `null`.
 */
export function dimensionValues(
  dimensions: readonly string[],
  properties: Readonly<Record<string, unknown>> | null | undefined,
): DimensionValues {
  const out: Record<string, string | null> = {};
  for (const d of dimensions) {
    const v = properties?.[d];
    out[d] = typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : null;
  }
  return out;
}

/** True when every key of `match` has exactly that value in `values`. An empty match matches all. */
export function matchesDimensions(match: DimensionMatch, values: DimensionValues): boolean {
  for (const [k, v] of Object.entries(match)) {
    if (values[k] !== v) return false;
  }
  return true;
}

/**
 * The first entry whose `match` matches `values`, with its index, or `undefined` when none does
 * (the caller then uses the feature's own pricing).
 */
export function findDimensionEntry<T extends { readonly match: DimensionMatch }>(
  entries: readonly T[],
  values: DimensionValues,
): { entry: T; index: number } | undefined {
  for (let index = 0; index < entries.length; index++) {
    if (matchesDimensions(entries[index].match, values)) return { entry: entries[index], index };
  }
  return undefined;
}

/**
 * A stable text key for a combination of dimension values, for grouping usage: the JSON of the
 * values in the feature's declared dimension order (`{"model":"m-large","token_type":"output"}`).
 */
export function dimensionKey(dimensions: readonly string[], values: DimensionValues): string {
  return JSON.stringify(Object.fromEntries(dimensions.map((d) => [d, values[d] ?? null])));
}
