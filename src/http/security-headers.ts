import type { Context, Next } from 'koa';

/**
 * The Content-Security-Policy of our pages: nothing runs but inline styles, unless a page passes the
 * nonce of the one script it carries (the issuance page's copy button).
 */
export function contentSecurityPolicy(scriptNonce?: string): string {
  return (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; form-action 'self' http: https:; " +
    `frame-ancestors 'none'; base-uri 'none'${scriptNonce ? `; script-src 'nonce-${scriptNonce}'` : ''}`
  );
}

/** Conservative headers for every response: no framing, no sniffing, no referrer leaks, a strict CSP. */
export async function securityHeaders(ctx: Context, next: Next): Promise<void> {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Content-Security-Policy', contentSecurityPolicy());
  await next();
}
