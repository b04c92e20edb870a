import { listAuditForSubjects, type AuditEntry } from '../db/audit-log.ts';
import { findCard, listCardsOfAccount } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { noSuchCard } from './no-such-card.ts';

/** The audit trail of a card's holder: the account and every card it ever had, oldest first. */
export async function auditTrail(db: Db, cardId: string): Promise<Array<AuditEntry & { at: Date }>> {
  const card = await findCard(db, cardId);
  if (!card) throw noSuchCard();
  const cards = await listCardsOfAccount(db, card.accountId);
  return listAuditForSubjects(db, [
    { type: 'account', id: card.accountId },
    ...cards.map((c) => ({ type: 'card', id: c.id })),
  ]);
}
