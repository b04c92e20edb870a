import type { Context } from 'koa';
import { randomToken } from '../lib/ids.ts';
import { signedCookie, type CookieOptions } from './signed-cookies.ts';

const COOKIE = 'cc.device';
const MAX_AGE_MS = 400 * 24 * 3600 * 1000; // the longest lifetime browsers honour (RFC 6265bis)

/**
 * This browser's device id: a random value in a long-lived signed, HttpOnly cookie, set on first sight.
 * Tables keep only a keyed hash of it. A browser that drops cookies gets a new id each time, so the
 * per-device throttle is a complement to the per-IP one, never a replacement.
 */
export function deviceId(ctx: Context): string {
  // Signed again whole after a COOKIE_KEYS rotation (signedCookie): else it would last the browser session only, and
  // once the browser closed the holder's device would be a new one (a "new device" notice at the next login).
  const existing = signedCookie(ctx, COOKIE, deviceCookieOptions(ctx));
  if (existing && /^[A-Za-z0-9_-]{32}$/.test(existing)) return existing;
  const id = randomToken(24);
  ctx.cookies.set(COOKIE, id, deviceCookieOptions(ctx));
  return id;
}

function deviceCookieOptions(ctx: Context): CookieOptions {
  return { signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: MAX_AGE_MS, overwrite: true };
}

/** Where a guessable attempt comes from, for the throttles: client address, device id, request id. */
export function attemptSource(ctx: Context): { ip: string; deviceId: string; requestId: string | undefined } {
  return { ip: ctx.ip, deviceId: deviceId(ctx), requestId: ctx.state.requestId as string | undefined };
}
