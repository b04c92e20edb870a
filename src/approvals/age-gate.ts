import { ageOn } from '../lib/clock.ts';

/** The age a request demands: the member site's registered rating, raised (never lowered) by the request. */
export function requiredAge(siteRating: number, requestRatings: readonly number[]): number {
  return Math.max(siteRating, ...requestRatings, 0);
}

/** True when a holder born on `birthdate` is at least `age` today. */
export function isOldEnough(birthdate: string, age: number, today = new Date()): boolean {
  return age <= 0 || ageOn(birthdate, today) >= age;
}

/** Minimal-disclosure age claims (ISO 18013-5 style) for the given thresholds only. */
export function ageClaims(birthdate: string, thresholds: readonly number[], today = new Date()): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const t of new Set(thresholds)) if (t > 0) out[`age_over_${t}`] = ageOn(birthdate, today) >= t;
  return out;
}
