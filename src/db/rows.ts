/** PGlite returns DATE as a Date, pg (with our parser) as a string: normalise to 'YYYY-MM-DD'. */
export function dateString(v: unknown): string {
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  return String(v);
}

/** jsonb comes back parsed from pg and as text from some drivers; accept both. */
export function jsonValue<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}
