import { AppError } from '../errors.ts';
import type { CardDeps } from './deps.ts';
import type { CodeSettings } from './one-time-code.ts';

/** What a holder's change of contacts needs from the composition root. */
export interface ContactChangeDeps extends CardDeps {
  /** One-time code lifetime, attempts, hourly and daily limits (config oneTimeCodes): the same as the other codes'. */
  codes: CodeSettings;
  /** Mobile numbers typed in national form take this calling code (config cards.mobileCallingCode). */
  mobileCallingCode: string;
}

/** The form fields the codes are entered in, per contact. */
export const CODE_FIELDS = { email: 'email_code', mobile: 'mobile_code', current: 'current_code' } as const;

/** The signed-in holder's card password, typed again, is not right (counted like every password proof). */
export class CardPasswordError extends AppError {
  constructor() {
    super('invalid_credentials', 'The card password is not correct.', { status: 401, fields: { password: 'The card password is not correct.' } });
  }
}

/** The account asked for codes to new contacts too often in the last hour, or (`daily`) in the last 24 hours. */
export class ContactChangeLimitError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, daily = false) {
    const hours = Math.ceil(retryAfterSeconds / 3600);
    const message = daily
      ? `Too many changes were asked for today. Try again ${hours <= 1 ? 'in an hour' : `in ${hours} hours`}, or contact cybercard if you did not ask for them.`
      : `Too many changes were asked for in the last hour. Try again in ${Math.ceil(retryAfterSeconds / 60)} minutes.`;
    super('too_many_requests', message, { status: 429 });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
