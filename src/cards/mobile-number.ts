import { bad, ok, type Checked } from './checked.ts';

export const MAX_MOBILE_INPUT = 32;

/**
 * An E.164 number (+ and 8 to 15 digits, no leading 0 in the country code). A number typed in national
 * form (leading 0, e.g. 010-1234-5678) takes the configured calling code. Spaces, dashes, dots and
 * parentheses between digits are dropped.
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
  if (raw.startsWith('+')) e164 = `+${digits}`;
  else if (/^0[1-9]/.test(digits)) e164 = `+${callingCode}${digits.slice(1)}`;
  else return bad(example);
  if (!/^\+[1-9][0-9]{7,14}$/.test(e164)) return bad(example);
  return ok(e164);
}
