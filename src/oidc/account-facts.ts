import { findAccountFacts, type AccountFacts } from '../db/cards.ts';
import type { Conn } from '../db/knex.ts';
import { memoInRequest } from '../db/request-scope.ts';

/**
 * The holder account as the provider's checks see it (the account, its spending controls, whether it has
 * an active card), read once per request: findAccount, the age gate and the holder-controls check all ask.
 * Nothing in a provider request changes these before they are asked.
 */
export function accountFacts(db: Conn, accountId: string): Promise<AccountFacts | undefined> {
  return memoInRequest(`account-facts:${accountId}`, () => findAccountFacts(db, accountId));
}
