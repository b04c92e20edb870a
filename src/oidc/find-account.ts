import type { Account as OidcAccount, KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/knex.ts';
import { accountFacts } from './account-facts.ts';

/** oidc-provider's findAccount: the holder account, while it still has an active card. */
export function createFindAccount(db: Db) {
  return async function findAccount(_ctx: KoaContextWithOIDC, sub: string): Promise<OidcAccount | undefined> {
    const facts = await accountFacts(db, sub);
    if (!facts?.hasActiveCard) return undefined;
    const { account } = facts;
    return {
      accountId: account.id,
      async claims(_use: string, scope: string) {
        const claims: Record<string, unknown> = { sub: account.id };
        if (scope.split(' ').includes('profile')) claims.name = account.legalName;
        return claims as { sub: string };
      },
    };
  };
}
