import { findCardByNumberHmac, type Card } from '../db/cards.ts';
import { InvalidCredentialsError } from '../errors.ts';
import { cardNumberHmac, normalizeCardNumber } from './card-number.ts';
import { auditRefusedLogin } from './audit-refused-login.ts';
import { auditWrongPassword, type PasswordVia } from './audit-wrong-password.ts';
import type { CardDeps } from './deps.ts';

/**
 * The card for this number and password, whatever its status, or undefined. Unknown numbers and wrong
 * passwords cost one argon2 verify each and read the same; an attempt on a card that is not active is
 * audited (an old number in use after a reissue is worth knowing about), and so is a wrong password for an
 * active one (its holder sees it), saying where it was typed (`via`). A right one for an active card writes nothing.
 */
export async function matchCardPassword(deps: CardDeps, cardNumber: string, password: string, via?: PasswordVia): Promise<Card | undefined> {
  const digits = normalizeCardNumber(cardNumber);
  const card = digits ? await findCardByNumberHmac(deps.db, cardNumberHmac(deps.cardHmacKey, digits)) : undefined;
  const ok = await deps.hasher.verify(card?.passwordHash, password);
  if (card && card.status !== 'active') await auditRefusedLogin(deps.db, card, ok, via);
  else if (card && !ok) await auditWrongPassword(deps.db, card, via);
  return card && ok ? card : undefined;
}

/**
 * The active card for this number and password, or InvalidCredentialsError.
 * Unknown numbers, inactive cards and wrong passwords cost one argon2 verify each and read the same.
 */
export async function verifyCredentials(deps: CardDeps, cardNumber: string, password: string, via?: PasswordVia): Promise<Card> {
  const card = await matchCardPassword(deps, cardNumber, password, via);
  if (!card || card.status !== 'active') throw new InvalidCredentialsError();
  return card;
}
