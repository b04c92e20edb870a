import type { Card } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import type { StatusChange } from './block.ts';
import { revokeHolderTokens } from './revoke-holder-tokens.ts';
import { transition } from './transition.ts';

/** Closes the card for good and ends the holder's sessions and tokens. */
export async function closeCard(db: Db, change: StatusChange): Promise<Card> {
  return inTransaction(db, async (trx) => {
    const card = await transition(trx, { ...change, to: 'closed' });
    await revokeHolderTokens(trx, { accountId: card.accountId, actor: change.actor, reason: 'card closed', requestId: change.requestId });
    return card;
  });
}
