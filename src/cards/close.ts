import type { Db } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { notifyHolder } from '../notifications/notify.ts';
import type { StatusChange } from './block.ts';
import type { CardStatus } from '../db/cards.ts';
import { signsInClosed } from './former-holder.ts';
import { signOutEverywhere } from './revoke-holder-tokens.ts';
import { transitionUnlessAlready, type StatusChanged } from './transition.ts';

/**
 * Closes the card for good, signs the holder out everywhere (member sites and the holder pages) and tells the holder,
 * and that they may still sign in with it to see and pay what is owed when they may (cards/former-holder.ts).
 * A closed card stays as it is (changed: false). `by: 'holder'` is the holder's own close (the message says so);
 * `from` narrows the statuses it may close from. Payments approved before stay approved: a site may still capture
 * what it delivered, and what is owed stays due.
 */
export async function closeCard(db: Db, change: StatusChange & { by?: 'holder'; from?: readonly CardStatus[] }): Promise<StatusChanged> {
  const { by, ...transition } = change;
  return inTransaction(db, async (trx) => {
    const done = await transitionUnlessAlready(trx, { ...transition, to: 'closed' });
    if (!done.changed) return done;
    // Every session ends, the holder pages' too: none goes on with what an open card may do. A former holder signs in
    // again with the closed card to a limited session (cards/former-holder.ts), which the message tells them of.
    await signOutEverywhere(trx, { accountId: done.card.accountId, actor: change.actor, reason: 'card closed', requestId: change.requestId });
    const signIn = await signsInClosed(trx, done.card);
    await notifyHolder(trx, done.card.accountId, 'card_closed', { last4: done.card.last4, ...(by ? { by } : {}), ...(signIn ? { signIn } : {}) });
    return done;
  });
}
