import Router from '@koa/router';

/**
 * /favicon.ico: answered with 204 No Content, cached for a week. Our pages name their icon inline (views/layout.ejs,
 * a data: URI the CSP's img-src allows), so a browser asks this address only for pages that are not ours (the
 * provider's self-submitting forms); before, every such page logged a 404 and rendered the error page for it.
 */
export function faviconRoutes(): Router {
  const router = new Router();
  router.get('/favicon.ico', function favicon(ctx) {
    ctx.set('Cache-Control', 'public, max-age=604800');
    ctx.status = 204;
  });
  return router;
}
