import type { Context, Next } from 'koa';

/** A request target in absolute form (`GET http://host/path HTTP/1.1`), which Koa's `href` takes as the URL as is. */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Every absolute URL the card manager writes (discovery's endpoints, registration_client_uri, form actions, redirects)
 * is built by oidc-provider's `urlFor` and Koa from the request's Host, X-Forwarded-Host (with trustProxy) and request
 * target. Behind a cache a forged one would store discovery naming another host's token endpoint or jwks_uri
 * [web cache poisoning]: the request is made to say the issuer's host and scheme before anything reads it, so a
 * load balancer may send any Host (an instance's address included) and nothing is refused, nor cached refused.
 * Runs after requireHttps, which has judged the scheme the load balancer reported.
 */
export function pinIssuerOrigin(issuer: string) {
  const { host, protocol } = new URL(issuer);
  const scheme = protocol.slice(0, -1);
  return function answerAsIssuer(ctx: Context, next: Next): Promise<void> {
    const { headers } = ctx.req;
    headers.host = host;
    delete headers['x-forwarded-host'];
    // Read only with trustProxy; without it the scheme is the socket's, which requireHttps has already judged.
    if (ctx.app.proxy) headers['x-forwarded-proto'] = scheme;
    if (ABSOLUTE_FORM.test(ctx.url)) {
      const target = new URL(ctx.url);
      ctx.url = ctx.originalUrl = ctx.request.originalUrl = `${target.pathname}${target.search}`;
    }
    return next();
  };
}
