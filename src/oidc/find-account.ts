import { errors, type Account as OidcAccount, type KoaContextWithOIDC } from 'oidc-provider';
import { SITE_DESCRIPTIONS } from '../approvals/site-descriptions.ts';
import type { Db } from '../db/knex.ts';
import { ageClaims } from '../approvals/age-gate.ts';
import { accountFacts } from './account-facts.ts';
import { allowedAges, allowedClaimsOf, claimAllowed } from './allowed-claims.ts';
import { requestedAges } from './age-claims-request.ts';
import type { PolicyDeps } from './interaction-policy.ts';
import { refusalNow } from './refusal-now.ts';
import { isSuspended, refuseWithdrawnOfflineAccess } from './withdrawn-scopes.ts';

/**
 * oidc-provider's findAccount: the holder account, while it still has an active card. A refresh token's
 * holder must also still pass the interaction policy's rules at the site (the refresh grant runs no policy):
 * if not, invalid_grant saying why, and nothing issued; so is an offline refresh token of a site no longer granted
 * offline_access (withdrawn-scopes.ts), or a refresh for a resource it cannot have (refresh-resource.ts): the
 * provider runs findAccount before it rotates the refresh token, so these refusals spend nothing. Userinfo refuses a
 * holder the policy keeps out too (invalid_token saying why), and any token of a site while it is suspended.
 */
export function createFindAccount(db: Db, policy: PolicyDeps, refuseUnusableResource?: (ctx: KoaContextWithOIDC) => Promise<void>) {
  return async function findAccount(ctx: KoaContextWithOIDC, sub: string, token?: unknown): Promise<OidcAccount | undefined> {
    if (ctx.oidc?.route === 'token' && ctx.oidc.params?.grant_type === 'refresh_token') {
      refuseWithdrawnOfflineAccess(ctx);
      await refuseUnusableResource?.(ctx);
    }
    const facts = await accountFacts(db, sub);
    if (!facts?.hasActiveCard) return undefined;
    if (ctx.oidc?.client && ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'refresh_token') {
      const refusal = await refusalNow(policy, ctx.oidc.client, sub, ctx.oidc.entities.RefreshToken?.claims, { audit: true });
      if (refusal) throw Object.assign(new errors.InvalidGrant(refusal), { error_description: SITE_DESCRIPTIONS[refusal] });
    }
    // Userinfo answers for a holder the policy would keep out as a refresh would: not at all (nor does introspection,
    // withdrawn-scopes.ts). No audit entry: the site reading it is no attempt of the holder's to enter.
    if (ctx.oidc?.client && ctx.oidc.route === 'userinfo' && isSuspended(ctx.oidc.client)) {
      throw Object.assign(new errors.InvalidToken('site_suspended'), { error_description: SITE_DESCRIPTIONS.site_suspended });
    }
    if (ctx.oidc?.client && ctx.oidc.route === 'userinfo') {
      const refusal = await refusalNow(policy, ctx.oidc.client, sub, (token as { claims?: unknown } | undefined)?.claims, { audit: false });
      if (refusal) throw Object.assign(new errors.InvalidToken(refusal), { error_description: SITE_DESCRIPTIONS[refusal] });
    }
    const { account } = facts;
    return {
      accountId: account.id,
      async claims(_use: string, scope: string, requested?: Record<string, unknown>) {
        const claims: Record<string, unknown> = { sub: account.id };
        const scopes = scope.split(' ');
        // The operator's list of the site's claims narrows what its scopes give (allowed-claims.ts); a new claims request
        // naming an age the list leaves out is refused at the request (age-claims-request.ts), an older one is cut below.
        const allowed = allowedClaimsOf(ctx.oidc?.client);
        if (scopes.includes('profile') && claimAllowed(allowed, 'name')) claims.name = account.legalName;
        // Only with the scope, which the operator grants a site and the holder agrees to: a claims request naming
        // birthdate without it gets nothing. Asked of the grant too, as cut to the site's scope of today
        // (withdrawn-scopes.ts): a refresh passes its token's own scope here, and a claims request's birthdate, kept on
        // the grant by name, would otherwise still be put in its ID token once the operator took the scope away.
        if (scopes.includes('birthdate') && claimAllowed(allowed, 'birthdate') && ctx.oidc.entities.Grant?.getOIDCScope().split(' ').includes('birthdate')) {
          claims.birthdate = account.birthdate;
        }
        // Only the age_over_NN this ID token or userinfo answer's claims request names (the provider then keeps
        // those the grant has): the request asking for them was gated for those ages. The site's list of today decides
        // too: a refresh or userinfo token carries a claims request made before the list left an age out.
        Object.assign(claims, ageClaims(account.birthdate, allowedAges(allowed, requestedAges({ id_token: requested })), policy));
        return claims as { sub: string };
      },
    };
  };
}
