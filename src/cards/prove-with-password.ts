import type { Card, CardStatus } from '../db/cards.ts';
import { InvalidCredentialsError } from '../errors.ts';
import { auditWrongPassword, type PasswordVia } from './audit-wrong-password.ts';
import type { CardDeps } from './deps.ts';
import { findCardByNumber } from './find-card-by-number.ts';

/**
 * The card, when the password is right and the card is in one of `statuses` (e.g. a suspended card may
 * still be reported lost). Unknown numbers, wrong passwords and other statuses read the same. A wrong
 * password for an active card is audited with where it was typed (`via`), as at the login page.
 */
export async function proveWithPassword(
  deps: CardDeps,
  cardNumber: string,
  password: string,
  statuses: readonly CardStatus[],
  via?: PasswordVia,
): Promise<Card> {
  const card = await findCardByNumber(deps.db, deps.cardHmacKey, cardNumber);
  const ok = await deps.hasher.verify(card?.passwordHash, password);
  if (card && !ok && card.status === 'active') await auditWrongPassword(deps.db, card, via);
  if (!card || !ok || !statuses.includes(card.status)) throw new InvalidCredentialsError();
  return card;
}
