import { InvalidCodeError, TooManyCodeAttemptsError } from '../cards/one-time-code.ts';
import { AppError, InvalidCredentialsError } from '../errors.ts';
import type { Guessable } from '../lib/event-counts.ts';
import { cardThrottleKey } from './check-card-password.ts';
import { countAgainstSource, guardAttempt, lockedMessage, throttledMessage, type AttemptSource, type ThrottleDeps } from './guard-attempt.ts';

/** A guessable check refused before it ran: the source must wait (429, Retry-After) or the card is locked (423). */
export class AttemptRefusedError extends AppError {
  readonly retryAfterSeconds: number | undefined;
  constructor(kind: 'throttled' | 'locked', message: string, retryAfterSeconds?: number) {
    super(kind === 'throttled' ? 'too_many_attempts' : 'card_locked', message, { status: kind === 'throttled' ? 429 : 423 });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Runs an action that proves a card by its password outside the login page (a lost-card report, a
 * password change, a guardian's consent to a minor's application) under the same source throttle and
 * card lockout, so no page is a way round them. A failure `isFailure` recognises (by default a wrong
 * password) counts against the card and the source; any other outcome gives the attempt back.
 */
export async function guardProof<T>(
  deps: ThrottleDeps,
  who: { source: AttemptSource; cardNumber: string },
  action: () => Promise<T>,
  isFailure: (err: unknown) => boolean = (err) => err instanceof InvalidCredentialsError,
): Promise<T> {
  return guardGuess(deps, { source: who.source, cardKey: cardThrottleKey(deps.cardHmacKey, who.cardNumber), check: 'password' }, action, isFailure);
}

/**
 * guardProof for a check that knows its card by throttle key (a signed-in holder's card), or counts against the
 * source alone (`cardKey` undefined: a one-time code, whose wrong guesses must not lock the card it would unlock).
 */
export async function guardGuess<T>(
  deps: ThrottleDeps,
  who: { source: AttemptSource; cardKey: string | undefined; check: Guessable },
  action: () => Promise<T>,
  isFailure: (err: unknown) => boolean,
): Promise<T> {
  const guarded = await guardAttempt(deps, who, action, isFailure);
  switch (guarded.kind) {
    case 'ok':
      return guarded.value;
    case 'failed':
      throw guarded.error;
    case 'throttled':
      throw new AttemptRefusedError('throttled', throttledMessage(guarded.retryAfterSeconds), guarded.retryAfterSeconds);
    case 'locked':
      throw new AttemptRefusedError('locked', lockedMessage(guarded.until, deps.timeZone));
  }
}

/**
 * A one-time code's check (lost card, reissue, password reset) under the source throttle alone: one network or
 * browser trying codes across many cards is guessing too, but a wrong code must not lock the card it would unlock.
 */
export function guardCode<T>(deps: ThrottleDeps, source: AttemptSource, action: () => Promise<T>): Promise<T> {
  return guardGuess(
    deps,
    { source, cardKey: undefined, check: 'one_time_code' },
    action,
    (err) => err instanceof InvalidCodeError || err instanceof TooManyCodeAttemptsError,
  );
}

/** Runs `action` (sending a one-time code) once the source may: counted against it like a guess (countAgainstSource). */
export async function guardCodeRequest<T>(deps: ThrottleDeps, source: AttemptSource, action: () => Promise<T>): Promise<T> {
  const wait = await countAgainstSource(deps, source);
  if (wait !== undefined) throw new AttemptRefusedError('throttled', throttledMessage(wait), wait);
  return action();
}
