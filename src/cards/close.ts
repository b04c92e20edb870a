import type { Db } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { notifyHolder } from '../notifications/notify.ts';
import type { StatusChange } from './block.ts';
import { revokeHolderTokens } from './revoke-holder-tokens.ts';
import { transitionUnlessAlready, type StatusChanged } from './transition.ts';

/** Closes the card for good, ends the holder's sessions and tokens, and tells the holder. A closed card stays as it is (changed: false). */
export async function closeCard(db: Db, change: StatusChange): Promise<StatusChanged> {
  return inTransaction(db, async (trx) => {
    const done = await transitionUnlessAlready(trx, { ...change, to: 'closed' });
    if (!done.changed) return done;
    await revokeHolderTokens(trx, { accountId: done.card.accountId, actor: change.actor, reason: 'card closed', requestId: change.requestId });
    await notifyHolder(trx, done.card.accountId, 'card_closed', { last4: done.card.last4 });
    return done;
  });
}
