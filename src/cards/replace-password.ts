import { appendAudit } from '../db/audit-log.ts';
import { lockCard, setCardPassword, type Card } from '../db/cards.ts';
import { retireContactChanges } from '../db/contact-changes.ts';
import type { Trx } from '../db/knex.ts';
import { ConflictError } from '../errors.ts';
import { notifyHolder } from '../notifications/notify.ts';
import { signsInClosed } from './former-holder.ts';

export interface PasswordReplacement {
  cardId: string;
  passwordHash: string;
  /** Refuse unless the card still has this hash (the one the holder just proved). */
  expectHash?: string;
  method: 'change' | 'reset';
  /** Also a closed card that still signs its former holder in (former-holder.ts): a reset proven by a code. */
  formerHolder?: boolean;
  actor: string;
  requestId?: string | undefined;
}

/**
 * Stores the active card's (or, with formerHolder, a former holder's closed card's) new password hash, records it, retires a pending change of contacts and tells the holder, in
 * the caller's transaction.
 */
export async function replacePassword(trx: Trx, r: PasswordReplacement): Promise<Card> {
  const card = await lockCard(trx, r.cardId);
  const takes = card !== undefined && (card.status === 'active' || (r.formerHolder === true && (await signsInClosed(trx, card))));
  if (!card || !takes || (r.expectHash !== undefined && card.passwordHash !== r.expectHash)) {
    throw new ConflictError('The card changed in the meantime. Please try again.');
  }
  await setCardPassword(trx, card.id, r.passwordHash);
  // A change of contacts asked with the old password (perhaps by whoever knew it) does not outlive it.
  await retireContactChanges(trx, card.accountId);
  await appendAudit(trx, {
    actor: r.actor,
    action: 'card.password_changed',
    subjectType: 'card',
    subjectId: card.id,
    details: { accountId: card.accountId, method: r.method },
    requestId: r.requestId,
  });
  await notifyHolder(trx, card.accountId, 'password_changed', { last4: card.last4, method: r.method });
  return { ...card, passwordHash: r.passwordHash };
}
