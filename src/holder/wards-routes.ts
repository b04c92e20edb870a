import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Db } from '../db/knex.ts';
import type { Renderer } from '../http/render.ts';
import { wardsOverview } from '../ledger/wards-overview.ts';
import { formatMoney } from '../lib/money.ts';
import { signOutCsrf, type HolderState } from './session.ts';

export interface WardsRouteDeps {
  db: Db;
  requireHolder: Middleware;
  render: Renderer;
  /** The billing time zone (config billing.timeZone): "this month" and the approvals' dates are its. */
  timeZone: string;
}

/**
 * A guardian's view of the cards linked to theirs (minors who applied with the guardian's card): each child's card,
 * limit, available credit, holds, balance, this month's spending and last approvals, as a page (/card/wards) and as
 * JSON (/api/holder/wards, an array, empty for a holder who is nobody's guardian).
 */
export function wardsRoutes(deps: WardsRouteDeps): Router {
  const router = new Router();
  router.use(['/card/wards', '/api/holder/wards'], deps.requireHolder);

  router.get('/card/wards', async function showWards(ctx) {
    const { accountId } = ctx.state.holder as HolderState;
    const wards = await wardsOverview(deps.db, accountId, deps.timeZone);
    ctx.type = 'html';
    ctx.body = await deps.render('holder/wards', {
      title: "Children's cards",
      signOutCsrf: signOutCsrf(ctx),
      wards,
      money: formatMoney,
    });
  });

  router.get('/api/holder/wards', async function readWards(ctx) {
    const { accountId } = ctx.state.holder as HolderState;
    ctx.body = await wardsOverview(deps.db, accountId, deps.timeZone);
  });

  return router;
}
