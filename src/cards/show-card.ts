import { findAccount, findCard } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { holderView, type HolderView } from './holder-view.ts';
import { noSuchCard } from './no-such-card.ts';

/** The holder of a card, with all the account's cards. */
export async function showCard(db: Db, cardId: string): Promise<HolderView> {
  const card = await findCard(db, cardId);
  const account = card ? await findAccount(db, card.accountId) : undefined;
  if (!account) throw noSuchCard();
  return holderView(db, account);
}
