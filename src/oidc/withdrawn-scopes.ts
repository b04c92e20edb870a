import { errors, type AdapterPayload, type Client, type KoaContextWithOIDC } from 'oidc-provider';
import type { Conn } from '../db/knex.ts';
import { accountFacts } from './account-facts.ts';
import { allowedClaimsOf, claimAllowed } from './allowed-claims.ts';
import { siteRatingOf, type PolicyDeps } from './interaction-policy.ts';
import { refusalNow } from './refusal-now.ts';

/**
 * A grant as its site may use it now: its OIDC scope cut to the scopes the site still has. The operator may narrow a
 * site's scope (`sites update --scope`) while holders' grants keep what they consented to before; oidc-provider checks
 * the client's scope on authorization requests only, and issues from the grant everywhere else (a refresh's tokens,
 * their ID token, userinfo), so a removed scope was given until the grant expired. Applied to every grant read
 * (oidc/adapter.ts); a site the provider cannot find (closed) gets nothing from its grants anyway.
 */
export function grantWithinSiteScope(grant: AdapterPayload, siteScope: string | undefined): AdapterPayload {
  const openid = (grant as { openid?: { scope?: unknown } }).openid;
  if (siteScope === undefined || typeof openid?.scope !== 'string') return grant;
  const allowed = new Set(siteScope.split(' '));
  openid.scope = openid.scope.split(' ').filter((s) => allowed.has(s)).join(' ');
  return grant;
}

/**
 * At a refresh: a refresh token that outlives logout (offline_access, README step 6) is refused once the site no
 * longer has offline_access, before it is spent; the site logs the holder in again and gets one that ends with the
 * session. The refresh grant checks no client scope, and the grant's cut scope (above) does not stop a refresh.
 */
export function refuseWithdrawnOfflineAccess(ctx: KoaContextWithOIDC): void {
  const token = ctx.oidc.entities.RefreshToken;
  const siteScope = ctx.oidc.client?.scope?.split(' ') ?? [];
  if (token?.scopes.has('offline_access') && !siteScope.includes('offline_access')) {
    throw Object.assign(new errors.InvalidGrant('offline_access withdrawn'), {
      error_description: 'offline_access is no longer granted to this site: log the holder in again',
    });
  }
}

interface GrantScopes {
  getOIDCScopeFiltered(scopes: Set<string>): string;
  getResourceScopeFiltered(resource: string, scopes: Set<string>): string;
  resources?: Record<string, string> | undefined;
}

/** The token's scopes its grant, as cut to the site's scope of today (grantWithinSiteScope), still gives. */
function scopeNow(scopes: Set<string>, grant: GrantScopes): string {
  const given = new Set(grant.getOIDCScopeFiltered(scopes).split(' '));
  for (const resource of Object.keys(grant.resources ?? {})) {
    for (const s of grant.getResourceScopeFiltered(resource, scopes).split(' ')) given.add(s);
  }
  return [...scopes].filter((s) => given.has(s)).join(' ');
}

/**
 * Introspection (RFC 7662) of a refresh token or an opaque access token says what it would give now, as a refresh or
 * userinfo would: its scope cut as its grant is, and inactive where they would refuse it: a holder with no active card
 * (findAccount finds nobody), one the interaction policy keeps out of the site now (refusal-now.ts, not audited), a
 * token of a suspended site (its access tokens too: userinfo refuses them), a refresh token of a site no longer granted its offline_access
 * (refuseWithdrawnOfflineAccess). No age_over_NN asked for that the site's list of claims has left out since.
 * oidc-provider answers from the token alone, with the scope and claims it was issued with.
 */
export function createIntrospectAsNow(db: Conn, policy: PolicyDeps) {
  return async function introspectAsNow(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    if (ctx.oidc?.route !== 'introspection' || ctx.status !== 200) return;
    const body = ctx.body as { active?: boolean; scope?: string } | undefined;
    const { RefreshToken: refresh, AccessToken: access, Grant: grant } = ctx.oidc.entities;
    const token = refresh ?? access;
    const client = ctx.oidc.client;
    if (body?.active !== true || !token || !grant || !client) return;
    if (await refusedNow(db, policy, client, token, Boolean(refresh))) {
      ctx.body = { active: false };
      return;
    }
    const scope = scopeNow(token.scopes, grant as unknown as GrantScopes);
    if (scope) body.scope = scope;
    else delete body.scope;
    // An opaque access token's age_over_NN asked for (extra-token-claims.ts, kept from its issue) only while the site's
    // list allows it; the one for the site's own rating is the gate's answer and stays. (Payments, whose rating gives
    // one too, always get a JWT: a payment names a resource.)
    const allowed = allowedClaimsOf(client);
    const own = `age_over_${siteRatingOf(client)}`;
    for (const claim of Object.keys(body)) {
      if (/^age_over_\d+$/.test(claim) && claim !== own && !claimAllowed(allowed, claim)) delete (body as Record<string, unknown>)[claim];
    }
  };
}

/** Whether the member site is suspended (member-sites/client-metadata.ts gives the provider its status). */
export function isSuspended(client: Client): boolean {
  return (client as unknown as Record<string, unknown>)['urn:cybercard:status'] === 'suspended';
}

/** Whether a refresh with this token (`isRefresh`), or userinfo with it, would be refused now. */
async function refusedNow(
  db: Conn,
  policy: PolicyDeps,
  client: Client,
  token: { accountId?: string | undefined; claims?: unknown; scopes: Set<string> },
  isRefresh: boolean,
): Promise<boolean> {
  // A suspended site's tokens (only its own are introspected, token-policies.ts) are good for nothing while it is:
  // a refresh has no grant type left, userinfo refuses the access token (find-account.ts).
  if (isSuspended(client)) return true;
  if (isRefresh && !client.grantTypeAllowed('refresh_token')) return true;
  if (isRefresh && token.scopes.has('offline_access') && !(client.scope?.split(' ') ?? []).includes('offline_access')) return true;
  if (!token.accountId || !(await accountFacts(db, token.accountId))?.hasActiveCard) return true;
  return (await refusalNow(policy, client, token.accountId, token.claims, { audit: false })) !== null;
}
