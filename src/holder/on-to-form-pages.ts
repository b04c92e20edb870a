import type Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';

/** Where a POST-only address with no page above it goes on to: the holder's first page (the sign-out form is on every page). */
const NO_PAGE_ABOVE = '/card/account';

function answers(routers: readonly Router[], method: string, path: string): boolean {
  return routers.some((r) => r.stack.some((layer) => layer.methods.includes(method) && layer.match(path)));
}

/**
 * The answer to a GET (or HEAD) of a /card/... address that only takes posts: a reload of the page a post answered, a
 * bookmark, or a sign-in's way back (`next`) to where a post found the session gone. It goes on (303) to the page the
 * form is on, the nearest address above it that answers a GET (/card/wards/:id/limit → /card/wards), rather than a 404.
 * Mounted after `routers`, the card pages' own, so it meets only what none of them answered; it reads and writes
 * nothing, and the page it sends to asks for a sign-in if it needs one.
 */
export function onToFormPages(routers: readonly Router[]): Middleware {
  return async function onToFormPage(ctx: Context, next: Next): Promise<void> {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !ctx.path.startsWith('/card/') || answers(routers, 'GET', ctx.path) || !answers(routers, 'POST', ctx.path)) {
      return next();
    }
    let page = ctx.path;
    do page = page.slice(0, page.lastIndexOf('/'));
    while (page.startsWith('/card/') && !answers(routers, 'GET', page));
    ctx.status = 303;
    ctx.redirect(page.startsWith('/card/') ? page : NO_PAGE_ABOVE);
  };
}
