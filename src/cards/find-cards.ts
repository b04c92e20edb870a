import { findAccount, findAccountsByHolder, type HolderQuery } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { findCardByNumber } from './find-card-by-number.ts';
import { checkMobile } from './mobile-number.ts';
import { holderView, type HolderView } from './holder-view.ts';

export type CardQuery = { number: string } | HolderQuery;

/**
 * Operator look-up: by full card number (any status), or by holder name, email or mobile. A mobile number is
 * found as the holder says it (010-1234-5678) or in the E.164 form applications store (+821012345678).
 */
export async function findCards(deps: { db: Db; cardHmacKey: Buffer; mobileCallingCode: string }, query: CardQuery): Promise<HolderView[]> {
  if ('number' in query) {
    const card = await findCardByNumber(deps.db, deps.cardHmacKey, query.number);
    const account = card ? await findAccount(deps.db, card.accountId) : undefined;
    return account ? [await holderView(deps.db, account)] : [];
  }
  const e164 = query.mobile ? checkMobile(query.mobile, deps.mobileCallingCode) : undefined;
  const accounts = await findAccountsByHolder(deps.db, e164?.ok ? { ...query, mobile: e164.value } : query);
  if (e164?.ok && e164.value !== query.mobile) {
    const seen = new Set(accounts.map((a) => a.id));
    accounts.push(...(await findAccountsByHolder(deps.db, query)).filter((a) => !seen.has(a.id)));
  }
  return Promise.all(accounts.map((a) => holderView(deps.db, a)));
}
