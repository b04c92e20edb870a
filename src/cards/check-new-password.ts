import { ValidationError } from '../errors.ts';
import { passwordProblem } from './password-policy.ts';

export interface NewPasswordContext {
  /** The form field the password came from, for the per-field error. */
  field: string;
  birthdate: string;
  /** Digits of the card the password is for. */
  cardNumber: string;
}

/**
 * Refuses a new password for change and reset by the same policy as issuance (length, date of birth,
 * a run of the card's digits, the common-password list), naming the field it came from.
 */
export function checkNewPassword(password: string, ctx: NewPasswordContext): void {
  const problem = passwordProblem(password, { birthdate: ctx.birthdate || undefined, cardNumber: ctx.cardNumber || undefined });
  if (problem) {
    throw new ValidationError('Choose another password.', { [ctx.field]: problem.message }, { [ctx.field]: problem.rule });
  }
}
