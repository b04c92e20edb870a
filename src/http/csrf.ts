import type { Context, Next } from 'koa';
import { createHmac } from 'node:crypto';
import { safeEqual } from '../lib/hmac.ts';
import { randomToken } from '../lib/ids.ts';
import { AppError } from '../errors.ts';
import { type CookieOptions, signedCookie } from './signed-cookies.ts';

const COOKIE = 'cc.csrf';

export class CsrfError extends AppError {
  constructor() {
    super('csrf', 'This form has expired or was not sent from this site. Please go back and try again.', {
      status: 403,
    });
  }
}

export class CrossOriginFormError extends AppError {
  constructor() {
    super('cross_origin_form', 'This form was sent from another website, so nothing was done. If you meant to send it, open this page yourself and send it from there.', {
      status: 403,
    });
  }
}

/**
 * Notes the card manager's own origin (the issuer's: behind a proxy the browser's Origin is the public address, not
 * the one the request reached us at) for checkCsrf, which refuses a form posted from any other.
 */
export function formsFrom(issuer: string) {
  const origin = new URL(issuer).origin;
  return async function noteOwnOrigin(ctx: Context, next: Next): Promise<void> {
    ctx.state.ownOrigin = origin;
    await next();
  };
}

/**
 * Refuses a form a browser says it posted from another origin, before its token is looked at: defence in depth for the
 * signed-out forms, whose double-submit secret a page on the same site (another port, a sibling subdomain) can plant.
 * Sec-Fetch-Site decides when sent: only our own pages (same-origin) and the user's own doing (none) may post. Without
 * it, the Origin must be ours; `Origin: null` says nothing (our Referrer-Policy, no-referrer, makes browsers send it on
 * our own forms), and a client sending neither (an old browser, curl) is left to the token, as before.
 */
function refuseCrossOrigin(ctx: Context): void {
  const site = ctx.get('sec-fetch-site');
  if (site) {
    if (site !== 'same-origin' && site !== 'none') throw new CrossOriginFormError();
    return;
  }
  const origin = ctx.get('origin');
  // Without formsFrom mounted no Origin is ours: refused rather than let through.
  if (origin && origin !== 'null' && origin !== ctx.state.ownOrigin) throw new CrossOriginFormError();
}

/**
 * Binds the forms of this request to a signed-in session besides the browser (`binding`: a hash of the session's id,
 * which is HttpOnly). The CSRF cookie's value is the secret, handed to every visitor and signed, not hidden: a page on
 * the same site (another port of the host, a sibling subdomain) can plant a pair it obtained in a holder's browser and
 * make tokens for it. A token bound to the session it cannot read forges nothing. Set by the middleware that finds the
 * session (holder/session.ts requireHolder), so a form is made and checked with the same binding.
 */
export function bindCsrf(ctx: Context, binding: string): void {
  ctx.state.csrfBinding = binding;
}

/** HMAC(secret, purpose), with the request's session binding when it has one. */
function formToken(ctx: Context, secret: string, purpose: string): string {
  const binding = ctx.state.csrfBinding;
  return createHmac('sha256', secret)
    .update(typeof binding === 'string' ? `${purpose}\0${binding}` : purpose)
    .digest('base64url');
}

/** The CSRF secret's cookie: for the browser session. */
function csrfCookieOptions(ctx: Context): CookieOptions {
  return { signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, overwrite: true };
}

/**
 * Double-submit CSRF tokens without server state: a signed, httpOnly, SameSite cookie holds a
 * random secret; a form's token is HMAC(secret, purpose), so a token for one form is useless for another
 * (and, for a signed-in holder, for another session: bindCsrf).
 */
export function csrfToken(ctx: Context, purpose: string): string {
  let secret = signedCookie(ctx, COOKIE, csrfCookieOptions(ctx));
  if (!secret) {
    secret = randomToken(24);
    ctx.cookies.set(COOKIE, secret, csrfCookieOptions(ctx));
  }
  return formToken(ctx, secret, purpose);
}

/**
 * Throws CrossOriginFormError for a form posted from another origin (refuseCrossOrigin), then CsrfError unless the
 * submitted token matches this browser's secret, this purpose and this session.
 */
export function checkCsrf(ctx: Context, purpose: string, submitted: unknown): void {
  refuseCrossOrigin(ctx);
  const secret = signedCookie(ctx, COOKIE, csrfCookieOptions(ctx));
  if (!secret || typeof submitted !== 'string') throw new CsrfError();
  if (!safeEqual(formToken(ctx, secret, purpose), submitted)) throw new CsrfError();
}
