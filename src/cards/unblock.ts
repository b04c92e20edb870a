import type { Card } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import type { StatusChange } from './block.ts';
import { transition } from './transition.ts';

/** Lifts the operator's block: a suspended card becomes active again. */
export async function unblockCard(db: Db, change: StatusChange): Promise<Card> {
  return inTransaction(db, (trx) => transition(trx, { ...change, to: 'active' }));
}
