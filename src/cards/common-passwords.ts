import { dictionary } from '@zxcvbn-ts/language-common';
import { MIN_PASSWORD_LENGTH } from './password-limits.ts';

let common: Set<string> | undefined;

/**
 * True for a password on zxcvbn-ts's list of the ~49,000 most common leaked passwords (compared
 * case-insensitively). Shorter entries are dropped: the length rule refuses them anyway.
 */
export function isCommonPassword(password: string): boolean {
  common ??= new Set(
    dictionary['passwords-common'].filter((p) => p.length >= MIN_PASSWORD_LENGTH).map((p) => p.toLowerCase()),
  );
  return common.has(password.toLowerCase());
}
