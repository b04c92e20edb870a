/** Seconds since the epoch, as oidc-provider and JWTs count time. */
export function epochSeconds(date = new Date()): number {
  return Math.floor(date.getTime() / 1000);
}

/**
 * Whole years between a birthdate (YYYY-MM-DD) and the UTC date of `on`, the way people count birthdays. Age decisions
 * count on the calendar of billing.timeZone instead (ageIn); this is its arithmetic.
 */
export function ageOn(birthdate: string, on = new Date()): number {
  const [y, m, d] = birthdate.split('-').map(Number) as [number, number, number];
  let age = on.getUTCFullYear() - y;
  const beforeBirthday = on.getUTCMonth() + 1 < m || (on.getUTCMonth() + 1 === m && on.getUTCDate() < d);
  if (beforeBirthday) age -= 1;
  return age;
}

/** One formatter per time zone: building an Intl.DateTimeFormat is far dearer than using one. */
const dateFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * Whole years between a birthdate and the date `on` falls on in `timeZone` (billing.timeZone): a birthday begins at
 * midnight there, not in UTC, hours earlier east of it and later west of it.
 */
export function ageIn(birthdate: string, timeZone: string, on = new Date()): number {
  let f = dateFormats.get(timeZone);
  // en-CA formats as YYYY-MM-DD.
  if (!f) dateFormats.set(timeZone, (f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return ageOn(birthdate, new Date(`${f.format(on)}T00:00:00Z`));
}
