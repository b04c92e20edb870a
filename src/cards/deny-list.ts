import { plainApostrophes } from './legal-name.ts';
import { withoutTrunkZero } from './mobile-number.ts';

export interface DenyListPatterns {
  names: readonly string[];
  emails: readonly string[];
  mobiles: readonly string[];
}

/** Patterns folded the way the values they are matched against are. */
export interface DenyList {
  names: readonly string[];
  emails: readonly string[];
  mobiles: readonly string[];
}

/**
 * How names are compared: compatibility-folded, lower case, single spaces, plain apostrophes, and no period, hyphen,
 * apostrophe or space at either end ("Kim Minsu." is "Kim Minsu"), as db/applications.ts PERSON_NAME folds them.
 */
export function foldName(name: string): string {
  return plainApostrophes(name.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ')).replace(/^[ .'-]+/, '').replace(/[ .'-]+$/, '');
}

/**
 * Glob match: `*` any run, `?` one character, everything else literal. The two-pointer wildcard
 * algorithm is O(pattern × text) at worst, so no pattern in config can make a check slow (a regex could).
 */
export function globMatch(pattern: string, text: string): boolean {
  const p = [...pattern];
  const t = [...text];
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  while (j < t.length) {
    if (i < p.length && (p[i] === '?' || p[i] === t[j])) {
      i++;
      j++;
    } else if (i < p.length && p[i] === '*') {
      star = i++;
      mark = j;
    } else if (star >= 0) {
      i = star + 1;
      j = ++mark;
    } else {
      return false;
    }
  }
  while (p[i] === '*') i++;
  return i === p.length;
}

/**
 * Folds the configured patterns once, at start-up (names like names, emails to lower case, mobiles to the E.164 form
 * numbers are stored in: "010-999*" with calling code 82 becomes "+8210999*").
 */
export function compileDenyList(p: DenyListPatterns, mobileCallingCode = ''): DenyList {
  return {
    names: p.names.map(foldName),
    emails: p.emails.map((e) => e.trim().toLowerCase()),
    mobiles: p.mobiles.map((m) => e164Pattern(m, mobileCallingCode)),
  };
}

function e164Pattern(pattern: string, callingCode: string): string {
  const compact = pattern.trim().replace(/[\s().-]/g, '');
  if (compact.startsWith('+') || !callingCode) return withoutTrunkZero(compact, callingCode);
  return compact.startsWith('0') ? `+${callingCode}${compact.slice(1)}` : compact;
}

/** True when the (normalised) name, email or mobile matches a deny-list pattern. */
export function onDenyList(list: DenyList, who: { legalName: string; email: string; mobile: string }): boolean {
  const name = foldName(who.legalName);
  return (
    list.names.some((g) => globMatch(g, name)) ||
    list.emails.some((g) => globMatch(g, who.email)) ||
    list.mobiles.some((g) => globMatch(g, who.mobile))
  );
}
