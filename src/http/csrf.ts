import type { Context } from 'koa';
import { createHmac } from 'node:crypto';
import { safeEqual } from '../lib/hmac.ts';
import { randomToken } from '../lib/ids.ts';
import { AppError } from '../errors.ts';

const COOKIE = 'cc.csrf';

export class CsrfError extends AppError {
  constructor() {
    super('csrf', 'This form has expired or was not sent from this site. Please go back and try again.', {
      status: 403,
    });
  }
}

/**
 * Double-submit CSRF tokens without server state: a signed, httpOnly, SameSite cookie holds a
 * random secret; a form's token is HMAC(secret, purpose), so a token for one form is useless for another.
 */
export function csrfToken(ctx: Context, purpose: string): string {
  let secret = ctx.cookies.get(COOKIE, { signed: true });
  if (!secret) {
    secret = randomToken(24);
    ctx.cookies.set(COOKIE, secret, { signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, overwrite: true });
  }
  return createHmac('sha256', secret).update(purpose).digest('base64url');
}

/** Throws CsrfError unless the submitted token matches this browser's secret and this purpose. */
export function checkCsrf(ctx: Context, purpose: string, submitted: unknown): void {
  const secret = ctx.cookies.get(COOKIE, { signed: true });
  if (!secret || typeof submitted !== 'string') throw new CsrfError();
  const expected = createHmac('sha256', secret).update(purpose).digest('base64url');
  if (!safeEqual(expected, submitted)) throw new CsrfError();
}
