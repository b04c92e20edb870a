import { appendAudit, type AuditEntry } from '../db/audit-log.ts';
import { lockCard, setCardStatus, type Card, type CardStatus } from '../db/cards.ts';
import { retireContactChanges } from '../db/contact-changes.ts';
import type { Trx } from '../db/knex.ts';
import { AppError } from '../errors.ts';
import { noSuchCard } from './no-such-card.ts';

/**
 * The card life cycle. A lost card never comes back (its number may be in someone else's hands: the
 * holder gets a reissued card instead); a closed card is final; suspension is the operator's reversible block.
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<CardStatus, readonly CardStatus[]>> = {
  pending: ['active', 'closed'],
  active: ['suspended', 'lost', 'closed'],
  suspended: ['active', 'lost', 'closed'],
  lost: ['closed'],
  closed: [],
};

export class IllegalTransitionError extends AppError {
  constructor(from: CardStatus, to: CardStatus) {
    super('invalid_transition', `${/^[aeiou]/.test(from) ? 'An' : 'A'} ${from} card cannot become ${to}.`, { status: 409 });
  }
}

export interface TransitionInput {
  cardId: string;
  to: CardStatus;
  /** Who: 'operator', 'cli', `card:<id>` for the holder, 'system'. */
  actor: string;
  /** Why, in words; kept in the audit trail. */
  reason: string;
  requestId?: string | undefined;
  /** Extra facts for the audit entry (e.g. how the holder proved it was them). */
  details?: Record<string, unknown>;
}

/**
 * The one way a card changes status: locks the card row, refuses a move the life cycle does not allow,
 * and records from, to, actor and reason in the audit trail, all in the caller's transaction.
 */
export async function transition(trx: Trx, input: TransitionInput): Promise<Card> {
  const card = await lockCard(trx, input.cardId);
  if (!card) throw noSuchCard();
  if (!ALLOWED_TRANSITIONS[card.status].includes(input.to)) throw new IllegalTransitionError(card.status, input.to);
  await setCardStatus(trx, card.id, input.to);
  // A change of contacts asked with this card dies when it stops (blocked, reported lost, closed, replaced): a holder
  // warned of it by the code at the contact kept blocks the card, and that must be the end of it.
  if (card.status === 'active') await retireContactChanges(trx, card.accountId);
  await appendAudit(trx, statusChangeEntry(card, card.status, input));
  return { ...card, status: input.to };
}

/** A status change an operator asked for: `changed` is false when the card was in that status already. */
export interface StatusChanged {
  card: Card;
  changed: boolean;
}

/**
 * transition() for a request that may come twice (a retry, two operators at once): a card already in the status asked
 * for is left as it is, with nothing written (the caller then revokes and tells nothing either). `from`, when given,
 * narrows the statuses the change may start from.
 */
export async function transitionUnlessAlready(trx: Trx, input: TransitionInput & { from?: readonly CardStatus[] }): Promise<StatusChanged> {
  const { from, ...change } = input;
  const card = await lockCard(trx, change.cardId);
  if (card?.status === change.to) return { card, changed: false };
  if (card && from && !from.includes(card.status)) throw new IllegalTransitionError(card.status, change.to);
  return { card: await transition(trx, change), changed: true };
}

/** The audit entry of a status change: from, to, actor and reason (the one shape every change is recorded in). */
export function statusChangeEntry(card: { id: string; accountId: string }, from: CardStatus, input: Omit<TransitionInput, 'cardId'>): AuditEntry {
  return {
    actor: input.actor,
    action: 'card.status_changed',
    subjectType: 'card',
    subjectId: card.id,
    details: { ...input.details, accountId: card.accountId, from, to: input.to, reason: input.reason },
    requestId: input.requestId,
  };
}
