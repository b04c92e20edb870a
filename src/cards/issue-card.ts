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
}

export interface NewCard {
  cardId: string;
  /** The full number: returned once, never stored (only its HMAC and last four digits are). */
  cardNumber: string;
  last4: string;
}

/** A drawn number and the card row it would go in; `attempt` counts the draws so far. */
export interface DrawnCard extends NewCard {
  numberHmac: Buffer;
  attempt: number;
}

/** Draws before giving up; a clash among 10^9 bodies is already vanishingly rare. */
export const MAX_NUMBER_DRAWS = 5;

export class CardNumberExhaustedError extends Error {
  constructor() {
    super(`no free card number after ${MAX_NUMBER_DRAWS} draws`);
  }
}

/**
 * Draws card numbers for a card whose password is `password` (a number sharing a run of its digits is
 * drawn again) and hands each to `insert`, which writes the card unless the number is taken: the
 * unique index on number_hmac decides (ON CONFLICT DO NOTHING, so the transaction survives it) and
 * `insert` answers false, and the number is drawn again. Never two cards with one number.
 */
export async function insertWithFreshNumber(deps: CardDeps, password: string, insert: (card: DrawnCard) => Promise<boolean>): Promise<DrawnCard> {
  const draw = deps.generateNumber ?? generateCardNumber;
  for (let attempt = 1; attempt <= MAX_NUMBER_DRAWS; attempt++) {
    const cardNumber = draw(deps.issuerPrefix);
    if (sharesDigitRun(password, cardNumber)) continue;
    const card = { cardId: newId(), cardNumber, last4: cardNumber.slice(-4), numberHmac: cardNumberHmac(deps.cardHmacKey, cardNumber), attempt };
    if (await insert(card)) return card;
  }
  throw new CardNumberExhaustedError();
}

/**
 * The audit entries of a new card: 'card.issued' (every card is issued pending), then, for a card
 * issued active at once (`activate`), its pending → active change, like every other card's.
 */
export function issuedCardEntries(
  card: DrawnCard & { accountId: string },
  by: { actor: string; requestId?: string | undefined },
  activate?: { reason: string },
): AuditEntry[] {
  const issued: AuditEntry = {
    ...by,
    action: 'card.issued',
    subjectType: 'card',
    subjectId: card.cardId,
    details: { accountId: card.accountId, last4: card.last4, status: 'pending', numberDraws: card.attempt },
  };
  if (!activate) return [issued];
  const row = { id: card.cardId, accountId: card.accountId };
  return [issued, statusChangeEntry(row, 'pending', { ...by, to: 'active', reason: activate.reason })];
}

/**
 * Inserts a new card in status 'pending' on the account, in the caller's transaction, and records
 * 'card.issued'. Returns the full number once.
 */
export async function issueCard(trx: Trx, deps: CardDeps, c: CardToIssue): Promise<NewCard> {
  const by = { actor: c.actor, requestId: c.requestId };
  const card = await insertWithFreshNumber(deps, c.password, async (d) => {
    const row = { id: d.cardId, accountId: c.accountId, numberHmac: d.numberHmac, last4: d.last4, passwordHash: c.passwordHash, status: 'pending' as const };
    if (!(await insertCardUnlessNumberTaken(trx, row))) return false;
    await appendAudit(trx, issuedCardEntries({ ...d, accountId: c.accountId }, by));
    return true;
  });
  return { cardId: card.cardId, cardNumber: card.cardNumber, last4: card.last4 };
}
