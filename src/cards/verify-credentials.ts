import { findCardByNumberHmac, type Card } from '../db/cards.ts';
import { InvalidCredentialsError } from '../errors.ts';
import { cardNumberHmac, normalizeCardNumber } from './card-number.ts';
import { auditRefusedLogin } from './audit-refused-login.ts';
import type { CardDeps } from './deps.ts';

/**
 * The active card for this number and password, or InvalidCredentialsError.
 * Unknown numbers, inactive cards and wrong passwords cost one argon2 verify each and read the same.
 */
export async function verifyCredentials(deps: CardDeps, cardNumber: string, password: string): Promise<Card> {
  const digits = normalizeCardNumber(cardNumber);
  const card = digits ? await findCardByNumberHmac(deps.db, cardNumberHmac(deps.cardHmacKey, digits)) : undefined;
  const ok = await deps.hasher.verify(card?.passwordHash, password);
  if (card && card.status !== 'active') await auditRefusedLogin(deps.db, card, ok);
  if (!card || !ok || card.status !== 'active') throw new InvalidCredentialsError();
  return card;
}
