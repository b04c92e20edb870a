import { listCardsOfAccount, type Account, type CardSummary } from '../db/cards.ts';
import type { Conn } from '../db/knex.ts';

/** What the operator sees of a holder: the account and every card it had (last four digits only). */
export interface HolderView {
  account: Account;
  cards: CardSummary[];
}

export async function holderView(conn: Conn, account: Account): Promise<HolderView> {
  return { account, cards: await listCardsOfAccount(conn, account.id) };
}
