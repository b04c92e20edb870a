import { bad, ok, type Checked } from './checked.ts';

export const MAX_MOBILE_INPUT = 32;

/**
 * An E.164 number (+ and 8 to 15 digits, no leading 0 in the country code). A number typed in national
 * form (leading 0, e.g. 010-1234-5678) takes the configured calling code. Spaces, dashes, dots and
 * parentheses between digits are dropped, and so is the trunk 0 written after the configured calling code
 * (+82 010-1234-5678, +82 (0)10 1234 5678), which dialling from abroad leaves out: one number, one E.164 form.
 */
export function checkMobile(input: string, callingCode: string): Checked {
  const raw = input.trim();
  const example = `Enter a mobile number like +${callingCode} 10 1234 5678 or 010-1234-5678.`;
  if (!raw) return bad('Enter your mobile number.', 'required');
  if (raw.length > MAX_MOBILE_INPUT) return bad(example);
  // A + only in front, single separators, at most one (area code) in parentheses. Linear checks, no backtracking.
  // Separators only between digits: nothing may trail (010.1234.5678.) or lead except + and (.
  if (!/^\+?[0-9(][0-9 ().-]*[0-9]$/.test(raw) || /[ .-]{2}/.test(raw)) return bad(example);
  if (/[()]/.test(raw.replace(/\([0-9]+\)/, ''))) return bad(example);
  const digits = raw.replace(/[^0-9]/g, '');
  let e164: string;
  if (raw.startsWith('+')) e164 = withoutTrunkZero(`+${digits}`, callingCode);
  else if (/^0[1-9]/.test(digits)) e164 = `+${callingCode}${digits.slice(1)}`;
  else return bad(example);
  if (!/^\+[1-9][0-9]{7,14}$/.test(e164)) return bad(example);
  return ok(e164);
}

/** Korea's national numbers never begin with 0 after +82 (the 0 is only dialled at home): +820… is always +82… . */
const ALWAYS_WITHOUT_TRUNK_ZERO = '82';

/**
 * An international number (or deny-list pattern) without the trunk 0 after the configured calling code: the national
 * form drops that 0 for the calling code (010-… is +8210…), so "+82 010-…" is the same number and must read the same.
 * After +82 the 0 is dropped whatever the configured code (as migration 20261208121938 rewrote stored numbers), so a
 * Korean number typed both ways in a deployment set for another country is one number; other countries' leading 0s
 * are kept, since some are part of the number (Italy's +39 0…).
 */
export function withoutTrunkZero(international: string, callingCode: string): string {
  for (const code of new Set([callingCode, ALWAYS_WITHOUT_TRUNK_ZERO])) {
    const prefix = `+${code}0`;
    if (code && international.startsWith(prefix)) return `+${code}${international.slice(prefix.length)}`;
  }
  return international;
}
