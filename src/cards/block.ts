import type { Db } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { notifyHolder } from '../notifications/notify.ts';
import { signOutEverywhere } from './revoke-holder-tokens.ts';
import { transitionUnlessAlready, type StatusChanged } from './transition.ts';

export interface StatusChange {
  cardId: string;
  actor: string;
  reason: string;
  requestId?: string | undefined;
}

/**
 * Suspends the card (the operator's reversible block), ends the holder's sessions and tokens and tells
 * the holder: unblocking lets the card log in again, it does not bring old sessions back. A blocked card
 * stays as it is (changed: false).
 */
export async function blockCard(db: Db, change: StatusChange): Promise<StatusChanged> {
  return inTransaction(db, async (trx) => {
    const done = await transitionUnlessAlready(trx, { ...change, to: 'suspended' });
    if (!done.changed) return done;
    const { card } = done;
    // The holder pages' sessions too: a suspended card only hides them (findLiveHolderSession), and an unblock would revive them.
    await signOutEverywhere(trx, { accountId: card.accountId, actor: change.actor, reason: 'card blocked', requestId: change.requestId });
    await notifyHolder(trx, card.accountId, 'card_blocked', { last4: card.last4, why: 'suspended' });
    return done;
  });
}
