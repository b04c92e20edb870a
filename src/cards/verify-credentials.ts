import { findCardByNumberHmac, type Card } from '../db/cards.ts';
import { InvalidCredentialsError } from '../errors.ts';
import { cardNumberHmac, normalizeCardNumber } from './card-number.ts';
import { auditRefusedLogin } from './audit-refused-login.ts';
import { auditWrongPassword, type PasswordVia } from './audit-wrong-password.ts';
import type { CardDeps } from './deps.ts';

/** Whether the page the password was typed on takes this card that is not active (a closed one on the holder sign-in). */
export type TakesInactive = (card: Card) => Promise<boolean>;

/**
 * The card for this number and password, whatever its status, or undefined. Unknown numbers and wrong
 * passwords cost one argon2 verify each and read the same; an attempt on a card that is not active is
 * audited (an old number in use after a reissue is worth knowing about), and so is a wrong password for an
 * active one (its holder sees it), saying where it was typed (`via`). A right one for an active card writes nothing.
 * A card that is not active but that the page takes (`takes`) counts as an active one here.
 */
export async function matchCardPassword(
  deps: CardDeps,
  cardNumber: string,
  password: string,
  via?: PasswordVia,
  takes?: TakesInactive,
): Promise<Card | undefined> {
  const digits = normalizeCardNumber(cardNumber);
  const card = digits ? await findCardByNumberHmac(deps.db, cardNumberHmac(deps.cardHmacKey, digits)) : undefined;
  const ok = await deps.hasher.verify(card?.passwordHash, password);
  const usable = card?.status === 'active' || (card !== undefined && takes !== undefined && (await takes(card)));
  if (card && !usable) await auditRefusedLogin(deps.db, card, ok, via);
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
