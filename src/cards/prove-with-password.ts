import { findCard, type Card, type CardStatus } from '../db/cards.ts';
import { AppError, InvalidCredentialsError } from '../errors.ts';
import { auditWrongPassword, type PasswordVia } from './audit-wrong-password.ts';
import { CardPasswordError } from './contact-change.ts';
import type { CardDeps } from './deps.ts';
import { findCardByNumber } from './find-card-by-number.ts';
import { signsInClosed } from './former-holder.ts';

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
  /**
   * The refusal for a closed card's right password when that card still signs its former holder in: the holder pages'
   * sign-in says it is closed to that password already, so this page may say so too, and where it still works.
   */
  closedError?: () => AppError,
): Promise<Card> {
  const card = await findCardByNumber(deps.db, deps.cardHmacKey, cardNumber);
  const ok = await deps.hasher.verify(card?.passwordHash, password);
  if (card && !ok && card.status === 'active') await auditWrongPassword(deps.db, card, via);
  if (card && ok && closedError && !statuses.includes(card.status) && (await signsInClosed(deps.db, card))) throw closedError();
  if (!card || !ok || !statuses.includes(card.status)) throw new InvalidCredentialsError();
  return card;
}

/**
 * The signed-in holder's card, when the password typed again (a session may be old) is right, the card active (or in
 * one of `statuses`: a closed card's former holder downloads their data and keeps their contacts current) and the
 * account's: CardPasswordError otherwise. A wrong one is audited with where it was typed, as proveWithPassword does.
 */
export async function proveSignedInCard(
  deps: Pick<CardDeps, 'db' | 'hasher'>,
  p: { cardId: string; accountId: string; password: string; via: PasswordVia; statuses?: readonly CardStatus[] },
): Promise<Card> {
  const statuses = p.statuses ?? ['active'];
  const card = await findCard(deps.db, p.cardId);
  const ok = await deps.hasher.verify(card?.passwordHash, p.password);
  if (card && !ok && statuses.includes(card.status)) await auditWrongPassword(deps.db, card, p.via);
  if (!card || !ok || !statuses.includes(card.status) || card.accountId !== p.accountId) throw new CardPasswordError();
  return card;
}
