import { isCommonPassword } from './common-passwords.ts';
import { CARD_DIGIT_RUN, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password-limits.ts';

export type PasswordRule = 'too_short' | 'too_long' | 'birthdate' | 'card_digits' | 'common';

export interface PasswordProblem {
  rule: PasswordRule;
  message: string;
}

export interface PasswordContext {
  /** The holder's date of birth, YYYY-MM-DD. */
  birthdate?: string | undefined;
  /** Digits of the card the password is for, when it already has a number. */
  cardNumber?: string | undefined;
  /** The issuer prefix every card number starts with (known before the number is drawn). */
  issuerPrefix?: string | undefined;
}

// Separators people put between groups of digits: 1990-05-17, 9405 1234, 17.05.1990.
const SEPARATORS = /[\s\-./_,]+/g;

/** Maximal runs of digits in the password, with separators between digits dropped. */
function digitRuns(password: string): string[] {
  return password.replace(/(?<=\d)[\s\-./_,]+(?=\d)/g, '').match(/\d+/g) ?? [];
}

/** True when the password holds a run of `run` or more digits that also appears in `digits`. */
export function sharesDigitRun(password: string, digits: string, run = CARD_DIGIT_RUN): boolean {
  if (digits.length < run) return false;
  for (const r of digitRuns(password)) {
    for (let i = 0; i + run <= r.length; i++) if (digits.includes(r.slice(i, i + run))) return true;
  }
  return false;
}

/** The date of birth written the common ways, as bare digits (19900517, 170590, 1990517, …). */
function birthdateSpellings(birthdate: string): string[] {
  const [yyyy, mm, dd] = birthdate.split('-') as [string, string, string];
  const yy = yyyy.slice(2);
  const m = String(Number(mm));
  const d = String(Number(dd));
  const forms = new Set<string>();
  for (const y of [yyyy, yy]) {
    for (const [mo, da] of [[mm, dd], [m, d]] as const) {
      forms.add(y + mo + da);
      forms.add(da + mo + y);
      forms.add(mo + da + y);
    }
  }
  // Fewer than six digits (yy + m + d = 951 7) match too much of anything to be a rule.
  return [...forms].filter((f) => f.length >= 6);
}

function containsBirthdate(password: string, birthdate: string): boolean {
  const bare = password.replace(SEPARATORS, '');
  return birthdateSpellings(birthdate).some((f) => bare.includes(f));
}

/**
 * The first rule the password breaks, or undefined: at least 8 characters (code points), no date of
 * birth in any common format, no run of 6+ digits from the card number or issuer prefix, not on the
 * common-password list. Any printable character is allowed (NIST SP 800-63B §5.1.1.2).
 */
export function passwordProblem(password: string, ctx: PasswordContext = {}): PasswordProblem | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    return { rule: 'too_short', message: `Use at least ${MIN_PASSWORD_LENGTH} characters.` };
  }
  if (length > MAX_PASSWORD_LENGTH) {
    return { rule: 'too_long', message: `Use at most ${MAX_PASSWORD_LENGTH} characters.` };
  }
  if (ctx.birthdate && containsBirthdate(password, ctx.birthdate)) {
    return { rule: 'birthdate', message: 'Do not use your date of birth in your password.' };
  }
  for (const digits of [ctx.cardNumber, ctx.issuerPrefix]) {
    if (digits && sharesDigitRun(password, digits)) {
      return { rule: 'card_digits', message: `Do not use ${CARD_DIGIT_RUN} or more digits of a card number in your password.` };
    }
  }
  if (isCommonPassword(password)) {
    return { rule: 'common', message: 'That password is one of the most common ones. Choose another.' };
  }
  return undefined;
}
