/**
 * Billing period arithmetic in UTC.
 *
 * Rule (as Stripe's billing cycle anchor): period *n* starts at `anchor + n × interval`, always
 * computed from the anchor, never from the previous period, and a day of month that does not exist
 * is clamped to the month's last day. So an anchor of Jan 31 gives Feb 28 (Feb 29 in leap years),
 * then Mar 31 again; a yearly anchor of Feb 29 gives Feb 28 in common years. The time of day of the
 * anchor is kept.
 *
 * @module
 */

/** Length of a recurring period. */
export type Interval = "month" | "year";

/** A half-open period `[start, end)` in UTC. */
export interface Period {
  /** First instant of the period (inclusive). */
  start: Date;
  /** First instant after the period (exclusive): the next period's `start`. */
  end: Date;
  /** 0 for the period starting at the anchor, 1 for the next, … */
  index: number;
}

const MS_PER_DAY = 86_400_000;

/** Days in a month (`month` 0-based) of a proleptic Gregorian year. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/**
 * `anchor + count × interval`, clamping the day of month (see module rule).
 *
 * @param count may be negative
 */
export function addIntervals(anchor: Date, interval: Interval, count: number): Date {
  const months = interval === "year" ? count * 12 : count;
  const totalMonths = anchor.getUTCFullYear() * 12 + anchor.getUTCMonth() + months;
  const year = Math.floor(totalMonths / 12);
  const month = totalMonths - year * 12;
  const day = Math.min(anchor.getUTCDate(), daysInMonth(year, month));
  return new Date(Date.UTC(
    year,
    month,
    day,
    anchor.getUTCHours(),
    anchor.getUTCMinutes(),
    anchor.getUTCSeconds(),
    anchor.getUTCMilliseconds(),
  ));
}

/** `date + days × 24 h` (UTC has no daylight saving, so a day is always 86 400 s). */
export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * MS_PER_DAY);
}

/** The period with this index: `[anchor + index, anchor + index + 1)`. */
export function periodAt(anchor: Date, interval: Interval, index: number): Period {
  return {
    start: addIntervals(anchor, interval, index),
    end: addIntervals(anchor, interval, index + 1),
    index,
  };
}

/**
 * The period that contains `at` (`start ≤ at < end`). Instants before the anchor belong to
 * negative indices, which callers normally reject.
 */
export function periodContaining(anchor: Date, interval: Interval, at: Date): Period {
  const monthsApart = (at.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + at.getUTCMonth() -
    anchor.getUTCMonth();
  let index = interval === "year" ? Math.floor(monthsApart / 12) : monthsApart;
  // The estimate is off by at most one in either direction because of clamping and time of day.
  while (addIntervals(anchor, interval, index).getTime() > at.getTime()) index--;
  while (addIntervals(anchor, interval, index + 1).getTime() <= at.getTime()) index++;
  return periodAt(anchor, interval, index);
}

/**
 * The index of the period that starts exactly at `start` and ends exactly at `end`, or `null` when
 * `[start, end)` is not one of the anchor's periods.
 */
export function periodIndexOf(anchor: Date, interval: Interval, start: Date, end: Date): number | null {
  const candidate = periodContaining(anchor, interval, start);
  if (candidate.start.getTime() !== start.getTime() || candidate.end.getTime() !== end.getTime()) return null;
  return candidate.index;
}
