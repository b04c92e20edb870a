/** Calendar dates (YYYY-MM-DD) in the billing time zone; instants stay Dates. */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;

/** Today's date in `timeZone`. */
export function todayIn(timeZone: string, now = new Date()): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** True for a real calendar date written YYYY-MM-DD (2026-02-30 is not). */
export function isCalendarDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s && Number(m[1]) >= 2000;
}

/** A month written YYYY-MM → its first day and the first day of the next month. */
export function monthRange(month: string): { start: string; end: string } | undefined {
  const m = MONTH.exec(month);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  if (mo < 1 || mo > 12 || y < 2000 || y > 9999) return undefined;
  const pad = (n: number) => String(n).padStart(2, '0');
  const next = mo === 12 ? `${y + 1}-01` : `${y}-${pad(mo + 1)}`;
  return { start: `${y}-${pad(mo)}-01`, end: `${next}-01` };
}

/** The month (YYYY-MM) `by` months after `month` (negative: before). */
export function shiftMonth(month: string, by: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return fromParts(y, m + by, 1).slice(0, 7);
}

function fromParts(y: number, m: number, d: number): string {
  return new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);
}

/** `date` (YYYY-MM-DD) plus `days` (negative: minus), as a calendar date. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return fromParts(y, m, d + days);
}

/** The first date after `date` that is day `day` (1–28) of its month. */
export function nextStatementDate(day: number, date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return d < day ? fromParts(y, m, day) : fromParts(y, m + 1, day);
}
