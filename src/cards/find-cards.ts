import { findAccount, findAccountsByHolder, type HolderQuery } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { findCardByNumber } from './find-card-by-number.ts';
import { holderView, type HolderView } from './holder-view.ts';

export type CardQuery = { number: string } | HolderQuery;

/** Operator look-up: by full card number (any status), or by holder name, email or mobile. */
export async function findCards(deps: { db: Db; cardHmacKey: Buffer }, query: CardQuery): Promise<HolderView[]> {
  if ('number' in query) {
    const card = await findCardByNumber(deps.db, deps.cardHmacKey, query.number);
    const account = card ? await findAccount(deps.db, card.accountId) : undefined;
    return account ? [await holderView(deps.db, account)] : [];
  }
  const accounts = await findAccountsByHolder(deps.db, query);
  return Promise.all(accounts.map((a) => holderView(deps.db, a)));
}
