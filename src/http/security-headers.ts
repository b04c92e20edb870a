import type { Context, Next } from 'koa';

/**
 * The Content-Security-Policy of our pages: nothing runs but inline styles, unless a page passes the
 * nonce of the one script it carries (the copy buttons of the pages that show a new card's number once). script-src is always there:
 * oidc-provider adds its self-submitting pages' script hash to it (see allowProviderScripts).
 */
export function contentSecurityPolicy(scriptNonce?: string): string {
  return (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; form-action 'self' http: https:; " +
    `frame-ancestors 'none'; base-uri 'none'; script-src ${scriptNonce ? `'nonce-${scriptNonce}'` : "'none'"}`
  );
}

/**
 * For oidc-provider's own pages whose one inline script submits their form (the form_post response mode;
 * signing one holder out before another signs in over their session): the provider adds that script's
 * hash to script-src. 'none' beside it would be ignored, with a warning, so it goes. Mount inside the provider.
 */
export async function allowProviderScripts(ctx: Context, next: Next): Promise<void> {
  await next();
  const csp = ctx.response.get('Content-Security-Policy');
  if (typeof csp === 'string' && /script-src 'none' 'sha256-/.test(csp)) {
    ctx.set('Content-Security-Policy', csp.replace("script-src 'none' ", 'script-src '));
  }
}

/**
 * Conservative headers for every response: no framing, no sniffing, no referrer leaks, a strict CSP, and for an
 * https issuer HSTS (a year, subdomains included), so a browser never again speaks plain http to the card manager.
 */
export function securityHeaders({ https }: { https: boolean }) {
  return async function setSecurityHeaders(ctx: Context, next: Next): Promise<void> {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Content-Security-Policy', contentSecurityPolicy());
    if (https) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}
