import { appendAudit, type AuditEntry } from '../db/audit-log.ts';
import { insertCardUnlessNumberTaken } from '../db/cards.ts';
import type { Trx } from '../db/knex.ts';
import { newId } from '../lib/ids.ts';
import { cardNumberHmac, generateCardNumber } from './card-number.ts';
import type { CardDeps } from './deps.ts';
import { sharesDigitRun } from './password-policy.ts';
import { statusChangeEntry } from './transition.ts';

export interface CardToIssue {
  accountId: string;
  /** The chosen password: a number sharing a run of its digits is drawn again. */
  password: string;
  passwordHash: string;
  actor: string;
  requestId?: string | undefined;
  /**
   * Issue it active at once, for this reason (an application approved automatically). The audit trail
   * still shows the card issued pending and then pending → active, like every other card's.
   */
  activate?: { reason: string };
  /**
   * Entries the caller records in the same statement as the card's, before and after them (the account
   * it opened, the application it decided): one round trip instead of three.
   */
  precedingAudit?: readonly AuditEntry[];
  followingAudit?: (card: NewCard) => readonly AuditEntry[];
}

export interface NewCard {
  cardId: string;
  /** The full number: returned once, never stored (only its HMAC and last four digits are). */
  cardNumber: string;
  last4: string;
}

/** Draws before giving up; a clash among 10^9 bodies is already vanishingly rare. */
export const MAX_NUMBER_DRAWS = 5;

export class CardNumberExhaustedError extends Error {
  constructor() {
    super(`no free card number after ${MAX_NUMBER_DRAWS} draws`);
  }
}

/**
 * Inserts a new card in status 'pending' (or, with `activate`, 'active') on the account, in the caller's
 * transaction, and records 'card.issued'. The unique index on number_hmac decides a clash (ON CONFLICT DO NOTHING, so the
 * transaction survives it), and the number is drawn again: never two cards with one number.
 */
export async function issueCard(trx: Trx, deps: CardDeps, c: CardToIssue): Promise<NewCard> {
  const draw = deps.generateNumber ?? generateCardNumber;
  for (let attempt = 1; attempt <= MAX_NUMBER_DRAWS; attempt++) {
    const cardNumber = draw(deps.issuerPrefix);
    if (sharesDigitRun(c.password, cardNumber)) continue;
    const cardId = newId();
    const last4 = cardNumber.slice(-4);
    const numberHmac = cardNumberHmac(deps.cardHmacKey, cardNumber);
    const status = c.activate ? 'active' : 'pending';
    if (!(await insertCardUnlessNumberTaken(trx, { id: cardId, accountId: c.accountId, numberHmac, last4, passwordHash: c.passwordHash, status }))) {
      continue;
    }
    const by = { actor: c.actor, requestId: c.requestId };
    const issued = {
      ...by,
      action: 'card.issued',
      subjectType: 'card',
      subjectId: cardId,
      details: { accountId: c.accountId, last4, status: 'pending', numberDraws: attempt },
    };
    const card = { id: cardId, accountId: c.accountId };
    // One statement for both entries: issuance is argon2-bound, every round trip shows in its rate.
    const activated = c.activate ? [statusChangeEntry(card, 'pending', { ...by, to: 'active', reason: c.activate.reason })] : [];
    const newCard = { cardId, cardNumber, last4 };
    await appendAudit(trx, [...(c.precedingAudit ?? []), issued, ...activated, ...(c.followingAudit?.(newCard) ?? [])]);
    return newCard;
  }
  throw new CardNumberExhaustedError();
}
