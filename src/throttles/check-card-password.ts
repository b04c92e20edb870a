import { cardNumberHmac, normalizeCardNumber } from '../cards/card-number.ts';
import type { PasswordVia } from '../cards/audit-wrong-password.ts';
import type { CardDeps } from '../cards/deps.ts';
import { matchCardPassword, type TakesInactive } from '../cards/verify-credentials.ts';
import type { Card } from '../db/cards.ts';
import { InvalidCredentialsError } from '../errors.ts';
import { guardAttempt, type AttemptSource, type ThrottleDeps } from './guard-attempt.ts';

export type PasswordOutcome =
  /** The password is right and the card active, or one the page takes (`takes`: a closed card on the holder sign-in). */
  | { kind: 'ok'; card: Card }
  /** The password is right but the card is lost, suspended, closed or pending: its holder may know why. */
  | { kind: 'inactive'; card: Card }
  | { kind: 'wrong' }
  | { kind: 'throttled'; retryAfterSeconds: number }
  | { kind: 'locked'; until: Date | null };

/** The per-card throttle key of a typed card number (its HMAC, hex), or undefined when it cannot be a number. */
export function cardThrottleKey(cardHmacKey: Buffer, cardNumber: string): string | undefined {
  const digits = normalizeCardNumber(cardNumber);
  return digits ? cardNumberHmac(cardHmacKey, digits).toString('hex') : undefined;
}

/**
 * Checks a card number and password (matchCardPassword) under the source throttle and the card lockout
 * (guardAttempt). Unknown numbers and wrong passwords cost one argon2 verify each, count the same, and read the same.
 * `via` says which page it was typed on, for the audit entry of a wrong one (the attempt's request id goes with it);
 * `takes`, which cards that are not active that page still takes.
 */
export async function checkCardPassword(
  deps: { cards: CardDeps; throttle: ThrottleDeps },
  input: { cardNumber: string; password: string; source: AttemptSource; via: PasswordVia; takes?: TakesInactive },
): Promise<PasswordOutcome> {
  const { cards } = deps;
  const guarded = await guardAttempt(
    deps.throttle,
    { source: input.source, cardKey: cardThrottleKey(cards.cardHmacKey, input.cardNumber), check: 'password' },
    async () => {
      const card = await matchCardPassword(cards, input.cardNumber, input.password, { requestId: input.source.requestId, ...input.via }, input.takes);
      if (!card) throw new InvalidCredentialsError();
      return card;
    },
    (err) => err instanceof InvalidCredentialsError,
  );
  switch (guarded.kind) {
    case 'ok':
      // Asked again for an inactive card with the right password (a few rows): matchCardPassword answers only the card.
      return guarded.value.status === 'active' || (input.takes && (await input.takes(guarded.value)))
        ? { kind: 'ok', card: guarded.value }
        : { kind: 'inactive', card: guarded.value };
    case 'failed':
      return { kind: 'wrong' };
    default:
      return guarded;
  }
}
