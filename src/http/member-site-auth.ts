import type { Context } from 'koa';
import type { MemberSite } from '../db/member-sites.ts';
import { API_SCOPE, BearerTokenError, SiteAuthError, type SiteAuthenticator, type SiteFinder } from '../member-sites/authenticate.ts';

/**
 * The member-site API's one way in, shared by its routers (approvals, settlements) so each answers a failed
 * authentication alike: the calling site (read by `find`, findMemberSite or one that loads the route's row with it), or the error with its challenge.
 * Every answer to an authenticated site is its own data: never stored by a cache.
 */
export function memberSiteAuth(authenticateSite: SiteAuthenticator) {
  return async function memberSite<S extends MemberSite>(ctx: Context, find: SiteFinder<S>): Promise<S> {
    let site: S;
    try {
      site = await authenticateSite(ctx.get('authorization') || undefined, find);
    } catch (err) {
      if (err instanceof SiteAuthError) ctx.set('WWW-Authenticate', 'Basic realm="cybercard", Bearer realm="cybercard"');
      // RFC 6750 §3: the token's own trouble, so that a site knows to get a new one (or to ask for the scope).
      if (err instanceof BearerTokenError) {
        const scope = err.code === 'insufficient_scope' ? `, scope="${API_SCOPE}"` : '';
        ctx.set('WWW-Authenticate', `Bearer realm="cybercard", error="${err.code}"${scope}`);
      }
      throw err;
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.state.site = site;
    return site;
  };
}

export type MemberSiteAuth = ReturnType<typeof memberSiteAuth>;
