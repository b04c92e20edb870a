import { ageIn } from '../lib/clock.ts';
import { bad, ok, type Checked } from './checked.ts';

/** Nobody older than this is taken to be applying: an older date is a typo (1924 for 1994). */
export const OLDEST_AGE = 120;
// The date is already "today" somewhere up to 14 hours ahead of UTC (UTC+14, Line Islands).
const AHEAD_OF_UTC_MS = 14 * 3600 * 1000;

/**
 * A real calendar date as YYYY-MM-DD, not in the future and not more than OLDEST_AGE years ago, the years counted on
 * the calendar of `timeZone` (billing.timeZone), as every other age is (ageIn).
 */
export function checkBirthdate(input: string, timeZone: string, now = new Date()): Checked {
  const s = input.trim();
  if (!s) return bad('Enter your date of birth.', 'required');
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return bad('Use the form YYYY-MM-DD, for example 1990-05-17.', 'invalid_format');
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // setUTCFullYear, not Date.UTC, which reads the years 0–99 as 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    return bad('That date does not exist.', 'no_such_date');
  }
  const latest = new Date(now.getTime() + AHEAD_OF_UTC_MS).toISOString().slice(0, 10);
  if (s > latest) return bad('The date of birth cannot be in the future.', 'in_future');
  if (ageIn(s, timeZone, now) > OLDEST_AGE) return bad(`Check the year: that is more than ${OLDEST_AGE} years ago.`, 'too_old');
  return ok(s);
}
