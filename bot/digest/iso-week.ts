/** ISO 8601 weeks (Monday to Monday, UTC, numbered by the year of their Thursday), for the digest. */

const DAY_MS = 24 * 3600 * 1000;

/** An ISO week and the UTC instants it spans. */
export interface IsoWeek {
  label: string; // 2026-W48
  start: number;
  end: number;
}

/** The ISO week that contains `at`. */
export function isoWeekOf(at: number): IsoWeek {
  const day = new Date(at);
  const midnight = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
  const weekday = (day.getUTCDay() + 6) % 7; // Monday = 0
  const start = midnight - weekday * DAY_MS;
  const thursday = new Date(start + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY_MS)) + 1;
  return { label: `${year}-W${String(week).padStart(2, '0')}`, start, end: start + 7 * DAY_MS };
}

/** The week a digest sent at `at` reports on: the last full week, or the current one (`current`). */
export function reportedWeek(at: number, current = false): IsoWeek {
  return isoWeekOf(current ? at : isoWeekOf(at).start - 1);
}
