import { ValidationError } from '../errors.ts';

export interface NewPasswordContext {
  /** The form field the password came from, for the per-field error. */
  field: string;
  birthdate: string;
  /** Digits of the card the password is for. */
  cardNumber: string;
}

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * Refuses a new password for change and reset. Interim: the length rule only, until the issuance
 * password policy (src/cards/password-policy.ts, being written alongside) lands and this delegates to it.
 */
export function checkNewPassword(password: string, ctx: NewPasswordContext): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new ValidationError('Choose a longer password.', { [ctx.field]: `Use at least ${MIN_PASSWORD_LENGTH} characters.` });
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new ValidationError('That password is too long.', { [ctx.field]: `Use at most ${MAX_PASSWORD_LENGTH} characters.` });
  }
}
