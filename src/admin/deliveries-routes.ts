import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Db } from '../db/knex.ts';
import { deliveryOverview } from '../deliveries/list-deliveries.ts';
import { retryDelivery } from '../deliveries/retry-delivery.ts';
import { jsonBody } from '../http/validate.ts';
import { deliveryListQuery, deliveryParam, presentCounts, presentDelivery, retryInput } from './delivery-inputs.ts';
import { parseInput } from './operator-input.ts';
import { requireOperator, type OperatorCredentials } from './require-operator.ts';

export interface AdminDeliveryDeps {
  parseBody: Middleware;
  db: Db;
  operatorAuth: OperatorCredentials;
}

/**
 * The operator API of the posts to member sites (Logout Tokens, approval events) under /admin/api/deliveries: the
 * last days' counts per site and a list (failing ones by default), and sending a given-up one again.
 */
export function adminDeliveryRoutes({ parseBody, db, operatorAuth }: AdminDeliveryDeps): Router {
  const router = new Router({ prefix: '/admin/api/deliveries' });
  router.use(requireOperator(operatorAuth));
  router.use(async function noStore(ctx: Context, next: Next) {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });

  router.get('/', async function listSiteDeliveries(ctx) {
    const q = parseInput(deliveryListQuery, ctx.query);
    const o = await deliveryOverview(db, { kind: q.kind, clientId: q.site, state: q.state, limit: q.limit });
    ctx.body = { counts: o.counts.map(presentCounts), deliveries: o.deliveries.map(presentDelivery) };
  });

  router.post('/:kind/:id/retry', parseBody, async function retrySiteDelivery(ctx) {
    const { kind, id } = parseInput(deliveryParam, { kind: ctx.params.kind, id: ctx.params.id });
    const { reason } = parseInput(retryInput, jsonBody(ctx));
    const { delivery, changed } = await retryDelivery(db, kind, id, reason, String(ctx.state.actor ?? 'operator'));
    // One still pending answers as it is, changed: false (nothing audited).
    ctx.body = { ...presentDelivery(delivery), changed };
  });

  return router;
}
