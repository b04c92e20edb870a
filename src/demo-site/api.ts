import Router from '@koa/router';
import type { Context } from 'koa';
import { koaBearer, requireAge, requirePayment, type AccessToken, type ResourceServer } from 'cybercard/resource-server';
import { findItem, type Item } from './catalogue.ts';

/**
 * The demo site's resource server: every item behind the kit. Free members' items need any valid
 * token; paid ones an approved payment for that item; the 19+ section's, paid or free, age_over_19 too; in
 * strict mode the kit also asks the card manager whether the approval still stands.
 */
export function apiRoutes(rs: ResourceServer, currency: string): Router {
  const router = new Router({ prefix: '/api' });

  function itemOf(ctx: Context): Item {
    const item = findItem(String(ctx.params.id ?? ''));
    if (!item) ctx.throw(404, 'no such item');
    return item;
  }

  router.get('/items/:id', koaBearer<Context>(rs, function itemRequirements(token, ctx) {
    const item = itemOf(ctx);
    if (item.rating) requireAge(Number(item.rating))(token, ctx);
    if (item.price > 0) return requirePayment({ amount: item.price, currency, content: item.id })(token, ctx);
  }), async function deliverItem(ctx) {
    const item = itemOf(ctx);
    const token = ctx.state.accessToken as AccessToken;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { id: item.id, title: item.title, content: item.content, approval_no: token.approval_no ?? null, client_id: token.client_id, sub: token.sub, aud: token.aud, iss: token.iss };
  });

  return router;
}
