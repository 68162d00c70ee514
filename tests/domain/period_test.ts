import assert from "node:assert/strict";
import { addIntervals, periodContaining, periodIndexOf } from "../../src/domain/period.ts";
import { cancelAt, periodAt, resolvePeriod, startTimeline, statusAt } from "../../src/domain/subscription.ts";
import { BillingError } from "../../src/domain/errors.ts";

const d = (s: string) => new Date(s);
const iso = (x: Date) => x.toISOString();

Deno.test("addIntervals() keeps the anchor day and clamps to month end: Jan 31 → Feb 28 → Mar 31", () => {
  const anchor = d("2025-01-31T10:00:00Z");
  assert.deepEqual([1, 2, 3, 4].map((n) => iso(addIntervals(anchor, "month", n))), [
    "2025-02-28T10:00:00.000Z",
    "2025-03-31T10:00:00.000Z",
    "2025-04-30T10:00:00.000Z",
    "2025-05-31T10:00:00.000Z",
  ]);
});

Deno.test("addIntervals() uses Feb 29 in leap years (2024, 2028) and not in 2100", () => {
  assert.equal(iso(addIntervals(d("2024-01-31T00:00:00Z"), "month", 1)), "2024-02-29T00:00:00.000Z");
  assert.equal(iso(addIntervals(d("2024-01-30T00:00:00Z"), "month", 1)), "2024-02-29T00:00:00.000Z");
  assert.equal(iso(addIntervals(d("2100-01-29T00:00:00Z"), "month", 1)), "2100-02-28T00:00:00.000Z");
  assert.equal(iso(addIntervals(d("2000-01-29T00:00:00Z"), "month", 1)), "2000-02-29T00:00:00.000Z");
});

Deno.test("addIntervals() yearly from Feb 29 clamps to Feb 28 and returns to Feb 29 in leap years", () => {
  const anchor = d("2024-02-29T00:00:00Z");
  assert.deepEqual([1, 2, 3, 4].map((n) => iso(addIntervals(anchor, "year", n)).slice(0, 10)), [
    "2025-02-28",
    "2026-02-28",
    "2027-02-28",
    "2028-02-29",
  ]);
});

Deno.test("addIntervals() crosses year ends and goes backwards", () => {
  assert.equal(iso(addIntervals(d("2025-11-30T00:00:00Z"), "month", 3)), "2026-02-28T00:00:00.000Z");
  assert.equal(iso(addIntervals(d("2025-03-31T00:00:00Z"), "month", -1)), "2025-02-28T00:00:00.000Z");
});

Deno.test("periodContaining() finds the half-open period [start, end) around an instant", () => {
  const anchor = d("2025-01-31T00:00:00Z");
  const p = periodContaining(anchor, "month", d("2025-03-15T00:00:00Z"));
  assert.equal(iso(p.start), "2025-02-28T00:00:00.000Z");
  assert.equal(iso(p.end), "2025-03-31T00:00:00.000Z");
  assert.equal(p.index, 1);
  // the end instant belongs to the next period
  assert.equal(periodContaining(anchor, "month", d("2025-03-31T00:00:00Z")).index, 2);
  // one millisecond before the end is still inside
  assert.equal(periodContaining(anchor, "month", d("2025-03-30T23:59:59.999Z")).index, 1);
  // yearly
  const y = periodContaining(d("2024-02-29T00:00:00Z"), "year", d("2026-06-01T00:00:00Z"));
  assert.equal(iso(y.start), "2026-02-28T00:00:00.000Z");
  assert.equal(iso(y.end), "2027-02-28T00:00:00.000Z");
});

Deno.test("periodIndexOf() accepts only the anchor's exact periods", () => {
  const anchor = d("2025-01-31T00:00:00Z");
  assert.equal(periodIndexOf(anchor, "month", d("2025-02-28T00:00:00Z"), d("2025-03-31T00:00:00Z")), 1);
  assert.equal(periodIndexOf(anchor, "month", d("2025-02-28T00:00:00Z"), d("2025-03-28T00:00:00Z")), null);
  assert.equal(periodIndexOf(anchor, "month", d("2025-03-01T00:00:00Z"), d("2025-03-31T00:00:00Z")), null);
});

Deno.test("periodContaining() over 10 years agrees with stepping from the anchor", () => {
  const anchor = d("2024-01-31T08:30:00Z");
  for (let n = 0; n < 120; n++) {
    const start = addIntervals(anchor, "month", n);
    const middle = new Date((start.getTime() + addIntervals(anchor, "month", n + 1).getTime()) / 2);
    assert.equal(periodContaining(anchor, "month", middle).index, n);
    assert.equal(periodContaining(anchor, "month", start).index, n);
  }
});

Deno.test("startTimeline() with a trial: trialing until trial_end, anchor at trial_end", () => {
  const now = d("2026-01-10T00:00:00Z");
  const t = startTimeline({ trial_days: 14, now });
  assert.equal(iso(t.trial_end!), "2026-01-24T00:00:00.000Z");
  assert.equal(statusAt(t, now), "trialing");
  assert.equal(statusAt(t, d("2026-01-24T00:00:00Z")), "active");
  const trial = periodAt(t, "month", now);
  assert.equal(trial.trial, true);
  assert.equal(iso(trial.end), "2026-01-24T00:00:00.000Z");
  const first = periodAt(t, "month", d("2026-02-01T00:00:00Z"));
  assert.equal(iso(first.start), "2026-01-24T00:00:00.000Z");
  assert.equal(iso(first.end), "2026-02-24T00:00:00.000Z");
});

Deno.test("startTimeline() rejects a start in the future or more than 366 days back", () => {
  const now = d("2026-01-10T00:00:00Z");
  assert.throws(
    () => startTimeline({ start_at: d("2026-01-11T00:00:00Z"), trial_days: 0, now }),
    (e: unknown) => e instanceof BillingError && e.code === "start_at_in_future",
  );
  assert.throws(
    () => startTimeline({ start_at: d("2024-01-01T00:00:00Z"), trial_days: 0, now }),
    (e: unknown) => e instanceof BillingError && e.code === "start_at_too_old",
  );
});

Deno.test("cancelAt(): at period end, now, repeated, and after the end", () => {
  const now = d("2026-03-10T00:00:00Z");
  const t = startTimeline({ start_at: d("2026-01-31T00:00:00Z"), trial_days: 0, now });
  assert.equal(iso(cancelAt(t, "month", true, now)), "2026-03-31T00:00:00.000Z");
  assert.equal(iso(cancelAt(t, "month", false, now)), iso(now));
  const scheduled = { ...t, cancel_at: d("2026-03-31T00:00:00Z") };
  assert.equal(statusAt(scheduled, now), "active");
  // cancelling now moves the end earlier; asking for period end again keeps it
  assert.equal(iso(cancelAt(scheduled, "month", false, now)), iso(now));
  assert.equal(iso(cancelAt(scheduled, "month", true, now)), "2026-03-31T00:00:00.000Z");
  assert.throws(
    () => cancelAt(scheduled, "month", true, d("2026-04-01T00:00:00Z")),
    (e: unknown) => e instanceof BillingError && e.code === "subscription_canceled",
  );
  // the last period is truncated at an immediate cancellation
  const ended = { ...t, cancel_at: d("2026-03-10T00:00:00Z") };
  const last = periodAt(ended, "month", d("2026-05-01T00:00:00Z"));
  assert.equal(iso(last.start), "2026-02-28T00:00:00.000Z");
  assert.equal(iso(last.end), "2026-03-10T00:00:00.000Z");
});

Deno.test("resolvePeriod() accepts started periods of the subscription only", () => {
  const now = d("2026-03-10T00:00:00Z");
  const t = startTimeline({ start_at: d("2026-01-31T00:00:00Z"), trial_days: 0, now });
  const p = resolvePeriod(t, "month", d("2026-01-31T00:00:00Z"), d("2026-02-28T00:00:00Z"), now);
  assert.equal(p.index, 0);
  for (
    const [s, e] of [
      ["2026-02-01T00:00:00Z", "2026-02-28T00:00:00Z"], // not aligned
      ["2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z"], // not started
      ["2025-12-31T00:00:00Z", "2026-01-31T00:00:00Z"], // before start
    ]
  ) {
    assert.throws(
      () => resolvePeriod(t, "month", d(s), d(e), now),
      (err: unknown) => err instanceof BillingError && err.code === "invalid_period",
    );
  }
});
