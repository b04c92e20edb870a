import Router from '@koa/router';
import type { Db } from '../db/knex.ts';

/** /healthz: the process answers. /readyz: and the database answers too. */
export function healthRoutes(db: Db): Router {
  const router = new Router();
  router.get('/healthz', function healthz(ctx) {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async function readyz(ctx) {
    try {
      await db.raw('select 1');
      ctx.body = { status: 'ok', database: 'ok' };
    } catch (err) {
      ctx.state.log.warn({ err }, 'database not reachable');
      ctx.status = 503;
      ctx.body = { status: 'unavailable', database: 'unreachable' };
    }
  });
  return router;
}
