import Router from '@koa/router';
import { findMemberSite } from '../db/member-sites.ts';
import { ValidationError } from '../errors.ts';
import { memberSiteAuth } from '../http/member-site-auth.ts';
import { queryParams } from '../http/validate.ts';
import { monthRange } from '../ledger/calendar.ts';
import type { LedgerDeps } from '../ledger/deps.ts';
import { siteSettlement } from '../ledger/settlement.ts';
import type { SiteAuthenticator } from './authenticate.ts';

export interface MemberSiteApiDeps {
  ledger: LedgerDeps;
  authenticateSite: SiteAuthenticator;
}

/**
 * The member-site API beyond its approvals (approvals/routes.ts), authenticated the same way: what the card manager
 * will pay the calling site for a month, and nothing of any other site.
 */
export function memberSiteApiRoutes({ ledger, authenticateSite }: MemberSiteApiDeps): Router {
  const router = new Router({ prefix: '/api/settlements' });
  const memberSite = memberSiteAuth(authenticateSite);

  router.get('/:month', async function showOwnSettlement(ctx) {
    const site = await memberSite(ctx, findMemberSite);
    queryParams(ctx.query, []);
    const month = ctx.params.month ?? '';
    if (!monthRange(month)) throw new ValidationError('Some fields need attention.', { month: 'A month written YYYY-MM, from 2000-01, e.g. 2026-11.' });
    ctx.body = await siteSettlement(ledger, month, site.clientId);
  });

  return router;
}
