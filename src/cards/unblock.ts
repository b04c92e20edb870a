import type { Card } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { notifyHolder } from '../notifications/notify.ts';
import type { StatusChange } from './block.ts';
import { transition } from './transition.ts';

/** Lifts the operator's block: a suspended card becomes active again, and the holder is told. */
export async function unblockCard(db: Db, change: StatusChange): Promise<Card> {
  return inTransaction(db, async (trx) => {
    const card = await transition(trx, { ...change, to: 'active' });
    await notifyHolder(trx, card.accountId, 'card_unblocked', { last4: card.last4 });
    return card;
  });
}
