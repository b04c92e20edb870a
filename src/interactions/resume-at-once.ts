import Keygrip from 'keygrip';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';

type ProviderAnswer = ReturnType<Provider['callback']>;

/**
 * Answers an interaction's last form post with what oidc-provider's resume (GET /auth/:uid) answers, in
 * the same request: the redirect to the member site with its code or error, or the next interaction's page.
 * That saves the browser a round trip, and the card manager a request, a transaction and a re-read of the
 * interaction and grant it has just written (the resume reads them in this request's transaction).
 *
 * The resume needs its cookie, which the browser sends only to /auth/:uid. This request has already proved
 * the same thing: its own signed interaction cookie names this uid (interactionDetails checks it). So the
 * resume cookie, signed with the provider's cookie keys as the provider signs it, goes first in the
 * request's Cookie header, ahead of any the request brought, before the provider sees the request.
 */
export function resumeAtOnce(provider: Provider): (ctx: Context, uid: string, returnTo: string) => Promise<void> {
  const name = provider.cookieName('resume');
  const keys = provider.keys;
  if (!keys) throw new Error('oidc-provider has no cookie keys to sign its resume cookie with');
  const grip = Array.isArray(keys) ? new Keygrip(keys) : (keys as Keygrip);
  // Made on first use: by then every provider.use() has run.
  let answer: ProviderAnswer | undefined;
  return async function resume(ctx, uid, returnTo) {
    const { pathname } = new URL(returnTo);
    const value = `${name}=${uid}`;
    const own = `${value}; ${name}.sig=${grip.sign(value)}`;
    const brought = ctx.req.headers.cookie;
    ctx.req.headers.cookie = brought ? `${own}; ${brought}` : own;
    ctx.req.method = 'GET';
    ctx.req.url = pathname;
    ctx.respond = false; // the provider writes the answer on the raw response
    await (answer ??= provider.callback())(ctx.req, ctx.res);
  };
}
