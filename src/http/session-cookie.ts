import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { bindCsrf } from './csrf.ts';
import { signedCookie, type CookieOptions } from './signed-cookies.ts';

/**
 * What the holder pages' and the operator console's sessions share: a signed cookie holding a random 32-byte id
 * (base64url, 43 characters), of which PostgreSQL keeps only the SHA-256, and forms bound to it (http/csrf.ts).
 */

/**
 * The session id the signed cookie `name` holds, or undefined when there is none or it is not one of ours; `options`
 * are the ones it is set with, to sign it again whole after a COOKIE_KEYS rotation (signedCookie).
 */
export function sessionCookieId(ctx: Context, name: string, options: CookieOptions): string | undefined {
  const id = signedCookie(ctx, name, options);
  return id && /^[A-Za-z0-9_-]{43}$/.test(id) ? id : undefined;
}

/** What the database keeps of a session id. */
export function hashSessionId(id: string): Buffer {
  return createHash('sha256').update(id).digest();
}

/** Binds this request's forms to the session `id` (bindCsrf): a CSRF cookie planted by a same-site page forges nothing. */
export function bindFormsToSession(ctx: Context, id: string): void {
  bindCsrf(ctx, hashSessionId(id).toString('hex'));
}
