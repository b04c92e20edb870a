import { z } from 'zod';
import { hasControlCharacters } from '../lib/control-characters.ts';
import { MAX_AMOUNT } from '../lib/money.ts';
import { normalizeCardNumber } from './card-number.ts';
import { CODE_DIGITS } from './one-time-code.ts';

const NO_CONTROL = 'Contains characters that are not allowed.';

/** One line of text, at most `max` characters, no control characters; `missing`, when given, is what an absent one is told. */
export function plainText(max: number, missing?: string) {
  return z
    .string({ error: (issue) => (missing !== undefined && issue.input === undefined ? missing : 'Send this as text.') })
    .max(max, `Use at most ${max} characters.`)
    .refine((s) => !hasControlCharacters(s), NO_CONTROL);
}

/** A typed card number (spaces and dashes allowed), as its 16 digits. */
export const cardNumberField = z
  .string({ error: 'Enter the 16-digit card number.' })
  .max(40, 'Enter the 16-digit card number.')
  .refine((s) => s.length > 0, 'Enter the 16-digit card number.')
  .refine((s) => normalizeCardNumber(s) !== undefined, 'This is not a valid card number (16 digits).')
  .transform((s) => normalizeCardNumber(s) ?? '');

/** A password as typed: never trimmed, any printable characters. */
export const passwordField = z
  .string({ error: 'Enter the password.' })
  .min(1, 'Enter the password.')
  .max(1024, 'That password is too long.')
  .refine((s) => !/[\u0000-\u001F\u007F\uFFFD]/.test(s), NO_CONTROL);

export const codeField = z
  .string({ error: `Enter the ${CODE_DIGITS}-digit code.` })
  .max(20, `Enter the ${CODE_DIGITS}-digit code.`)
  .transform((s) => s.replace(/\s/g, ''))
  .refine((s) => new RegExp(`^\\d{${CODE_DIGITS}}$`).test(s), `Enter the ${CODE_DIGITS}-digit code.`);

const SAY_WHY = 'Say why (it goes into the audit trail).';

/** Why an operator acts: kept in the audit trail. */
export const reasonField = plainText(500, SAY_WHY)
  .transform((s) => s.trim())
  .refine((s) => s.length > 0, SAY_WHY);

/** A credit limit in integer minor units. */
const CREDIT_LIMIT = `A whole number of minor units from 0 to ${MAX_AMOUNT}.`;
/** A credit limit, as large as any amount may be (lib/money MAX_AMOUNT): far below 2^53, so balances stay exact. */
export const creditLimitField = z.number({ error: CREDIT_LIMIT }).int(CREDIT_LIMIT).min(0, CREDIT_LIMIT).max(MAX_AMOUNT, CREDIT_LIMIT);

/** An amount typed on a page, its digits grouped by commas as the pages show amounts (1,000) or not: the commas dropped. */
export function ungroupDigits(typed: string): string {
  return /^\d{1,3}(,\d{3})+$/.test(typed) ? typed.replace(/,/g, '') : typed;
}
