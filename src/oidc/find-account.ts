import type { Account as OidcAccount, KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/knex.ts';
import { memoInRequest } from '../db/request-scope.ts';
import { accountHasActiveCard, findAccount as findAccountRow } from '../db/cards.ts';

/** oidc-provider's findAccount: the holder account, while it still has an active card. */
export function createFindAccount(db: Db) {
  // The provider asks several times a request (interaction checks, token claims): once is enough.
  return function findAccount(_ctx: KoaContextWithOIDC, sub: string): Promise<OidcAccount | undefined> {
    return memoInRequest(`oidc-account:${sub}`, () => loadAccount(sub));
  };

  async function loadAccount(sub: string): Promise<OidcAccount | undefined> {
    const account = await findAccountRow(db, sub);
    if (!account || !(await accountHasActiveCard(db, sub))) return undefined;
    return {
      accountId: account.id,
      async claims(_use: string, scope: string) {
        const claims: Record<string, unknown> = { sub: account.id };
        if (scope.split(' ').includes('profile')) claims.name = account.legalName;
        return claims as { sub: string };
      },
    };
  }
}
