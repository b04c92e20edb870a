import { bad, ok, type Checked } from './checked.ts';

export const MAX_EMAIL_LENGTH = 254;

// RFC 5322 dot-atom local part (no quoted strings, no comments) and an RFC 1035 host name.
const LOCAL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/**
 * A deliverable-looking address, lower-cased (we treat addresses as case-insensitive, as every
 * large provider does). Internationalised addresses must be given in their ASCII (punycode) form.
 */
export function checkEmail(input: string): Checked {
  const email = input.trim().toLowerCase();
  const invalid = 'Enter an email address like name@example.com.';
  if (!email) return bad('Enter your email address.', 'required');
  if (email.length > MAX_EMAIL_LENGTH) return bad(`Use at most ${MAX_EMAIL_LENGTH} characters.`, 'too_long');
  // eslint-disable-next-line no-control-regex
  if (/[^\x21-\x7e]/.test(email)) {
    return /\s/.test(email) ? bad(invalid) : bad('Use the plain (ASCII) form of the address.', 'not_ascii');
  }
  const at = email.lastIndexOf('@');
  if (at < 1 || email.indexOf('@') !== at) return bad(invalid);
  const local = email.slice(0, at);
  const labels = email.slice(at + 1).split('.');
  if (local.length > 64 || !LOCAL.test(local)) return bad(invalid);
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || !TLD.test(labels.at(-1)!)) return bad(invalid);
  return ok(email);
}
