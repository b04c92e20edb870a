import type { Card } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { notifyHolder } from '../notifications/notify.ts';
import type { StatusChange } from './block.ts';
import { revokeHolderTokens } from './revoke-holder-tokens.ts';
import { transition } from './transition.ts';

/** Closes the card for good, ends the holder's sessions and tokens, and tells the holder. */
export async function closeCard(db: Db, change: StatusChange): Promise<Card> {
  return inTransaction(db, async (trx) => {
    const card = await transition(trx, { ...change, to: 'closed' });
    await revokeHolderTokens(trx, { accountId: card.accountId, actor: change.actor, reason: 'card closed', requestId: change.requestId });
    await notifyHolder(trx, card.accountId, 'card_closed', { last4: card.last4 });
    return card;
  });
}
