import type { Card, CardStatus } from '../db/cards.ts';
import type { Conn, Db } from '../db/knex.ts';
import type { CodePurpose } from '../db/one-time-codes.ts';
import { AppError } from '../errors.ts';
import { hmacSha256 } from '../lib/hmac.ts';
import { signsInClosed } from './former-holder.ts';

export type { CodePurpose };

export interface CodeSettings {
  ttlSeconds: number;
  /** Wrong guesses a code survives before it is dead. */
  maxAttempts: number;
  /** Codes a card may be sent per purpose per hour: with maxAttempts, bounds the guesses per hour. */
  maxPerHour: number;
  /** Codes a card may be sent per purpose in any 24 hours: with maxAttempts, bounds the guesses for good (README, Security). */
  maxPerDay: number;
  /**
   * Codes a card may be sent per purpose in any 24 hours at the asking of a device known to its account, beside
   * maxPerDay (which anyone who knows the number can spend): the holder's reserve. 0: none.
   */
  knownDeviceMaxPerDay: number;
}

export interface CodeDeps {
  db: Db;
  cardHmacKey: Buffer;
  codes: CodeSettings;
}

export const CODE_DIGITS = 6;

/** Whole minutes a code lives (config oneTimeCodes.ttlSeconds): what the message carrying it and the code pages say. */
export function codeMinutes(codes: Pick<CodeSettings, 'ttlSeconds'>): number {
  return Math.ceil(codes.ttlSeconds / 60);
}

/**
 * Which cards a code may be sent to, per purpose, and which template carries it. `formerHolder`: also a closed card
 * that still signs its former holder in (former-holder.ts), so one who forgot the password can still see and pay what is owed.
 */
export const CODE_PURPOSES: Readonly<Record<CodePurpose, { eligible: readonly CardStatus[]; formerHolder?: true; template: string }>> = {
  // Not a suspended card: lost, its holder could reissue it round the operator's block.
  lost_card: { eligible: ['active'], template: 'lost_card_code' },
  // Not around an operator's block: a suspended card is reissued by the operator only.
  reissue: { eligible: ['active', 'lost'], template: 'reissue_code' },
  password_reset: { eligible: ['active'], formerHolder: true, template: 'password_reset_code' },
};

/** Whether a code of this purpose may be sent to, or prove, this card (CODE_PURPOSES). */
export async function takesCode(conn: Conn, purpose: CodePurpose, card: Card): Promise<boolean> {
  const { eligible, formerHolder } = CODE_PURPOSES[purpose];
  if (eligible.includes(card.status)) return true;
  return formerHolder === true && (await signsInClosed(conn, card));
}

/** The stored form of a code: keyed, and bound to its row so a hash means nothing elsewhere. */
export function hashCode(key: Buffer, codeId: string, code: string): Buffer {
  return hmacSha256(key, `one-time-code:${codeId}:${code}`);
}

/** The holder's words for a wrong guess at a live code: how many tries it has left (at least one). */
function triesLeft(remaining: number): string {
  return remaining === 1 ? 'That code is not correct. You can try once more.' : `That code is not correct. You can try ${remaining} more times.`;
}

export class InvalidCodeError extends AppError {
  /**
   * `fields`: which code fields were wrong, on a form with more than one. `remaining`: the tries a live code has left
   * after this wrong one; absent when there is no code to try again (none, expired, used or replaced): ask for a new one.
   */
  constructor(fields: readonly string[] = ['code'], remaining?: number) {
    const live = remaining !== undefined && remaining > 0;
    super('invalid_code', live ? triesLeft(remaining) : 'That code is not right, has expired or was already used. Check the latest code sent to you, or ask for a new one.', {
      status: 400,
      fields: Object.fromEntries(fields.map((f) => [f, live ? 'Not correct.' : 'Not right, expired or already used.'])),
    });
  }
}

export class TooManyCodeAttemptsError extends AppError {
  constructor(fields: readonly string[] = ['code']) {
    super('too_many_attempts', 'Too many wrong codes. Ask for a new one.', {
      status: 429,
      fields: Object.fromEntries(fields.map((f) => [f, 'Too many wrong attempts: ask for a new code.'])),
    });
  }
}

/**
 * The number was asked config oneTimeCodes.maxPerDay codes of this purpose in the day (and, from a device known to the
 * card's account, its knownDeviceMaxPerDay too): no more until the day is over. The words are the same for any number, a
 * card's or not, and say where a holder still gets a code: a browser they logged in or signed in with, whose share is kept.
 */
export class CodeLimitError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    const hours = Math.ceil(retryAfterSeconds / 3600);
    const when = hours <= 1 ? 'in an hour' : `in ${hours} hours`;
    super(
      'too_many_codes',
      `Codes for this card were asked for too many times today. Ask from a browser you have logged in with at a member site or on your cybercard pages, or try again ${when}. If you did not ask for them, contact cybercard.`,
      { status: 429 },
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
