import type { Db } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { notifyHolder } from '../notifications/notify.ts';
import type { StatusChange } from './block.ts';
import { transitionUnlessAlready, type StatusChanged } from './transition.ts';

/**
 * Lifts the operator's block: a suspended card becomes active again, and the holder is told. An active card stays as it
 * is (changed: false); a pending one is not blocked but waiting for its application's decision, which this must not skip.
 */
export async function unblockCard(db: Db, change: StatusChange): Promise<StatusChanged> {
  return inTransaction(db, async (trx) => {
    const done = await transitionUnlessAlready(trx, { ...change, to: 'active', from: ['suspended'] });
    if (done.changed) await notifyHolder(trx, done.card.accountId, 'card_unblocked', { last4: done.card.last4 });
    return done;
  });
}
