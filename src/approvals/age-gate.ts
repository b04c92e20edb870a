import { ageIn } from '../lib/clock.ts';

/** The age a request demands: the member site's registered rating, raised (never lowered) by the request. */
export function requiredAge(siteRating: number, requestRatings: readonly number[]): number {
  return Math.max(siteRating, ...requestRatings, 0);
}

/** A request's ages: the member site's own rating, and the age the request demands (requiredAge: never below it). */
export interface AgeRule {
  siteRating: number;
  requiredAge: number;
}

/**
 * Whose rating a refusal comes from: the member site's own (the site is rated for it), or only the request's
 * (its authorization_details `rating` raised it above the site's: this content is rated, the site is not).
 */
export type RatedBy = 'site' | 'request';

/**
 * The calendar every age is counted on: that of `timeZone` (billing.timeZone), where a birthday begins at midnight,
 * as applications count it (cards/apply.ts), at `now` (the app's clock; the real one by default).
 */
export interface AgeCalendar {
  timeZone: string;
  now?: (() => Date) | undefined;
}

/** Whose rating reaches `age`: the site's own when it does, else only the request's. */
export function ratedBy(rule: AgeRule, age: number): RatedBy {
  return rule.siteRating >= age ? 'site' : 'request';
}

/**
 * Which rating keeps a holder born on `birthdate` out, or null when they are old enough: the site's own when
 * they are under it (or their birthdate is unknown), else the request's. Told apart so that the holder hears
 * whether the site or only this content is out of reach.
 */
export function ratingThatRefuses(rule: AgeRule, birthdate: string | undefined, calendar: AgeCalendar): RatedBy | null {
  if (rule.requiredAge <= 0 || (birthdate && isOldEnough(birthdate, rule.requiredAge, calendar))) return null;
  return birthdate && isOldEnough(birthdate, rule.siteRating, calendar) ? 'request' : 'site';
}

/** True when a holder born on `birthdate` is at least `age` today on the calendar's day. */
export function isOldEnough(birthdate: string, age: number, calendar: AgeCalendar): boolean {
  return age <= 0 || ageToday(birthdate, calendar) >= age;
}

/** Minimal-disclosure age claims (ISO 18013-5 style) for the given thresholds only, counted as the age gate counts. */
export function ageClaims(birthdate: string, thresholds: readonly number[], calendar: AgeCalendar): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  const age = ageToday(birthdate, calendar);
  for (const t of new Set(thresholds)) if (t > 0) out[`age_over_${t}`] = age >= t;
  return out;
}

function ageToday(birthdate: string, calendar: AgeCalendar): number {
  return ageIn(birthdate, calendar.timeZone, calendar.now?.() ?? new Date());
}
